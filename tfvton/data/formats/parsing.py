"""Human-parsing formats -> CIHP label ids, the label set the networks read.

CIHP ids (Gong et al. 2018, "Instance-level Human Parsing via Part Grouping
Network"; `CIHP_PGN` README, the parser MPV was labelled with):
0 background, 1 hat, 2 hair, 3 glove, 4 sunglasses, 5 upper clothes, 6 dress,
7 coat, 8 socks, 9 pants, 10 torso skin, 11 scarf, 12 skirt, 13 face,
14 left arm, 15 right arm, 16 left leg, 17 right leg, 18 left shoe, 19 right shoe
(`tfvton.data.transforms.LABEL_NAMES` names 10 after LIP; MPV uses it for neck
and torso skin).

Sources of the other label sets:
- LIP (Gong et al. 2017, "Look into Person"; the LIP dataset's label list):
  the same 20 ids, except that 10 is "jumpsuits". A jumpsuit is a one-piece
  garment, so it maps to CIHP 6 (dress), which the try-on treats as clothing.
- ATR (Liang et al. 2015; the 18 classes Self-Correction-Human-Parsing's
  `dataset_settings['atr']` lists): 0 background, 1 hat, 2 hair, 3 sunglasses,
  4 upper clothes, 5 skirt, 6 pants, 7 dress, 8 belt, 9 left shoe, 10 right
  shoe, 11 face, 12 left leg, 13 right leg, 14 left arm, 15 right arm, 16 bag,
  17 scarf. CIHP has no belt or bag: a belt maps to pants (it sits on them and
  is not clothing to replace), a bag to background.
- Colour renderings (`*_vis.png`): CIHP_PGN's `utils/utils.py` `label_colours`,
  the palette LIP's tools and MPV's `parse_cihp/*_vis.png` files use; each of the
  20 colours is one CIHP id.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from tfvton.data.formats import PARSING_FORMATS, FormatError
from tfvton.data.labels import NUM_LABELS

__all__ = ["FORMATS", "CIHP_PALETTE", "LIP_TO_CIHP", "ATR_TO_CIHP", "ids_to_cihp", "colours_to_cihp"]

FORMATS = PARSING_FORMATS
CIHP_PALETTE = np.array([
    (0, 0, 0), (128, 0, 0), (255, 0, 0), (0, 85, 0), (170, 0, 51), (255, 85, 0), (0, 0, 85), (0, 119, 221),
    (85, 85, 0), (0, 85, 85), (85, 51, 0), (52, 86, 128), (0, 128, 0), (0, 0, 255), (51, 170, 221),
    (0, 255, 255), (85, 255, 170), (170, 255, 85), (255, 255, 0), (255, 170, 0)], np.uint8)
LIP_TO_CIHP = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 6, 11, 12, 13, 14, 15, 16, 17, 18, 19], np.uint8)
ATR_TO_CIHP = np.array([0, 1, 2, 4, 5, 12, 9, 6, 9, 18, 19, 13, 16, 17, 14, 15, 0, 11], np.uint8)
_TABLES = {"cihp": np.arange(NUM_LABELS, dtype=np.uint8), "lip": LIP_TO_CIHP, "atr": ATR_TO_CIHP}
_MAX_LISTED = 8


def ids_to_cihp(ids: np.ndarray, fmt: str = "cihp") -> np.ndarray:
    """Label ids of `fmt` (`cihp`, `lip` or `atr`) -> CIHP ids, uint8 of the same shape.

    Raises:
        FormatError: an id outside the label set (listing the first few).
    """
    if fmt not in _TABLES:
        raise FormatError(f"label-id format must be one of {tuple(_TABLES)}, got {fmt!r}")
    table = _TABLES[fmt]
    ids = np.asarray(ids)
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= len(table)):
        found = np.unique(ids)
        bad = [int(v) for v in found[(found < 0) | (found >= len(table))]][:_MAX_LISTED]
        raise FormatError(f"{fmt.upper()} label ids must be within 0-{len(table) - 1}; found {bad}")
    return table[ids.astype(np.int64)]


def colours_to_cihp(rgb: np.ndarray) -> np.ndarray:
    """A colour rendering uint8 (H, W, 3) in the CIHP/LIP palette -> CIHP ids uint8 (H, W).

    Raises:
        FormatError: naming the colours that are not in the palette (with pixel
            counts); a JPEG-compressed or smoothed rendering has many.
    """
    rgb = np.asarray(rgb, np.uint8)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise FormatError(f"a colour rendering must be (height, width, 3); got shape {rgb.shape}")
    packed = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    palette = (CIHP_PALETTE[:, 0].astype(np.int64) << 16) | (CIHP_PALETTE[:, 1].astype(np.int64) << 8) \
        | CIHP_PALETTE[:, 2]
    colours, inverse, counts = np.unique(packed.ravel(), return_inverse=True, return_counts=True)
    index = np.searchsorted(np.sort(palette), colours)
    order = np.argsort(palette)
    known = (index < len(palette)) & (np.sort(palette)[np.minimum(index, len(palette) - 1)] == colours)
    if not known.all():
        unknown = np.flatnonzero(~known)
        unknown = unknown[np.argsort(-counts[unknown])][:_MAX_LISTED]
        listed = ", ".join(f"{_rgb(colours[i])} at {counts[i]} pixels" for i in unknown)
        raise FormatError(f"colour rendering holds {int((~known).sum())} colour(s) outside the CIHP/LIP palette: "
                          f"{listed} (a rendering must be a lossless PNG without smoothed edges)")
    ids = order[index].astype(np.uint8)
    return ids[inverse].reshape(rgb.shape[:2])


def _rgb(packed: int) -> Tuple[int, int, int]:
    return (int(packed) >> 16, (int(packed) >> 8) & 255, int(packed) & 255)
