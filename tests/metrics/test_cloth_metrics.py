"""Warped-cloth IoU: the target cloth region, the warped mask and the non-white rule, by hand."""
from __future__ import annotations

import numpy as np

from tests.testing import assert_close
from tfvton.layers.tps_grid import TpsGrid
from tfvton.metrics.cloth_metrics import MaskIoU, cloth_region, non_white, warp_mask


def test_cloth_region_is_labels_5_6_7():
    labels = np.arange(20).reshape(4, 5)
    region = cloth_region(labels)
    assert np.flatnonzero(region).tolist() == [5, 6, 7]


def test_non_white_threshold():
    image = np.full((1, 2, 2, 3), 255, np.uint8)
    image[0, 0, 0] = (244, 255, 255)  # one channel below 245: garment
    image[0, 0, 1] = (245, 250, 255)  # all channels >= 245: white background
    image[0, 1, 0] = (0, 0, 0)
    assert non_white(image)[0].tolist() == [[True, False], [True, False]]


def test_mask_iou_is_pooled_over_images():
    # Image 1: W = 2 px, T = 4 px, overlap 2 -> 2/4; image 2: W = 4 px, T = 0 -> 0/4. Pooled: 2/8.
    w = np.zeros((2, 4, 4), bool)
    t = np.zeros((2, 4, 4), bool)
    w[0, 0, :2] = True
    t[0, 0, :] = True
    w[1, 3, :] = True
    iou = MaskIoU()
    iou.update(w, t)
    assert_close(iou.result()["iou"], 2 / 8, atol=1e-12, what="pooled IoU")
    assert iou.result()["n"] == 2
    assert np.isnan(MaskIoU().result()["iou"])


def test_identity_grid_keeps_the_mask_and_a_shifted_grid_moves_it():
    h = w = 8
    identity = np.asarray(TpsGrid(5, h, w)(np.zeros((1, 2 * 5 * 5), np.float32)))
    mask = np.zeros((1, h, w, 1), np.float32)
    mask[0, 2:6, 3:7] = 1.0
    assert np.array_equal(warp_mask(mask, identity)[0], mask[0, ..., 0] > 0.5)
    # Sampling one pixel to the right (x + 2/(w-1)) shows the mask one pixel to the left;
    # the sampled column beyond the right edge reads zeros (no cloth outside the photo).
    shifted = identity.copy()
    shifted[..., 0] += 2.0 / (w - 1)
    expected = np.zeros((h, w), bool)
    expected[2:6, 2:6] = True
    assert np.array_equal(warp_mask(mask, shifted)[0], expected)
    full = np.ones((1, h, w, 1), np.float32)
    assert not warp_mask(full, shifted)[0, :, -1].any()
