"""MediaPipe 33 -> OpenPose COCO-18: hand-made landmarks."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.pose.coco18 import coco18_from_mediapipe


def _landmarks():
    # Landmark m at continuous (m + 1.5, 2m + 1.5): pixel-index coordinates (m + 1, 2m + 1).
    m = np.arange(33, dtype=np.float64)
    return np.stack([m + 1.5, 2 * m + 1.5], axis=1), np.full(33, 0.9)


def test_joints_come_from_the_right_landmarks():
    xy, visibility = _landmarks()
    kp = coco18_from_mediapipe(xy, visibility, (100, 100))
    assert kp.shape == (18, 3) and kp.dtype == np.float32
    # COCO-18 joint -> MediaPipe landmark, written out by hand.
    for coco, mp in [(0, 0), (2, 12), (3, 14), (4, 16), (5, 11), (6, 13), (7, 15), (8, 24), (9, 26), (10, 28),
                     (11, 23), (12, 25), (13, 27), (14, 5), (15, 2), (16, 8), (17, 7)]:
        np.testing.assert_allclose(kp[coco], [mp + 1, 2 * mp + 1, 0.9], rtol=1e-6)
    # Neck: the shoulders' midpoint (landmarks 11 and 12).
    np.testing.assert_allclose(kp[1], [12.5, 24.0, 0.9], rtol=1e-6)


def test_unseen_and_outside_joints_are_written_as_zeros():
    xy, visibility = _landmarks()
    visibility[16] = 0.3  # right wrist hidden
    visibility[11], visibility[12] = 0.9, 0.6
    xy[28] = (-5.0, 40.0)  # right ankle left of the image
    xy[27] = (20.0, 80.0)  # left ankle below a 60-row image
    kp = coco18_from_mediapipe(xy, visibility, (60, 100), threshold=0.5)
    for joint in (4, 10, 13):
        assert kp[joint].tolist() == [0.0, 0.0, 0.0]
    assert kp[1, 2] == pytest.approx(0.6)  # the neck is as visible as its less visible shoulder
    visibility[12] = 0.2
    assert coco18_from_mediapipe(xy, visibility, (60, 100))[1].tolist() == [0.0, 0.0, 0.0]


def test_wrong_shapes_are_rejected():
    with pytest.raises(ValueError, match="33 MediaPipe landmarks"):
        coco18_from_mediapipe(np.zeros((25, 2)), np.zeros(25), (10, 10))
