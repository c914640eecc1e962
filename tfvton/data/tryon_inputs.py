"""The raw inputs of one try-on, from single files or arrays (`tfvton tryon`, `tfvton client`).

Both commands build their inputs here, so they accept exactly the same files:
each one is read by `tfvton.data.raw_io` (one contract, docs/inputs.md), the
parsing must have the person photo's size and the mask the cloth photo's, and a
missing cloth mask is computed with GrabCut (`tfvton.data.cloth_mask`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import numpy as np
from PIL import Image

from tfvton.data import raw_io
from tfvton.data.cloth_mask import mask_for_cloth
from tfvton.data.labels import NUM_KEYPOINTS

__all__ = ["read_single"]


def _name(source, what: str):
    return what if isinstance(source, np.ndarray) else source


def read_single(person: raw_io.Source, parsing: raw_io.Source, pose: Optional[raw_io.Source],
                target_pose: raw_io.Source, cloth: raw_io.Source, cloth_mask: Optional[raw_io.Source] = None,
                mask_out=None, *, parsing_format: str = "auto", pose_format: str = "auto",
                limits: raw_io.InputLimits = raw_io.DEFAULT_LIMITS, log: raw_io.Log = None) -> Dict[str, np.ndarray]:
    """Reads and checks the raw inputs of one try-on.

    Args:
        person: the person photo (path or array).
        parsing: its human parsing (CIHP / LIP / ATR ids or a colour rendering; the photo's size).
        pose: its keypoints (any `raw_io.POSE_FORMATS` layout), or None: the
            forward pass never reads the source pose at inference, zeros stand in.
        target_pose: the target keypoints, in pixels of the person photo's frame.
        cloth: the in-shop garment photo.
        cloth_mask: its mask (0/255, 0/1 or bool; the cloth photo's size); computed with GrabCut when None.
        mask_out: where to write a computed mask (optional).
        parsing_format: `raw_io.PARSING_FORMATS` (`auto` says what it detected through `log`).
        pose_format: `raw_io.POSE_FORMATS`, for both poses.
        limits: the contract's numbers.
        log: receives the auto-detection notes (default: `raw_io`'s logger).

    Returns:
        the raw dict of `tfvton.data.transforms.preprocess` (numpy).

    Raises:
        DataError: naming the file at fault.
    """
    person_image = raw_io.read_photo(person, "person photo", limits)
    labels = raw_io.read_parsing(parsing, "person parsing", parsing_format, limits, log)
    raw_io.check_same_size(labels, person_image, _name(parsing, "person parsing"), "person parsing",
                           _name(person, "person photo"), "person photo")
    frame = person_image.shape[:2]
    raw = {
        "person_image": person_image,
        "person_parsing": labels,
        "source_pose_keypoints": np.zeros((NUM_KEYPOINTS, 3), np.float32) if pose is None else
        raw_io.read_keypoints(pose, "pose", pose_format, frame, limits, log),
        "target_pose_keypoints": raw_io.read_keypoints(target_pose, "target pose", pose_format, frame, limits, log),
        "cloth_image": raw_io.read_photo(cloth, "cloth photo", limits),
    }
    if cloth_mask is not None:
        raw["cloth_mask"] = raw_io.read_mask(cloth_mask, "cloth mask", limits)
        raw_io.check_same_size(raw["cloth_mask"], raw["cloth_image"], _name(cloth_mask, "cloth mask"),
                               "cloth mask", _name(cloth, "cloth photo"), "cloth photo")
    else:
        mask = mask_for_cloth(raw["cloth_image"], _name(cloth, "cloth photo"), limits=limits)
        if mask_out is not None:
            Path(mask_out).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask).save(mask_out, format="PNG")
        raw["cloth_mask"] = mask[..., None]
    return raw
