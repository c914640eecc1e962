"""SSD anchors of the BlazePose detector.

The options are those of MediaPipe's `pose_detection_cpu.pbtxt`
(`SsdAnchorsCalculator`): 5 layers, strides 8/16/32/32/32 on a 224x224
input, aspect ratio 1 plus the interpolated anchor, fixed anchor size. Layers
of equal stride share one feature map, so the 224x224 model has
28*28*2 + 14*14*2 + 7*7*6 = 2254 anchors, the `num_boxes` of its
`TensorsToDetectionsCalculator`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Tuple

import numpy as np

__all__ = ["AnchorOptions", "POSE_DETECTION_ANCHORS", "ssd_anchor_centres"]


@dataclasses.dataclass(frozen=True)
class AnchorOptions:
    """The subset of MediaPipe's `SsdAnchorsCalculatorOptions` a fixed-size anchor set needs."""

    input_height: int = 224
    input_width: int = 224
    strides: Tuple[int, ...] = (8, 16, 32, 32, 32)
    aspect_ratios: Tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0  # > 0 adds one anchor per cell
    offset_x: float = 0.5
    offset_y: float = 0.5


POSE_DETECTION_ANCHORS = AnchorOptions()


def ssd_anchor_centres(options: AnchorOptions = POSE_DETECTION_ANCHORS) -> np.ndarray:
    """Anchor centres as float32 (N, 2) (x, y) in [0, 1] of the model input.

    The order is the model's box order: per group of equal-stride layers, rows,
    then columns, then the anchors of one cell. With a fixed anchor size every
    anchor is 1x1, so only the centre is needed.
    """
    centres = []
    layer = 0
    while layer < len(options.strides):
        stride = options.strides[layer]
        per_cell = 0
        # Consecutive layers with the same stride share one feature map.
        while layer < len(options.strides) and options.strides[layer] == stride:
            per_cell += len(options.aspect_ratios) + (1 if options.interpolated_scale_aspect_ratio > 0 else 0)
            layer += 1
        rows = math.ceil(options.input_height / stride)
        cols = math.ceil(options.input_width / stride)
        ys = (np.arange(rows) + options.offset_y) / rows
        xs = (np.arange(cols) + options.offset_x) / cols
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # row-major: y outer, x inner
        centres.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)
