"""Identities: body proportions, skin, hair, face, trousers, shoes and one garment."""
from __future__ import annotations

import dataclasses
from typing import Dict, Tuple

import numpy as np

from tfvton.data.synth import palette
from tfvton.data.synth.garment import GarmentSpec, sample_garment

HAIR_STYLES = ("short", "buzz", "bob", "long", "bun")
PANTS_LENGTHS = ("long", "capri", "shorts")

Colour = Tuple[int, int, int]


@dataclasses.dataclass(frozen=True)
class BodyShape:
    """Proportions in body units (about 1.0 from the top of the head to the soles).

    Half widths (`*_r`) are radii of the limb outlines; lengths are joint to joint.
    """

    shoulder_half: float
    hip_half: float
    torso_len: float
    neck_len: float
    neck_r: float
    head_rx: float
    head_ry: float
    upper_arm: float
    forearm: float
    arm_r: float
    forearm_r: float
    wrist_r: float
    hand_len: float
    thigh: float
    shin: float
    thigh_r: float
    knee_r: float
    ankle_r: float
    foot_len: float


def sample_body(rng: np.random.Generator) -> BodyShape:
    u = rng.uniform
    build = u(0.92, 1.12)  # slim .. broad
    head_ry = u(0.058, 0.066)
    return BodyShape(
        shoulder_half=u(0.105, 0.118) * build ** 0.5, hip_half=u(0.072, 0.088) * build ** 0.5,
        torso_len=u(0.285, 0.31), neck_len=u(0.035, 0.05), neck_r=u(0.026, 0.034) * build ** 0.5,
        head_rx=head_ry * u(0.72, 0.82), head_ry=head_ry,
        upper_arm=u(0.16, 0.178), forearm=u(0.14, 0.155), arm_r=u(0.022, 0.027) * build,
        forearm_r=u(0.018, 0.022) * build, wrist_r=u(0.013, 0.016) * build, hand_len=u(0.05, 0.06),
        thigh=u(0.225, 0.245), shin=u(0.215, 0.235), thigh_r=u(0.038, 0.046) * build,
        knee_r=u(0.027, 0.032) * build, ankle_r=u(0.017, 0.021) * build, foot_len=u(0.05, 0.06),
    )


@dataclasses.dataclass(frozen=True)
class Identity:
    """One synthetic person: the same in every pose.

    Attributes:
        index: position in the dataset (also the seed stream).
        name: file-name prefix, e.g. `SYN000042`.
        body: proportions.
        skin: skin RGB.
        hair: hair RGB.
        hair_style: one of `HAIR_STYLES`.
        eye: iris RGB.
        lips: lip RGB.
        brow: eyebrow thickness factor.
        pants: trouser RGB.
        pants_length: one of `PANTS_LENGTHS`.
        shoes: shoe RGB.
        garment: the upper garment.
    """

    index: int
    name: str
    body: BodyShape
    skin: Colour
    hair: Colour
    hair_style: str
    eye: Colour
    lips: Colour
    brow: float
    pants: Colour
    pants_length: str
    shoes: Colour
    garment: GarmentSpec

    def summary(self) -> Dict:
        """The attributes worth recording in the dataset metadata."""
        g = self.garment
        return {"hair_style": self.hair_style, "pants_length": self.pants_length, "sleeve": g.sleeve,
                "neckline": g.neckline, "pattern": g.pattern, "print": g.print_kind}


def identity_name(index: int) -> str:
    return f"SYN{index:06d}"


def sample_identity(index: int, rng: np.random.Generator) -> Identity:
    """Draws identity `index` from its own random stream `rng`."""
    skin = palette.skin_tone(rng)
    lips = tuple(int(round(c)) for c in np.clip(np.array(skin) * [0.82, 0.55, 0.55] + [20, 0, 0], 0, 255))
    return Identity(
        index=index,
        name=identity_name(index),
        body=sample_body(rng),
        skin=skin,
        hair=palette.hair_colour(rng),
        hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
        eye=palette.random_colour(rng, (0.3, 0.8), (0.15, 0.5)),
        lips=lips,
        brow=float(rng.uniform(0.8, 1.4)),
        pants=palette.random_colour(rng, (0.1, 0.7), (0.12, 0.75)),
        pants_length=PANTS_LENGTHS[rng.choice(3, p=(0.6, 0.15, 0.25))],
        shoes=palette.random_colour(rng, (0.0, 0.6), (0.05, 0.95)),
        garment=sample_garment(rng),
    )
