"""The BlazePose detector: `pose_detection.tflite` -> person detections with alignment keypoints.

Decoding follows MediaPipe's `pose_detection_cpu.pbtxt`: the whole image is
letterboxed into 224x224 with values in [-1, 1]; each of the 2254 anchors
predicts 12 numbers (box centre x, y, width, height, then 4 keypoints x, y,
all in input pixels relative to the anchor centre) and a logit (clipped to
+-100, sigmoid); detections above the score threshold are merged by weighted
non-maximum suppression (IoU 0.3). Keypoint 0 is the mid-hip centre, keypoint
1 a point on the circle around the whole body (2 and 3 the same for the upper
body).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List, Optional, Union

import numpy as np

from tfvton.pose import cache
from tfvton.pose.anchors import ssd_anchor_centres
from tfvton.pose.roi import Roi, crop_roi, letterbox_roi, roi_from_alignment, roi_to_image

__all__ = ["Detection", "PoseDetector", "decode_detections", "weighted_nms"]

INPUT_SIZE = 224
SCORE_THRESHOLD = 0.5  # MediaPipe's min_detection_confidence default
NMS_IOU = 0.3
NUM_KEYPOINTS = 4
SCORE_CLIP = 100.0


@dataclasses.dataclass
class Detection:
    """One detected person; coordinates in [0, 1] of the detector input (or image pixels, see `PoseDetector`).

    Attributes:
        box: (x_min, y_min, x_max, y_max).
        keypoints: (4, 2) alignment keypoints (x, y).
        score: sigmoid of the logit.
    """

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray,
                      input_size: int = INPUT_SIZE, threshold: float = SCORE_THRESHOLD) -> List[Detection]:
    """Model outputs of one image -> detections above `threshold`, in [0, 1] of the input.

    Args:
        raw_boxes: (N, 12) box and keypoint offsets in input pixels.
        raw_scores: (N,) or (N, 1) logits.
        anchors: (N, 2) anchor centres in [0, 1] (fixed 1x1 anchors).
    """
    raw_boxes = np.asarray(raw_boxes, np.float64).reshape(len(anchors), -1)
    logits = np.clip(np.asarray(raw_scores, np.float64).reshape(-1), -SCORE_CLIP, SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.flatnonzero(scores >= threshold)
    detections = []
    for i in keep:
        values = raw_boxes[i] / input_size
        centre = values[0:2] + anchors[i]
        half = values[2:4] / 2.0
        keypoints = values[4:4 + 2 * NUM_KEYPOINTS].reshape(NUM_KEYPOINTS, 2) + anchors[i]
        detections.append(Detection(np.concatenate([centre - half, centre + half]), keypoints, float(scores[i])))
    return detections


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def weighted_nms(detections: List[Detection], iou_threshold: float = NMS_IOU) -> List[Detection]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    The best remaining detection absorbs every remaining one that overlaps it by
    more than `iou_threshold`; its box and keypoints become the score-weighted
    mean of the group, its score stays the best one. Output is sorted by score.
    """
    remaining = sorted(detections, key=lambda d: -d.score)
    merged = []
    while remaining:
        best = remaining[0]
        group = [d for d in remaining if _iou(best.box, d.box) > iou_threshold or d is best]
        remaining = [d for d in remaining if not any(d is g for g in group)]
        weights = np.array([d.score for d in group])
        box = np.tensordot(weights, np.stack([d.box for d in group]), axes=1) / weights.sum()
        keypoints = np.tensordot(weights, np.stack([d.keypoints for d in group]), axes=1) / weights.sum()
        merged.append(Detection(box, keypoints, best.score))
    return merged


class PoseDetector:
    """Runs `pose_detection.tflite` on whole images.

    Args:
        model_path: the `.tflite` file (default: the cached model; see `tfvton models fetch pose`).
        threshold: minimum detection score.
        num_threads: interpreter threads.
    """

    def __init__(self, model_path: Optional[Union[str, Path]] = None, threshold: float = SCORE_THRESHOLD,
                 num_threads: int = 2):
        self.model_path, self.interpreter = cache.load_interpreter("pose_detection", model_path, num_threads)
        self.threshold = threshold
        self._input = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        # Identity: (1, 2254, 12) regressors; Identity_1: (1, 2254, 1) logits.
        self._boxes, self._scores = outputs["Identity"], outputs["Identity_1"]
        self.anchors = ssd_anchor_centres()

    def __call__(self, image: np.ndarray) -> List[Detection]:
        """Detections in `image` (uint8 RGB (H, W, 3)), best first, in image pixels."""
        height, width = image.shape[:2]
        roi = letterbox_roi(height, width)
        tensor = crop_roi(image, roi, INPUT_SIZE, border="zero").astype(np.float32) / 127.5 - 1.0
        self.interpreter.set_tensor(self._input, tensor[None])
        self.interpreter.invoke()
        detections = decode_detections(self.interpreter.get_tensor(self._boxes)[0],
                                       self.interpreter.get_tensor(self._scores)[0], self.anchors,
                                       threshold=self.threshold)
        out = []
        for d in weighted_nms(detections):
            corners = roi_to_image(d.box.reshape(2, 2), roi).reshape(4)
            out.append(Detection(corners, roi_to_image(d.keypoints, roi), d.score))
        return out

    def roi(self, detection: Detection) -> Roi:
        """The landmark model's region for one detection (full-body alignment keypoints 0 -> 1)."""
        return roi_from_alignment(detection.keypoints[0], detection.keypoints[1])
