"""CIHP label ids and the keypoint count: the one home of these numbers (no TensorFlow import).

`tfvton.data.transforms` re-exports them (`transforms.NUM_LABELS` is the public
name the networks use); the raw-input reader and the format mappings import
them from here, so reading a file or building a client request needs no TensorFlow.
"""
from __future__ import annotations

__all__ = ["NUM_LABELS", "NUM_KEYPOINTS", "CLOTH_LABELS", "FACE_LABELS", "KEEP_LABELS", "LABEL_NAMES"]

# CIHP label ids (see LABEL_NAMES). Public and stable: the network pipeline imports them.
NUM_LABELS = 20
NUM_KEYPOINTS = 18
CLOTH_LABELS = (5, 6, 7)  # upper clothes, dress, coat
FACE_LABELS = (1, 2, 4, 13)  # hat, hair, sunglasses, face
KEEP_LABELS = tuple(i for i in range(NUM_LABELS) if i not in CLOTH_LABELS)  # the 17-channel parse
LABEL_NAMES = ("background", "hat", "hair", "glove", "sunglasses", "upper_clothes", "dress", "coat",
               "socks", "pants", "jumpsuits", "scarf", "skirt", "face", "left_arm", "right_arm",
               "left_leg", "right_leg", "left_shoe", "right_shoe")
