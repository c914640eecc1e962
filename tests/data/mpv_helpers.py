"""Writes tiny MPV-layout datasets for the data-layer tests (numpy + PIL, no TF)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import numpy as np
from PIL import Image

H, W = 64, 48  # tiny, but divisible by 16 like the real geometry


def person_labels(seed: int, h: int = H, w: int = W) -> np.ndarray:
    """A blocky CIHP parsing with hair, face, upper clothes, pants and arms."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((h, w), np.uint8)
    top = int(rng.integers(2, 6))
    labels[top:top + h // 8, w // 3:2 * w // 3] = 2  # hair
    labels[top + h // 8:top + h // 4, w // 3 + 2:2 * w // 3 - 2] = 13  # face
    labels[top + h // 4:h // 2 + 6, w // 4:3 * w // 4] = 5  # upper clothes
    labels[top + h // 4:h // 2, w // 4 - 6:w // 4] = 14  # left arm
    labels[h // 2 + 6:h - 2, w // 4 + 2:3 * w // 4 - 2] = 9  # pants
    return labels


def keypoints_json(seed: int, h: int = H, w: int = W) -> Dict:
    rng = np.random.default_rng(seed + 100)
    points = []
    for j in range(18):
        if j in (16, 17):  # ears missing, as OpenPose often reports
            points += [0.0, 0.0, 0.0]
        else:
            points += [float(rng.uniform(3, w - 3)), float(rng.uniform(3, h - 3)), float(rng.uniform(0.3, 1))]
    return {"version": 1.2, "people": [{"person_id": [-1], "pose_keypoints_2d": points}]}


def write_person(root: Path, name: str, seed: int, h: int = H, w: int = W, image_dir: str = "images",
                 parse_dir: str = "parse_cihp", pose_dir: str = "pose_coco") -> None:
    """Writes <image_dir>/<name>.jpg, <parse_dir>/<base>.png and <pose_dir>/<base>_keypoints.json."""
    rng = np.random.default_rng(seed)
    base = Path(name).name
    for d in (root / image_dir / Path(name).parent, root / parse_dir, root / pose_dir):
        d.mkdir(parents=True, exist_ok=True)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(image).save(root / image_dir / f"{name}.jpg", quality=90)
    Image.fromarray(person_labels(seed, h, w)).save(root / parse_dir / f"{base}.png")
    (root / pose_dir / f"{base}_keypoints.json").write_text(json.dumps(keypoints_json(seed, h, w)))


def write_cloth(root: Path, name: str, seed: int, h: int = H, w: int = W, image_dir: str = "cloth_image",
                mask_dir: str = "cloth_mask") -> None:
    rng = np.random.default_rng(seed + 1000)
    (root / image_dir / Path(name).parent).mkdir(parents=True, exist_ok=True)
    (root / mask_dir / Path(name).parent).mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / image_dir / f"{name}.jpg")
    mask = np.zeros((h, w), np.uint8)
    mask[h // 6:5 * h // 6, w // 5:4 * w // 5] = 255
    mask[h // 6, w // 5] = 254  # a grey edge pixel: not cloth for the official `== 255` rule
    Image.fromarray(mask).save(root / mask_dir / f"{name}_mask.png")


def write_flat_dataset(root: Path, persons: int = 6, h: int = H, w: int = W) -> Path:
    """A flat MPV layout (as SynthMPV writes): data_pair.txt (train/test) and demo.txt.

    Pairs i -> i+1 with cloth i; even lines are train, odd lines test.
    """
    names = [f"P{i:02d}-A11@{i}=person_half_front" for i in range(persons)]
    cloths = [f"P{i:02d}-A11@{i}=cloth_front" for i in range(persons)]
    for i, (p, c) in enumerate(zip(names, cloths)):
        write_person(root, p, i, h, w)
        write_cloth(root, c, i, h, w)
    lines = [f"{names[i]}.jpg\t{names[(i + 1) % persons]}.jpg\t{cloths[i]}.jpg\t{'train' if i % 2 == 0 else 'test'}"
             for i in range(persons)]
    (root / "data_pair.txt").write_text("\n".join(lines) + "\n")
    demo = [f"{names[i]}.jpg {names[(i + 2) % persons]}_keypoints.json {cloths[i]}.jpg test" for i in range(persons)]
    (root / "demo.txt").write_text("\n".join(demo) + "\n")  # space separated on purpose
    return root


def write_official_dataset(root: Path, persons: int = 4, h: int = H, w: int = W) -> List[str]:
    """The official RegularDataset tree: images/<split>/<sub>/<name>.jpg, cloth photos among them,
    cloth_mask/<split>/<sub>/, but parse_cihp/<split>/<base>.png and pose_coco/<split>/<base>_keypoints.json.
    The test split lives in `val` folders, as in the official code."""
    lines = []
    for i in range(persons):
        split, folder = ("train", "train") if i < persons // 2 else ("test", "val")
        sub = f"S{i:02d}"
        src, tgt = f"{sub}/{sub}-1=person_half_front", f"{sub}/{sub}-2=person_whole_front"
        cloth = f"{sub}/{sub}-3=cloth_front"
        write_person(root, src, 10 * i, h, w, f"images/{folder}", f"parse_cihp/{folder}", f"pose_coco/{folder}")
        write_person(root, tgt, 10 * i + 1, h, w, f"images/{folder}", f"parse_cihp/{folder}", f"pose_coco/{folder}")
        write_cloth(root, cloth, i, h, w, f"images/{folder}", f"cloth_mask/{folder}")
        lines.append(f"{src}.jpg\t{tgt}.jpg\t{cloth}.jpg\t{split}")
    (root / "data_pair.txt").write_text("\n".join(lines) + "\n")
    return lines
