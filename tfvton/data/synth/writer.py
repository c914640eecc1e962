"""Files of the MPV layout: names, encoders, pair lists, metadata.

Layout (flat, as in the official release and `../shared/data/mpv_samples`):

    images/<person>.jpg                    person photos (JPEG)
    parse_cihp/<person>.png                CIHP label ids, 8-bit 'L' PNG
    parse_cihp/<person>_vis.png            the same in the official CIHP colour map
    pose_coco/<person>_keypoints.json      OpenPose COCO-18 ({"version":1.3,"people":[...]})
    cloth_image/<cloth>.jpg                in-shop garment, front view on white
    cloth_mask/<cloth>_mask.png            garment mask, 0/255 'L' PNG
    data_pair.txt                          source \t target \t cloth \t train|test
    demo.txt                               person \t target pose JSON \t cloth \t test

Person stems are `SYN000042@1=person_half_front` (identity before the `@`, pose
index after it, framing in the name like MPV's `person_half_front` /
`person_whole_front`); cloth stems are `SYN000042@0=cloth_front`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

from tfvton.data.synth.labels import colourize

SUBDIRS = ("images", "parse_cihp", "pose_coco", "cloth_image", "cloth_mask")
# Fixed encoder settings: byte-identical files for a seed. 4:2:0 chroma like the MPV JPEGs.
JPEG_OPTIONS = {"format": "JPEG", "quality": 95, "subsampling": 2, "optimize": False, "progressive": False}
PNG_OPTIONS = {"format": "PNG", "compress_level": 6, "optimize": False}


def person_stem(identity_name: str, k: int, crop: str) -> str:
    return f"{identity_name}@{k}=person_{crop}_front"


def cloth_stem(identity_name: str) -> str:
    return f"{identity_name}@0=cloth_front"


def identity_of(file_name: str) -> str:
    """The identity a person or cloth file name belongs to (`SYN000042@1=...` -> `SYN000042`)."""
    return Path(file_name).name.split("@", 1)[0]


def make_dirs(root: Path) -> None:
    for sub in SUBDIRS:
        (root / sub).mkdir(parents=True, exist_ok=True)


def openpose_json(keypoints: np.ndarray) -> str:
    """OpenPose 1.3 JSON with one person; missing joints are written as 0,0,0 like OpenPose."""
    flat: List = []
    for x, y, c in np.asarray(keypoints, np.float64):
        if c > 0:
            flat += [round(float(x), 3), round(float(y), 3), round(float(c), 6)]
        else:
            flat += [0, 0, 0]
    person = {"person_id": [-1], "pose_keypoints_2d": flat, "face_keypoints_2d": [], "hand_left_keypoints_2d": [],
              "hand_right_keypoints_2d": [], "pose_keypoints_3d": [], "face_keypoints_3d": [],
              "hand_left_keypoints_3d": [], "hand_right_keypoints_3d": []}
    return json.dumps({"version": 1.3, "people": [person]}, separators=(",", ":"))


def write_person(root: Path, stem: str, image: np.ndarray, parsing: np.ndarray, keypoints: np.ndarray,
                 vis: bool = True) -> None:
    Image.fromarray(image, "RGB").save(root / "images" / f"{stem}.jpg", **JPEG_OPTIONS)
    Image.fromarray(parsing, "L").save(root / "parse_cihp" / f"{stem}.png", **PNG_OPTIONS)
    if vis:
        Image.fromarray(colourize(parsing), "RGB").save(root / "parse_cihp" / f"{stem}_vis.png", **PNG_OPTIONS)
    (root / "pose_coco" / f"{stem}_keypoints.json").write_text(openpose_json(keypoints))


def write_cloth(root: Path, stem: str, image: np.ndarray, mask: np.ndarray) -> None:
    Image.fromarray(image, "RGB").save(root / "cloth_image" / f"{stem}.jpg", **JPEG_OPTIONS)
    Image.fromarray(mask, "L").save(root / "cloth_mask" / f"{stem}_mask.png", **PNG_OPTIONS)


def pair_lines(records: Sequence[Dict]) -> List[str]:
    """`data_pair.txt`: every ordered pair of distinct poses of one identity, wearing its own garment."""
    lines = []
    for rec in records:
        images = [p["image"] for p in rec["persons"]]
        for a in images:
            for b in images:
                if a != b:
                    lines.append(f"{a}\t{b}\t{rec['cloth']}\t{rec['split']}")
    return lines


def demo_lines(records: Sequence[Dict]) -> List[str]:
    """`demo.txt`: one cross-garment triplet per test identity.

    The person's first pose, the pose JSON of another identity (the next test
    identity, as the real `demo.txt` takes poses from other people) and the
    garment of yet another identity when there is one.
    """
    tests = [r for r in records if r["split"] == "test"]
    lines = []
    for p, rec in enumerate(tests):
        others = tests[p + 1:] + tests[:p] or [r for r in records if r is not rec]
        pose_from, cloth_from = others[0], others[1 % len(others)]
        target = pose_from["persons"][-1]["pose"]
        lines.append(f"{rec['persons'][0]['image']}\t{target}\t{cloth_from['cloth']}\ttest")
    return lines


def write_lists(root: Path, records: Sequence[Dict]) -> Dict[str, int]:
    pairs = pair_lines(records)
    demo = demo_lines(records)
    (root / "data_pair.txt").write_text("".join(line + "\n" for line in pairs))
    (root / "demo.txt").write_text("".join(line + "\n" for line in demo))
    return {"train_pairs": sum(line.endswith("\ttrain") for line in pairs),
            "test_pairs": sum(line.endswith("\ttest") for line in pairs), "demo": len(demo)}


README = """# SynthMPV

Procedural multi-pose try-on data in the layout of MPV (the official release of
*Down to the Last Detail*), written by `tfvton synth` ({generator} version {version}).

    tfvton synth --out DIR --identities {identities} --poses-per-identity {poses} --size {height}x{width} --seed {seed}

- `images/<person>.jpg`: {persons} person renderings ({height}x{width}, JPEG quality 95).
- `parse_cihp/<person>.png`: exact CIHP labels of the render (0 background, 2 hair, 5 upper clothes,
  9 pants, 10 neck/torso skin, 13 face, 14/15 left/right arm, 16/17 left/right leg,
  18/19 left/right shoe; left/right are the person's own, like the OpenPose keypoints);
  `_vis.png` is the official CIHP colour map.
- `pose_coco/<person>_keypoints.json`: OpenPose COCO-18 keypoints, missing joints 0,0,0.
- `cloth_image/<cloth>.jpg`, `cloth_mask/<cloth>_mask.png`: one in-shop garment per identity.
- `data_pair.txt`: source, target, cloth, split; pairs of two poses of one identity in its own
  garment; {train_pairs} train pairs, {test_pairs} test pairs (test identities are unseen in train).
- `demo.txt`: person, target pose JSON, cloth, `test`; {demo} cross-garment triplets.
- `synthmpv.json`: generator version, seed, and the attributes of every identity.

Identity of a file: the part of its name before `@`. Regenerating with the same arguments
gives byte-identical files.
"""


def write_metadata(root: Path, meta: Dict) -> None:
    (root / "synthmpv.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    (root / "README.md").write_text(README.format(**meta, **meta["counts"]))
