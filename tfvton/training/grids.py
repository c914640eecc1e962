"""Sample image grids of a stage: one row per example, one column per named panel.

Panels (as the stage trainers' `visuals` name them): `source`, `cloth`,
`warped_cloth`, `parsing` (and `source_parse` / `target_parse`), `coarse`,
`composition_mask`, `tryon`, `final`, `target`, ... Images in [-1, 1], one-channel
masks in [0, 1], 20-channel parsings (probabilities or one-hot, shown with the
official CIHP colour map).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from tfvton.data.preview import BACKGROUND, PAD, TITLE_HEIGHT, colorize_parsing, to_uint8


# Column titles (tiles are as narrow as the images; the smoke preset's are 64 px).
TITLES = {"warped_cloth": "warped", "composition_mask": "mask", "tryon": "result", "final": "refined",
          "target_cloth": "im_c", "source_parse": "src parse", "target_parse": "tgt parse",
          "real_face": "real face"}


def panel_to_uint8(name: str, tiles: np.ndarray) -> np.ndarray:
    """(B, H, W, C) panel -> (B, H, W, 3) uint8 by channel count and name."""
    tiles = np.asarray(tiles, np.float32)
    channels = tiles.shape[-1]
    if channels == 3:
        return np.stack([to_uint8(t) for t in tiles])
    if channels == 1:  # masks live in [0, 1]
        grey = np.clip(np.round(tiles * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey, 3, axis=-1)
    if channels == 20:
        return np.stack([colorize_parsing(np.argmax(t, axis=-1)) for t in tiles])
    raise ValueError(f"panel_to_uint8: panel {name!r} must have 1, 3 or 20 channels. Received: {channels} channels")


def compose_grid(panels: Mapping[str, np.ndarray], max_rows: int = 4) -> np.ndarray:
    """Lays the panels out as a titled uint8 RGB grid.

    Args:
        panels: ordered {name: (B, H, W, C) array}.
        max_rows: examples shown.
    Returns:
        (rows * (H + PAD) + TITLE_HEIGHT + PAD, cols * (W + PAD) + PAD, 3) uint8.
    """
    from PIL import Image, ImageDraw

    names = list(panels)
    converted = [panel_to_uint8(name, panels[name])[:max_rows] for name in names]
    rows, height, width = converted[0].shape[:3]
    grid = np.empty((TITLE_HEIGHT + PAD + rows * (height + PAD), PAD + len(names) * (width + PAD), 3), np.uint8)
    grid[...] = BACKGROUND
    for col, tiles in enumerate(converted):
        x = PAD + col * (width + PAD)
        for row in range(rows):
            y = TITLE_HEIGHT + PAD + row * (height + PAD)
            grid[y:y + height, x:x + width] = tiles[row]
    canvas = Image.fromarray(grid)
    draw = ImageDraw.Draw(canvas)
    for col, name in enumerate(names):
        title = TITLES.get(name, name)
        draw.text((PAD + col * (width + PAD) + 2, 2), title[: max(3, width // 6)], fill=(255, 255, 255))
    return np.asarray(canvas)
