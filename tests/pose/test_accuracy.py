"""Keypoint accuracy: the measurement on hand-made keypoints, and the floor on the five real MPV samples."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.pose.accuracy import joint_distances, mpv_sample_accuracy, summarize


def test_only_joints_both_mark_visible_are_compared():
    reference = np.zeros((18, 3))
    predicted = np.zeros((18, 3))
    reference[0], predicted[0] = (10, 10, 0.9), (13, 14, 0.8)  # 5 px away
    reference[1], predicted[1] = (50, 50, 0.9), (50, 50, 0.0)  # missed by the prediction
    reference[2], predicted[2] = (0, 0, 0.0), (30, 30, 0.9)  # extra joint: not compared
    reference[3], predicted[3] = (20, 20, 0.5), (20, 40, 0.5)  # 20 px away
    distances, missed = joint_distances(predicted, reference, image_height=100)
    np.testing.assert_allclose(distances, [0.05, 0.20])
    assert missed == 1


def test_summary_pools_images():
    accuracy = summarize([np.array([0.01, 0.04]), np.array([0.07, 0.2])], missed=2)
    assert accuracy.joints == 4 and accuracy.missed == 2
    assert accuracy.median == pytest.approx(0.055)
    assert (accuracy.within_5, accuracy.within_10) == (0.5, 0.75)
    with pytest.raises(ValueError, match="no joint"):
        summarize([np.zeros(0)])


def test_blazepose_meets_the_accuracy_floor_on_the_real_samples(mpv_root, estimator):
    accuracy, per_image = mpv_sample_accuracy(mpv_root, estimator.keypoints)
    assert len(per_image) == 5
    # Issue 12's target: >= 90 % of the joints within 10 % of the image height, median <= 4 %.
    # Measured 1.0 % / 97 % / 100 % (README); the floor leaves room for LiteRT version drift.
    assert accuracy.within_10 >= 0.9 and accuracy.median <= 0.04
    assert accuracy.within_5 >= 0.85
    assert accuracy.joints >= 60 and accuracy.missed <= 5
