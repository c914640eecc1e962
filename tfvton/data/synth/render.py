"""Back-to-front rendering of a person with exact CIHP labels.

Every shape is filled into a part-id map (`raster.PartCanvas`); the parsing is
a lookup of the part labels and the colour image a lookup of part colours (or
of the warped garment texture for garment parts) times a shading map. A pixel's
colour therefore always belongs to the part its label says: the parsing is the
ground truth of the render. Face features and hair strands only modulate colour
inside their own part.

The upper garment is the in-shop garment mapped onto the body: its torso quad
(shoulder seams, hem corners) by a perspective warp onto the shoulder/hip
quadrilateral, each sleeve piece onto a quad along its arm segment.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List

import cv2
import numpy as np

from tfvton.data.synth import labels as L
from tfvton.data.synth.garment import Garment
from tfvton.data.synth.identity import Identity
from tfvton.data.synth.pose import Pose
from tfvton.data.synth.raster import (PartCanvas, apply_homography, bounding_box, homography, homography_scale,
                                      perp, rotation, unit, warp_into)


@dataclasses.dataclass
class Rendering:
    """One rendered person.

    Attributes:
        image: uint8 (H, W, 3) RGB.
        parsing: uint8 (H, W) CIHP labels.
        keypoints: (18, 3) OpenPose x, y, confidence (0, 0, 0 when missing).
        parts: uint8 (H, W) part ids (finer than labels).
        part_names: name of every part id.
        garment_warps: part name -> 3x3 homography from in-shop pixels to person pixels.
    """

    image: np.ndarray
    parsing: np.ndarray
    keypoints: np.ndarray
    parts: np.ndarray
    part_names: List[str]
    garment_warps: Dict[str, np.ndarray]


def _shading(parts: np.ndarray, unit_px: float) -> np.ndarray:
    """Darkens pixels near part boundaries: a cheap stand-in for limb roundness and occlusion."""
    # A pixel is on a boundary when its 3x3 neighbourhood holds another part id (max != min).
    inner = (cv2.morphologyEx(parts, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) == 0).view(np.uint8)
    dist = cv2.distanceTransform(inner, cv2.DIST_L2, 3)
    sigma = max(0.012 * unit_px, 0.7)
    dark = cv2.exp(dist * np.float32(-1.0 / sigma)) * np.float32(0.2)
    dark *= (parts > 0).view(np.uint8)  # the backdrop is not shaded
    return np.float32(1.0) - dark


def _outward(d: np.ndarray, side: int) -> np.ndarray:
    """Normal of a limb direction `d` pointing away from the body axis when the arm hangs (side -1 = right)."""
    n = perp(d)
    return n if side < 0 else -n


class _Scene:
    """One person being drawn back to front: parts, their colour sources and the body frame."""

    def __init__(self, identity: Identity, garment: Garment, pose: Pose, height: int, width: int):
        self.identity, self.garment, self.pose = identity, garment, pose
        self.height, self.width = height, width
        self.canvas = PartCanvas(height, width)
        self.colours = [(0.0, 0.0, 0.0)]
        self.warps = {}  # garment part id -> (homography, outline points, in-shop centre)
        b, u, J = identity.body, pose.unit, pose.joints
        self.b, self.u, self.J = b, u, J
        self.head = rotation(pose.head_angle)
        self.rx, self.ry = b.head_rx * u, b.head_ry * u
        self.across = unit(J[L.L_SHOULDER] - J[L.R_SHOULDER])
        self.across_h = unit(J[L.L_HIP] - J[L.R_HIP])
        self.hip_mid = (J[L.L_HIP] + J[L.R_HIP]) / 2
        self.down = unit(self.hip_mid - J[L.NECK])

    def part(self, name: str, label: int, colour=(0, 0, 0)) -> int:
        pid = self.canvas.new_part(name, label)
        self.colours.append(tuple(float(c) for c in colour))
        return pid

    def at_head(self, x: float, y: float) -> np.ndarray:
        """A point of the head frame (units of the face radii) in pixels."""
        return self.pose.face_centre + self.head @ (x * self.rx, y * self.ry)

    def warped_part(self, name: str, matrix: np.ndarray, outline: np.ndarray, src_centre) -> int:
        pid = self.part(name, L.UPPER_CLOTHES)
        self.warps[pid] = (matrix, outline, src_centre)
        return pid

    # --------------------------------------------------------------- shapes, back to front

    def back_hair(self) -> None:
        style = self.identity.hair_style
        if style not in ("long", "bob"):
            return
        pid = self.part("hair_back", L.HAIR, self.identity.hair)
        arc = [self.at_head(1.2 * math.cos(t), -0.05 + 1.12 * math.sin(t))
               for t in np.linspace(math.pi, 2 * math.pi, 13)]
        low, wide = (1.9, 1.32) if style == "long" else (0.85, 1.16)
        self.canvas.polygon(pid, arc + [self.at_head(wide, low), self.at_head(-wide, low)])

    def legs(self) -> None:
        """Bare legs (under shorts and capris), trousers, shoes."""
        b, u, J, cv, ident = self.b, self.u, self.J, self.canvas, self.identity
        for side, label, shoe_label, (hp, kn, an) in (
                (-1, L.RIGHT_LEG, L.RIGHT_SHOE, (L.R_HIP, L.R_KNEE, L.R_ANKLE)),
                (1, L.LEFT_LEG, L.LEFT_SHOE, (L.L_HIP, L.L_KNEE, L.L_ANKLE))):
            name = "right" if side < 0 else "left"
            hip, knee, ankle = J[hp], J[kn], J[an]
            if ident.pants_length != "long":
                pid = self.part(f"leg_{name}", label, ident.skin)
                cv.segment(pid, hip, knee, b.thigh_r * u, b.knee_r * u)
                cv.segment(pid, knee, ankle, b.knee_r * u, b.ankle_r * u)
            pid = self.part(f"pants_{name}", L.PANTS, ident.pants)
            if ident.pants_length == "shorts":
                cv.segment(pid, hip, hip + 0.7 * (knee - hip), b.thigh_r * u * 1.2, b.thigh_r * u * 1.1, cap1=False)
            else:
                cv.segment(pid, hip, knee, b.thigh_r * u * 1.15, b.knee_r * u * 1.3)
                end = ankle if ident.pants_length == "long" else knee + 0.55 * (ankle - knee)
                cv.segment(pid, knee, end, b.knee_r * u * 1.3, b.ankle_r * u * 1.5, cap1=False)
            pid = self.part(f"shoe_{name}", shoe_label, ident.shoes)
            angle = math.degrees(math.atan2(self.across_h[1], self.across_h[0]))
            cv.ellipse(pid, ankle + unit(ankle - knee) * (0.022 * u) + self.across_h * (side * 0.006 * u),
                       (b.foot_len * 0.62 * u, 0.024 * u), angle)
        pid = self.part("pants_waist", L.PANTS, ident.pants)
        tw, ah, down = b.thigh_r * u * 1.15, self.across_h, self.down
        cv.polygon(pid, [J[L.R_HIP] - ah * tw - down * (0.05 * u), J[L.L_HIP] + ah * tw - down * (0.05 * u),
                         J[L.L_HIP] + ah * tw + down * (0.04 * u), self.hip_mid + down * (0.1 * u),
                         J[L.R_HIP] - ah * tw + down * (0.04 * u)])

    def torso_skin(self) -> None:
        """Neck and torso skin: shows through the neckline and around sleeveless armholes."""
        u, J, a, ah, down = self.u, self.J, self.across, self.across_h, self.down
        pid = self.part("torso_skin", L.TORSO_SKIN, self.identity.skin)
        nr = self.b.neck_r * u
        chin = self.at_head(0.0, 0.6)
        self.canvas.polygon(pid, [
            chin - a * nr, chin + a * nr, J[L.NECK] + a * nr * 1.2,
            J[L.L_SHOULDER] + a * (0.01 * u) - down * (0.012 * u), J[L.L_HIP] + ah * (0.01 * u),
            J[L.R_HIP] - ah * (0.01 * u), J[L.R_SHOULDER] - a * (0.01 * u) - down * (0.012 * u),
            J[L.NECK] - a * nr * 1.2])

    def garment_torso(self) -> None:
        """The in-shop torso quad (shoulder seams, hem corners) onto the shoulder/hip quadrilateral."""
        u, J, spec, g = self.u, self.J, self.garment.spec, self.garment
        # Shoulder seams sit just outside the shoulder joints, or inside them for sleeveless tops.
        over = (0.018 * spec.fit if spec.sleeve != "none" else -0.006) * u
        hem = 0.024 * spec.fit * u
        body_quad = np.array([
            J[L.R_SHOULDER] - self.across * over - self.down * (0.014 * u),
            J[L.L_SHOULDER] + self.across * over - self.down * (0.014 * u),
            J[L.L_HIP] + self.across_h * hem + self.down * (spec.length * u),
            J[L.R_HIP] - self.across_h * hem + self.down * (spec.length * u)])
        matrix = homography(g.torso_quad, body_quad)
        outline = apply_homography(matrix, g.torso_polygon)
        self.canvas.polygon(self.warped_part("garment_torso", matrix, outline, g.torso_quad.mean(0)), outline)

    def arm(self, name: str, side: int) -> None:
        """Skin of one arm and hand, then its sleeve pieces warped along the arm segments."""
        b, u, J, cv, spec = self.b, self.u, self.J, self.canvas, self.garment.spec
        sh, el, wr = (L.R_SHOULDER, L.R_ELBOW, L.R_WRIST) if side < 0 else (L.L_SHOULDER, L.L_ELBOW, L.L_WRIST)
        label = L.RIGHT_ARM if side < 0 else L.LEFT_ARM
        S, E, W = J[sh], J[el], J[wr]
        d_u, d_f = unit(E - S), unit(W - E)
        sleeved = spec.sleeve != "none"
        pid = self.part(f"upper_arm_{name}", label, self.identity.skin)
        cv.segment(pid, S, E, b.arm_r * u, b.forearm_r * u * 1.05, cap0=not sleeved)
        pid = self.part(f"forearm_{name}", label, self.identity.skin)
        cv.segment(pid, E, W, b.forearm_r * u * 1.05, b.wrist_r * u)
        cv.ellipse(pid, W + d_f * (b.hand_len * 0.5 * u), (b.hand_len * 0.6 * u, b.wrist_r * 1.45 * u),
                   math.degrees(math.atan2(d_f[1], d_f[0])))
        if not sleeved:
            return
        n_u, n_f = _outward(d_u, side), _outward(d_f, side)
        top = S - d_u * (0.45 * b.arm_r * u)
        w0 = b.arm_r * u * 1.35 * spec.fit
        if spec.sleeve == "short":
            end = S + d_u * (min(spec.sleeve_length / b.upper_arm, 0.8) * float(np.linalg.norm(E - S)))
            w1 = b.arm_r * u * 1.3 * spec.fit
            body = [np.array([top + n_u * w0, top - n_u * w0, end - n_u * w1, end + n_u * w1])]
        else:
            # Round elbow join: each piece ends square to its own segment and a disc (coloured by
            # the upper piece's warp) fills the wedge; a mitre would spike out at sharp bends.
            we = b.forearm_r * u * 1.5 * spec.fit
            cuff = W - d_f * (0.01 * u)
            w2 = b.wrist_r * u * 1.55 * spec.fit
            body = [np.array([top + n_u * w0, top - n_u * w0, E - n_u * we, E + n_u * we]),
                    np.array([E + n_f * we, E - n_f * we, cuff - n_f * w2, cuff + n_f * w2])]
        for i, (src, dst) in enumerate(zip(self.garment.sleeves[name], body)):
            outline = dst if not (i == 0 and len(body) == 2) else np.concatenate([dst, [E - we, E + we]])
            pid = self.warped_part(f"sleeve_{name}_{i}", homography(src, dst), outline, src.mean(0))
            cv.polygon(pid, dst)
            if outline is not dst:
                cv.circle(pid, E, we)

    def head_and_hair(self) -> int:
        """Ears and face (label 13), then the hair on top; returns the face part id."""
        cv, J, angle, rx, ry = self.canvas, self.J, self.pose.head_angle, self.rx, self.ry
        style = self.identity.hair_style
        face_pid = self.part("face", L.FACE, self.identity.skin)
        for ear in (L.R_EAR, L.L_EAR):
            cv.ellipse(face_pid, J[ear], (0.17 * rx, 0.3 * ry), angle)
        cv.ellipse(face_pid, self.pose.face_centre, (rx, ry), angle)
        hair_pid = self.part("hair", L.HAIR, self.identity.hair)
        cap_y, cap = (-0.42, (1.04, 0.78)) if style in ("buzz", "bun") else (-0.4, (1.12, 0.94))
        cv.ellipse(hair_pid, self.at_head(0.0, cap_y), (cap[0] * rx, cap[1] * ry), angle, 180, 360)
        if style == "bun":
            cv.circle(hair_pid, self.at_head(0.0, -1.28), 0.34 * ry)
        if style == "bob":
            for s in (-1, 1):
                cv.polygon(hair_pid, [self.at_head(s * 1.12, cap_y), self.at_head(s * 0.86, cap_y),
                                      self.at_head(s * 0.9, 0.5), self.at_head(s * 1.18, 0.6)])
        elif style in ("short", "long"):  # a side fringe
            cv.polygon(hair_pid, [self.at_head(-1.0, cap_y), self.at_head(0.35, cap_y), self.at_head(-0.75, -0.18)])
        return face_pid

    # --------------------------------------------------------------- colour

    def colour(self, face_pid: int, rng: np.random.Generator) -> np.ndarray:
        """Part colours (or warped garment texture) times shading, uint8 RGB.

        OpenCV does the per-pixel work: numpy's fancy indexing and broadcasting cost
        about ten times more at these sizes.
        """
        parts, height, width, g = self.canvas.parts, self.height, self.width, self.garment
        colours = np.zeros((256, 1, 3), np.uint8)
        colours[0, 0] = np.clip(np.round(238.0 + rng.uniform(-10, 12) + rng.normal(0, 4, 3)), 0, 255)
        colours[1:len(self.colours), 0] = np.asarray(self.colours[1:], np.float64).round().astype(np.uint8)
        fore = cv2.LUT(cv2.merge([parts, parts, parts]), colours).astype(np.float32)
        for pid, (matrix, outline, src_centre) in self.warps.items():
            box = bounding_box(outline, height, width)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            # Strong minification aliases fine stripes: sample a low-passed texture instead.
            tex = g.texture_soft if homography_scale(matrix, src_centre) < 0.75 else g.texture
            region = (parts[y0:y1, x0:x1] == pid).view(np.uint8)
            cv2.copyTo(warp_into(tex, matrix, box).astype(np.float32), region, fore[y0:y1, x0:x1])
        hair_pids = [i for i, n in enumerate(self.canvas.names) if n.startswith("hair")]
        face, angle = self.pose.face_centre, self.pose.head_angle
        _hair_strands(fore, parts, hair_pids, face, angle, self.rx, self.ry)
        _face_features(fore, parts, face_pid, self.identity, self.J, face, angle, self.rx, self.ry)
        shade = _shading(parts, self.u)
        # A soft top-to-bottom falloff of the studio light, on person and backdrop alike.
        shade *= np.linspace(1.02, 1.0 - rng.uniform(0.03, 0.09), height, dtype=np.float32)[:, None]
        return cv2.convertScaleAbs(cv2.multiply(fore, cv2.merge([shade, shade, shade])))


def render_person(identity: Identity, garment: Garment, pose: Pose, height: int, width: int,
                  rng: np.random.Generator) -> Rendering:
    """Renders `identity` wearing `garment` in `pose`.

    Args:
        identity: who (body, colours, hair).
        garment: the built in-shop garment (same canvas size as the person).
        pose: joint positions in pixels.
        height: image height.
        width: image width.
        rng: stream for per-image variation (backdrop colour and light).
    Returns:
        A `Rendering`.
    """
    scene = _Scene(identity, garment, pose, height, width)
    scene.back_hair()
    scene.legs()
    scene.torso_skin()
    scene.garment_torso()
    # Arms in front of the torso; an arm crossing the torso last, in front of the other one.
    arms = [("right", -1), ("left", 1)]
    for name, side in (arms[::-1] if pose.crossing == "right" else arms):
        scene.arm(name, side)
    face_pid = scene.head_and_hair()
    image = scene.colour(face_pid, rng)
    cv = scene.canvas
    return Rendering(image=image, parsing=cv.label_map(), keypoints=pose.keypoints(), parts=cv.parts,
                     part_names=list(cv.names),
                     garment_warps={cv.names[pid]: w[0] for pid, w in scene.warps.items()})


def _hair_strands(fore: np.ndarray, parts: np.ndarray, pids, face, angle: float, rx: float, ry: float) -> None:
    """Fine strands along the head direction, on hair pixels only."""
    box = bounding_box([face - (1.5 * rx, 1.8 * ry), face + (1.5 * rx, 2.1 * ry)], *parts.shape)
    if box is None:
        return
    x0, y0, x1, y1 = box
    a = math.radians(angle)
    xs = np.arange(x0, x1, dtype=np.float32) - np.float32(face[0])
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(face[1])
    local_x = xs * math.cos(a) + ys * math.sin(a)
    local_y = ys * math.cos(a) - xs * math.sin(a)
    period = max(0.09 * ry, 1.5)
    factor = 0.9 + 0.1 * np.sin(2 * math.pi * local_x / period + 1.5 * np.sin(local_y / (0.5 * ry)))
    win = fore[y0:y1, x0:x1]
    region = np.isin(parts[y0:y1, x0:x1], pids).view(np.uint8)
    cv2.copyTo(cv2.multiply(win, cv2.merge([factor, factor, factor]).astype(np.float32)), region, win)


def _face_features(fore, parts, face_pid, identity: Identity, J, face, angle, rx, ry) -> None:
    """Eyes, brows, nose and mouth, drawn only onto face pixels."""
    box = bounding_box([face - (1.3 * rx, 1.3 * ry), face + (1.3 * rx, 1.3 * ry)], *parts.shape)
    if box is None:
        return
    x0, y0, x1, y1 = box
    win = fore[y0:y1, x0:x1]
    draw = win.copy()
    head = rotation(angle)
    origin = np.array([x0, y0], np.float64)

    def pt(p):
        q = np.round((np.asarray(p, np.float64) - origin) * 16).astype(np.int64)
        return int(q[0]), int(q[1])

    def ax(a, b):
        return max(int(round(a * 16)), 8), max(int(round(b * 16)), 8)

    sclera = (245.0, 245.0, 242.0)
    iris = tuple(float(c) for c in identity.eye)
    brow = tuple(float(c) * 0.75 for c in identity.hair)
    lips = tuple(float(c) for c in identity.lips)
    aa, sh = cv2.LINE_AA, 4
    for eye in (L.R_EYE, L.L_EYE):
        c = J[eye]
        cv2.ellipse(draw, pt(c), ax(0.22 * rx, 0.11 * ry), angle, 0, 360, sclera, -1, aa, sh)
        cv2.circle(draw, pt(c), max(int(round(0.1 * rx * 16)), 8), iris, -1, aa, sh)
        cv2.circle(draw, pt(c), max(int(round(0.045 * rx * 16)), 6), (20.0, 18.0, 18.0), -1, aa, sh)
        b0 = c + head @ (-0.25 * rx, -0.26 * ry)
        b1 = c + head @ (0.25 * rx, -0.28 * ry)
        cv2.line(draw, pt(b0), pt(b1), brow, max(int(round(0.07 * ry * identity.brow)), 1), aa, sh)
    nose = J[L.NOSE]
    skin_dark = tuple(float(c) * 0.8 for c in identity.skin)
    cv2.line(draw, pt(nose + head @ (0.0, -0.22 * ry)), pt(nose + head @ (0.06 * rx, 0.02 * ry)), skin_dark,
             max(int(round(0.04 * ry)), 1), aa, sh)
    mouth = face + head @ (0.0, 0.52 * ry)
    cv2.ellipse(draw, pt(mouth), ax(0.3 * rx, 0.08 * ry), angle, 0, 360, lips, -1, aa, sh)
    cv2.line(draw, pt(mouth + head @ (-0.3 * rx, 0.0)), pt(mouth + head @ (0.3 * rx, 0.0)),
             tuple(c * 0.6 for c in lips), max(int(round(0.03 * ry)), 1), aa, sh)
    cv2.copyTo(draw, (parts[y0:y1, x0:x1] == face_pid).view(np.uint8), win)
