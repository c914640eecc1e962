"""Warped-cloth IoU: where the warped garment lands vs the target's cloth region (docs/metrics.md).

Target region T: the pixels whose TARGET parsing label is 5, 6 or 7 (upper
clothes, dress, coat). Two definitions of the warped garment's pixels W:

- `warped_cloth_iou` (the primary one): the in-shop cloth MASK warped with the
  GMM's own grid (the grid that warps the cloth image; bilinear, zeros
  outside the cloth image), W = warped mask > 0.5. It does not depend on the
  garment's colours, so a white garment counts as well as a red one.
- `warped_cloth_iou_nonwhite`: W = the pixels of the warped cloth IMAGE
  (8-bit) that are not near-white, i.e. some channel < 245 (the in-shop
  photos are shot on white). Works for every model format (exported graphs
  return the warped cloth but not the grid); misses white garment parts.

Both are dataset-level: IoU = sum over images of |W & T| / sum of |W | T|
(an image with empty W and T adds nothing), as the parsing mIoU is.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from tfvton.data.transforms import CLOTH_LABELS
from tfvton.layers.grid_sample import grid_sample

# 8-bit value below which a channel is "not white" (JPEG noise on the white
# background of in-shop photos stays above it).
NON_WHITE_BELOW = 245

__all__ = ["NON_WHITE_BELOW", "cloth_region", "warp_mask", "non_white", "MaskIoU"]


def cloth_region(labels) -> np.ndarray:
    """Boolean map of the cloth labels 5, 6, 7 in integer label map(s)."""
    return np.isin(np.asarray(labels), CLOTH_LABELS)


def warp_mask(mask, grid) -> np.ndarray:
    """The cloth mask (B, H, W, 1) in {0, 1} warped with a GMM grid (B, H, W, 2), as booleans (B, H, W).

    Bilinear sampling with zeros outside the cloth image (no cloth there),
    thresholded at 0.5.
    """
    warped = grid_sample(np.asarray(mask, np.float32), np.asarray(grid, np.float32), padding_mode="zeros")
    return np.asarray(warped)[..., 0] > 0.5


def non_white(image_uint8) -> np.ndarray:
    """Boolean (..., H, W): some channel of the 8-bit RGB image is below `NON_WHITE_BELOW`."""
    return np.any(np.asarray(image_uint8) < NON_WHITE_BELOW, axis=-1)


class MaskIoU:
    """Dataset-level IoU of two boolean masks, summed over batches.

    Example:
        >>> iou = MaskIoU()
        >>> iou.update(predicted_masks, target_masks)  # (B, H, W) booleans
        >>> iou.result()["iou"]
    """

    def __init__(self):
        self.intersection = 0
        self.union = 0
        self.n = 0

    def update(self, predicted, target) -> None:
        predicted = np.asarray(predicted, bool)
        target = np.asarray(target, bool)
        if predicted.shape != target.shape:
            raise ValueError(f"MaskIoU: masks must have the same shape. "
                             f"Received: {predicted.shape} and {target.shape}")
        self.intersection += int(np.count_nonzero(predicted & target))
        self.union += int(np.count_nonzero(predicted | target))
        self.n += len(predicted) if predicted.ndim == 3 else 1

    def result(self) -> Dict[str, float]:
        """`iou` (NaN when both masks were always empty) and `n` (images)."""
        return {"iou": self.intersection / self.union if self.union else float("nan"), "n": self.n}
