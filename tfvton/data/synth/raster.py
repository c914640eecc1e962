"""Aliasing-free rasterisation into a part-id map, and homography helpers.

Every shape is filled without antialiasing into one uint8 map of part ids, so
each pixel belongs to exactly one part; the CIHP label map and the colour image
are both looked up from that map, which makes the parsing the exact ground
truth of the render. Coordinates are float pixels (x, y); OpenCV's fixed-point
`shift` keeps sub-pixel precision without antialiasing.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

SHIFT = 4
_ONE = 1 << SHIFT


def _fixed(points) -> np.ndarray:
    return np.round(np.asarray(points, np.float64) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def rotation(angle_deg: float) -> np.ndarray:
    """2x2 rotation matrix (image coordinates, y down: positive angles turn x towards y)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s], [s, c]])


def unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    n = math.hypot(v[0], v[1])
    return v / n if n > 1e-9 else np.array([0.0, 1.0])


def perp(v) -> np.ndarray:
    """`v` turned by +90 degrees in image coordinates: (x, y) -> (-y, x)."""
    return np.array([-v[1], v[0]])


class PartCanvas:
    """A map of part ids filled back to front; part 0 is the background.

    Args:
        height: map height in pixels.
        width: map width in pixels.
    """

    def __init__(self, height: int, width: int):
        self.height = height
        self.width = width
        self.parts = np.zeros((height, width), np.uint8)
        self.labels = [0]          # CIHP label of each part id
        self.names = ["background"]

    def new_part(self, name: str, label: int) -> int:
        if len(self.labels) >= 255:
            raise ValueError("PartCanvas: more than 255 parts")
        self.labels.append(int(label))
        self.names.append(name)
        return len(self.labels) - 1

    def polygon(self, pid: int, points) -> None:
        cv2.fillPoly(self.parts, [_fixed(points)], int(pid), cv2.LINE_8, SHIFT)

    def convex(self, pid: int, points) -> None:
        cv2.fillConvexPoly(self.parts, _fixed(points), int(pid), cv2.LINE_8, SHIFT)

    def circle(self, pid: int, centre, radius: float) -> None:
        c = _fixed(centre).reshape(2)
        cv2.circle(self.parts, (int(c[0]), int(c[1])), max(int(round(radius * _ONE)), 1), int(pid), -1,
                   cv2.LINE_8, SHIFT)

    def ellipse(self, pid: int, centre, axes, angle: float, start: float = 0.0, end: float = 360.0) -> None:
        c = _fixed(centre).reshape(2)
        ax = (max(int(round(axes[0] * _ONE)), 1), max(int(round(axes[1] * _ONE)), 1))
        cv2.ellipse(self.parts, (int(c[0]), int(c[1])), ax, float(angle), float(start), float(end), int(pid), -1,
                    cv2.LINE_8, SHIFT)

    def segment(self, pid: int, p0, p1, r0: float, r1: float, cap0: bool = True, cap1: bool = True) -> None:
        """A tapered limb from `p0` (half-width r0) to `p1` (half-width r1) with round joints."""
        p0 = np.asarray(p0, np.float64)
        p1 = np.asarray(p1, np.float64)
        n = perp(unit(p1 - p0))
        self.convex(pid, [p0 + n * r0, p1 + n * r1, p1 - n * r1, p0 - n * r0])
        if cap0:
            self.circle(pid, p0, r0)
        if cap1:
            self.circle(pid, p1, r1)

    def label_map(self) -> np.ndarray:
        """The CIHP label of every pixel (uint8 H, W)."""
        lut = np.zeros(256, np.uint8)
        lut[:len(self.labels)] = self.labels
        return cv2.LUT(self.parts, lut)


def homography(src_quad, dst_quad) -> np.ndarray:
    """3x3 perspective transform mapping the 4 points `src_quad` onto `dst_quad`."""
    return cv2.getPerspectiveTransform(np.asarray(src_quad, np.float32), np.asarray(dst_quad, np.float32))


def apply_homography(matrix: np.ndarray, points) -> np.ndarray:
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    hom = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ matrix.T
    return hom[:, :2] / hom[:, 2:3]


def homography_scale(matrix: np.ndarray, point) -> float:
    """Linear scale factor of a homography around `point` (sqrt of the local Jacobian determinant)."""
    p = np.asarray(point, np.float64)
    q = apply_homography(matrix, [p, p + (1.0, 0.0), p + (0.0, 1.0)])
    jac = np.stack([q[1] - q[0], q[2] - q[0]], axis=1)
    return math.sqrt(abs(float(np.linalg.det(jac))))


def warp_into(image: np.ndarray, matrix: np.ndarray, box, interpolation=cv2.INTER_LINEAR) -> np.ndarray:
    """Warps `image` by `matrix` and returns only the window `box` = (x0, y0, x1, y1) of the output."""
    x0, y0, x1, y1 = box
    shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
    return cv2.warpPerspective(image, shift @ matrix, (x1 - x0, y1 - y0), flags=interpolation,
                               borderMode=cv2.BORDER_REFLECT)


def bounding_box(points, height: int, width: int, pad: int = 2):
    """Integer window (x0, y0, x1, y1) around `points`, clipped to the image; None when empty."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    x0 = max(int(math.floor(pts[:, 0].min())) - pad, 0)
    y0 = max(int(math.floor(pts[:, 1].min())) - pad, 0)
    x1 = min(int(math.ceil(pts[:, 0].max())) + pad + 1, width)
    y1 = min(int(math.ceil(pts[:, 1].max())) + pad + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1
