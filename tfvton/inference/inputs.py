"""Raw try-on inputs from single files (`tfvton tryon --person ... --cloth ...`).

Each file is read and checked on its own, and every problem raises
`tfvton.data.DataError` naming the file and what was expected: a missing
file, an unreadable or truncated image, a parsing that is not a label map
(an RGB `_vis.png` given by mistake) or holds ids outside 0-19, a pose JSON
without a person or with another number of joints than OpenPose COCO-18.

A missing cloth mask is computed with GrabCut (`tfvton.data.cloth_mask`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from tfvton.data.mpv import DataError, load_keypoints

PathLike = Union[str, Path]

__all__ = ["read_photo", "read_parsing", "read_mask", "read_single"]


def _open_full(path: PathLike, what: str):
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"missing file ({what})")
    try:
        image = Image.open(path)
        image.load()  # decode now: a truncated JPEG only fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(path, f"unreadable or corrupt {what} ({e})") from None
    return image


def read_photo(path: PathLike, what: str = "photo") -> np.ndarray:
    """An RGB photo as uint8 (H, W, 3)."""
    with _open_full(path, what) as image:
        return np.asarray(image.convert("RGB"), np.uint8)


def read_parsing(path: PathLike) -> np.ndarray:
    """A CIHP label map (8-bit grey or palette PNG) as uint8 (H, W) ids 0-19.

    A palette PNG's indices are the label ids (the official code reads
    `np.array(Image.open(path))`, which gives the indices).
    """
    with _open_full(path, "CIHP parsing") as image:
        if image.mode not in ("L", "P"):
            raise DataError(path, f"expected a CIHP label map (8-bit grey or palette PNG with ids 0-19), got "
                                  f"mode {image.mode} (is this the colour rendering `*_vis.png`?)")
        labels = np.asarray(image, np.uint8)
    if labels.size and int(labels.max()) > 19:
        bad = sorted(int(v) for v in np.unique(labels[labels > 19]))[:8]
        raise DataError(path, f"parsing labels outside 0-19: found {bad}")
    return labels


def read_mask(path: PathLike) -> np.ndarray:
    """A garment mask as uint8 (H, W, 1): 255 = garment (as the MPV `cloth_mask` files)."""
    with _open_full(path, "cloth mask") as image:
        if image.mode not in ("L", "1", "P"):
            raise DataError(path, f"expected a grey cloth mask PNG (0/255), got mode {image.mode}")
        mask = np.asarray(image.convert("L"), np.uint8)
    return mask[..., None]


def read_single(person: PathLike, parsing: PathLike, pose: PathLike, target_pose: PathLike, cloth: PathLike,
                cloth_mask: Optional[PathLike] = None, mask_out: Optional[PathLike] = None) -> Dict[str, np.ndarray]:
    """Reads the raw inputs of one try-on from single files.

    Args:
        person: the person photo (JPEG / PNG).
        parsing: its CIHP label map (PNG, ids 0-19; same size as the photo).
        pose: its OpenPose COCO-18 JSON (`people[0].pose_keypoints_2d`).
        target_pose: the target pose JSON, in pixels of the person photo's frame.
        cloth: the in-shop garment photo.
        cloth_mask: its mask (PNG 0/255); computed with GrabCut when None.
        mask_out: where to write a computed mask (optional).
    Returns:
        the raw dict of `tfvton.data.transforms.preprocess` (numpy).
    Raises:
        DataError: naming the file at fault.
    """
    raw = {
        "person_image": read_photo(person, "person photo"),
        "person_parsing": read_parsing(parsing),
        "source_pose_keypoints": load_keypoints(pose),
        "target_pose_keypoints": load_keypoints(target_pose),
        "cloth_image": read_photo(cloth, "cloth photo"),
    }
    if raw["person_parsing"].shape != raw["person_image"].shape[:2]:
        raise DataError(parsing, f"parsing is {raw['person_parsing'].shape[1]}x{raw['person_parsing'].shape[0]}, "
                                 f"expected the person photo's size {raw['person_image'].shape[1]}x"
                                 f"{raw['person_image'].shape[0]} ({person})")
    if cloth_mask is not None:
        raw["cloth_mask"] = read_mask(cloth_mask)
        if raw["cloth_mask"].shape[:2] != raw["cloth_image"].shape[:2]:
            raise DataError(cloth_mask, f"mask is {raw['cloth_mask'].shape[1]}x{raw['cloth_mask'].shape[0]}, "
                                        f"expected the cloth photo's size {raw['cloth_image'].shape[1]}x"
                                        f"{raw['cloth_image'].shape[0]} ({cloth})")
    else:
        from tfvton.data.cloth_mask import compute_cloth_mask

        mask = compute_cloth_mask(raw["cloth_image"])
        if mask_out is not None:
            from PIL import Image

            Path(mask_out).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask).save(mask_out, format="PNG")
        raw["cloth_mask"] = mask[..., None]
    return raw
