"""Rotated square regions of interest: from alignment keypoints, crop, back-projection.

Coordinates are continuous image coordinates in pixels (the top-left corner of
the image is (0, 0), pixel (i, j) covers [j, j+1) x [i, i+1)), as MediaPipe's
normalized coordinates times the image size. A region is a square of side
`size` pixels centred on `centre`, rotated by `rotation` radians (clockwise on
screen, as y points down); a point (u, v) in [0, 1]^2 of the region maps to
`centre + R(rotation) @ ((u, v) - 0.5) * size`.
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

__all__ = ["Roi", "roi_from_alignment", "letterbox_roi", "roi_to_image", "crop_roi"]

# MediaPipe `pose_detection_to_roi.pbtxt`: AlignmentPointsRectsCalculator (keypoint 0 -> 1, target 90
# degrees), then RectTransformationCalculator (scale 1.25, square_long).
ROI_SCALE = 1.25
TARGET_ANGLE_DEGREES = 90.0


@dataclasses.dataclass(frozen=True)
class Roi:
    """A rotated square in pixels: centre (x, y), side, rotation in radians."""

    centre_x: float
    centre_y: float
    size: float
    rotation: float = 0.0


def _normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_alignment(centre: np.ndarray, scale_point: np.ndarray, scale: float = ROI_SCALE,
                       target_angle_degrees: float = TARGET_ANGLE_DEGREES) -> Roi:
    """The body region from the detector's two full-body alignment keypoints.

    Args:
        centre: (x, y) pixels of keypoint 0 (the mid-hip centre).
        scale_point: (x, y) pixels of keypoint 1 (a point on the circle enclosing the body).
        scale: margin around the circle (MediaPipe trains the landmark model with 1.25).
        target_angle_degrees: the direction centre -> scale_point has in an upright body (90 = up).
    Returns:
        a square `Roi` of side `2 * |scale_point - centre| * scale`, rotated so the body is upright.
    """
    dx = float(scale_point[0] - centre[0])
    dy = float(scale_point[1] - centre[1])
    # y points down in the image, hence -dy for the usual counter-clockwise angle.
    rotation = _normalize_radians(math.radians(target_angle_degrees) - math.atan2(-dy, dx))
    size = 2.0 * math.hypot(dx, dy) * scale
    return Roi(float(centre[0]), float(centre[1]), size, rotation)


def letterbox_roi(height: int, width: int) -> Roi:
    """The unrotated square around a whole image (keep-aspect-ratio fit with symmetric padding)."""
    return Roi(width / 2.0, height / 2.0, float(max(height, width)), 0.0)


def _rotation_matrix(rotation: float) -> np.ndarray:
    c, s = math.cos(rotation), math.sin(rotation)
    return np.array([[c, -s], [s, c]], np.float64)


def roi_to_image(points: np.ndarray, roi: Roi) -> np.ndarray:
    """Points (..., 2) in [0, 1] of the region -> image pixels (continuous coordinates)."""
    points = np.asarray(points, np.float64)
    rotated = (points - 0.5) @ _rotation_matrix(roi.rotation).T
    return rotated * roi.size + np.array([roi.centre_x, roi.centre_y])


def crop_roi(image: np.ndarray, roi: Roi, out_size: int, border: str = "zero") -> np.ndarray:
    """Samples the region into an `out_size` x `out_size` image (bilinear).

    Args:
        image: (H, W, C) array.
        roi: the region in `image`'s pixels.
        out_size: side of the output in pixels.
        border: "zero" (black outside the image) or "replicate" (edge pixels repeated).
    """
    rot = _rotation_matrix(roi.rotation)
    step = rot * (roi.size / out_size)  # image displacement per output pixel
    # Output pixel index i has its centre at i + 0.5; so has input pixel index j.
    offset = np.array([roi.centre_x, roi.centre_y]) + step @ np.full(2, 0.5) - rot @ np.full(2, roi.size / 2) - 0.5
    matrix = np.concatenate([step, offset[:, None]], axis=1)
    mode = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}[border]
    out = cv2.warpAffine(np.ascontiguousarray(image), matrix, (out_size, out_size),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=mode, borderValue=0)
    return out.reshape(out_size, out_size, *image.shape[2:])
