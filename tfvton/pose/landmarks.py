"""The BlazePose landmark model: `pose_landmark_full.tflite` on a rotated body crop -> 33 landmarks.

Following MediaPipe's `pose_landmark_by_roi_cpu.pbtxt` and
`tensors_to_pose_landmarks_and_segmentation.pbtxt`: the region is sampled
into 256x256 with values in [0, 1]; the model gives 39 landmarks x (x, y, z,
visibility, presence) in input pixels, a pose-presence score (the landmarks
count only when it is >= 0.5), and 64x64 heatmaps that refine each landmark
by the sigmoid-weighted mean of a 7x7 window around it (when the window's
peak is >= 0.5). Landmarks 0-32 are the body (MediaPipe's order), 33-38
auxiliary. Visibility and presence are sigmoids of the raw values.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional, Union

import numpy as np

from tfvton.pose import cache
from tfvton.pose.roi import Roi, crop_roi, roi_to_image

__all__ = ["PoseLandmarks", "PoseLandmarker", "decode_landmarks", "refine_from_heatmap"]

INPUT_SIZE = 256
NUM_LANDMARKS = 39
NUM_BODY_LANDMARKS = 33
PRESENCE_THRESHOLD = 0.5
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


@dataclasses.dataclass
class PoseLandmarks:
    """The 33 body landmarks of one person.

    Attributes:
        xy: (33, 2) image pixels (continuous coordinates, see `tfvton.pose.roi`).
        visibility: (33,) probability that the landmark is visible (not occluded, inside the image).
        presence: (33,) probability that the landmark is inside the image.
        score: the model's pose-presence score.
        roi: the region the model saw.
    """

    xy: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    score: float
    roi: Roi


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray, kernel: int = HEATMAP_KERNEL,
                        min_confidence: float = HEATMAP_MIN_CONFIDENCE) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmap: points (K, 2) in [0, 1] -> refined points.

    Args:
        points: (K, 2) (x, y) in [0, 1] of the model input.
        heatmap: (h, w, K) logits.
    Returns:
        (K, 2): for each point inside the heatmap, the sigmoid-weighted mean cell index of the
        `kernel` x `kernel` window at its cell divided by the heatmap size, when the window's peak
        reaches `min_confidence`; otherwise the point unchanged.
    """
    height, width, _ = heatmap.shape
    out = np.array(points, np.float64)
    offset = (kernel - 1) // 2
    for k, (x, y) in enumerate(points):
        col, row = int(x * width), int(y * height)  # truncation, as the C++ int conversion
        if not (0 <= col < width and 0 <= row < height):
            continue
        rows = slice(max(0, row - offset), min(height, row + offset + 1))
        cols = slice(max(0, col - offset), min(width, col + offset + 1))
        confidence = _sigmoid(heatmap[rows, cols, k])
        total = confidence.sum()
        if confidence.max() >= min_confidence and total > 0:
            grid_rows, grid_cols = np.mgrid[rows, cols]
            out[k] = ((grid_cols * confidence).sum() / width / total, (grid_rows * confidence).sum() / height / total)
    return out


def decode_landmarks(raw: np.ndarray, heatmap: Optional[np.ndarray], input_size: int = INPUT_SIZE):
    """Raw (195,) landmark output -> ((33, 2) in [0, 1] of the input, visibility (33,), presence (33,))."""
    values = np.asarray(raw, np.float64).reshape(NUM_LANDMARKS, 5)
    points = values[:, :2] / input_size
    if heatmap is not None:
        points = refine_from_heatmap(points, heatmap)
    body = slice(0, NUM_BODY_LANDMARKS)
    return points[body], _sigmoid(values[body, 3]), _sigmoid(values[body, 4])


class PoseLandmarker:
    """Runs `pose_landmark_full.tflite` on a region of an image.

    Args:
        model_path: the `.tflite` file (default: the cached model; see `tfvton models fetch pose`).
        num_threads: interpreter threads.
    """

    def __init__(self, model_path: Optional[Union[str, Path]] = None, num_threads: int = 2):
        self.model_path, self.interpreter = cache.load_interpreter("pose_landmark_full", model_path, num_threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        # Identity: (1, 195) landmarks; Identity_1: (1, 1) pose presence; Identity_3: (1, 64, 64, 39) heatmaps.
        self._landmarks, self._flag, self._heatmap = outputs["Identity"], outputs["Identity_1"], outputs["Identity_3"]

    def __call__(self, image: np.ndarray, roi: Roi) -> Optional[PoseLandmarks]:
        """Landmarks of the person in `roi` of `image` (uint8 RGB), or None when the model sees no pose."""
        tensor = crop_roi(image, roi, INPUT_SIZE, border="replicate").astype(np.float32) / 255.0
        self.interpreter.set_tensor(self._input, tensor[None])
        self.interpreter.invoke()
        score = float(self.interpreter.get_tensor(self._flag).reshape(-1)[0])
        if score < PRESENCE_THRESHOLD:
            return None
        points, visibility, presence = decode_landmarks(self.interpreter.get_tensor(self._landmarks)[0],
                                                        self.interpreter.get_tensor(self._heatmap)[0])
        return PoseLandmarks(roi_to_image(points, roi), visibility, presence, score, roi)
