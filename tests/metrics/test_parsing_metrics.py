"""Parsing pixel accuracy / IoU / mIoU on hand-made label maps with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.metrics.parsing_metrics import ParsingConfusion, confusion_matrix, parsing_scores

# A 4x4 target with background (0), upper clothes (5) and face (13), and a prediction that
#  - gets 4 of the 6 background pixels, 5 of the 6 cloth pixels and all 4 face pixels,
#  - calls 1 background pixel cloth, 1 background pixel left arm (14, absent from the target),
#  - calls 1 cloth pixel face.
TARGET = np.array([[0, 0, 0, 0],
                   [0, 0, 13, 13],
                   [5, 5, 13, 13],
                   [5, 5, 5, 5]])
PREDICTED = np.array([[0, 0, 5, 14],
                      [0, 0, 13, 13],
                      [5, 13, 13, 13],
                      [5, 5, 5, 5]])


def test_confusion_matrix_counts_each_target_prediction_pair():
    c = confusion_matrix(TARGET, PREDICTED)
    assert c.shape == (20, 20) and c.sum() == 16
    assert c[0, 0] == 4 and c[0, 5] == 1 and c[0, 14] == 1
    assert c[5, 5] == 5 and c[5, 13] == 1
    assert c[13, 13] == 4
    assert np.count_nonzero(c) == 6


def test_scores_of_the_4x4_case_by_hand():
    scores = parsing_scores(confusion_matrix(TARGET, PREDICTED))
    # 13 of 16 pixels right.
    assert_close(scores["pixel_accuracy"], 13 / 16, atol=1e-12, what="pixel accuracy")
    # background: I = 4, U = 6 target + 4 predicted - 4 = 6; cloth: I = 5, U = 6 + 6 - 5 = 7;
    # face: I = 4, U = 4 + 5 - 4 = 5. Left arm is only predicted: not averaged.
    expected = {"background": 4 / 6, "upper_clothes": 5 / 7, "face": 4 / 5}
    assert list(scores["iou"]) == ["background", "upper_clothes", "face"]
    for name, value in expected.items():
        assert_close(scores["iou"][name], value, atol=1e-12, what=name)
    assert_close(scores["miou"], np.mean(list(expected.values())), atol=1e-12, what="mIoU")
    assert scores["classes_present"] == 3 and scores["pixels"] == 16


def test_perfect_and_all_wrong_predictions():
    perfect = parsing_scores(confusion_matrix(TARGET, TARGET))
    assert perfect["pixel_accuracy"] == 1.0 and perfect["miou"] == 1.0
    assert all(v == 1.0 for v in perfect["iou"].values())
    wrong = parsing_scores(confusion_matrix(TARGET, np.full_like(TARGET, 19)))
    assert wrong["pixel_accuracy"] == 0.0 and wrong["miou"] == 0.0


def test_miou_is_dataset_level_not_a_mean_of_image_mious():
    # Image 1: 15 background pixels right and one face pixel wrong; image 2: a perfect face.
    # Per image, the mIoUs would be (15/16 + 0) / 2 and 1; pooled, face IoU = 16 / 17.
    t1, p1 = np.zeros((4, 4), int), np.zeros((4, 4), int)
    t1[0, 0] = 13
    t2, p2 = np.full((4, 4), 13), np.full((4, 4), 13)
    accumulator = ParsingConfusion()
    accumulator.update(t1, p1)
    accumulator.update(t2, p2)
    scores = accumulator.result()
    assert_close(scores["iou"]["background"], 15 / 16, atol=1e-12, what="background")
    assert_close(scores["iou"]["face"], 16 / 17, atol=1e-12, what="face")
    assert_close(scores["miou"], (15 / 16 + 16 / 17) / 2, atol=1e-12, what="pooled mIoU")
    # Batched input gives the same matrix as image by image.
    assert np.array_equal(confusion_matrix(np.stack([t1, t2]), np.stack([p1, p2])), accumulator.matrix)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 20\)"):
        confusion_matrix(np.array([0, 20]), np.array([0, 1]))
    with pytest.raises(ValueError, match="confusion matrix"):
        parsing_scores(np.zeros((3, 3)))
    empty = parsing_scores(np.zeros((20, 20)))
    assert np.isnan(empty["miou"]) and np.isnan(empty["pixel_accuracy"]) and empty["iou"] == {}
