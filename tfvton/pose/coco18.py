"""MediaPipe's 33 pose landmarks -> OpenPose COCO-18 keypoints.

COCO-18 order (OpenPose `POSE_COCO_BODY_PARTS`): nose, neck, right shoulder,
elbow, wrist, left shoulder, elbow, wrist, right hip, knee, ankle, left hip,
knee, ankle, right eye, left eye, right ear, left ear. MediaPipe's order
(`pose_landmark` model card): 0 nose, 2/5 left/right eye, 7/8 left/right ear,
11/12 shoulders, 13/14 elbows, 15/16 wrists, 23/24 hips, 25/26 knees, 27/28
ankles (left first). COCO-18 has no landmark for the neck: OpenPose's neck
sits between the shoulders, so it is their midpoint, seen only when both are.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from tfvton.data.formats.keypoints import COCO18_SOURCE_JOINTS, MIN_VISIBILITY, SHOULDER_JOINTS

__all__ = ["COCO18_FROM_MEDIAPIPE", "NECK", "VISIBILITY_THRESHOLD", "coco18_from_mediapipe"]

NECK = 1
# COCO-18 index -> MediaPipe index (the one table, in tfvton.data.formats); the neck (1) is synthesised.
COCO18_FROM_MEDIAPIPE = {coco: mp for coco, mp in enumerate(COCO18_SOURCE_JOINTS["mediapipe33"]) if mp is not None}
MP_LEFT_SHOULDER, MP_RIGHT_SHOULDER = SHOULDER_JOINTS["mediapipe33"]
VISIBILITY_THRESHOLD = MIN_VISIBILITY


def coco18_from_mediapipe(xy: np.ndarray, visibility: np.ndarray, image_size: Tuple[int, int],
                          threshold: float = VISIBILITY_THRESHOLD) -> np.ndarray:
    """COCO-18 keypoints in OpenPose's convention from MediaPipe landmarks.

    Args:
        xy: (33, 2) landmarks in continuous image pixels (pixel (i, j) covers [j, j+1) x [i, i+1)).
        visibility: (33,) visibility probabilities.
        image_size: (height, width) of the image.
        threshold: joints with a lower visibility are written 0, 0, 0, as OpenPose writes joints it
            did not find; so are joints outside the image.
    Returns:
        float32 (18, 3): x, y in pixel-index coordinates (pixel centres at integers, as OpenPose)
        and the visibility as confidence.
    """
    xy = np.asarray(xy, np.float64)
    visibility = np.asarray(visibility, np.float64)
    if xy.shape != (33, 2) or visibility.shape != (33,):
        raise ValueError(f"expected 33 MediaPipe landmarks (33, 2) and visibilities (33,). "
                         f"Received: xy.shape={xy.shape}, visibility.shape={visibility.shape}")
    out = np.zeros((18, 3), np.float64)
    for coco, mp in COCO18_FROM_MEDIAPIPE.items():
        out[coco] = (xy[mp, 0] - 0.5, xy[mp, 1] - 0.5, visibility[mp])
    shoulders = [MP_LEFT_SHOULDER, MP_RIGHT_SHOULDER]
    out[NECK, :2] = xy[shoulders].mean(axis=0) - 0.5
    out[NECK, 2] = visibility[shoulders].min()
    height, width = image_size
    inside = (out[:, 0] >= 0) & (out[:, 0] <= width - 1) & (out[:, 1] >= 0) & (out[:, 1] <= height - 1)
    out[~(inside & (out[:, 2] >= threshold))] = 0.0
    return out.astype(np.float32)
