"""The official release's PyTorch checkpoints <-> a Keras `TryOnPipeline`.

The official `demo.py` loads four files: the GMM (`step_009000.pth`, saved from a
`DataParallel(GMM)`, keys `module.<GMM keys>`) and three `Define_G` generators
(`parsing.tar`, `app.tar`, `face.tar`, saved from `Define_G` whose `.model` is a
`DataParallel`, keys `model.module.<generator keys>`). This module reads them
safely (`torch.load(weights_only=True)`, never arbitrary unpickling), strips the
`DataParallel` prefixes, checks every key and shape against what the Keras
network expects (strict both ways) and hands the tensors to the per-network
mappings in `tfvton.convert.generators` and `tfvton.convert.gmm`. The reverse
(`export_official_state_dicts`, `save_official_checkpoints`) writes files the
official code loads, so the conversion round trip is testable.

torch is an optional extra (`pip install tfvton[convert]`); it is imported only
when a `.pth`/`.tar` file is read or written.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, Mapping, Union

import numpy as np

from tfvton.errors import ModelError

PathLike = Union[str, Path]

# Network name in `load_official(paths)` -> (pipeline attribute, file name the official release uses).
OFFICIAL_NETWORKS = {
    "gmm": ("gmm", "step_009000.pth"),
    "parsing": ("parsing_generator", "parsing.tar"),
    "appearance": ("appearance_generator", "app.tar"),
    "face": ("face_generator", "face.tar"),
}
# demo.py wraps the GMM in DataParallel (keys `module.*`) and `Define_G` wraps its
# generator in DataParallel as `.model` (keys `model.module.*`).
OFFICIAL_FILE_PREFIX = {"gmm": "module.", "parsing": "model.module.", "appearance": "model.module.",
                        "face": "model.module."}
# BatchNorm's step counter: no inference weight, absent from PyTorch < 0.4.1 files.
_IGNORED_SUFFIXES = (".num_batches_tracked",)


class OfficialCheckpointError(ModelError):
    """An official checkpoint cannot be read or does not fit the Keras network."""


# ---------------------------------------------------------------------------
# Reading and writing official files
# ---------------------------------------------------------------------------

def _import_torch():
    try:
        import torch
    except ImportError:
        raise ImportError(
            "tfvton.convert needs PyTorch to read or write the official .pth/.tar checkpoints; "
            "install the optional extra: pip install tfvton[convert]") from None
    return torch


def strip_data_parallel(key: str) -> str:
    """Drops every `module` path component that `torch.nn.DataParallel` inserts.

    `module.extractionA.model.0.weight` -> `extractionA.model.0.weight` and
    `model.module.model.0.weight` -> `model.model.0.weight`; no official network
    names a sub-module `module`, so nothing else is touched.
    """
    return ".".join(part for part in key.split(".") if part != "module")


def _is_tensor_mapping(obj, torch) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def read_official_state_dict(path: PathLike) -> Dict[str, np.ndarray]:
    """Reads one official checkpoint as a dict of numpy arrays, DataParallel prefixes stripped.

    The file is opened with `torch.load(path, map_location="cpu", weights_only=True)`,
    which only rebuilds tensors and plain containers. A file holding a pickled
    whole model (the `checkpoint.state_dict()` fallback of the official
    `load_model`) cannot be opened that way and is refused: unpickling it would
    run arbitrary code. Accepted contents: a state dict (name -> tensor), or a
    dict holding one under `state_dict`.

    Args:
        path: a `.pth` / `.tar` file written by `torch.save`.

    Returns:
        dict key -> float32/int numpy array, keys without `module.` components.

    Raises:
        OfficialCheckpointError: unreadable file, refused content, or not a state dict.
    """
    torch = _import_torch()
    path = Path(path)
    if not path.is_file():
        raise OfficialCheckpointError(f"{path}: checkpoint file not found")
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError, RuntimeError (bad zip), ... all mean "not safely loadable"
        raise OfficialCheckpointError(
            f"{path}: refused: torch.load(weights_only=True) cannot read it ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}). tfvton only reads files that hold tensors "
            "(a state_dict); it never unpickles arbitrary objects, which could run code. If this file "
            "holds a whole pickled model, re-save its weights where you trust the file, with "
            "torch.save(torch.load(path, weights_only=False).state_dict(), new_path), and convert "
            "new_path.") from None
    if not _is_tensor_mapping(obj, torch) and isinstance(obj, Mapping) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not _is_tensor_mapping(obj, torch):
        raise OfficialCheckpointError(
            f"{path}: expected a state_dict (a mapping of parameter names to tensors), got "
            f"{type(obj).__name__}" + (f" with keys {sorted(map(str, obj))[:8]}" if isinstance(obj, Mapping) else ""))
    state = {}
    for key, tensor in obj.items():
        stripped = strip_data_parallel(key)
        if stripped in state:
            raise OfficialCheckpointError(f"{path}: keys collide after stripping `module.`: {key!r}")
        state[stripped] = tensor.detach().cpu().numpy()
    return state


def save_official_state_dict(state_dict: Mapping[str, np.ndarray], path: PathLike) -> Path:
    """Writes a numpy state dict as a PyTorch checkpoint (`torch.save` of tensors only)."""
    torch = _import_torch()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # np.array (not ascontiguousarray, which turns 0-d counters into shape (1,)).
    torch.save({key: torch.from_numpy(np.array(value, order="C")) for key, value in state_dict.items()},
               str(path))
    return path


# ---------------------------------------------------------------------------
# Per-network mappings
# ---------------------------------------------------------------------------

def _mappings() -> Dict[str, tuple]:
    # Imported lazily: they pull in TensorFlow.
    from tfvton.convert import generators, gmm
    return {
        "gmm": (gmm.gmm_from_official, gmm.gmm_to_official),
        "parsing": (generators.unet_from_official, generators.unet_to_official),
        "appearance": (generators.tree_generator_from_official, generators.tree_generator_to_official),
        "face": (generators.tree_generator_from_official, generators.tree_generator_to_official),
    }


def _check_state_dict(state: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray],
                      where: str) -> Dict[str, np.ndarray]:
    """Strict comparison of keys and shapes; returns `state` without ignorable keys."""
    state = {k: v for k, v in state.items()
             if k in expected or not k.endswith(_IGNORED_SUFFIXES)}
    missing = sorted(set(expected) - set(state) - {k for k in expected if k.endswith(_IGNORED_SUFFIXES)})
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(
        f"{k}: file {tuple(np.shape(state[k]))} vs network {tuple(np.shape(expected[k]))}"
        for k in set(state) & set(expected)
        if not k.endswith(_IGNORED_SUFFIXES) and tuple(np.shape(state[k])) != tuple(np.shape(expected[k])))
    # A NaN or inf weight would turn every try-on into garbage without an error.
    non_finite = sorted(
        f"{k} ({int(np.isnan(v).sum())} NaN, {int(np.isinf(v).sum())} inf)"
        for k, v in ((k, np.asarray(state[k])) for k in set(state) & set(expected))
        if v.dtype.kind in "fc" and not np.all(np.isfinite(v)))
    if missing or unexpected or wrong_shape or non_finite:
        lines = [f"{where}: the checkpoint does not fit the network"]
        if missing:
            lines.append(f"  missing from the file ({len(missing)}): " + ", ".join(missing))
        if unexpected:
            lines.append(f"  unexpected in the file ({len(unexpected)}): " + ", ".join(unexpected))
        if wrong_shape:
            lines.append(f"  wrong shape ({len(wrong_shape)}): " + "; ".join(wrong_shape))
        if non_finite:
            lines.append(f"  non-finite values ({len(non_finite)}): " + "; ".join(non_finite))
        raise OfficialCheckpointError("\n".join(lines))
    for k in expected:  # the step counter is optional in the file and carries no weight
        if k.endswith(_IGNORED_SUFFIXES):
            state[k] = np.asarray(expected[k])
    return state


def _align_prefix(state: Dict[str, np.ndarray], expected: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    # A generator saved without the `Define_G` wrapper (keys of the bare net) gets
    # the wrapper's `model.` back, so both layouts convert.
    if set(state) & set(expected):
        return state
    prefixed = {"model." + k: v for k, v in state.items()}
    return prefixed if set(prefixed) & set(expected) else state


def check_network_state_dict(name: str, state: Mapping[str, np.ndarray], model,
                             where: str = "") -> Dict[str, np.ndarray]:
    """Checks one official state dict against a Keras network, strictly; assigns nothing.

    Args:
        name: `gmm`, `parsing`, `appearance` or `face`.
        state: key -> numpy array, as `read_official_state_dict` returns.
        model: the Keras network (built).
        where: text naming the source in error messages (e.g. the file path).

    Returns:
        The state dict to pass to the network's `*_from_official` mapping.

    Raises:
        OfficialCheckpointError: listing every missing / unexpected key and wrong shape.
    """
    if name not in OFFICIAL_NETWORKS:
        raise OfficialCheckpointError(f"unknown network {name!r}; expected one of {', '.join(OFFICIAL_NETWORKS)}")
    expected = _mappings()[name][1](model)
    return _check_state_dict(_align_prefix(dict(state), expected), expected, where or name)


def load_network_state_dict(name: str, state: Mapping[str, np.ndarray], model, where: str = "") -> None:
    """Checks (see `check_network_state_dict`) and loads one official state dict into a Keras network."""
    _mappings()[name][0](check_network_state_dict(name, state, model, where), model)


# ---------------------------------------------------------------------------
# Whole pipeline
# ---------------------------------------------------------------------------

def official_config(ngf: int = 64, height: int = 256, width: int = 192, gmm_ngf: int = 64, base=None):
    """The tfvton `Config` whose networks have the official checkpoints' layout.

    The official `demo.py` builds the generators with width `ngf` (it passes
    `opt.ndf` = 64), a `unet_256` parsing U-Net (6 downsamplings at any size), 6
    Tree-Blocks, dropout 0.5, and a GMM with 64-wide extractors (`gmm_ngf`; the
    official GMM hardcodes 64, other values only serve small tests) and 5x5
    control points.
    """
    from tfvton.config import Config
    base = base or Config()
    return base.replace(
        name="official",
        data=dataclasses.replace(base.data, height=height, width=width),
        model=dataclasses.replace(base.model, ngf=ngf, gmm_ngf=gmm_ngf, grid_size=5, n_blocks=6, block="tree",
                                  fusion_activation="none", dropout=0.5, parsing_downsamplings=6))


def _check_paths(paths: Mapping[str, PathLike]) -> Dict[str, Path]:
    unknown = sorted(set(paths) - set(OFFICIAL_NETWORKS))
    missing = sorted(set(OFFICIAL_NETWORKS) - set(paths))
    if unknown or missing:
        raise OfficialCheckpointError(
            f"official checkpoint paths: expected the keys {', '.join(OFFICIAL_NETWORKS)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else ""))
    return {name: Path(paths[name]) for name in OFFICIAL_NETWORKS}


def load_official(paths: Mapping[str, PathLike], ngf: int = 64, height: int = 256, width: int = 192,
                  gmm_ngf: int = 64):
    """Builds a `TryOnPipeline` carrying the official release's weights.

    Args:
        paths: `{"gmm": step_009000.pth, "parsing": parsing.tar, "appearance": app.tar,
            "face": face.tar}`.
        ngf: generator base width the checkpoints were trained with (64).
        height: input height (the official GMM's Linear layer fixes 256).
        width: input width (the official GMM's Linear layer fixes 192).
        gmm_ngf: GMM extractor width (the official GMM hardcodes 64).

    Returns:
        A `TryOnPipeline` whose `.gmm`, `.parsing_generator`,
        `.appearance_generator` and `.face_generator` hold the converted weights.

    Raises:
        OfficialCheckpointError: a file is unreadable, refused, or does not fit
            (every unmatched key and shape is listed).
        ImportError: torch is not installed.

    Example:
        >>> pipeline = load_official({"gmm": "step_009000.pth", "parsing": "parsing.tar",
        ...                           "appearance": "app.tar", "face": "face.tar"})
        >>> outputs = pipeline(batch)
    """
    from tfvton.networks.factory import build_pipeline

    paths = _check_paths(paths)
    states = {name: read_official_state_dict(path) for name, path in paths.items()}
    pipeline = build_pipeline(official_config(ngf, height, width, gmm_ngf))
    _load_states(pipeline, states, paths)
    return pipeline


def load_official_weights(pipeline, paths: Mapping[str, PathLike]) -> None:
    """Loads the four official files into an existing `TryOnPipeline` of the official layout.

    All four files are read and checked before any variable changes, so on error
    the pipeline keeps its weights.

    Raises:
        OfficialCheckpointError: as `load_official`, listing the problems of every file.
    """
    paths = _check_paths(paths)
    _load_states(pipeline, {name: read_official_state_dict(path) for name, path in paths.items()}, paths)


def _load_states(pipeline, states, paths) -> None:
    checked, errors = {}, []
    for name, (attribute, _) in OFFICIAL_NETWORKS.items():
        try:
            checked[name] = check_network_state_dict(name, states[name], getattr(pipeline, attribute),
                                                     where=str(paths[name]))
        except OfficialCheckpointError as err:
            errors.append(str(err))
    if errors:
        raise OfficialCheckpointError("\n".join(errors))
    mappings = _mappings()
    for name, (attribute, _) in OFFICIAL_NETWORKS.items():
        mappings[name][0](checked[name], getattr(pipeline, attribute))


def convert_official(paths: Mapping[str, PathLike], run_dir: PathLike, ngf: int = 64, height: int = 256,
                     width: int = 192, gmm_ngf: int = 64) -> Path:
    """Converts the official checkpoints into a tfvton run directory.

    Writes `config.yaml` (the resolved config) and one `weights/<network>.weights.h5`
    per generator; `tfvton.run_dir.RunDir(run_dir).load_pipeline()` rebuilds the pipeline.

    Args:
        paths: as for `load_official`.
        run_dir: output directory (created).
        ngf, height, width, gmm_ngf: as for `load_official`.

    Returns:
        The run directory.
    """
    from tfvton.run_dir import RunDir

    pipeline = load_official(paths, ngf=ngf, height=height, width=width, gmm_ngf=gmm_ngf)
    return RunDir(run_dir).save(official_config(ngf, height, width, gmm_ngf), pipeline_networks(pipeline)).path


def pipeline_networks(pipeline) -> Dict[str, object]:
    """The pipeline's four generators by their `build_networks` names."""
    return {attribute: getattr(pipeline, attribute) for attribute, _ in OFFICIAL_NETWORKS.values()}


def export_official_state_dicts(pipeline, data_parallel: bool = True) -> Dict[str, Dict[str, np.ndarray]]:
    """Keras -> official state dicts (numpy), one per network.

    Args:
        pipeline: a `TryOnPipeline` (official layout: see `official_config`).
        data_parallel: add the prefixes the official files carry (`module.` for the
            GMM, `model.module.` for the generators), so `demo.py`'s `load_model`
            reads them as-is; False gives the keys without `module.` components.

    Returns:
        `{"gmm": {...}, "parsing": {...}, "appearance": {...}, "face": {...}}`.
    """
    mappings = _mappings()
    out = {}
    for name, (attribute, _) in OFFICIAL_NETWORKS.items():
        state = mappings[name][1](getattr(pipeline, attribute))
        if data_parallel:
            state = {_add_data_parallel(name, key): value for key, value in state.items()}
        out[name] = {key: np.asarray(value) for key, value in state.items()}
    return out


def _add_data_parallel(name: str, key: str) -> str:
    if name == "gmm":
        return "module." + key
    if not key.startswith("model."):
        raise OfficialCheckpointError(f"{name}: expected Define_G keys starting with 'model.', got {key!r}")
    return "model.module." + key[len("model."):]


def save_official_checkpoints(pipeline, out_dir: PathLike, data_parallel: bool = True) -> Dict[str, Path]:
    """Writes the pipeline as the four official files (`step_009000.pth`, `parsing.tar`, ...).

    Returns:
        `{"gmm": path, "parsing": path, "appearance": path, "face": path}`, ready for
        `load_official` or the official `demo.py`.
    """
    out_dir = Path(out_dir)
    states = export_official_state_dicts(pipeline, data_parallel=data_parallel)
    return {name: save_official_state_dict(states[name], out_dir / OFFICIAL_NETWORKS[name][1])
            for name in OFFICIAL_NETWORKS}
