"""A PNG grid of dataset samples, to check the data by eye (`tfvton preview`).

One row per example; columns: person, cloth, cloth mask, parsing (official CIHP
colour map), target pose skeleton over the person, and the target image in
train/test mode. Every tile shows what the model reads (after preprocessing),
at the dataset's (height, width). Drawing uses numpy / PIL / OpenCV, plus the
eager transforms for the keypoint rule. A pair that fails to decode goes
through the dataset's skip/stop rule (`tfvton.data.counting`): skipped and
named, or stopping the preview.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from tfvton.data.counting import SkipLog
from tfvton.data.formats.parsing import CIHP_PALETTE
from tfvton.errors import DataError

# The official colour map (utils/transforms.py `label_colours`), one RGB per CIHP id.
LABEL_COLOURS = CIHP_PALETTE

# OpenPose COCO-18 limbs (joint index pairs) and joint colours, as drawn by OpenPose.
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
         (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
JOINT_COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
                 (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
                 (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))

PAD = 2  # pixels between tiles
TITLE_HEIGHT = 16
BACKGROUND = (32, 32, 32)


def colorize_parsing(labels: np.ndarray) -> np.ndarray:
    """CIHP ids (h, w) -> RGB uint8 (h, w, 3) in the official colour map."""
    return LABEL_COLOURS[np.clip(labels, 0, len(LABEL_COLOURS) - 1)]


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[-1, 1] float (h, w, c) -> uint8 RGB (grey is repeated to 3 channels)."""
    out = np.clip(np.round((np.asarray(image, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out


def draw_skeleton(image: np.ndarray, locations: np.ndarray, drawn: np.ndarray, radius: int = 3) -> np.ndarray:
    """Draws limbs and joints on a copy of `image`.

    Args:
        image: uint8 (h, w, 3).
        locations: int (18, 2) (row, col) as `transforms.pose_locations`.
        drawn: bool (18,) joints present (the heatmap rule: row > 1 and col > 1).
        radius: joint dot radius.
    """
    import cv2
    canvas = np.ascontiguousarray(image.copy())
    for a, b in LIMBS:
        if drawn[a] and drawn[b]:
            pa = (int(locations[a, 1]), int(locations[a, 0]))
            pb = (int(locations[b, 1]), int(locations[b, 0]))
            cv2.line(canvas, pa, pb, JOINT_COLOURS[b], 2, lineType=cv2.LINE_AA)
    for j in range(len(locations)):
        if drawn[j]:
            cv2.circle(canvas, (int(locations[j, 1]), int(locations[j, 0])), radius, JOINT_COLOURS[j], -1,
                       lineType=cv2.LINE_AA)
    return canvas


def columns_for(has_target: bool) -> Tuple[str, ...]:
    """Column titles of the grid."""
    base = ("person", "cloth", "cloth mask", "parsing", "target pose")
    return base + ("target",) if has_target else base


def grid_size(rows: int, cols: int, height: int, width: int) -> Tuple[int, int]:
    """(height, width) in pixels of a grid of `rows` x `cols` tiles of height x width."""
    return TITLE_HEIGHT + rows * height + (rows + 1) * PAD, cols * width + (cols + 1) * PAD


def sample_tiles(dataset, index: int) -> Sequence[np.ndarray]:
    """The tiles (uint8 (h, w, 3)) of one example, in `columns_for` order."""
    from tfvton.data import transforms

    example = dataset[index]
    raw = dataset.raw(index)
    h, w = dataset.height, dataset.width
    person = to_uint8(example["source_image"])
    tiles = [person, to_uint8(example["cloth_image"]),
             np.repeat((example["cloth_mask"] * 255).astype(np.uint8), 3, axis=-1),
             colorize_parsing(np.argmax(example["source_parse"], axis=-1))]
    # The target pose's frame: the target photo when there is one, else the person photo.
    frame = raw["target_image"] if "target_image" in raw else raw["person_image"]
    keypoints = transforms.scale_keypoints(raw["target_pose_keypoints"], frame.shape[:2], h, w)
    locations = transforms.pose_locations(keypoints, h, w).numpy()
    drawn = (locations[:, 0] > 1) & (locations[:, 1] > 1)
    dimmed = (person.astype(np.float32) * 0.5 + 64).astype(np.uint8)
    tiles.append(draw_skeleton(dimmed, locations, drawn))
    if dataset.has_target:
        tiles.append(to_uint8(example["target_image"]))
    return tiles


def render_preview(dataset, n: int = 8, indices: Optional[Sequence[int]] = None,
                   progress: bool = True, skips: Optional[SkipLog] = None) -> np.ndarray:
    """Renders a grid of `n` examples (the first ones unless `indices` is given).

    A pair that fails to decode goes through `skips` (the dataset's
    `on_bad_sample` rule by default): under `skip` it is counted and the next
    pair takes its row (with `indices`, the row is dropped); under `stop` its
    `DataError` is raised.

    Args:
        dataset: an `MPVDataset` (anything with `[i]`, `raw(i)`, `height`, `width`, `has_target`).
        n: number of rows.
        indices: which examples to show.
        progress: show a progress bar for more than a few rows.
        skips: the `SkipLog` that records skipped pairs (read it afterwards).
    Returns:
        uint8 RGB image of size `grid_size(rows, cols, height, width)`.
    Raises:
        DataError: under `stop`, or when no pair decodes.
    """
    from PIL import Image, ImageDraw

    if skips is None:
        skips = SkipLog(getattr(dataset, "on_bad_sample", "stop"), label="preview")
    candidates = list(range(len(dataset))) if indices is None else list(indices)
    wanted = min(n, len(dataset)) if indices is None else len(candidates)
    bar = None
    if progress and wanted > 4:
        from tqdm import tqdm
        bar = tqdm(total=wanted, desc="preview", unit="example", leave=False)
    rows = []
    for index in candidates:
        if len(rows) == wanted:
            break
        try:
            rows.append(sample_tiles(dataset, index))
        except DataError as e:
            skips.add(e, dataset.samples[index].line if hasattr(dataset, "samples") else None)
            continue
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if not rows:
        raise DataError(getattr(dataset, "pairs_file", "dataset"), f"no example could be drawn: "
                                                                  f"{skips.summary(0, 'examples')}")
    titles = columns_for(dataset.has_target)
    h, w = dataset.height, dataset.width
    gh, gw = grid_size(len(rows), len(titles), h, w)
    grid = np.empty((gh, gw, 3), np.uint8)
    grid[...] = BACKGROUND
    for row, tiles in enumerate(rows):
        y = TITLE_HEIGHT + PAD + row * (h + PAD)
        for col, tile in enumerate(tiles):
            x = PAD + col * (w + PAD)
            grid[y:y + h, x:x + w] = tile
    canvas = Image.fromarray(grid)
    draw = ImageDraw.Draw(canvas)
    for col, title in enumerate(titles):
        draw.text((PAD + col * (w + PAD) + 4, 2), title, fill=(255, 255, 255))
    return np.asarray(canvas)


def write_preview(dataset, out: Union[str, Path], n: int = 8, indices: Optional[Sequence[int]] = None,
                  progress: bool = True, skips: Optional[SkipLog] = None) -> Path:
    """Renders `render_preview` and writes it as a PNG in one rename; returns the path."""
    from PIL import Image

    from tfvton.atomic_file import atomic_write

    grid = render_preview(dataset, n, indices, progress, skips)
    return atomic_write(out, lambda scratch: Image.fromarray(grid).save(scratch, format="PNG"), "--out")
