"""Files of the VITON-HD layout for SynthMPV renderings (`tfvton synth --layout viton-hd`).

Same renders as the MPV layout; only the files differ, written the way the public VITON-HD
release (`zalando-hd-resized`) holds them:

    train_pairs.txt, test_pairs.txt              `person cloth` per line, space separated
    <train|test>/image/<stem>.jpg                person photos
    <train|test>/cloth/<stem>.jpg                the garment the person wears (one file per person)
    <train|test>/cloth-mask/<stem>.jpg           its mask, a grey JPEG (edges noisy, as in VITON-HD)
    <train|test>/image-parse-v3/<stem>.png       palette ('P') PNG: index = CIHP id, CIHP colours
    <train|test>/openpose_json/<stem>_keypoints.json   OpenPose BODY_25

Stems are `<identity:05d>_<pose:02d>` (`00003_01` is identity 3's second pose), like VITON-HD's
`00000_00`. `train_pairs.txt` is paired (each person with its own garment), `test_pairs.txt`
unpaired (each test person with the garment of the next test person), as in the release.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

from tfvton.data.synth.labels import CIHP_COLOURS
from tfvton.data.synth.writer import JPEG_OPTIONS, PNG_OPTIONS, openpose_json

SUBDIRS = ("image", "cloth", "cloth-mask", "image-parse-v3", "openpose_json")
# OpenPose BODY_25 joint of each COCO-18 joint (OpenPose `doc/02_output.md`): COCO-18 with MidHip
# inserted at 8 and six foot joints appended (19-24).
_BODY25_OF_COCO18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
_MID_HIP, _R_HIP, _L_HIP = 8, 8, 11  # BODY_25 MidHip; COCO-18 hips
# The CIHP colours for ids 0-19, black for the unused indices: a viewer shows the usual colours.
PALETTE = np.concatenate([CIHP_COLOURS, np.zeros((256 - len(CIHP_COLOURS), 3), np.uint8)]).ravel().tolist()


def person_stem(index: int, k: int) -> str:
    return f"{index:05d}_{k - 1:02d}"


def coco18_to_body25(keypoints: np.ndarray) -> np.ndarray:
    """COCO-18 (18, 3) -> what OpenPose's default BODY_25 model writes (25, 3).

    MidHip is the hips' midpoint when both are seen (confidence the lower one); the foot
    joints, which the renders do not have, are unseen (0, 0, 0), as OpenPose writes them.
    """
    points = np.asarray(keypoints, np.float64)
    out = np.zeros((25, 3), np.float64)
    out[list(_BODY25_OF_COCO18)] = points
    r_hip, l_hip = points[_R_HIP], points[_L_HIP]
    if r_hip[2] > 0 and l_hip[2] > 0:
        out[_MID_HIP] = [(r_hip[0] + l_hip[0]) / 2, (r_hip[1] + l_hip[1]) / 2, min(r_hip[2], l_hip[2])]
    return out


def make_dirs(root: Path, split: str) -> None:
    for sub in SUBDIRS:
        (root / split / sub).mkdir(parents=True, exist_ok=True)


def palette_png(parsing: np.ndarray) -> Image.Image:
    """CIHP ids (H, W) -> a 'P' image whose indices are the ids (the VITON-HD encoding)."""
    image = Image.fromarray(np.asarray(parsing, np.uint8), "P")
    image.putpalette(PALETTE)
    return image


def write_identity(root: Path, split: str, index: int, garment, renders) -> List[Dict]:
    """Writes every pose of one identity (and, per pose, its garment); returns the person records."""
    folder = root / split
    persons = []
    for k, (pose, r) in enumerate(renders, start=1):
        stem = person_stem(index, k)
        Image.fromarray(r.image, "RGB").save(folder / "image" / f"{stem}.jpg", **JPEG_OPTIONS)
        palette_png(r.parsing).save(folder / "image-parse-v3" / f"{stem}.png", **PNG_OPTIONS)
        (folder / "openpose_json" / f"{stem}_keypoints.json").write_text(openpose_json(coco18_to_body25(r.keypoints)))
        Image.fromarray(garment.image, "RGB").save(folder / "cloth" / f"{stem}.jpg", **JPEG_OPTIONS)
        Image.fromarray(garment.mask, "L").save(folder / "cloth-mask" / f"{stem}.jpg", **JPEG_OPTIONS)
        persons.append({"image": f"{stem}.jpg", "pose": f"{stem}_keypoints.json", "crop": pose.crop,
                        "arms": list(pose.arms), "crossing": pose.crossing})
    return persons


def write_lists(root: Path, records: Sequence[Dict]) -> Dict[str, int]:
    train = [p["image"] for r in records if r["split"] == "train" for p in r["persons"]]
    test = [p["image"] for r in records if r["split"] == "test" for p in r["persons"]]
    # Unpaired: the garment of the first person of the next test identity (cyclic).
    test_records = [r for r in records if r["split"] == "test"]
    cloth_of = {}
    for i, rec in enumerate(test_records):
        other = test_records[(i + 1) % len(test_records)]["persons"][0]["image"]
        for p in rec["persons"]:
            cloth_of[p["image"]] = other
    (root / "train_pairs.txt").write_text("".join(f"{p} {p}\n" for p in train))
    (root / "test_pairs.txt").write_text("".join(f"{p} {cloth_of[p]}\n" for p in test))
    return {"train_pairs": len(train), "test_pairs": len(test), "demo": len(test)}


README = """# SynthMPV in the VITON-HD layout

Procedural try-on data written by `tfvton synth --layout viton-hd` ({generator} version {version})
in the folder layout of the public VITON-HD release, so the VITON-HD reader is tested without it.

    tfvton synth --layout viton-hd --out DIR --identities {identities} --poses-per-identity {poses} --size {height}x{width} --seed {seed}

- `train/`, `test/`: `image/` ({height}x{width} JPEG), `cloth/` + `cloth-mask/` (JPEG, one per person),
  `image-parse-v3/` (palette PNGs, index = CIHP id), `openpose_json/` (OpenPose BODY_25).
- `train_pairs.txt`: {train_pairs} paired lines; `test_pairs.txt`: {test_pairs} unpaired lines
  (test identities are unseen in train).
- `synthmpv.json`: generator version, seed, and the attributes of every identity.
"""


def write_metadata(root: Path, meta: Dict) -> None:
    (root / "synthmpv.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    (root / "README.md").write_text(README.format(**meta, **meta["counts"]))
