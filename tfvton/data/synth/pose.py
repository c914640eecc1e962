"""Skeleton sampling: plausible standing poses as 18 COCO keypoints in pixels.

The skeleton is built in body units around the pelvis (arm raise and bend,
stance, lean, head tilt), then scaled and shifted into the frame: `whole`
shots show the full figure, `half` shots zoom in on head and torso so the
lower joints fall outside the frame (written as 0,0,0 like OpenPose).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Tuple

import numpy as np

from tfvton.data.synth import labels as L
from tfvton.data.synth.identity import BodyShape
from tfvton.data.synth.raster import rotation

ARM_MODES = ("relaxed", "bent", "akimbo", "raised", "cross")


@dataclasses.dataclass(frozen=True)
class Pose:
    """One sampled pose.

    Attributes:
        joints: (18, 2) float64 pixel coordinates (x, y) of every joint, also those outside the frame.
        confidence: (18,) float64 OpenPose-like confidences; 0 for joints that are not reported.
        unit: pixels per body unit.
        head_angle: head rotation in degrees (image coordinates).
        face_centre: (2,) centre of the face ellipse in pixels.
        crop: `whole` or `half`.
        arms: arm modes (right, left), from `ARM_MODES`.
        crossing: which arm crosses the torso (`right`, `left` or `none`); it is drawn in front.
    """

    joints: np.ndarray
    confidence: np.ndarray
    unit: float
    head_angle: float
    face_centre: np.ndarray
    crop: str
    arms: Tuple[str, str]
    crossing: str

    def keypoints(self) -> np.ndarray:
        """(18, 3) OpenPose array: x, y, confidence; missing joints are 0, 0, 0."""
        out = np.zeros((L.NUM_KEYPOINTS, 3))
        present = self.confidence > 0
        out[present, :2] = self.joints[present]
        out[present, 2] = self.confidence[present]
        return out


def _arm_angles(rng: np.random.Generator, mode: str) -> Tuple[float, float]:
    """(abduction from hanging straight down, elbow bend; negative bends swing the forearm inwards)."""
    u = rng.uniform
    if mode == "relaxed":
        return u(4, 24), u(-18, 8)
    if mode == "bent":
        return u(4, 26), u(-75, -30)
    if mode == "akimbo":
        return u(32, 55), u(-125, -90)
    if mode == "raised":
        a1 = u(70, 160)
        return a1, min(u(-45, 30), 172 - a1)
    # cross: elbow slightly in front of the torso, forearm roughly level and pointing inwards,
    # so the wrist ends past the body's midline.
    a1 = u(-16, 4)
    return a1, u(-115, -85) - a1


def sample_pose(rng: np.random.Generator, body: BodyShape, height: int, width: int) -> Pose:
    """Draws a pose for `body` framed in a `height` x `width` image."""
    u = rng.uniform
    crossing = ("none", "right", "left")[rng.choice(3, p=(0.7, 0.15, 0.15))]
    arms = []
    for side in ("right", "left"):
        if side == crossing:
            arms.append("cross")
        else:
            arms.append(ARM_MODES[rng.choice(4, p=(0.5, 0.2, 0.13, 0.17))])
    glob, lean, shoulder_tilt, pelvis_tilt = u(-3, 3), u(-5, 5), u(-3, 3), u(-3, 3)
    head_angle = glob + lean + u(-10, 10)

    j = np.zeros((L.NUM_KEYPOINTS, 2))
    pelvis = rotation(glob + pelvis_tilt)
    j[L.R_HIP] = pelvis @ (-body.hip_half, 0.0)
    j[L.L_HIP] = pelvis @ (body.hip_half, 0.0)
    spine = rotation(glob + lean)
    neck = spine @ (0.0, -body.torso_len)
    j[L.NECK] = neck
    shoulders = rotation(glob + lean + shoulder_tilt)
    j[L.R_SHOULDER] = neck + shoulders @ (-body.shoulder_half, 0.012)
    j[L.L_SHOULDER] = neck + shoulders @ (body.shoulder_half, 0.012)
    head = rotation(head_angle)
    rx, ry = body.head_rx, body.head_ry
    face = neck + head @ (0.0, -(body.neck_len + ry))
    j[L.NOSE] = face + head @ (0.0, 0.2 * ry)
    j[L.R_EYE] = face + head @ (-0.38 * rx, -0.1 * ry)
    j[L.L_EYE] = face + head @ (0.38 * rx, -0.1 * ry)
    j[L.R_EAR] = face + head @ (-1.0 * rx, -0.02 * ry)
    j[L.L_EAR] = face + head @ (1.0 * rx, -0.02 * ry)
    for s, mode, (sh, el, wr) in ((-1, arms[0], (L.R_SHOULDER, L.R_ELBOW, L.R_WRIST)),
                                  (1, arms[1], (L.L_SHOULDER, L.L_ELBOW, L.L_WRIST))):
        a1, bend = _arm_angles(rng, mode)
        a2 = math.radians(a1 + bend)
        a1 = math.radians(a1)
        j[el] = j[sh] + spine @ (s * math.sin(a1), math.cos(a1)) * body.upper_arm
        j[wr] = j[el] + spine @ (s * math.sin(a2), math.cos(a2)) * body.forearm
    stance = rotation(glob)
    for s, (hp, kn, an) in ((-1, (L.R_HIP, L.R_KNEE, L.R_ANKLE)), (1, (L.L_HIP, L.L_KNEE, L.L_ANKLE))):
        l1 = math.radians(u(0, 11))
        l2 = l1 + math.radians(u(-5, 4))
        j[kn] = j[hp] + stance @ (s * math.sin(l1), math.cos(l1)) * body.thigh
        j[an] = j[kn] + stance @ (s * math.sin(l2), math.cos(l2)) * body.shin

    # Framing: `whole` fits head top .. soles into the image, `half` zooms on head and torso.
    top = float(face[1] - ry * 1.2)
    bottom = float(max(j[L.R_ANKLE][1], j[L.L_ANKLE][1]) + body.foot_len * 0.6)
    crop = "whole" if rng.random() < 0.55 else "half"
    if crop == "whole":
        unit = u(0.82, 0.93) * height / (bottom - top)
        spare = height - (bottom - top) * unit
        y0 = spare * u(0.25, 0.65) - top * unit
    else:
        unit = u(1.3, 1.7) * height
        y0 = u(0.02, 0.07) * height - top * unit
    x0 = width / 2 + u(-0.07, 0.07) * width - float(neck[0]) * unit
    origin = np.array([x0, y0])
    joints = j * unit + origin

    inside = ((joints[:, 0] >= 0) & (joints[:, 0] <= width - 1) & (joints[:, 1] >= 0)
              & (joints[:, 1] <= height - 1))
    confidence = np.round(u(0.45, 0.95, L.NUM_KEYPOINTS), 6) * inside
    confidence[[L.R_EAR, L.L_EAR]] *= rng.random(2) > 0.08  # OpenPose often misses an ear
    return Pose(joints=joints, confidence=confidence, unit=float(unit), head_angle=float(head_angle),
                face_centre=face * unit + origin, crop=crop, arms=tuple(arms), crossing=crossing)
