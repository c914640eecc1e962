"""Rotated square regions: alignment keypoints -> region, crops and back-projection, hand-made cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tfvton.pose.roi import Roi, crop_roi, letterbox_roi, roi_from_alignment, roi_to_image


def test_upright_body_gives_an_unrotated_square_with_the_margin():
    roi = roi_from_alignment(np.array([100.0, 200.0]), np.array([100.0, 100.0]))  # circle point above the hips
    assert roi == Roi(100.0, 200.0, 2 * 100 * 1.25, 0.0)


@pytest.mark.parametrize("scale_point, rotation", [((200.0, 200.0), math.pi / 2),  # head to the right
                                                   ((0.0, 200.0), -math.pi / 2),  # head to the left
                                                   ((0.0, 100.0), -math.pi / 4),  # up and left
                                                   ((100.0, 300.0), -math.pi)])  # upside down
def test_rotation_turns_the_body_upright(scale_point, rotation):
    roi = roi_from_alignment(np.array([100.0, 200.0]), np.array(scale_point), scale=1.0)
    assert roi.rotation == pytest.approx(rotation)
    # The top centre of the region (where an upright crop has the head) lands on the circle point's side.
    top = roi_to_image(np.array([0.5, 0.0]), roi)
    direction = (np.array(scale_point) - [100.0, 200.0]) / np.linalg.norm(np.array(scale_point) - [100.0, 200.0])
    np.testing.assert_allclose(top, np.array([100.0, 200.0]) + direction * roi.size / 2, atol=1e-9)


def test_letterbox_roi_is_the_square_around_the_image():
    assert letterbox_roi(256, 192) == Roi(96.0, 128.0, 256.0, 0.0)
    np.testing.assert_allclose(roi_to_image(np.array([[0.0, 0.0], [1.0, 1.0]]), letterbox_roi(256, 192)),
                               [[-32.0, 0.0], [224.0, 256.0]])


def test_crop_and_back_projection_agree():
    image = np.zeros((100, 120, 1), np.float32)
    image[39:42, 69:72] = 1.0  # a spot centred on pixel (row 40, col 70): continuous (70.5, 40.5)
    roi = Roi(60.0, 50.0, 80.0, 0.3)
    crop = crop_roi(image, roi, 64)[..., 0]
    rows, cols = np.mgrid[0:64, 0:64]
    centre = np.array([(cols * crop).sum(), (rows * crop).sum()]) / crop.sum()
    found = roi_to_image((centre + 0.5) / 64, roi)
    np.testing.assert_allclose(found, [70.5, 40.5], atol=0.3)


def test_crop_border_modes():
    image = np.full((10, 10, 3), 200, np.uint8)
    roi = Roi(5.0, 5.0, 20.0, 0.0)  # twice the image: a border all around
    zero, replicate = crop_roi(image, roi, 20, "zero"), crop_roi(image, roi, 20, "replicate")
    assert zero[0, 0].tolist() == [0, 0, 0] and zero[10, 10].tolist() == [200, 200, 200]
    assert (replicate == 200).all()
