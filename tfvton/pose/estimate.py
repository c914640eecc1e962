"""Pose from a photo: detector -> body region -> landmarks -> COCO-18 keypoints."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np

from tfvton.data import DataError
from tfvton.data.raw_io import read_photo
from tfvton.pose.coco18 import VISIBILITY_THRESHOLD, coco18_from_mediapipe
from tfvton.pose.detector import PoseDetector
from tfvton.pose.landmarks import PoseLandmarker, PoseLandmarks

__all__ = ["PoseEstimator", "default_estimator", "keypoints_from_photo"]

PhotoLike = Union[str, Path, np.ndarray]


class PoseEstimator:
    """BlazePose (full) on single photos, one person per photo (the most confident detection).

    Args:
        detector: a `PoseDetector` (default: on the cached model).
        landmarker: a `PoseLandmarker` (default: on the cached model).
    Raises:
        tfvton.pose.cache.ModelsNotFetched: a default model is not cached.
    """

    def __init__(self, detector: Optional[PoseDetector] = None, landmarker: Optional[PoseLandmarker] = None):
        self.detector = detector or PoseDetector()
        self.landmarker = landmarker or PoseLandmarker()

    def landmarks(self, image: np.ndarray) -> Optional[PoseLandmarks]:
        """MediaPipe's 33 landmarks of the most confident person in `image` (uint8 RGB), or None."""
        detections = self.detector(image)
        if not detections:
            return None
        return self.landmarker(image, self.detector.roi(detections[0]))

    def keypoints(self, photo: PhotoLike, threshold: float = VISIBILITY_THRESHOLD,
                  name: Optional[str] = None) -> np.ndarray:
        """OpenPose COCO-18 keypoints (18, 3) of the person in `photo` (a path or uint8 RGB array).

        `name` is the file named in errors (default: the path, or "<array>").

        Raises:
            DataError: no person found in the photo.
        """
        image, default_name = _as_image(photo)
        name = name or default_name
        found = self.landmarks(image)
        if found is None:
            raise DataError(name, "no person detected in the photo (BlazePose found no body); "
                                  "give a photo with one person, or a pose JSON")
        return coco18_from_mediapipe(found.xy, found.visibility, image.shape[:2], threshold)


def _as_image(photo: PhotoLike) -> Tuple[np.ndarray, str]:
    if isinstance(photo, np.ndarray):
        if photo.ndim != 3 or photo.shape[-1] != 3 or photo.dtype != np.uint8:
            raise ValueError(f"expected a uint8 RGB image (H, W, 3). Received: shape={photo.shape}, "
                             f"dtype={photo.dtype}")
        return photo, "<array>"
    return read_photo(photo, "photo"), str(photo)


@functools.lru_cache(maxsize=1)
def default_estimator() -> PoseEstimator:
    """One estimator on the cached models, built on first use (the interpreters are reused)."""
    return PoseEstimator()


def keypoints_from_photo(photo: PhotoLike, threshold: float = VISIBILITY_THRESHOLD) -> np.ndarray:
    """OpenPose COCO-18 keypoints (18, 3) float32 of the person in a photo.

    Args:
        photo: an image path or a uint8 RGB array (H, W, 3).
        threshold: visibility below which a joint is written 0, 0, 0.
    Returns:
        (18, 3) x, y in the photo's pixels and a confidence; unseen joints are 0, 0, 0.
    Raises:
        DataError: unreadable photo, or no person in it.
        tfvton.pose.cache.ModelsNotFetched: the models are not cached (`tfvton models fetch pose`).
    """
    return default_estimator().keypoints(photo, threshold)
