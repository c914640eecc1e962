"""A target pose taken from a photo of someone else, mapped into the person's frame.

The model wants the target pose in pixels of the person photo, at the
person's body size. A pose from another photo is moved so its torso lands on
the person's torso: one uniform scale (torso length neck -> mid-hip when both
poses have it, else shoulder width, else the ratio of the frames) and one
translation (the centre of the torso joints both poses have).
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = ["TORSO_JOINTS", "map_pose_into_frame", "torso_alignment"]

NECK, R_SHOULDER, L_SHOULDER, R_HIP, L_HIP = 1, 2, 5, 8, 11
TORSO_JOINTS = (NECK, R_SHOULDER, L_SHOULDER, R_HIP, L_HIP)


def _seen(keypoints: np.ndarray, joints: Sequence[int]) -> bool:
    return bool(np.all(keypoints[list(joints), 2] > 0))


def _torso_length(keypoints: np.ndarray) -> float:
    mid_hip = keypoints[[R_HIP, L_HIP], :2].mean(axis=0)
    return float(np.linalg.norm(keypoints[NECK, :2] - mid_hip))


def _shoulder_width(keypoints: np.ndarray) -> float:
    return float(np.linalg.norm(keypoints[R_SHOULDER, :2] - keypoints[L_SHOULDER, :2]))


def torso_alignment(target_kp: np.ndarray, target_size: Tuple[int, int], person_kp: np.ndarray,
                    person_size: Tuple[int, int]) -> Tuple[float, np.ndarray, str]:
    """(scale, shift, how): `person_xy = scale * target_xy + shift`, and which measure set the scale."""
    target_kp, person_kp = np.asarray(target_kp, np.float64), np.asarray(person_kp, np.float64)
    common = [j for j in TORSO_JOINTS if target_kp[j, 2] > 0 and person_kp[j, 2] > 0]
    scale: Optional[float] = None
    how = "frame"
    for measure, joints, name in ((_torso_length, (NECK, R_HIP, L_HIP), "torso length"),
                                  (_shoulder_width, (R_SHOULDER, L_SHOULDER), "shoulder width")):
        if _seen(target_kp, joints) and _seen(person_kp, joints) and measure(target_kp) > 1e-6:
            scale, how = measure(person_kp) / measure(target_kp), name
            break
    if scale is None or not common:
        # No shared body measure: fit the target frame into the person frame, centred.
        th, tw = target_size
        ph, pw = person_size
        scale = min(ph / th, pw / tw) if scale is None else scale
        shift = np.array([pw / 2.0, ph / 2.0]) - scale * np.array([tw / 2.0, th / 2.0])
        return scale, shift, how
    shift = person_kp[common, :2].mean(axis=0) - scale * target_kp[common, :2].mean(axis=0)
    return scale, shift, how


def map_pose_into_frame(target_kp: np.ndarray, target_size: Tuple[int, int], person_kp: np.ndarray,
                        person_size: Tuple[int, int]) -> np.ndarray:
    """Maps a target pose from its own photo into the person photo's frame.

    Args:
        target_kp: (18, 3) COCO-18 keypoints of the target photo (0 confidence = unseen).
        target_size: (height, width) of the target photo.
        person_kp: (18, 3) COCO-18 keypoints of the person photo.
        person_size: (height, width) of the person photo.
    Returns:
        float32 (18, 3): the target joints scaled and moved onto the person's torso; unseen joints
        and joints that land outside the person frame are 0, 0, 0 (OpenPose's "not found").
    """
    target_kp = np.asarray(target_kp, np.float64)
    if target_kp.shape != (18, 3) or np.shape(person_kp) != (18, 3):
        raise ValueError(f"expected COCO-18 keypoints of shape (18, 3). Received: target_kp.shape="
                         f"{target_kp.shape}, person_kp.shape={np.shape(person_kp)}")
    scale, shift, _ = torso_alignment(target_kp, target_size, person_kp, person_size)
    out = np.zeros((18, 3), np.float64)
    seen = target_kp[:, 2] > 0
    out[seen, :2] = scale * target_kp[seen, :2] + shift
    out[seen, 2] = target_kp[seen, 2]
    height, width = person_size
    outside = (out[:, 0] < 0) | (out[:, 0] > width - 1) | (out[:, 1] < 0) | (out[:, 1] > height - 1)
    out[outside] = 0.0
    return out.astype(np.float32)
