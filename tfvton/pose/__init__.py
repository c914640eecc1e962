"""Pose from a photo with BlazePose (MediaPipe's `.tflite` models run by LiteRT; mediapipe is never imported).

    from tfvton.pose import keypoints_from_photo, map_pose_into_frame

    keypoints = keypoints_from_photo("me.jpg")  # (18, 3) OpenPose COCO-18

Models: `tfvton models fetch pose` (see `tfvton.pose.cache`). Attributes are
imported lazily, so `tfvton.pose.cache` (the fetch) does not pay for TensorFlow.
"""
from __future__ import annotations

import importlib

__all__ = ["keypoints_from_photo", "map_pose_into_frame"]

_ATTRIBUTES = {
    "keypoints_from_photo": "tfvton.pose.estimate",
    "map_pose_into_frame": "tfvton.pose.transfer",
}


def __getattr__(name):
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'tfvton.pose' has no attribute {name!r}")
