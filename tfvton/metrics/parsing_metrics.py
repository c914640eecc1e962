"""Parsing metrics from a dataset-level confusion matrix (docs/metrics.md).

Every pixel of every evaluated image adds one count to a 20 x 20 confusion
matrix C, row = the target's CIHP label, column = the predicted label (the
arg-max of the generated parsing). From C alone:

- pixel accuracy = trace(C) / sum(C);
- IoU of class c = C[c, c] / (sum_j C[c, j] + sum_i C[i, c] - C[c, c]);
- mIoU = the mean IoU over the classes PRESENT IN THE TARGETS (row sum > 0),
  background included. A class that is only predicted is not averaged (its
  IoU would be 0 by definition), but its false pixels still lower the IoU of
  the target classes they were taken from.

Because C is summed over the whole split before any division, the mIoU is
that of the split, not a mean of per-image mIoUs (which would weigh a class
seen in one image as much as one seen in all).
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from tfvton.data.transforms import LABEL_NAMES, NUM_LABELS

__all__ = ["confusion_matrix", "parsing_scores", "ParsingConfusion"]


def confusion_matrix(target, predicted, num_classes: int = NUM_LABELS) -> np.ndarray:
    """Counts (target label, predicted label) pairs over all pixels.

    Args:
        target: integer label map(s), any shape (e.g. (B, H, W)), values in
            [0, num_classes).
        predicted: integer label map(s) of the same shape.
        num_classes: K.
    Returns:
        int64 (K, K): entry [t, p] = number of pixels with target t and prediction p.
    Raises:
        ValueError: on different shapes or labels outside [0, K).

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2)
        array([[1, 0],
               [1, 1]])
    """
    target = np.asarray(target)
    predicted = np.asarray(predicted)
    if target.shape != predicted.shape:
        raise ValueError(f"confusion_matrix: target and prediction must have the same shape. "
                         f"Received: target.shape={target.shape}, predicted.shape={predicted.shape}")
    target = target.astype(np.int64).ravel()
    predicted = predicted.astype(np.int64).ravel()
    for name, labels in (("target", target), ("predicted", predicted)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} labels must lie in [0, {num_classes}). "
                             f"Received: min={labels.min()}, max={labels.max()}")
    counts = np.bincount(target * num_classes + predicted, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def parsing_scores(confusion, names=LABEL_NAMES) -> Dict[str, object]:
    """Pixel accuracy, mIoU over the target classes present, and per-class IoU.

    Args:
        confusion: (K, K) counts, rows = target, columns = prediction.
        names: the K class names (default: the CIHP names).
    Returns:
        dict `pixel_accuracy`, `miou` (NaN when the matrix is empty),
        `iou` (class name -> IoU, for the classes present in the targets, in
        label order), `classes_present` (their count) and `pixels` (sum of C).
    """
    c = np.asarray(confusion, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] != len(names):
        raise ValueError(f"parsing_scores: expected a ({len(names)}, {len(names)}) confusion matrix. "
                         f"Received: shape={c.shape}")
    total = c.sum()
    intersection = np.diag(c)
    in_target = c.sum(axis=1)
    union = in_target + c.sum(axis=0) - intersection
    present = np.flatnonzero(in_target > 0)
    iou = {names[k]: float(intersection[k] / union[k]) for k in present}
    return {
        "pixel_accuracy": float(intersection.sum() / total) if total else float("nan"),
        "miou": float(np.mean(list(iou.values()))) if iou else float("nan"),
        "iou": iou,
        "classes_present": int(len(present)),
        "pixels": int(total),
    }


class ParsingConfusion:
    """Accumulates the confusion matrix over batches; `result()` gives `parsing_scores`.

    Args:
        num_classes: K (20 CIHP labels).

    Example:
        >>> confusion = ParsingConfusion()
        >>> for target, predicted in batches:  # (B, H, W) label maps
        ...     confusion.update(target, predicted)
        >>> confusion.result()["miou"]
    """

    def __init__(self, num_classes: int = NUM_LABELS):
        self.num_classes = int(num_classes)
        self.matrix = np.zeros((self.num_classes, self.num_classes), np.int64)

    def update(self, target, predicted) -> None:
        self.matrix += confusion_matrix(target, predicted, self.num_classes)

    def result(self, names: Optional[tuple] = None) -> Dict[str, object]:
        return parsing_scores(self.matrix, names or LABEL_NAMES[:self.num_classes])
