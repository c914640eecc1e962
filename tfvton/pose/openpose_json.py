"""Writing OpenPose-format keypoint files and skeleton pictures."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

from tfvton.data.preview import draw_skeleton

__all__ = ["openpose_document", "write_openpose_json", "render_skeleton"]

PathLike = Union[str, os.PathLike]


def openpose_document(keypoints: np.ndarray) -> dict:
    """The OpenPose 1.3 JSON document of one person's COCO-18 keypoints (18, 3)."""
    keypoints = np.asarray(keypoints, np.float64)
    if keypoints.shape != (18, 3):
        raise ValueError(f"expected COCO-18 keypoints of shape (18, 3). Received: shape={keypoints.shape}")
    values = [round(float(v), 4) for v in keypoints.reshape(-1)]
    person = {"person_id": [-1], "pose_keypoints_2d": values}
    for key in ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "pose_keypoints_3d",
                "face_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d"):
        person[key] = []
    return {"version": 1.3, "people": [person]}


def write_openpose_json(path: PathLike, keypoints: np.ndarray) -> Path:
    """Writes `people[0].pose_keypoints_2d` (54 numbers) as OpenPose does; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(openpose_document(keypoints)), encoding="utf-8")
    return path


def render_skeleton(path: PathLike, image: np.ndarray, keypoints: np.ndarray) -> Path:
    """Writes the photo with the COCO-18 skeleton drawn over it (OpenPose's colours) as a PNG."""
    keypoints = np.asarray(keypoints, np.float64)
    locations = np.round(keypoints[:, [1, 0]]).astype(int)  # (row, col), as draw_skeleton takes
    radius = max(2, round(max(image.shape[:2]) / 128))
    canvas = draw_skeleton(image, locations, keypoints[:, 2] > 0, radius=radius)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(canvas).save(path, format="PNG")
    return path
