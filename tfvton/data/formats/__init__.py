"""Mappings from the keypoint and label formats people have to the two tfvton uses inside.

Inside, tfvton works with OpenPose COCO-18 keypoints and CIHP label ids (20
labels, `tfvton.data.transforms.NUM_LABELS`). `keypoints` maps OpenPose BODY_25,
COCO-17 lists and MediaPipe's 33 landmarks to COCO-18; `parsing` maps LIP and
ATR ids and CIHP/LIP colour renderings to CIHP ids. Both are NumPy only and
raise `FormatError` with what was wrong; `tfvton.data.raw_io` turns that into a
`DataError` naming the file.
"""
from __future__ import annotations

__all__ = ["FormatError", "PARSING_FORMATS", "POSE_FORMATS"]

# Light constants (no TensorFlow import), so the CLI can offer them as choices.
PARSING_FORMATS = ("cihp", "lip", "atr", "vis")
POSE_FORMATS = ("coco18", "body25", "coco17", "mediapipe33")


class FormatError(ValueError):
    """An input in none of the known formats, or not in the format asked for."""
