"""Colour sampling shared by the identity, garment and background samplers."""
from __future__ import annotations

import colorsys

import numpy as np

# Skin tones from light to dark (RGB); an identity interpolates between neighbours.
SKIN_TONES = np.array([(255, 224, 196), (241, 194, 160), (224, 172, 130), (198, 134, 92),
                       (160, 102, 66), (120, 74, 46), (88, 54, 36)], np.float64)
HAIR_COLOURS = np.array([(20, 16, 14), (48, 32, 22), (92, 60, 34), (150, 104, 56), (206, 170, 104),
                         (150, 58, 30), (130, 128, 124), (200, 196, 190)], np.float64)


def hsv(h: float, s: float, v: float) -> tuple:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def random_colour(rng: np.random.Generator, s_range=(0.2, 0.9), v_range=(0.25, 0.95)) -> tuple:
    return hsv(rng.random(), rng.uniform(*s_range), rng.uniform(*v_range))


def luminance(colour) -> float:
    r, g, b = colour
    return 0.299 * r + 0.587 * g + 0.114 * b


def contrasting_pair(rng: np.random.Generator) -> tuple:
    """Two colours whose luminance differs by at least 70 (of 255), so a pattern reads at a glance."""
    h = rng.random()
    v1 = rng.uniform(0.15, 0.95)
    c1 = hsv(h, rng.uniform(0.2, 0.95), v1)
    h2 = h + rng.choice([0.0, 0.08, 0.5, rng.random()])
    s2 = rng.uniform(0.0, 0.9)
    # HSV value is not brightness (saturated blue is dark): go darker from a bright first colour,
    # brighter (and paler) from a dark one, until the luminance differs enough.
    darker = luminance(c1) >= 110
    v2 = max(v1 - 0.45, 0.0) if darker else min(v1 + 0.45, 1.0)
    c2 = hsv(h2, s2, v2)
    while abs(luminance(c1) - luminance(c2)) < 70:
        if darker:
            v2 = max(v2 - 0.1, 0.0)
        else:
            v2, s2 = min(v2 + 0.1, 1.0), s2 * 0.8
        c2 = hsv(h2, s2, v2)
    return c1, c2


def skin_tone(rng: np.random.Generator) -> tuple:
    t = rng.uniform(0, len(SKIN_TONES) - 1)
    i = min(int(t), len(SKIN_TONES) - 2)
    c = SKIN_TONES[i] * (1 - (t - i)) + SKIN_TONES[i + 1] * (t - i)
    return tuple(int(round(x)) for x in np.clip(c + rng.normal(0, 4, 3), 0, 255))


def hair_colour(rng: np.random.Generator) -> tuple:
    c = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]
    return tuple(int(round(x)) for x in np.clip(c * rng.uniform(0.85, 1.15) + rng.normal(0, 5, 3), 0, 255))
