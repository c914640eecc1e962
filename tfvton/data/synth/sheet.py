"""A contact sheet of a SynthMPV dataset: garment, then each pose with its parsing and skeleton."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence, Union

import cv2
import numpy as np
from PIL import Image

from tfvton.data.synth.labels import CIHP_COLOURS, LIMBS

# OpenPose limb colours (the official `pose_utils.COLORS`), one per limb.
_LIMB_COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
                 (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
                 (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170))


def draw_skeleton(image: np.ndarray, keypoints: np.ndarray, thickness: int = 2) -> np.ndarray:
    """Draws the OpenPose limbs whose two ends are present onto a copy of `image`."""
    out = image.copy()
    kp = np.asarray(keypoints, np.float64).reshape(-1, 3)
    for (a, b), colour in zip(LIMBS, _LIMB_COLOURS):
        if kp[a, 2] > 0 and kp[b, 2] > 0:
            cv2.line(out, (int(round(kp[a, 0])), int(round(kp[a, 1]))), (int(round(kp[b, 0])), int(round(kp[b, 1]))),
                     colour, thickness, cv2.LINE_AA)
    for x, y, c in kp:
        if c > 0:
            cv2.circle(out, (int(round(x)), int(round(y))), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return out


def contact_sheet(root: Union[str, Path], names: Optional[Sequence[str]] = None, rows: int = 4,
                  poses: int = 3, scale: float = 1.0) -> np.ndarray:
    """Builds an RGB grid from the files of a SynthMPV dataset.

    Each row is one identity: in-shop garment, then for each pose the person
    image and its parsing (CIHP colours) with the keypoint skeleton on top.

    Args:
        root: dataset root holding `synthmpv.json`.
        names: identities to show (default: the first `rows`).
        rows: number of identities when `names` is not given.
        poses: poses per identity to show.
        scale: tile scale factor.
    Returns:
        uint8 (H, W, 3) image.
    """
    root = Path(root)
    meta = json.loads((root / "synthmpv.json").read_text())
    records = {r["name"]: r for r in meta["records"]}
    names = list(names) if names is not None else [r["name"] for r in meta["records"][:rows]]
    h, w = int(round(meta["height"] * scale)), int(round(meta["width"] * scale))
    gap = 4
    sheet_rows = []
    for name in names:
        rec = records[name]
        tiles = [np.asarray(Image.open(root / "cloth_image" / rec["cloth"]).convert("RGB"))]
        for person in rec["persons"][:poses]:
            stem = Path(person["image"]).stem
            image = np.asarray(Image.open(root / "images" / person["image"]).convert("RGB"))
            parsing = np.asarray(Image.open(root / "parse_cihp" / f"{stem}.png"))
            kp = json.loads((root / "pose_coco" / person["pose"]).read_text())["people"][0]["pose_keypoints_2d"]
            tiles += [image, draw_skeleton(CIHP_COLOURS[parsing], np.array(kp), max(1, meta["width"] // 96))]
        row = []
        for i, tile in enumerate(tiles):
            if scale != 1.0:
                tile = cv2.resize(tile, (w, h), interpolation=cv2.INTER_AREA)
            row.append(tile)
            # A wider gap after the garment and after each (image, parsing) pair.
            if i == 0 or i % 2 == 0:
                row.append(np.full((h, gap * 2, 3), 255, np.uint8))
        sheet_rows.append(np.concatenate(row[:-1], axis=1))
        sheet_rows.append(np.full((gap, sheet_rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(sheet_rows[:-1], axis=0)


def save_contact_sheet(root: Union[str, Path], path: Union[str, Path], **kwargs) -> Path:
    """Writes `contact_sheet(root, **kwargs)` as a palette PNG (small enough for a README)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(contact_sheet(root, **kwargs))
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, format="PNG", optimize=True)
    return path
