"""The whole chain on a real photo: rotating the photo rotates the keypoints (detector ROI rotation,
crop and back-projection agree), arrays and paths give the same answer."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.data.raw_io import read_photo

STEM = "FIE21D00C-A11@9=person_whole_back"


def _unrotate(points: np.ndarray, rotated_shape, turns: int) -> np.ndarray:
    """Keypoints of `np.rot90(image, turns)` back into the frame of `image`."""
    points = points.copy()
    height, width = rotated_shape[:2]
    for _ in range(turns):
        # rot90 (counter-clockwise): rotated (row i, col j) = original (row j, col W - 1 - i).
        points = np.stack([height - 1 - points[:, 1], points[:, 0]], axis=1)
        height, width = width, height
    return points


@pytest.mark.parametrize("turns", [1, 2])
def test_rotated_photo_gives_rotated_keypoints(mpv_root, estimator, turns):
    image = read_photo(mpv_root / "images" / f"{STEM}.jpg")
    upright = estimator.keypoints(image)
    rotated_image = np.ascontiguousarray(np.rot90(image, turns))
    rotated = estimator.keypoints(rotated_image)
    both = (upright[:, 2] > 0) & (rotated[:, 2] > 0)
    assert both.sum() >= 14
    back = _unrotate(rotated[:, :2], rotated_image.shape, turns)
    distances = np.linalg.norm(back[both] - upright[both, :2], axis=1) / image.shape[0]
    # Measured: median 0.3-0.4 %, max 1.1 % of the height.
    assert np.median(distances) < 0.015 and distances.max() < 0.04


def test_path_and_array_agree(mpv_root, estimator):
    path = mpv_root / "images" / f"{STEM}.jpg"
    np.testing.assert_array_equal(estimator.keypoints(path), estimator.keypoints(read_photo(path)))
    with pytest.raises(ValueError, match="uint8 RGB"):
        estimator.keypoints(np.zeros((10, 10), np.float32))
