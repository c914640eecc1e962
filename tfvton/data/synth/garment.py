"""In-shop upper garments: shape, high-frequency texture, front view on white, mask.

A garment is described by a `GarmentSpec` (pure data, sampled once per
identity) and built by `build_garment` into an image the size of the person
images. The shape is defined in body units (shoulder-to-hip = 0.3) around the
neck base, then scaled to fill the canvas. The texture covers the whole canvas
(the pattern continues outside the garment), so that warping it onto a body
never samples the white background near a seam; the in-shop image is that
texture inside the mask and white outside.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Tuple

import cv2
import numpy as np

from tfvton.data.synth import palette
from tfvton.data.synth.raster import perp, unit

SLEEVES = ("none", "short", "long")
NECKLINES = ("round", "crew", "v")
PATTERNS = ("stripes", "checks", "dots", "gradient", "glyphs", "zigzag")
WORDS = ("TFVTON", "DETAIL", "SYNTH", "MPV", "TRY ON", "CARVE", "POSE", "NO.7", "2019", "HELLO",
         "ZX-81", "LOREM", "TREE", "GAN", "PIXEL", "42", "OK!", "ABC")
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX,
          cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_PLAIN)

# Fraction of a long sleeve that covers the upper arm (upper arm : forearm of the template body).
ELBOW_FRACTION = 0.53


@dataclasses.dataclass(frozen=True)
class GarmentSpec:
    """Everything that defines one garment (JSON-serialisable).

    Attributes:
        sleeve: `none`, `short` or `long`.
        neckline: `round`, `crew` or `v`.
        length: hem drop below the hip line, body units.
        fit: width factor (1 = fitted).
        sleeve_angle: angle of the flat-lay sleeve from vertical, degrees.
        sleeve_length: sleeve length in body units (0 when sleeveless).
        pattern: one of `PATTERNS`.
        colours: three RGB colours (main, second, accent).
        period: pattern period in body units.
        angle: pattern orientation, degrees.
        duty: stripe/check duty cycle or dot radius fraction.
        print_kind: `none`, `text` or `logo`.
        print_text: the word printed or under the logo.
        font: index into the Hershey fonts.
        trim: (collar, hem, cuffs) contrasting bands.
        texture_seed: seed of the few random choices inside the texture.
    """

    sleeve: str
    neckline: str
    length: float
    fit: float
    sleeve_angle: float
    sleeve_length: float
    pattern: str
    colours: Tuple[Tuple[int, int, int], ...]
    period: float
    angle: float
    duty: float
    print_kind: str
    print_text: str
    font: int
    trim: Tuple[bool, bool, bool]
    texture_seed: int

    def to_dict(self) -> Dict:
        return dataclasses.asdict(self)


def sample_garment(rng: np.random.Generator) -> GarmentSpec:
    """Draws a random garment."""
    sleeve = SLEEVES[rng.choice(3, p=(0.25, 0.45, 0.30))]
    pattern = PATTERNS[rng.integers(len(PATTERNS))]
    c1, c2 = palette.contrasting_pair(rng)
    c3 = palette.random_colour(rng, (0.5, 1.0), (0.4, 1.0))
    if sleeve == "long":
        sleeve_angle, sleeve_length = rng.uniform(30, 42), rng.uniform(0.34, 0.40)
    elif sleeve == "short":
        sleeve_angle, sleeve_length = rng.uniform(50, 65), rng.uniform(0.08, 0.12)
    else:
        sleeve_angle, sleeve_length = 0.0, 0.0
    print_kind = ("none", "text", "logo")[rng.choice(3, p=(0.3, 0.4, 0.3))]
    if pattern == "gradient" and print_kind == "none":
        print_kind = "text"  # a bare gradient would carry no high-frequency detail
    if rng.random() < 0.3:
        word = "".join(chr(int(c)) for c in rng.integers(65, 91, size=int(rng.integers(2, 5))))
    else:
        word = WORDS[rng.integers(len(WORDS))]
    return GarmentSpec(
        sleeve=sleeve,
        neckline=NECKLINES[rng.integers(3)],
        length=round(float(rng.uniform(-0.01, 0.09)), 4),
        fit=round(float(rng.uniform(1.0, 1.14)), 4),
        sleeve_angle=round(float(sleeve_angle), 3),
        sleeve_length=round(float(sleeve_length), 4),
        pattern=pattern,
        colours=(c1, c2, c3),
        period=round(float(rng.uniform(0.016, 0.05)), 5),
        angle=float(rng.choice([0.0, 90.0, 45.0, -45.0, float(rng.uniform(-60, 60))])),
        duty=round(float(rng.uniform(0.3, 0.6)), 4),
        print_kind=print_kind,
        print_text=word,
        font=int(rng.integers(len(_FONTS))),
        trim=tuple(bool(b) for b in rng.random(3) < 0.45),
        texture_seed=int(rng.integers(2 ** 31)),
    )


@dataclasses.dataclass
class Garment:
    """A built garment, all coordinates in canvas pixels (x, y).

    Attributes:
        spec: the `GarmentSpec` it was built from.
        image: in-shop image, uint8 (H, W, 3), white outside the garment.
        mask: uint8 (H, W), 255 on the garment, 0 elsewhere.
        texture: uint8 (H, W, 3) texture covering the whole canvas.
        texture_soft: `texture` low-pass filtered, for strongly minifying warps.
        torso_quad: (4, 2) right shoulder seam, left shoulder seam, left hem, right hem.
        torso_polygon: (n, 2) outline of the body of the garment (neckline cut out).
        sleeves: side (`right`/`left`) -> list of (4, 2) quads, outer-top, inner-top,
            inner-end, outer-end; one quad (short) or two (long: upper arm, forearm).
    """

    spec: GarmentSpec
    image: np.ndarray
    mask: np.ndarray
    texture: np.ndarray
    texture_soft: np.ndarray
    torso_quad: np.ndarray
    torso_polygon: np.ndarray
    sleeves: Dict[str, List[np.ndarray]]


def _outline(spec: GarmentSpec):
    """Garment outline in body units around the neck base (x right on the image, y down)."""
    gs = (0.14 if spec.sleeve != "none" else 0.12) * spec.fit  # shoulder seam half width
    hh = 0.105 * spec.fit + 0.01 * (spec.fit - 1.0)
    neck_half, neck_y = 0.052, -0.012
    depth = {"round": 0.045, "crew": 0.022, "v": 0.10}[spec.neckline]
    shoulder_r, shoulder_l = np.array([-gs, 0.022]), np.array([gs, 0.022])
    armpit_y = 0.115 if spec.sleeve != "none" else 0.125
    armpit_r, armpit_l = np.array([-(gs - 0.014), armpit_y]), np.array([gs - 0.014, armpit_y])
    if spec.sleeve == "none":  # sleeveless: cut-in armholes
        armpit_r, armpit_l = np.array([-(gs - 0.03), armpit_y]), np.array([gs - 0.03, armpit_y])
    hem_y = 0.30 + spec.length
    hem_r, hem_l = np.array([-hh, hem_y]), np.array([hh, hem_y])
    if spec.neckline == "v":
        neck = [np.array([-neck_half, neck_y]), np.array([0.0, depth]), np.array([neck_half, neck_y])]
    else:
        t = np.linspace(0.0, math.pi, 11)
        neck = [np.array([-neck_half * math.cos(a), neck_y + (depth - neck_y) * math.sin(a)]) for a in t]
    polygon = [shoulder_r] + neck + [shoulder_l]
    if spec.sleeve == "none":  # a curved armhole from the shoulder seam to the armpit
        for side, sh, ap in ((1, shoulder_l, armpit_l), (-1, shoulder_r, armpit_r)):
            pts = [sh + (ap - sh) * f + np.array([-side * 0.025 * math.sin(math.pi * f), 0.0])
                   for f in np.linspace(0.2, 0.8, 4)]
            if side == 1:
                polygon += pts + [ap, hem_l, hem_r]
            else:
                polygon += [armpit_r] + pts[::-1]
    else:
        polygon += [armpit_l, hem_l, hem_r, armpit_r]
    sleeves = {}
    if spec.sleeve != "none":
        for name, s, top_outer, top_inner in (("right", -1, shoulder_r, armpit_r), ("left", 1, shoulder_l, armpit_l)):
            a = math.radians(spec.sleeve_angle)
            direction = np.array([s * math.sin(a), math.cos(a)])
            mid = (top_outer + top_inner) / 2
            normal = perp(direction)
            if np.dot(normal, top_outer - top_inner) < 0:
                normal = -normal
            half = 0.5 * float(np.linalg.norm(top_outer - top_inner)) * (0.82 if spec.sleeve == "long" else 0.95)
            end = mid + direction * spec.sleeve_length
            quad = [top_outer, top_inner, end - normal * half, end + normal * half]
            if spec.sleeve == "long":
                f = ELBOW_FRACTION
                mo, mi = quad[0] + (quad[3] - quad[0]) * f, quad[1] + (quad[2] - quad[1]) * f
                sleeves[name] = [np.array([quad[0], quad[1], mi, mo]), np.array([mo, mi, quad[2], quad[3]])]
            else:
                sleeves[name] = [np.array(quad)]
    return (np.array([shoulder_r, shoulder_l, hem_l, hem_r]), np.array(polygon), sleeves, np.array(neck))


def _pattern(spec: GarmentSpec, height: int, width: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """The all-over texture, uint8 (H, W, 3) (OpenCV 5 draws text only into 8-bit images).

    Patterns are computed as a map of colour indices (0 = second colour, 1 = main,
    2 = their mix, 3 = accent) and coloured by a lookup table.
    """
    c1, c2, c3 = (np.array(c, np.float64) for c in spec.colours)
    lut = np.zeros((256, 1, 3), np.uint8)
    lut[:4, 0] = np.round([c2, c1, 0.5 * (c1 + c2), c3]).astype(np.uint8)
    x = np.arange(width, dtype=np.float32)
    y = np.arange(height, dtype=np.float32)[:, None]
    period = max(spec.period * scale, 2.5)
    a = math.radians(spec.angle)

    def frac(v):
        return v - np.floor(v)

    if spec.pattern == "glyphs":  # an all-over print of small characters
        out = np.empty((height, width, 3), np.uint8)
        out[:] = lut[0, 0]
        step = max(period * 2.2, 6.0)
        font_scale = max(step / 30.0, 0.2)
        chars = spec.print_text.replace(" ", "") or "X"
        thickness = max(int(round(step / 14)), 1)
        colour = tuple(float(v) for v in lut[1, 0])
        for iy, yy in enumerate(np.arange(step * 0.8, height + step, step)):
            for ix, xx in enumerate(np.arange(-step / 2 * (iy % 2), width + step, step)):
                cv2.putText(out, chars[(ix + iy) % len(chars)], (int(xx), int(yy)), cv2.FONT_HERSHEY_SIMPLEX,
                            font_scale, colour, thickness, cv2.LINE_AA)
        return out
    if spec.pattern == "gradient":
        g = x * math.cos(a + 1.2) + y * math.sin(a + 1.2)
        g = (g - g.min()) / max(float(g.max() - g.min()), 1.0)
        out = (c1[None, None] * (1 - g[..., None]) + c2[None, None] * g[..., None]).astype(np.float32)
        f = frac((x * math.cos(a) + y * math.sin(a)) / period + rng.random())
        pin = (f < max(0.8 / period, 0.08)).view(np.uint8)
        cv2.copyTo(np.broadcast_to(c3.astype(np.float32), out.shape).copy(), pin, out)
        return np.round(out).astype(np.uint8)
    idx = np.zeros((height, width), np.uint8)
    if spec.pattern == "stripes":
        f = frac((x * math.cos(a) + y * math.sin(a)) / period + rng.random())
        idx[f < spec.duty] = 1
        if rng.random() < 0.5:  # a thin accent pinstripe
            idx[(f > spec.duty + 0.15) & (f < spec.duty + 0.15 + max(0.6 / period, 0.06))] = 3
    elif spec.pattern == "checks":
        p2 = period * rng.uniform(0.8, 1.6)
        fx = np.broadcast_to(frac(x / period) < spec.duty, (height, width))
        fy = frac(y / p2) < spec.duty
        idx[fx ^ fy] = 2
        idx[fx & fy] = 1
        if rng.random() < 0.5:  # tartan accent lines
            idx[(frac(x / (3 * period)) < 0.04) | (frac(y / (3 * p2)) < 0.04)] = 3
    elif spec.pattern == "dots":
        sp = period * 1.6
        row = np.floor(y / sp)
        dx = frac((x + (row % 2) * sp / 2) / sp) - 0.5
        dy = frac(y / sp) - 0.5
        r = 0.18 + 0.2 * spec.duty
        idx[dx * dx + dy * dy < r * r] = 1
    else:  # zigzag (chevron stripes)
        zig = np.abs(frac(x / (period * 2)) - 0.5) * period * 1.5
        idx[frac((y + zig) / period) < spec.duty] = 1
    return cv2.LUT(cv2.merge([idx, idx, idx]), lut)


def _draw_print(out: np.ndarray, spec: GarmentSpec, centre, torso_width: float, rng: np.random.Generator):
    colour = tuple(float(v) for v in spec.colours[2])
    font = _FONTS[spec.font]
    if spec.print_kind == "text":
        (tw, th), _ = cv2.getTextSize(spec.print_text, font, 1.0, 2)
        fs = 0.55 * torso_width / max(tw, 1)
        thick = max(int(round(fs * 2.2)), 1)
        (tw, th), _ = cv2.getTextSize(spec.print_text, font, fs, thick)
        org = (int(round(centre[0] - tw / 2)), int(round(centre[1] + th / 2)))
        cv2.putText(out, spec.print_text, org, font, fs, tuple(255.0 - v for v in colour), thick + 2, cv2.LINE_AA)
        cv2.putText(out, spec.print_text, org, font, fs, colour, thick, cv2.LINE_AA)
    elif spec.print_kind == "logo":
        r = 0.16 * torso_width
        c = (int(round(centre[0])), int(round(centre[1] - 0.3 * r)))
        cv2.circle(out, c, int(round(r)), colour, -1, cv2.LINE_AA)
        inner = tuple(float(v) for v in spec.colours[1 if rng.random() < 0.5 else 0])
        k = int(rng.integers(3, 7))
        star = rng.random() < 0.5
        pts = []
        for i in range(2 * k if star else k):
            rad = r * (0.75 if (i % 2 == 0 or not star) else 0.35)
            ang = -math.pi / 2 + i * math.pi / (k if star else k / 2)
            pts.append((c[0] + rad * math.cos(ang), c[1] + rad * math.sin(ang)))
        cv2.fillPoly(out, [np.round(np.array(pts) * 16).astype(np.int32)], inner, cv2.LINE_AA, 4)
        text = spec.print_text[:4]
        (tw, th), _ = cv2.getTextSize(text, font, 1.0, 1)
        fs = 1.6 * r / max(tw, 1)
        thick = max(int(round(fs * 1.5)), 1)
        (tw, th), _ = cv2.getTextSize(text, font, fs, thick)
        cv2.putText(out, text, (int(round(centre[0] - tw / 2)), int(round(c[1] + r * 1.25 + th))), font, fs,
                    colour, thick, cv2.LINE_AA)


def build_garment(spec: GarmentSpec, height: int, width: int) -> Garment:
    """Renders the in-shop garment of `spec` on a `height` x `width` canvas.

    Args:
        spec: the garment description.
        height: canvas height (the person image height).
        width: canvas width.
    Returns:
        A `Garment`.
    """
    rng = np.random.default_rng(spec.texture_seed)
    torso_quad, polygon, sleeves, neck = _outline(spec)
    everything = np.concatenate([polygon] + [q for qs in sleeves.values() for q in qs])
    lo, hi = everything.min(0), everything.max(0)
    scale = min(0.9 * width / (hi[0] - lo[0]), 0.9 * height / (hi[1] - lo[1]))
    offset = np.array([width / 2.0, height / 2.0]) - scale * (lo + hi) / 2

    def to_canvas(p):
        return np.asarray(p, np.float64) * scale + offset

    torso_quad, polygon, neck = to_canvas(torso_quad), to_canvas(polygon), to_canvas(neck)
    sleeves = {k: [to_canvas(q) for q in v] for k, v in sleeves.items()}

    texture = _pattern(spec, height, width, scale, rng)
    torso_width = float(np.linalg.norm(torso_quad[1] - torso_quad[0]))
    chest = to_canvas([0.0, 0.12 + (0.04 if spec.neckline == "v" else 0.0)])
    if spec.print_kind != "none":
        _draw_print(texture, spec, chest, torso_width, rng)
    trim_colour = tuple(float(v) for v in spec.colours[2])
    band = max(0.018 * scale, 1.0)
    collar, hem, cuffs = spec.trim
    if collar:
        cv2.polylines(texture, [np.round(neck * 16).astype(np.int32)], False, trim_colour,
                      max(int(round(band)), 1), cv2.LINE_AA, 4)
    if hem:
        cv2.line(texture, tuple(int(v) for v in np.round(torso_quad[3] * 16)),
                 tuple(int(v) for v in np.round(torso_quad[2] * 16)), trim_colour,
                 max(int(round(2 * band)), 1), cv2.LINE_AA, 4)
    if cuffs:
        for quads in sleeves.values():
            q = quads[-1]
            cv2.line(texture, tuple(int(v) for v in np.round(q[2] * 16)), tuple(int(v) for v in np.round(q[3] * 16)),
                     trim_colour, max(int(round(2 * band)), 1), cv2.LINE_AA, 4)

    mask = np.zeros((height, width), np.uint8)
    fixed = [np.round(polygon * 16).astype(np.int32)]
    fixed += [np.round(q * 16).astype(np.int32) for qs in sleeves.values() for q in qs]
    for pts in fixed:
        cv2.fillPoly(mask, [pts], 255, cv2.LINE_8, 4)
    image = np.full_like(texture, 255)
    cv2.copyTo(texture, (mask > 0).view(np.uint8), image)
    soft = cv2.GaussianBlur(texture, (3, 3), 0.8)
    return Garment(spec=spec, image=image, mask=mask, texture=texture, texture_soft=soft,
                   torso_quad=torso_quad, torso_polygon=polygon, sleeves=sleeves)
