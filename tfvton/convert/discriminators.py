"""Official discriminator state dicts <-> `PatchDiscriminator` / `ResnetDiscriminator` weights.

Numpy only. Keys are those of the official `Define_D(...).state_dict()` with
every DataParallel `module.` component removed (so they start with
`Define_D`'s `model.` attribute, then the network's own `model` Sequential):

`PatchDiscriminator` (official `PatchDiscriminator`, n = n_layers):

    conv_0 <- model.model.0;  conv_k <- model.model.{2 + 3 (k - 1)} (k = 1 .. n);
    head_conv <- model.model.{2 + 3 n}            (n = 3: 0, 2, 5, 8, 11)

`ResnetDiscriminator` (official `ResnetDiscriminator`, no dropout in its blocks):

    stem_conv 1, down1_conv 4, down2_conv 7,
    block_i 10 + i: conv_block.1 (conv_a), conv_block.5 (conv_b)

`head='conv1'` has no official counterpart: converting such a model raises.
"""
from __future__ import annotations

from typing import Iterator

from tfvton.convert.strict import export_pairs, load_pairs, require_built

ROOT = "model.model."


def _conv(key_prefix: str, layer):
    yield f"{key_prefix}.weight", layer.kernel, "conv"
    yield f"{key_prefix}.bias", layer.bias, "plain"


def patch_discriminator_indices(n_layers: int) -> dict:
    """Keras sublayer name -> index in the official `PatchDiscriminator.model` Sequential."""
    indices = {"conv_0": 0}
    indices.update({f"conv_{k}": 2 + 3 * (k - 1) for k in range(1, n_layers + 1)})
    indices["head_conv"] = 2 + 3 * n_layers
    return indices


def _patch_pairs(model) -> Iterator[tuple]:
    for name, index in patch_discriminator_indices(model.n_layers).items():
        yield from _conv(f"{ROOT}{index}", getattr(model, name))


def patch_discriminator_from_official(state_dict: dict, model) -> None:
    """Loads an official `Define_D(..., 'basic')` state dict into a built `PatchDiscriminator`.

    Raises:
        ValueError: listing every unmatched key, uncovered variable and shape mismatch.
    """
    where = "tfvton.convert.discriminators.patch_discriminator_from_official"
    require_built(model, where)
    load_pairs(_patch_pairs(model), state_dict, model, where)


def patch_discriminator_to_official(model) -> dict:
    """Exports a built `PatchDiscriminator` as an official `Define_D(..., 'basic')` state dict."""
    where = "tfvton.convert.discriminators.patch_discriminator_to_official"
    require_built(model, where)
    return export_pairs(_patch_pairs(model), model, where)


def resnet_discriminator_indices(n_blocks: int) -> dict:
    """Keras sublayer name -> index in the official `ResnetDiscriminator.model` Sequential."""
    indices = {"stem_conv": 1, "down1_conv": 4, "down2_conv": 7}
    indices.update({f"block_{i}": 10 + i for i in range(n_blocks)})
    return indices


def _resnet_pairs(model) -> Iterator[tuple]:
    for name, index in resnet_discriminator_indices(model.n_blocks).items():
        layer = getattr(model, name)
        if name.startswith("block_"):
            yield from _conv(f"{ROOT}{index}.conv_block.1", layer.conv_a)
            yield from _conv(f"{ROOT}{index}.conv_block.5", layer.conv_b)
        else:
            yield from _conv(f"{ROOT}{index}", layer)


def resnet_discriminator_from_official(state_dict: dict, model) -> None:
    """Loads an official `Define_D(..., 'resnet_blocks')` state dict into a built `ResnetDiscriminator`.

    Raises:
        ValueError: listing every unmatched key, uncovered variable (e.g. a
            `head='conv1'` head) and shape mismatch.
    """
    where = "tfvton.convert.discriminators.resnet_discriminator_from_official"
    require_built(model, where)
    load_pairs(_resnet_pairs(model), state_dict, model, where)


def resnet_discriminator_to_official(model) -> dict:
    """Exports a built `ResnetDiscriminator` (`head='official'`) as an official state dict."""
    where = "tfvton.convert.discriminators.resnet_discriminator_to_official"
    require_built(model, where)
    if model.head != "official":
        raise ValueError(f"{where}: head={model.head!r} has no official counterpart; only "
                         "head='official' converts")
    return export_pairs(_resnet_pairs(model), model, where)
