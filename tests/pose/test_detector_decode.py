"""Detector decoding, weighted NMS and heatmap refinement on hand-made tensors."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.pose.detector import Detection, decode_detections, weighted_nms
from tfvton.pose.landmarks import decode_landmarks, refine_from_heatmap


def test_decode_offsets_are_relative_to_the_anchor_in_input_pixels():
    anchors = np.array([[0.5, 0.5], [0.25, 0.75]], np.float32)
    raw = np.zeros((2, 12))
    raw[1, :4] = [22.4, -22.4, 44.8, 22.4]  # centre +0.1, -0.1; size 0.2 x 0.1 (in units of 224)
    raw[1, 4:6] = [-56.0, 0.0]  # keypoint 0 at anchor - 0.25 in x
    detections = decode_detections(raw, np.array([-5.0, 2.0]), anchors, input_size=224, threshold=0.5)
    assert len(detections) == 1  # sigmoid(-5) = 0.007 is dropped
    d = detections[0]
    np.testing.assert_allclose(d.box, [0.25, 0.6, 0.45, 0.7], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[0], [0.0, 0.75], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[1], [0.25, 0.75], atol=1e-6)
    assert d.score == pytest.approx(1 / (1 + np.exp(-2.0)))
    # Logits are clipped to +-100 first: no overflow, score 1.
    assert decode_detections(raw, np.array([1e6, -1e6]), anchors)[0].score == pytest.approx(1.0)


def test_weighted_nms_merges_overlaps_by_score_and_keeps_the_best_score():
    a = Detection(np.array([0.0, 0.0, 1.0, 1.0]), np.zeros((4, 2)), 0.9)
    b = Detection(np.array([0.1, 0.0, 1.1, 1.0]), np.ones((4, 2)), 0.6)  # IoU 0.9 / 1.1 with a
    far = Detection(np.array([5.0, 5.0, 6.0, 6.0]), np.zeros((4, 2)), 0.7)
    merged = weighted_nms([b, far, a])
    assert [m.score for m in merged] == [0.9, 0.7]
    np.testing.assert_allclose(merged[0].box, [0.06 / 1.5, 0.0, (0.9 + 0.66) / 1.5, 1.0])
    np.testing.assert_allclose(merged[0].keypoints, np.full((4, 2), 0.6 / 1.5))
    np.testing.assert_allclose(merged[1].box, far.box)


def test_heatmap_refinement_takes_the_weighted_mean_of_the_window():
    heatmap = np.full((8, 8, 3), -10.0)
    heatmap[3, 4, 0] = heatmap[3, 5, 0] = 10.0  # two confident cells for landmark 0
    points = np.array([[4.2 / 8, 3.1 / 8], [0.3, 0.3], [1.5, 0.5]])  # 1: no confident cell; 2: outside
    refined = refine_from_heatmap(points, heatmap, kernel=7, min_confidence=0.5)
    np.testing.assert_allclose(refined[0], [4.5 / 8, 3.0 / 8], atol=2e-3)
    np.testing.assert_allclose(refined[1:], points[1:])


def test_landmark_decoding_scales_and_applies_sigmoids():
    raw = np.zeros((39, 5))
    raw[:, 0], raw[:, 1] = 128.0, 64.0
    raw[:, 3], raw[:, 4] = 0.0, 100.0
    points, visibility, presence = decode_landmarks(raw.reshape(-1), heatmap=None, input_size=256)
    assert points.shape == (33, 2)
    np.testing.assert_allclose(points, np.tile([0.5, 0.25], (33, 1)))
    np.testing.assert_allclose(visibility, 0.5)
    np.testing.assert_allclose(presence, 1.0)
