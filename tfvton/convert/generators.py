"""Official generator state dicts <-> `ParsingUNet` / `TreeGenerator` weights (numpy only).

Keys are those of the official `Define_G(...).state_dict()` with every
DataParallel `module.` component removed (`tfvton.convert.official.strip_data_parallel`),
so they start with `Define_G`'s own `model.` attribute. The official files
(`parsing.tar`, `app.tar`, `face.tar`) store `model.module.<net keys>`.

`ParsingUNet` (official `UnetGenerator`, level i = 0 outermost .. n-1 innermost):

    level i prefix P(i) = "model.model.model." + ("1.model." if i >= 1) + "3.model." * (i - 1)
    down{i}_conv  <- P(i) + "0" (i = 0) | P(i) + "1"                       Conv2d, OIHW
    up{i}_deconv  <- P(i) + "3" (outermost, innermost) | P(i) + "5"          ConvTranspose2d, (in, out, kh, kw)

(each with `.weight` and `.bias`; the Sequential indices count LeakyReLU,
ReLU, norms and the nested block, hence 0/1, 3/5.)

`TreeGenerator` (official `TreeResnetGenerator`, n = n_blocks, Sequential `model.model.<idx>`):

    stem_conv 1, down1_conv 4, down2_conv 7, block_i 10 + i,
    up1_deconv 10 + n, up2_deconv 13 + n, head_conv 17 + n
    Tree-Block:   conv_block{d}.1 (conv_block{d}_a), conv_block{d}.6 (conv_block{d}_b),
                  joint1.0, joint2.0
    ResNet block: conv_block.1 (conv_a), conv_block.6 (conv_b)

The second conv of a branch sits at index 6 when the official network was
built with dropout (`demo.py` does: `not opt.no_dropout`) and at 5 without;
`*_from_official` accepts either layout (all keys must use the same one) and
`tree_generator_to_official` writes the one matching `model.dropout > 0`
unless `use_dropout` says otherwise. `block='resnet'` keys follow pix2pix's
`ResnetGenerator`; the official release has no such checkpoint.
"""
from __future__ import annotations

import re
from typing import Iterator, Optional

from tfvton.convert.strict import export_pairs, load_pairs, require_built

UNET_ROOT = "model.model.model."
TREE_ROOT = "model.model."


def _conv(key_prefix: str, layer, layout: str = "conv"):
    yield f"{key_prefix}.weight", layer.kernel, layout
    yield f"{key_prefix}.bias", layer.bias, "plain"


# ---------------------------------------------------------------------------
# ParsingUNet
# ---------------------------------------------------------------------------

def unet_level_prefix(level: int) -> str:
    """The official Sequential path of U-Net level `level` (0 = outermost), with a trailing dot."""
    if level == 0:
        return UNET_ROOT
    return UNET_ROOT + "1.model." + "3.model." * (level - 1)


def _unet_pairs(model) -> Iterator[tuple]:
    n = model.downsamplings
    for level in range(n):
        prefix = unet_level_prefix(level)
        outer_or_inner = level in (0, n - 1)
        yield from _conv(prefix + ("0" if level == 0 else "1"), getattr(model, f"down{level}_conv"))
        yield from _conv(prefix + ("3" if outer_or_inner else "5"), getattr(model, f"up{level}_deconv"), "deconv")


def unet_from_official(state_dict: dict, model) -> None:
    """Loads an official `UnetGenerator` (via `Define_G`) state dict into a built `ParsingUNet`.

    Args:
        state_dict: official key -> numpy array, `module.` components removed.
        model: a built `ParsingUNet` (official: ngf 64, 6 downsamplings, 36 -> 20).

    Raises:
        ValueError: listing every unmatched key, uncovered variable and shape mismatch;
            nothing is assigned then.
    """
    require_built(model, "tfvton.convert.generators.unet_from_official")
    load_pairs(_unet_pairs(model), state_dict, model, "tfvton.convert.generators.unet_from_official")


def unet_to_official(model) -> dict:
    """Exports a built `ParsingUNet` as an official `Define_G(..., 'unet_256')` state dict (no `module.`)."""
    require_built(model, "tfvton.convert.generators.unet_to_official")
    return export_pairs(_unet_pairs(model), model, "tfvton.convert.generators.unet_to_official")


# ---------------------------------------------------------------------------
# TreeGenerator
# ---------------------------------------------------------------------------

def tree_generator_indices(n_blocks: int) -> dict:
    """Keras sublayer name -> index in the official `TreeResnetGenerator.model` Sequential."""
    indices = {"stem_conv": 1, "down1_conv": 4, "down2_conv": 7}
    indices.update({f"block_{i}": 10 + i for i in range(n_blocks)})
    indices.update({"up1_deconv": 10 + n_blocks, "up2_deconv": 13 + n_blocks, "head_conv": 17 + n_blocks})
    return indices


def _tree_pairs(model, use_dropout: bool) -> Iterator[tuple]:
    second = 6 if use_dropout else 5  # Dropout sits between the two convs of a branch
    for name, index in tree_generator_indices(model.n_blocks).items():
        layer = getattr(model, name)
        prefix = f"{TREE_ROOT}{index}"
        if name.startswith("block_"):
            if model.block == "tree":
                for d in (1, 2, 3, 4):
                    yield from _conv(f"{prefix}.conv_block{d}.1", getattr(layer, f"conv_block{d}_a"))
                    yield from _conv(f"{prefix}.conv_block{d}.{second}", getattr(layer, f"conv_block{d}_b"))
                yield from _conv(f"{prefix}.joint1.0", layer.joint1)
                yield from _conv(f"{prefix}.joint2.0", layer.joint2)
            else:
                yield from _conv(f"{prefix}.conv_block.1", layer.conv_a)
                yield from _conv(f"{prefix}.conv_block.{second}", layer.conv_b)
        else:
            yield from _conv(prefix, layer, "deconv" if name.endswith("deconv") else "conv")


_BRANCH_SECOND_CONV = re.compile(r"\.conv_block\d?\.([56])\.weight$")


def _official_uses_dropout(state_dict: dict, default: bool) -> bool:
    found = {m.group(1) for m in map(_BRANCH_SECOND_CONV.search, state_dict) if m}
    if found == {"6"}:
        return True
    if found == {"5"}:
        return False
    return default  # no blocks, or mixed (then the strict check lists the odd keys)


def tree_generator_from_official(state_dict: dict, model) -> None:
    """Loads an official `TreeResnetGenerator` (via `Define_G`) state dict into a built `TreeGenerator`.

    Args:
        state_dict: official key -> numpy array, `module.` components removed.
        model: a built `TreeGenerator` (official: ngf 64, 6 Tree-Blocks; appearance
            26 -> 4, face 6 -> 3).

    Raises:
        ValueError: listing every unmatched key, uncovered variable and shape mismatch;
            nothing is assigned then.
    """
    where = "tfvton.convert.generators.tree_generator_from_official"
    require_built(model, where)
    use_dropout = _official_uses_dropout(state_dict, default=model.dropout > 0)
    load_pairs(_tree_pairs(model, use_dropout), state_dict, model, where)


def tree_generator_to_official(model, use_dropout: Optional[bool] = None) -> dict:
    """Exports a built `TreeGenerator` as an official `Define_G(..., 'treeresnet')` state dict.

    Args:
        model: a built `TreeGenerator`.
        use_dropout: the official network's `use_dropout` (it shifts the key of the
            second conv of each branch); None takes `model.dropout > 0`.
    """
    where = "tfvton.convert.generators.tree_generator_to_official"
    require_built(model, where)
    if use_dropout is None:
        use_dropout = model.dropout > 0
    return export_pairs(_tree_pairs(model, use_dropout), model, where)
