"""Builds every network, and the `TryOnPipeline`, from a `Config`.

The names `build_networks` gives the networks are the ones a run directory
stores their weights under (`tfvton.run_dir.RunDir`).
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional

import keras

from tfvton.data import transforms
from tfvton.networks.gmm import GMM, OFFICIAL_AGNOSTIC_CHANNELS
from tfvton.networks.parsing_unet import ParsingUNet, derive_unet_downsamplings
from tfvton.networks.patch_discriminator import PatchDiscriminator
from tfvton.networks.pipeline import TryOnPipeline
from tfvton.networks.resnet_discriminator import ResnetDiscriminator
from tfvton.networks.tree_generator import TreeGenerator

# Input channels of each network (official config.py: input_nc_*).
POSE_CHANNELS = transforms.NUM_KEYPOINTS  # 18
PARSE_CHANNELS = transforms.NUM_LABELS  # 20
PARSING_INPUT_CHANNELS = len(transforms.KEEP_LABELS) + POSE_CHANNELS + 1  # 17 + 18 + cloth mask: 36
APPEARANCE_INPUT_CHANNELS = 3 + 3 + PARSE_CHANNELS  # image without cloth, warped cloth, parsing: 26
APPEARANCE_OUTPUT_CHANNELS = 4  # render RGB + composition mask
FACE_INPUT_CHANNELS = 3 + 3  # source face, generated face
PARSING_D_INPUT_CHANNELS = PARSING_INPUT_CHANNELS + PARSE_CHANNELS  # generator input + parsing: 56
IMAGE_D_INPUT_CHANNELS = 3 + 3  # appearance and face discriminators: 6

GENERATOR_NAMES = ("gmm", "parsing_generator", "appearance_generator", "face_generator")
DISCRIMINATOR_NAMES = ("parsing_discriminator", "appearance_discriminator", "face_discriminator")
NETWORK_NAMES = GENERATOR_NAMES + DISCRIMINATOR_NAMES


def parsing_downsamplings(config) -> int:
    """The parsing U-Net depth: `model.parsing_downsamplings`, or derived from the size when 0."""
    if config.model.parsing_downsamplings:
        return config.model.parsing_downsamplings
    return derive_unet_downsamplings(config.data.height, config.data.width)


def gmm_agnostic_channels(config) -> int:
    """GMM person-representation channels: 22 (official), 23 with the target cloth region."""
    return OFFICIAL_AGNOSTIC_CHANNELS + (config.model.gmm_condition == "target_cloth")


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
        raise ValueError(f"build_networks: names must be some of {', '.join(NETWORK_NAMES)}. "
                         f"Received unknown name(s): {', '.join(unknown)}")
    m, height, width = config.model, config.data.height, config.data.width
    makers = {
        "gmm": lambda: GMM(grid_size=m.grid_size, ngf=m.gmm_ngf, height=height, width=width,
                           agnostic_channels=gmm_agnostic_channels(config), cloth_channels=3,
                           identity_init=m.gmm_init == "identity", downsamplings=m.gmm_downsamplings,
                           clip_to_parsing=m.clip_warp_to_parsing,
                           name="gmm"),
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
                          residual=m.face_residual, name="face_generator"),
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
                         face_crop=config.model.face_crop, face_refinement=config.model.face_refinement,
                         name="tryon_pipeline")
