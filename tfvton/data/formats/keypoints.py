"""Keypoint formats -> OpenPose COCO-18, the layout the pose heatmaps use.

COCO-18 (OpenPose `--model_pose COCO`, the MPV `pose_coco/*_keypoints.json` files):
0 nose, 1 neck, 2 r_shoulder, 3 r_elbow, 4 r_wrist, 5 l_shoulder, 6 l_elbow,
7 l_wrist, 8 r_hip, 9 r_knee, 10 r_ankle, 11 l_hip, 12 l_knee, 13 l_ankle,
14 r_eye, 15 l_eye, 16 r_ear, 17 l_ear. A joint OpenPose did not see is written
as 0, 0, 0, and the heatmaps never draw a joint at x <= 1 or y <= 1; every
mapping here writes unseen joints that way.

Sources of the other layouts:
- BODY_25: OpenPose `doc/02_output.md` ("Pose Output Format (BODY_25)") and
  `include/openpose/pose/poseParametersRender.hpp` (POSE_BODY_25_BODY_PARTS):
  COCO-18 plus 8 mid_hip and feet (19-24), the hips moved to 9 and 12.
- COCO-17: the COCO keypoint task (cocodataset.org/#format-data, `person`
  category `keypoints`), written by detectron2, MMPose and YOLO-pose:
  0 nose, 1 l_eye, 2 r_eye, 3 l_ear, 4 r_ear, 5 l_shoulder, 6 r_shoulder,
  7 l_elbow, 8 r_elbow, 9 l_wrist, 10 r_wrist, 11 l_hip, 12 r_hip, 13 l_knee,
  14 r_knee, 15 l_ankle, 16 r_ankle; the third value is the visibility flag
  (0 not labelled, 1 occluded, 2 visible) or a detector score. No neck: it is
  synthesised as the shoulders' midpoint when both are seen (as OpenPose's own
  COCO-to-BODY_25 conversion does for the neck).
- MediaPipe Pose (BlazePose, 33 landmarks): `mediapipe/python/solutions/pose.py`
  `PoseLandmark` (0 nose, 2 l_eye, 5 r_eye, 7 l_ear, 8 r_ear, 11/12 shoulders,
  13/14 elbows, 15/16 wrists, 23/24 hips, 25/26 knees, 27/28 ankles, ...), with
  x, y normalised to [0, 1] of the image and a `visibility` in [0, 1].
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from tfvton.data.formats import POSE_FORMATS, FormatError

__all__ = ["FORMATS", "COCO18_NAMES", "MIN_VISIBILITY", "format_for_count", "to_coco18", "split_columns",
           "points_from_json"]

FORMATS = POSE_FORMATS
COCO18_NAMES = ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
                "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear")
JOINT_COUNTS = {"coco18": 18, "body25": 25, "coco17": 17, "mediapipe33": 33}
# A converted joint (COCO-17 flag / score, MediaPipe visibility) below this is written as unseen.
MIN_VISIBILITY = 0.5

# COCO-18 joint i is joint COCO18_SOURCE_JOINTS[fmt][i] of the source layout; None = the neck, synthesised.
COCO18_SOURCE_JOINTS = {
    "coco18": tuple(range(18)),
    "body25": (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18),
    "coco17": (0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3),
    "mediapipe33": (0, None, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7),
}
SHOULDER_JOINTS = {"coco17": (5, 6), "mediapipe33": (11, 12)}
# OpenPose writes its own confidences; the others need a visibility threshold.
_THRESHOLDED = ("coco17", "mediapipe33")


def format_for_count(count: int) -> Optional[str]:
    """The layout with `count` joints (18, 25, 17 or 33), else None."""
    for name, joints in JOINT_COUNTS.items():
        if joints == count:
            return name
    return None


def to_coco18(points: np.ndarray, fmt: str) -> np.ndarray:
    """Maps (N, 3) x, y, confidence/visibility of layout `fmt` to COCO-18 (18, 3) float64.

    Args:
        points: float (N, 3) in the source layout's joint order, N as `fmt` has.
        fmt: one of `FORMATS`.

    Returns:
        float64 (18, 3): x, y, confidence; unseen joints (and, for COCO-17 and
        MediaPipe, joints below `MIN_VISIBILITY`) as 0, 0, 0; confidences of
        converted joints clipped to [0, 1].

    Raises:
        FormatError: unknown `fmt` or another number of joints.
    """
    if fmt not in COCO18_SOURCE_JOINTS:
        raise FormatError(f"pose format must be one of {FORMATS}, got {fmt!r}")
    points = np.asarray(points, np.float64)
    if points.ndim != 2 or points.shape != (JOINT_COUNTS[fmt], 3):
        raise FormatError(f"{fmt} keypoints are {JOINT_COUNTS[fmt]} joints x (x, y, confidence); "
                          f"got shape {points.shape}")
    seen = points[:, 2] >= MIN_VISIBILITY if fmt in _THRESHOLDED else np.ones(len(points), bool)
    out = np.zeros((18, 3), np.float64)
    for i, j in enumerate(COCO18_SOURCE_JOINTS[fmt]):
        if j is not None and seen[j]:
            out[i] = points[j]
    if fmt in SHOULDER_JOINTS:
        left, right = SHOULDER_JOINTS[fmt]
        if seen[left] and seen[right]:
            out[1, :2] = (points[left, :2] + points[right, :2]) / 2
            out[1, 2] = min(points[left, 2], points[right, 2])
        out[:, 2] = np.clip(out[:, 2], 0.0, 1.0)
    return out


def split_columns(values: np.ndarray, fmt: Optional[str]) -> Tuple[np.ndarray, str]:
    """(N, k) numbers -> (N, 3) x, y, confidence, for k = 2 (all seen), 3, or 4 (MediaPipe x, y, z, visibility)."""
    if values.ndim != 2 or values.shape[1] not in (2, 3, 4):
        raise FormatError(f"keypoints must be N joints x (x, y[, confidence]); got shape {values.shape}")
    if values.shape[1] == 2:
        values = np.concatenate([values, np.ones((len(values), 1))], axis=1)
    elif values.shape[1] == 4:
        values = values[:, [0, 1, 3]]
    detected = format_for_count(len(values))
    if fmt in (None, "auto"):
        if detected is None:
            raise FormatError(f"{len(values)} joints match no known layout (COCO-18: 18, BODY_25: 25, "
                              "COCO-17: 17, MediaPipe: 33)")
        return values, detected
    if JOINT_COUNTS.get(fmt) != len(values):
        raise FormatError(f"pose format {fmt} has {JOINT_COUNTS.get(fmt)} joints, the file holds {len(values)}"
                          + (f" (that is {detected})" if detected else ""))
    return values, fmt


_CONTAINERS = ("instance_info", "predictions", "annotations")
_POINT_KEYS = ("pose_keypoints_2d", "keypoints", "landmarks", "pose_landmarks")


def _is_point(item) -> bool:
    if isinstance(item, dict):
        return "x" in item and "y" in item
    return isinstance(item, list) and 2 <= len(item) <= 4 and all(isinstance(v, (int, float)) for v in item)


def _find_points(data):
    """The keypoint list (and MMPose's separate scores) of the first person in a parsed JSON."""
    node = data
    for _ in range(8):
        if isinstance(node, dict):
            if "people" in node:
                people = node["people"]
                if not isinstance(people, list) or not people:
                    raise FormatError("pose JSON has no person (`people` is empty or missing)")
                if not isinstance(people[0], dict) or not isinstance(people[0].get("pose_keypoints_2d"), list):
                    raise FormatError("people[0] has no `pose_keypoints_2d` list")
                return people[0]["pose_keypoints_2d"], None
            key = next((k for k in _POINT_KEYS if k in node), None)
            if key is not None:
                return node[key], node.get("keypoint_scores")
            key = next((k for k in _CONTAINERS if k in node), None)
            if key is None:
                raise FormatError("no keypoints found: expected OpenPose `people[0].pose_keypoints_2d`, a COCO "
                                  "`keypoints` list, MMPose `keypoints` + `keypoint_scores` or MediaPipe `landmarks`")
            node = node[key]
        elif isinstance(node, list):
            if not node:
                raise FormatError("pose JSON has no person (an empty list)")
            if _is_point(node[0]) or not isinstance(node[0], (dict, list)):
                return node, None
            node = node[0]  # the first person of a list of detections
        else:
            raise FormatError(f"expected a JSON object or list of keypoints, got {type(node).__name__}")
    raise FormatError("no keypoints found within the first levels of the JSON")


def _points_array(points, scores) -> np.ndarray:
    if isinstance(points, list) and points and isinstance(points[0], dict):
        points = [[p.get("x"), p.get("y"), p.get("visibility", p.get("score", 1.0))] for p in points]
    try:
        values = np.asarray(points, np.float64)
        if scores is not None:
            values = np.concatenate([values.reshape(len(values), -1)[:, :2],
                                     np.asarray(scores, np.float64).reshape(-1, 1)], axis=1)
    except (TypeError, ValueError):
        raise FormatError("keypoints hold non-numeric values or rows of different lengths") from None
    if values.ndim == 1:
        if values.size == 132:  # MediaPipe 33 x (x, y, z, visibility)
            return values.reshape(33, 4)
        if values.size % 3:
            raise FormatError(f"a flat keypoint list must hold joints x (x, y, confidence); got {values.size} numbers")
        return values.reshape(-1, 3)
    return values


def points_from_json(data) -> np.ndarray:
    """The first person's keypoints in a parsed JSON document, as float64 (N, k), k = 2, 3 or 4.

    Understands OpenPose (`people[0].pose_keypoints_2d`), COCO annotations and
    results (`keypoints`, flat x, y, v), MMPose (`instance_info` / `predictions`
    with `keypoints` + `keypoint_scores`), MediaPipe (`landmarks` as
    {x, y, z, visibility} objects or rows) and bare lists, flat or per joint.

    Raises:
        FormatError: no person, no keypoints, non-numeric values.
    """
    return _points_array(*_find_points(data))
