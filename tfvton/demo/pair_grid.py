"""The demo's test-pair grid: which test examples it shows and how they are drawn."""
from __future__ import annotations

from typing import Callable, List

import numpy as np

# SynthMPV lists 6 pairs per identity: one row per test identity, up to 6 rows.
PAIRS_PER_IDENTITY = 6
MAX_ROWS = 6

__all__ = ["row_collector", "pair_grid_image"]


def row_collector(rows: List) -> Callable:
    """An `evaluate_predictor(on_batch=...)` callback appending `(index, example, outputs)` to `rows`."""

    def collect(first, batch, outputs):
        for j in range(len(batch["source_image"])):
            if len(rows) < MAX_ROWS and (first + j) % PAIRS_PER_IDENTITY == 0:
                rows.append((first + j, {k: v[j] for k, v in batch.items()}, {k: v[j] for k, v in outputs.items()}))

    return collect


def _frame_of(path) -> tuple:
    from PIL import Image

    with Image.open(path) as image:
        return image.size[1], image.size[0]


def pair_grid_image(dataset, rows, predictor) -> np.ndarray:
    """Strips (plus the ground-truth target) of the collected test examples."""
    from tfvton.inference.grid import STRIP_COLUMNS, stack_rows, strip_tiles, titled_row
    from tfvton.metrics.evaluation import to_uint8

    strips = []
    for index, example, outputs in rows:
        keypoints = dataset.keypoints(index)["target_pose_keypoints"]
        frame = _frame_of(dataset.files(index)["target_image"])
        tiles = strip_tiles(example, outputs, keypoints, frame) + [to_uint8(example["target_image"])]
        strips.append(titled_row(tiles, STRIP_COLUMNS + ("target (truth)",) if not strips else None))
    return stack_rows(strips)
