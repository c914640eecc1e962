"""The official-style result strip and multi-row grids (numpy / PIL / OpenCV only).

The official `demo.py` saves, per example, one strip of eight images:
source image, cloth, target pose, warped cloth, source parsing, predicted
parsing, `p_tryon` (the composed try-on before face refinement) and the final
face-refined result. `tryon_strip` draws the same eight tiles, plus a title bar.
"""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence

import numpy as np

from tfvton.data.preview import BACKGROUND, PAD, TITLE_HEIGHT, colorize_parsing, draw_skeleton, to_uint8

STRIP_COLUMNS = ("source", "cloth", "target pose", "warped cloth", "source parsing", "predicted parsing",
                 "coarse", "final")

__all__ = ["STRIP_COLUMNS", "pose_image", "strip_tiles", "tryon_strip", "stack_rows", "titled_row",
           "save_png", "write_png"]


def pose_image(keypoints: np.ndarray, from_hw, height: int, width: int, radius: int = 4) -> np.ndarray:
    """The target pose drawn as an OpenPose skeleton on black (the official `target_pose_img`).

    Args:
        keypoints: (18, 3) OpenPose x, y, confidence in pixels of an image of size `from_hw`.
        from_hw: (height, width) of the image the keypoints refer to.
        height, width: output size.
    """
    kp = np.asarray(keypoints, np.float64).copy()
    kp[:, 0] *= width / float(from_hw[1])
    kp[:, 1] *= height / float(from_hw[0])
    # Same truncation and "drawn" rule as transforms.pose_locations / pose_heatmaps.
    col = np.minimum(np.trunc(kp[:, 0]), width - 1).astype(int)
    row = np.minimum(np.trunc(kp[:, 1]), height - 1).astype(int)
    drawn = (row > 1) & (col > 1)
    return draw_skeleton(np.zeros((height, width, 3), np.uint8), np.stack([row, col], -1), drawn, radius)


def _blank(height: int, width: int) -> np.ndarray:
    tile = np.full((height, width, 3), 96, np.uint8)
    tile[::8, :] = 80  # a hatch so "not available" does not look like a black output
    return tile


def strip_tiles(example: Mapping[str, np.ndarray], outputs: Mapping[str, np.ndarray],
                target_keypoints: Optional[np.ndarray] = None, keypoints_hw=None) -> List[np.ndarray]:
    """The eight tiles of one example, uint8 (H, W, 3) each.

    Args:
        example: one preprocessed example (unbatched): `source_image`,
            `cloth_image`, `source_parse`, `target_pose`.
        outputs: one example of `Predictor.predict` (unbatched): `output` or
            `final`, and when present `warped_cloth`, `parsing` /
            `parsing_labels`, `tryon`.
        target_keypoints: (18, 3) target keypoints to draw the skeleton; when
            None, the target pose discs are shown.
        keypoints_hw: the (height, width) the keypoints refer to (default: model size).
    """
    h, w = np.asarray(example["source_image"]).shape[:2]
    if target_keypoints is not None:
        pose = pose_image(target_keypoints, keypoints_hw or (h, w), h, w)
    else:
        discs = np.asarray(example["target_pose"]).max(axis=-1)
        pose = np.repeat((discs * 255).astype(np.uint8)[..., None], 3, axis=-1)
    if "parsing" in outputs:
        predicted = colorize_parsing(np.argmax(outputs["parsing"], axis=-1))
    elif "parsing_labels" in outputs:
        predicted = colorize_parsing(np.asarray(outputs["parsing_labels"]))
    else:
        predicted = _blank(h, w)

    def image(key):
        return to_uint8(outputs[key]) if key in outputs else _blank(h, w)

    final = outputs["final"] if "final" in outputs else outputs["output"]
    return [to_uint8(example["source_image"]), to_uint8(example["cloth_image"]), pose, image("warped_cloth"),
            colorize_parsing(np.argmax(example["source_parse"], axis=-1)), predicted, image("tryon"),
            to_uint8(final)]


def titled_row(tiles: Sequence[np.ndarray], titles: Optional[Sequence[str]] = None) -> np.ndarray:
    """Tiles side by side with PAD pixels between them and an optional title bar above."""
    from PIL import Image, ImageDraw

    h, w = tiles[0].shape[:2]
    top = TITLE_HEIGHT if titles else 0
    canvas = np.empty((top + h, len(tiles) * (w + PAD) - PAD, 3), np.uint8)
    canvas[:] = BACKGROUND
    for i, tile in enumerate(tiles):
        canvas[top:top + h, i * (w + PAD):i * (w + PAD) + w] = tile
    if titles:
        image = Image.fromarray(canvas)
        draw = ImageDraw.Draw(image)
        for i, title in enumerate(titles):
            draw.text((i * (w + PAD) + 3, 2), str(title), fill=(230, 230, 230))
        canvas = np.asarray(image)
    return canvas


def tryon_strip(example, outputs, target_keypoints=None, keypoints_hw=None, titles: bool = True) -> np.ndarray:
    """The official-style strip of one example (see `strip_tiles`), with column titles."""
    tiles = strip_tiles(example, outputs, target_keypoints, keypoints_hw)
    return titled_row(tiles, STRIP_COLUMNS if titles else None)


def stack_rows(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of equal width stacked with PAD pixels between them."""
    width = max(r.shape[1] for r in rows)
    height = sum(r.shape[0] for r in rows) + PAD * (len(rows) - 1)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = BACKGROUND
    y = 0
    for r in rows:
        canvas[y:y + r.shape[0], :r.shape[1]] = r
        y += r.shape[0] + PAD
    return canvas


def write_png(array: np.ndarray, path) -> None:
    """Writes a uint8 image as PNG to `path` as it is (the writer `AtomicFile.commit` calls)."""
    from PIL import Image

    Image.fromarray(np.asarray(array, np.uint8)).save(path, format="PNG", optimize=True)


def save_png(array: np.ndarray, path) -> None:
    """Writes a uint8 image as PNG in one rename (parent folders created; never a half-written file)."""
    from tfvton.atomic_file import atomic_write

    atomic_write(path, lambda scratch: write_png(array, scratch))
