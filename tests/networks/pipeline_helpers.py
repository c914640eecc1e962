"""Inputs for the TryOnPipeline tests (tests/networks, tests/convert)."""
from __future__ import annotations

import numpy as np


def make_inputs(batch=2, height=64, width=64, seed=0):
    """A batch shaped like MPVDataset's output; the parsing has big face and cloth regions."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 20, (batch, height, width))
    labels[:, : height // 4] = 13  # a face band on top
    labels[:, height // 2:, : width // 2] = 5  # upper clothes
    return {
        "source_image": rng.uniform(-1, 1, (batch, height, width, 3)).astype("float32"),
        "source_parse": np.eye(20, dtype="float32")[labels],
        "source_shape": rng.uniform(-1, 1, (batch, height, width, 1)).astype("float32"),
        "source_head": rng.uniform(-1, 1, (batch, height, width, 3)).astype("float32"),
        "target_pose": (rng.uniform(size=(batch, height, width, 18)) > 0.95).astype("float32"),
        "cloth_image": rng.uniform(-1, 1, (batch, height, width, 3)).astype("float32"),
        "cloth_mask": (rng.uniform(size=(batch, height, width, 1)) > 0.5).astype("float32"),
    }
