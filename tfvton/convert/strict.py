"""Strict, numpy-only assignment between official state dicts and Keras variables.

Shared by the generator and discriminator mappings: a mapping yields
`(official key, Keras variable, layout)` triples and these helpers transpose,
check and assign them, refusing anything that does not match exactly.

Layouts: `conv` (PyTorch Conv2d OIHW <-> Keras Conv2D HWIO), `deconv`
(PyTorch ConvTranspose2d (in, out, kh, kw) <-> Keras Conv2DTranspose
(kh, kw, out, in)), `plain` (biases: unchanged). Both kernel layouts happen
to be the same axis permutation; they stay separate names for the reader.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Tuple

import numpy as np

_TO_KERAS = {"conv": (2, 3, 1, 0), "deconv": (2, 3, 1, 0), "plain": None}
_TO_OFFICIAL = {"conv": (3, 2, 0, 1), "deconv": (3, 2, 0, 1), "plain": None}

Pair = Tuple[str, object, str]


def _transpose(value: np.ndarray, axes) -> np.ndarray:
    return value if axes is None else np.transpose(value, axes)


def _weights(model):
    # Dropout's seed state is not a weight to convert.
    return [v for v in model.weights if "seed_generator" not in v.path]


def require_built(model, where: str) -> None:
    """Raises when `model` has no variables yet (call it once on an input first)."""
    if not model.built or not _weights(model):
        raise ValueError(f"{where}: {type(model).__name__} is not built; call it once on an input "
                         "of the checkpoint's channel count before converting")


def load_pairs(pairs: Iterable[Pair], state_dict: Mapping[str, np.ndarray], model, where: str) -> None:
    """Assigns official arrays to Keras variables; nothing is assigned unless all match.

    Raises:
        ValueError: listing every official key without a variable, every variable
            without an official key (or not covered by the mapping) and every shape mismatch.
    """
    pairs = list(pairs)
    expected = {key for key, _, _ in pairs}
    unmatched = sorted(k for k in state_dict if k not in expected)
    missing = sorted(key for key, _, _ in pairs if key not in state_dict)
    covered = {id(variable) for _, variable, _ in pairs}
    unset = sorted(v.path for v in _weights(model) if id(v) not in covered)
    problems, updates = [], []
    for key, variable, layout in pairs:
        if key not in state_dict:
            continue
        raw = np.asarray(state_dict[key], dtype=np.float32)
        value = _transpose(raw, _TO_KERAS[layout])
        if tuple(value.shape) != tuple(variable.shape):
            problems.append(f"{key}: official shape {tuple(raw.shape)} -> {tuple(value.shape)} does not fit "
                            f"{variable.path} {tuple(variable.shape)}")
        updates.append((variable, value))
    if unmatched:
        hint = (" (strip the DataParallel `module.` components first)"
                if any(".module." in f".{k}" for k in unmatched) else "")
        problems.append(f"official keys with no Keras variable{hint} ({len(unmatched)}): {unmatched}")
    if missing:
        problems.append(f"Keras variables whose official key is absent ({len(missing)}): {missing}")
    if unset:
        problems.append(f"Keras variables not covered by the mapping ({len(unset)}): {unset}")
    if problems:
        raise ValueError(f"{where}: official state dict does not match {type(model).__name__} "
                         f"'{model.name}':\n  " + "\n  ".join(problems))
    for variable, value in updates:
        variable.assign(value)


def export_pairs(pairs: Iterable[Pair], model, where: str) -> dict:
    """Official key -> numpy array (official layout) for every pair; strict about coverage."""
    pairs = list(pairs)
    covered = {id(variable) for _, variable, _ in pairs}
    unset = sorted(v.path for v in _weights(model) if id(v) not in covered)
    if unset:
        raise ValueError(f"{where}: {type(model).__name__} variables not covered by the mapping: {unset}")
    return {key: np.ascontiguousarray(_transpose(np.asarray(variable.numpy()), _TO_OFFICIAL[layout]))
            for key, variable, layout in pairs}
