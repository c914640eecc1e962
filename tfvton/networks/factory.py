"""Builds every network from a `Config`, and saves / loads them in a run directory.

A run directory holds the resolved `config.yaml` and one
`weights/<network>.weights.h5` per network, named as `build_networks` names
them. `convert-official` writes one; training and export read and write the
same layout through `save_run`, `load_run_networks` and `load_run`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Optional, Union

import keras

from tfvton.data import transforms
from tfvton.networks.gmm import GMM
from tfvton.networks.parsing_unet import ParsingUNet, derive_unet_downsamplings
from tfvton.networks.patch_discriminator import PatchDiscriminator
from tfvton.networks.pipeline import TryOnPipeline
from tfvton.networks.resnet_discriminator import ResnetDiscriminator
from tfvton.networks.tree_generator import TreeGenerator

# Input channels of each network (official config.py: input_nc_*).
POSE_CHANNELS = transforms.NUM_KEYPOINTS  # 18
PARSE_CHANNELS = transforms.NUM_LABELS  # 20
AGNOSTIC_CHANNELS = 1 + 3 + POSE_CHANNELS  # body shape, head image, target pose: 22
PARSING_INPUT_CHANNELS = len(transforms.KEEP_LABELS) + POSE_CHANNELS + 1  # 17 + 18 + cloth mask: 36
APPEARANCE_INPUT_CHANNELS = 3 + 3 + PARSE_CHANNELS  # image without cloth, warped cloth, parsing: 26
APPEARANCE_OUTPUT_CHANNELS = 4  # render RGB + composition mask
FACE_INPUT_CHANNELS = 3 + 3  # source face, generated face
PARSING_D_INPUT_CHANNELS = PARSING_INPUT_CHANNELS + PARSE_CHANNELS  # generator input + parsing: 56
IMAGE_D_INPUT_CHANNELS = 3 + 3  # appearance and face discriminators: 6

GENERATOR_NAMES = ("gmm", "parsing_generator", "appearance_generator", "face_generator")
DISCRIMINATOR_NAMES = ("parsing_discriminator", "appearance_discriminator", "face_discriminator")
NETWORK_NAMES = GENERATOR_NAMES + DISCRIMINATOR_NAMES

CONFIG_FILE = "config.yaml"
WEIGHTS_DIR = "weights"

PathLike = Union[str, Path]


def parsing_downsamplings(config) -> int:
    """The parsing U-Net depth: `model.parsing_downsamplings`, or derived from the size when 0."""
    if config.model.parsing_downsamplings:
        return config.model.parsing_downsamplings
    return derive_unet_downsamplings(config.data.height, config.data.width)


def _build(network, height: int, width: int, channels: int):
    # A symbolic call creates the variables of the subclassed networks without running them.
    network(keras.KerasTensor((1, height, width, channels)))
    return network


def build_networks(config, names: Optional[Iterable[str]] = None) -> Dict[str, keras.Model]:
    """Builds the networks of a run, with their variables created.

    Args:
        config: a `tfvton.config.Config` (`model.*` widths and switches,
            `data.height` / `data.width`).
        names: which networks to build (default: all of `NETWORK_NAMES`).

    Returns:
        dict name -> network: `gmm`, `parsing_generator`, `appearance_generator`,
        `face_generator`, `parsing_discriminator`, `appearance_discriminator`,
        `face_discriminator`.

    Example:
        >>> networks = build_networks(load_config("smoke"))
        >>> networks["gmm"].count_params()
    """
    names = tuple(NETWORK_NAMES if names is None else names)
    unknown = sorted(set(names) - set(NETWORK_NAMES))
    if unknown:
        raise ValueError(f"tfvton/networks/factory.py: unknown network name(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(NETWORK_NAMES)}")
    m, height, width = config.model, config.data.height, config.data.width
    makers = {
        "gmm": lambda: GMM(grid_size=m.grid_size, ngf=m.gmm_ngf, height=height, width=width,
                           agnostic_channels=AGNOSTIC_CHANNELS, cloth_channels=3,
                           identity_init=m.gmm_init == "identity", name="gmm"),
        "parsing_generator": lambda: _build(
            ParsingUNet(output_channels=PARSE_CHANNELS, ngf=m.ngf, downsamplings=parsing_downsamplings(config),
                        dropout=m.dropout, output_activation=m.parsing_output, name="parsing_generator"),
            height, width, PARSING_INPUT_CHANNELS),
        "appearance_generator": lambda: _build(
            TreeGenerator(output_channels=APPEARANCE_OUTPUT_CHANNELS, ngf=m.ngf, n_blocks=m.n_blocks,
                          block=m.block, fusion_activation=m.fusion_activation, dropout=m.dropout,
                          with_tanh=False, name="appearance_generator"),
            height, width, APPEARANCE_INPUT_CHANNELS),
        "face_generator": lambda: _build(
            TreeGenerator(output_channels=3, ngf=m.ngf, n_blocks=m.n_blocks, block=m.block,
                          fusion_activation=m.fusion_activation, dropout=m.dropout, with_tanh=True,
                          name="face_generator"),
            height, width, FACE_INPUT_CHANNELS),
        "parsing_discriminator": lambda: _build(
            PatchDiscriminator(ndf=m.ndf, n_layers=m.d_layers, name="parsing_discriminator"),
            height, width, PARSING_D_INPUT_CHANNELS),
        "appearance_discriminator": lambda: _build(
            ResnetDiscriminator(ndf=m.ndf, n_blocks=m.d_blocks, head=m.d_head, name="appearance_discriminator"),
            height, width, IMAGE_D_INPUT_CHANNELS),
        "face_discriminator": lambda: _build(
            ResnetDiscriminator(ndf=m.ndf, n_blocks=m.d_blocks, head=m.d_head, name="face_discriminator"),
            height, width, IMAGE_D_INPUT_CHANNELS),
    }
    return {name: makers[name]() for name in names}


def build_pipeline(config, networks: Optional[Dict[str, keras.Model]] = None) -> TryOnPipeline:
    """The inference `TryOnPipeline` from a config (or from already built generators).

    Args:
        config: a `tfvton.config.Config`.
        networks: optional dict holding at least the four generators (e.g. from
            `build_networks` or a training run); missing ones are built.
    """
    networks = dict(networks or {})
    missing = [name for name in GENERATOR_NAMES if name not in networks]
    if missing:
        networks.update(build_networks(config, missing))
    return TryOnPipeline(*(networks[name] for name in GENERATOR_NAMES), face_mode=config.model.face_mode,
                         face_crop=config.model.face_crop, name="tryon_pipeline")


# ---------------------------------------------------------------------------
# Run directories
# ---------------------------------------------------------------------------

def weights_path(run_dir: PathLike, name: str) -> Path:
    """Where a run directory keeps one network's weights."""
    return Path(run_dir) / WEIGHTS_DIR / f"{name}.weights.h5"


def save_run(run_dir: PathLike, config, networks: Dict[str, keras.Model]) -> Path:
    """Writes `config.yaml` and `weights/<name>.weights.h5` for each given network.

    Args:
        run_dir: the run directory (created).
        config: the resolved `Config` the networks were built from.
        networks: name -> network, names from `NETWORK_NAMES`.

    Returns:
        The run directory.
    """
    from tfvton.config import save_config

    unknown = sorted(set(networks) - set(NETWORK_NAMES))
    if unknown:
        raise ValueError(f"tfvton/networks/factory.py: cannot save unknown network name(s) "
                         f"{', '.join(unknown)}; expected some of {', '.join(NETWORK_NAMES)}")
    run_dir = Path(run_dir)
    (run_dir / WEIGHTS_DIR).mkdir(parents=True, exist_ok=True)
    save_config(config, run_dir / CONFIG_FILE)
    for name, network in networks.items():
        network.save_weights(weights_path(run_dir, name))
    return run_dir


def load_run_config(run_dir: PathLike):
    """The resolved `Config` stored in a run directory."""
    from tfvton.config import load_config

    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {CONFIG_FILE} in the run directory {run_dir}")
    return load_config(path)


def load_run_networks(run_dir: PathLike, names: Optional[Iterable[str]] = None,
                      config=None) -> Dict[str, keras.Model]:
    """Rebuilds networks from a run directory's config and loads their weights.

    Args:
        run_dir: a directory written by `save_run` (or `tfvton convert-official`).
        names: networks to load (default: every network with a weights file).
        config: use this config instead of the run's `config.yaml`.

    Raises:
        FileNotFoundError: a requested network has no weights file.
    """
    run_dir = Path(run_dir)
    config = config or load_run_config(run_dir)
    if names is None:
        names = [name for name in NETWORK_NAMES if weights_path(run_dir, name).is_file()]
    names = list(names)
    absent = [str(weights_path(run_dir, name)) for name in names if not weights_path(run_dir, name).is_file()]
    if absent:
        raise FileNotFoundError(f"{run_dir}: missing weights file(s): {', '.join(absent)}")
    networks = build_networks(config, names)
    for name, network in networks.items():
        network.load_weights(weights_path(run_dir, name))
    return networks


def load_run(run_dir: PathLike, config=None) -> TryOnPipeline:
    """The `TryOnPipeline` of a run directory (its four generators' weights).

    Example:
        >>> pipeline = load_run("runs/official")  # written by `tfvton convert-official`
    """
    config = config or load_run_config(run_dir)
    return build_pipeline(config, load_run_networks(run_dir, GENERATOR_NAMES, config))
