"""CIHP label ids, the CIHP colour map and the OpenPose COCO-18 keypoint order.

Facts from the official release (`utils/transforms.py`, `utils/pose_utils.py`)
and the real MPV samples: CIHP "left"/"right" are the person's own sides, the
same convention as OpenPose's keypoints (COCO-18 `l-shoulder` lies on label 14
`LeftArm`), so for a person facing the camera the left arm is on the image's
right.
"""
from __future__ import annotations

import numpy as np

from tfvton.data.formats.parsing import CIHP_PALETTE

BACKGROUND = 0
HAIR = 2
UPPER_CLOTHES = 5
PANTS = 9
TORSO_SKIN = 10  # CIHP "Jumpsuits"; MPV's parser uses it for neck and torso skin.
FACE = 13
LEFT_ARM = 14
RIGHT_ARM = 15
LEFT_LEG = 16
RIGHT_LEG = 17
LEFT_SHOE = 18
RIGHT_SHOE = 19

# Every label a SynthMPV parsing map may contain.
SYNTH_LABELS = (BACKGROUND, HAIR, UPPER_CLOTHES, PANTS, TORSO_SKIN, FACE,
                LEFT_ARM, RIGHT_ARM, LEFT_LEG, RIGHT_LEG, LEFT_SHOE, RIGHT_SHOE)

# The 20-entry CIHP colour map of the official `utils/transforms.py` (the `_vis.png` files).
CIHP_COLOURS = CIHP_PALETTE

# OpenPose COCO-18 order (pose_keypoints_2d), person's own left/right.
KEYPOINT_NAMES = ("nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
                  "l_wrist", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
                  "r_eye", "l_eye", "r_ear", "l_ear")
NOSE, NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = range(8)
R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, R_EYE, L_EYE, R_EAR, L_EAR = range(8, 18)
NUM_KEYPOINTS = 18

# Limbs of the OpenPose skeleton (the official `LIMB_SEQ`), for drawing previews.
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
         (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))


def colourize(parsing: np.ndarray) -> np.ndarray:
    """Maps a CIHP label map (H, W) uint8 to its RGB rendering (the official `_vis.png`)."""
    return CIHP_COLOURS[parsing]
