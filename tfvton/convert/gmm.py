"""Official GMM state dict (`step_009000.pth`) <-> `tfvton.networks.gmm.GMM` weights.

Numpy only: the caller reads the checkpoint (torch is an optional extra) and
strips the `module.` prefix DataParallel adds. Keys are those of the official
`GMM(opt).state_dict()`:

    extraction{A,B}.model.{0,3,6,9,12,15}.{weight,bias}           convs (OIHW)
    extraction{A,B}.model.{2,5,8,11,14}.{weight,bias,running_mean,running_var,num_batches_tracked}
    regression.conv.{0,3,6,9}.{weight,bias}                       convs
    regression.conv.{1,4,7,10}.{weight,bias,running_mean,...}     BatchNorms
    regression.linear.{weight,bias}                               Linear (out, in)

The official Sequential indices count the ReLUs too, hence the gaps.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

IGNORED_SUFFIXES = ("num_batches_tracked",)

# Keras sub-model name -> official module prefix.
_EXTRACTORS = {"extraction_a": "extractionA.model", "extraction_b": "extractionB.model"}


def _pairs(model) -> Iterator[tuple[str, object, str]]:
    """Yields (official key, Keras variable, layout) for every variable of `model`."""
    for keras_name, prefix in _EXTRACTORS.items():
        sub = model.get_layer(keras_name)
        n_convs = sum(1 for layer in sub.layers if layer.name.startswith("conv"))
        for i in range(n_convs):
            # Extractor Sequential: conv, ReLU, BN per stage -> conv at 3i, BN at 3i + 2.
            yield from _conv_pairs(f"{prefix}.{3 * i}", sub.get_layer(f"conv{i}"))
            if i < n_convs - 1:
                yield from _bn_pairs(f"{prefix}.{3 * i + 2}", sub.get_layer(f"bn{i}"))
    sub = model.get_layer("regression")
    n_convs = sum(1 for layer in sub.layers if layer.name.startswith("conv"))
    for i in range(n_convs):
        # Regression Sequential: conv, BN, ReLU per stage -> conv at 3i, BN at 3i + 1.
        yield from _conv_pairs(f"regression.conv.{3 * i}", sub.get_layer(f"conv{i}"))
        yield from _bn_pairs(f"regression.conv.{3 * i + 1}", sub.get_layer(f"bn{i}"))
    linear = model.get_layer("regression_linear")
    yield "regression.linear.weight", linear.kernel, "linear"
    yield "regression.linear.bias", linear.bias, "plain"


def _conv_pairs(prefix, layer):
    yield f"{prefix}.weight", layer.kernel, "conv"
    yield f"{prefix}.bias", layer.bias, "plain"


def _bn_pairs(prefix, layer):
    yield f"{prefix}.weight", layer.gamma, "plain"
    yield f"{prefix}.bias", layer.beta, "plain"
    yield f"{prefix}.running_mean", layer.moving_mean, "plain"
    yield f"{prefix}.running_var", layer.moving_variance, "plain"


def _to_keras(value: np.ndarray, layout: str) -> np.ndarray:
    if layout == "conv":  # OIHW -> HWIO
        return np.transpose(value, (2, 3, 1, 0))
    if layout == "linear":  # (out, in) -> (in, out)
        return np.transpose(value, (1, 0))
    return value


def _to_official(value: np.ndarray, layout: str) -> np.ndarray:
    if layout == "conv":  # HWIO -> OIHW
        return np.transpose(value, (3, 2, 0, 1))
    if layout == "linear":
        return np.transpose(value, (1, 0))
    return value


def gmm_from_official(state_dict: dict, model) -> list[str]:
    """Loads an official GMM state dict into a `GMM`, strictly.

    Args:
        state_dict: official key -> array (numpy or anything `np.asarray` takes),
            with the DataParallel `module.` prefix already stripped.
        model: a `tfvton.networks.gmm.GMM` whose ngf, grid size and resolution
            match the checkpoint (official: ngf 64, grid 5, 256x192).

    Returns:
        The sorted keys that were deliberately ignored (BatchNorm `num_batches_tracked`).

    Raises:
        ValueError: listing every official key without a Keras variable, every
            Keras variable without an official key, and every shape mismatch.
            Nothing is assigned unless everything matches.
    """
    pairs = list(_pairs(model))
    expected = {key for key, _, _ in pairs}
    ignored = sorted(k for k in state_dict if k.endswith(IGNORED_SUFFIXES))
    unmatched = sorted(k for k in state_dict if k not in expected and k not in ignored)
    missing = sorted(key for key, _, _ in pairs if key not in state_dict)
    covered = {id(variable) for _, variable, _ in pairs}
    unset = sorted(v.path for v in model.weights if id(v) not in covered)

    problems, updates = [], []
    for key, variable, layout in pairs:
        if key not in state_dict:
            continue
        value = _to_keras(np.asarray(state_dict[key], dtype=np.float32), layout)
        if tuple(value.shape) != tuple(variable.shape):
            problems.append(f"{key}: official shape {tuple(np.shape(state_dict[key]))} -> {tuple(value.shape)}"
                            f" does not fit {variable.path} {tuple(variable.shape)}")
        updates.append((variable, value))
    if unmatched:
        hint = " (strip the DataParallel `module.` prefix first)" if any(k.startswith("module.") for k in unmatched) else ""
        problems.append(f"official keys with no GMM variable{hint}: {unmatched}")
    if missing:
        problems.append(f"GMM variables with no official key: {missing}")
    if unset:
        problems.append(f"GMM variables not covered by the mapping: {unset}")
    if problems:
        raise ValueError("GMM: the official state dict does not match the model:\n  "
                         + "\n  ".join(problems))
    for variable, value in updates:
        variable.assign(value)
    return ignored


def gmm_to_official(model) -> dict:
    """Exports a `GMM`'s weights as an official `GMM(opt).state_dict()` (numpy, no `module.` prefix).

    `num_batches_tracked` (not tracked by Keras) is written as int64 0 so the dict
    loads with PyTorch's strict `load_state_dict`.

    Raises:
        ValueError: listing any model variable the mapping does not cover.
    """
    pairs = list(_pairs(model))
    covered = {id(variable) for _, variable, _ in pairs}
    unset = sorted(v.path for v in model.weights if id(v) not in covered)
    if unset:
        raise ValueError(f"GMM: every variable must be covered by the official mapping. Received: uncovered {unset}")
    state = {}
    for key, variable, layout in pairs:
        state[key] = _to_official(np.asarray(variable.numpy()), layout).copy()
        if key.endswith(".running_var"):
            state[key[: -len("running_var")] + "num_batches_tracked"] = np.array(0, dtype=np.int64)
    return state
