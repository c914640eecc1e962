"""A target pose from another photo mapped into the person's frame: hand-made poses."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.pose.transfer import map_pose_into_frame, torso_alignment


def _pose():
    rng = np.random.default_rng(0)
    kp = np.concatenate([rng.uniform(40, 160, (18, 2)), np.full((18, 1), 0.8)], axis=1)
    kp[1], kp[8], kp[11] = (100, 50, 0.9), (90, 150, 0.9), (110, 150, 0.9)  # torso length 100
    kp[2], kp[5] = (80, 50, 0.9), (120, 50, 0.9)
    return kp


def test_a_scaled_and_shifted_copy_maps_back_onto_the_person():
    target = _pose()
    person = target.copy()
    person[:, :2] = 0.5 * target[:, :2] + [10.0, 20.0]
    scale, shift, how = torso_alignment(target, (256, 192), person, (128, 96))
    assert (scale, how) == (pytest.approx(0.5), "torso length")
    np.testing.assert_allclose(shift, [10.0, 20.0])
    np.testing.assert_allclose(map_pose_into_frame(target, (256, 192), person, (128, 96)), person, atol=1e-4)


def test_shoulder_width_is_used_when_a_hip_is_missing():
    target, person = _pose(), _pose()
    person[:, :2] = 2.0 * person[:, :2]
    person[8] = 0.0  # the person photo shows no right hip
    assert torso_alignment(target, (200, 200), person, (400, 400))[:3:2] == (pytest.approx(2.0), "shoulder width")


def test_unseen_and_out_of_frame_joints_are_zero():
    target = _pose()
    target[4] = 0.0
    target[10] = (100, 199, 0.7)  # the ankle lands below a person frame of half the size
    person = target.copy()
    person[:, :2] *= 0.5
    person[10] = 0.0
    mapped = map_pose_into_frame(target, (200, 200), person, (90, 100))
    assert mapped[4].tolist() == [0.0, 0.0, 0.0] and mapped[10].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(mapped[1], [50.0, 25.0, 0.9], atol=1e-5)


def test_without_a_shared_torso_the_frames_are_fitted():
    target = np.zeros((18, 3))
    target[0] = (50, 100, 0.9)  # only the nose, in the centre of a 200 x 100 (h x w) photo
    person = np.zeros((18, 3))
    scale, shift, how = torso_alignment(target, (200, 100), person, (100, 100))
    assert (scale, how) == (0.5, "frame")
    np.testing.assert_allclose(map_pose_into_frame(target, (200, 100), person, (100, 100))[0], [50, 50, 0.9])
