"""Cloth masks for in-shop garment photos: OpenCV GrabCut, white-background aware.

The official release made its `cloth_mask/*_mask.png` files with GrabCut
(README: "Use the GrabCut method for the cloth mask"). In-shop photos show the
garment on a (near) white background, which gives GrabCut a much better start
than a rectangle:

1. near-white pixels (every channel >= `white_threshold`) that touch the
   image border through other near-white pixels are sure background;
2. other near-white pixels (a white collar, a white print enclosed by the
   garment) are probable background, every other pixel probable foreground;
3. GrabCut (`GC_INIT_WITH_MASK`) refines the labels from colour models;
4. the mask keeps the connected parts larger than `min_part` of the largest
   one, with holes that do not touch the border filled (garments have no holes
   that show the background, except between the arms of a cut-out design,
   which do touch the background region and stay open).

When no pixel looks like a white background (a photo on another background),
GrabCut starts from a rectangle inset by `margin` of the image size instead.

The result is an 8-bit mask, 255 = garment, 0 = background (what
`transforms.mask_from_png` reads).

GrabCut's cost grows with the pixel count (a 12-megapixel photo took 44 s and
3 GB) while the model reads the garment at 256x192, so it runs on a copy whose
longest side is at most `max_side` (512), and the mask is scaled back up
(bilinearly, then thresholded at half, which keeps the edges smooth).
`mask_for_cloth` is what the try-on inputs use: it refuses a photo GrabCut
cannot work on and a result with (almost) no garment, naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

import cv2
import numpy as np
from PIL import Image

from tfvton.data import raw_io
from tfvton.data.raw_io import DataError

__all__ = ["compute_cloth_mask", "mask_for_cloth", "write_cloth_mask", "GRABCUT_MAX_SIDE"]

GRABCUT_MAX_SIDE = 512


def _border_connected(candidate: np.ndarray) -> np.ndarray:
    """The pixels of `candidate` (bool) connected to the image border through `candidate` pixels."""
    _, labels = cv2.connectedComponents(candidate.astype(np.uint8), connectivity=4)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    touching = np.unique(border)
    touching = touching[touching > 0]
    return np.isin(labels, touching) & candidate


def compute_cloth_mask(image: np.ndarray, white_threshold: int = 235, iterations: int = 5,
                       margin: float = 0.05, min_part: float = 0.05, seed: int = 0,
                       max_side: int = GRABCUT_MAX_SIDE) -> np.ndarray:
    """Computes a garment mask from an in-shop photo.

    Args:
        image: uint8 RGB (H, W, 3).
        white_threshold: a pixel whose three channels are all >= this value
            counts as (near) white background.
        iterations: GrabCut iterations.
        margin: the rectangle inset (share of the size) used when the
            background is not white.
        min_part: keep connected foreground parts at least this share of the largest.
        seed: OpenCV's RNG seed (GrabCut's GMM initialisation uses k-means).
        max_side: GrabCut runs on a copy scaled down to this longest side.

    Returns:
        uint8 (H, W) mask, 255 = garment.

    Raises:
        ValueError: when `image` is not an (H, W, 3) uint8 array.
        cv2.error: when GrabCut cannot model the photo (a tiny one); `mask_for_cloth` names the file.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"compute_cloth_mask: expected a uint8 RGB image (H, W, 3), got {image.dtype} "
                         f"{image.shape}")
    full_h, full_w = image.shape[:2]
    scale = max_side / max(full_h, full_w)
    if scale < 1:
        image = cv2.resize(image, (max(1, round(full_w * scale)), max(1, round(full_h * scale))),
                           interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    cv2.setRNGSeed(seed)
    bgr = np.ascontiguousarray(image[..., ::-1])
    white = (image >= white_threshold).all(axis=-1)
    background = _border_connected(white)
    bgd_model = np.zeros((1, 65), np.float64)
    fgd_model = np.zeros((1, 65), np.float64)
    foreground_share = 1.0 - background.mean()
    if background.mean() > 0.05 and foreground_share > 0.01:
        mask = np.full((h, w), cv2.GC_PR_FGD, np.uint8)
        mask[white] = cv2.GC_PR_BGD
        mask[background] = cv2.GC_BGD
        try:
            cv2.grabCut(bgr, mask, None, bgd_model, fgd_model, iterations, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            # GrabCut needs both classes in its models; keep the white-background estimate.
            pass
    else:
        mask = np.zeros((h, w), np.uint8)
        rect = (int(w * margin), int(h * margin), max(1, int(w * (1 - 2 * margin))),
                max(1, int(h * (1 - 2 * margin))))
        cv2.grabCut(bgr, mask, rect, bgd_model, fgd_model, iterations, cv2.GC_INIT_WITH_RECT)
    garment = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)

    # Keep the large parts (GrabCut leaves specks of shadow and JPEG noise).
    count, labels, stats, _ = cv2.connectedComponentsWithStats(garment.astype(np.uint8), connectivity=8)
    if count > 1:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = 1 + np.flatnonzero(areas >= min_part * areas.max())
        garment = np.isin(labels, keep)
    # Fill holes that do not reach the border.
    holes = ~garment & ~_border_connected(~garment)
    garment |= holes
    mask = np.where(garment, 255, 0).astype(np.uint8)
    if (h, w) != (full_h, full_w):
        mask = np.where(cv2.resize(mask, (full_w, full_h), interpolation=cv2.INTER_LINEAR) >= 128, 255, 0)
    return mask.astype(np.uint8)


def mask_for_cloth(image: np.ndarray, where, limits: raw_io.InputLimits = raw_io.DEFAULT_LIMITS,
                   **kwargs) -> np.ndarray:
    """`compute_cloth_mask` for a user's photo: errors are `DataError`s naming `where`.

    Args:
        image: uint8 RGB (H, W, 3), as `raw_io.read_photo` returns it.
        where: the photo's file (or input name), for messages.
        limits: the contract's numbers (smallest side, smallest garment share).
        **kwargs: passed to `compute_cloth_mask`.

    Returns:
        uint8 (H, W) mask, 255 = garment.

    Raises:
        DataError: a photo too small for GrabCut, or a result with less garment
            than `limits.min_mask_share` (suggesting `--cloth-mask`).
    """
    raw_io.check_size(image.shape[0], image.shape[1], where, "cloth photo", limits)
    try:
        mask = compute_cloth_mask(image, **kwargs)
    except cv2.error as e:
        raise DataError(where, f"GrabCut cannot separate the garment in this cloth photo ({e.err}); "
                               "pass its mask with --cloth-mask") from None
    share = float(np.mean(mask == 255))
    if share < limits.min_mask_share:
        raise DataError(where, f"GrabCut found no garment in this cloth photo ({share:.2%} of the pixels, at "
                               f"least {limits.min_mask_share:.0%} expected); pass its mask with --cloth-mask")
    return mask


def write_cloth_mask(image_path: Union[str, Path], mask_path: Union[str, Path], **kwargs) -> np.ndarray:
    """Reads an in-shop photo, computes its mask and writes it as an 8-bit grey PNG.

    Returns:
        The mask (uint8 (H, W), 0/255).
    Raises:
        tfvton.data.DataError: when the image cannot be read or GrabCut finds no garment.
    """
    image = raw_io.read_photo(image_path, "cloth photo")
    mask = mask_for_cloth(image, image_path, **kwargs)
    Path(mask_path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(mask).save(mask_path, format="PNG")
    return mask
