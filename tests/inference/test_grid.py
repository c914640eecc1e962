"""The official-style strip: eight tiles, in order, at the model size."""
from __future__ import annotations

import numpy as np

from tfvton.inference.grid import STRIP_COLUMNS, pose_image, strip_tiles, titled_row


def test_strip_tiles_order_and_content():
    h, w = 32, 24
    rng = np.random.default_rng(0)
    source = rng.uniform(-1, 1, (h, w, 3)).astype(np.float32)
    parse = np.zeros((h, w, 20), np.float32)
    parse[..., 13] = 1  # all face
    example = {"source_image": source, "cloth_image": -source, "source_parse": parse,
               "target_pose": np.zeros((h, w, 18), np.float32)}
    final = np.full((h, w, 3), 1.0, np.float32)
    outputs = {"final": final, "output": final, "warped_cloth": np.zeros((h, w, 3), np.float32),
               "tryon": np.full((h, w, 3), -1.0, np.float32), "parsing": parse}
    tiles = strip_tiles(example, outputs)
    assert len(tiles) == len(STRIP_COLUMNS) == 8
    assert all(t.shape == (h, w, 3) and t.dtype == np.uint8 for t in tiles)
    assert np.array_equal(tiles[0], np.round((source + 1) * 127.5).astype(np.uint8))
    assert (tiles[4] == (0, 0, 255)).all() and (tiles[5] == (0, 0, 255)).all()  # CIHP colour of label 13
    assert (tiles[6] == 0).all() and (tiles[7] == 255).all()  # coarse (tryon) and final
    row = titled_row(tiles, STRIP_COLUMNS)
    assert row.shape == (16 + h, 8 * w + 7 * 2, 3)


def test_pose_image_scales_keypoints_and_skips_missing_joints():
    keypoints = np.zeros((18, 3), np.float32)
    keypoints[1] = (96, 128, 1)  # neck at the centre of a 192x256 photo
    image = pose_image(keypoints, (256, 192), 64, 48)
    ys, xs = np.nonzero(image.any(axis=-1))
    assert abs(ys.mean() - 32) < 1 and abs(xs.mean() - 24) < 1  # drawn at the scaled position only
