"""SSD anchors of the pose detector: count, order and positions against hand-computed values."""
from __future__ import annotations

import numpy as np

from tfvton.pose.anchors import AnchorOptions, ssd_anchor_centres


def test_pose_detection_has_2254_anchors_in_the_model_order():
    anchors = ssd_anchor_centres()
    # 28x28x2 (stride 8) + 14x14x2 (stride 16) + 7x7x(3 layers x 2) (stride 32), the model's num_boxes.
    assert anchors.shape == (2254, 2) and anchors.dtype == np.float32
    np.testing.assert_allclose(anchors[0], anchors[1])  # two anchors per cell (ratio 1 + interpolated)
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28], rtol=1e-6)  # columns vary fastest
    np.testing.assert_allclose(anchors[2 * 28], [0.5 / 28, 1.5 / 28], rtol=1e-6)
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14], rtol=1e-6)  # stride-16 map starts
    # The three stride-32 layers share one 7x7 map: six anchors per cell.
    np.testing.assert_allclose(anchors[1960:1966], np.full((6, 2), 0.5 / 7), rtol=1e-6)
    np.testing.assert_allclose(anchors[1966], [1.5 / 7, 0.5 / 7], rtol=1e-6)
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7], rtol=1e-6)


def test_anchor_count_follows_the_options():
    options = AnchorOptions(input_height=64, input_width=32, strides=(8, 16, 16))
    # 8x4 cells x 2 + 4x2 cells x (2 layers x 2).
    assert len(ssd_anchor_centres(options)) == 8 * 4 * 2 + 4 * 2 * 4
    no_interpolated = AnchorOptions(input_height=64, input_width=64, strides=(8,), interpolated_scale_aspect_ratio=0)
    assert len(ssd_anchor_centres(no_interpolated)) == 64
