"""Pose inputs of `tfvton tryon` that may come from photos instead of OpenPose JSON files.

`--pose` may be omitted (the person photo's pose is computed) and
`--target-pose` may be a photo of someone in the wanted pose (its pose is
computed and mapped into the person's frame). Computed poses are written as
OpenPose JSON next to the outputs, so the run can be repeated or inspected,
and the try-on reads them like any other pose file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Tuple, Union

from PIL import Image

from tfvton.data import DataError
from tfvton.data.mpv import load_keypoints
from tfvton.pose.estimate import keypoints_from_photo
from tfvton.pose.openpose_json import write_openpose_json
from tfvton.pose.transfer import map_pose_into_frame, torso_alignment

__all__ = ["PHOTO_SUFFIXES", "is_photo", "resolve_poses"]

PathLike = Union[str, os.PathLike]
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def is_photo(path: PathLike) -> bool:
    """True when the file name says image (a pose JSON otherwise)."""
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


def _size(path: PathLike) -> Tuple[int, int]:
    try:
        with Image.open(path) as image:
            return image.height, image.width
    except (OSError, ValueError) as e:
        raise DataError(path, f"unreadable photo ({e})") from None


def resolve_poses(person: PathLike, pose: Optional[PathLike], target_pose: PathLike, out_dir: PathLike,
                  log: Callable[[str], None] = print) -> Tuple[str, str]:
    """The person's pose JSON and the target pose JSON, computing what is given as a photo or missing.

    Args:
        person: the person photo.
        pose: its OpenPose COCO-18 JSON, or None to compute it from `person`.
        target_pose: a pose JSON (person photo frame) or a photo of someone in the target pose.
        out_dir: where computed poses are written (`<person>_keypoints.json`,
            `<target>_target_keypoints.json`).
        log: one line per computed pose.
    Returns:
        (pose JSON path, target pose JSON path).
    Raises:
        DataError: an unreadable file, or no person in a photo.
        tfvton.pose.cache.ModelsNotFetched: a pose must be computed and the models are not cached.
    """
    out_dir = Path(out_dir)
    person_kp = None
    if pose is None:
        person_kp = keypoints_from_photo(person)
        pose = write_openpose_json(out_dir / f"{Path(person).stem}_keypoints.json", person_kp)
        log(f"pose computed from {person}: {int((person_kp[:, 2] > 0).sum())}/18 joints seen -> {pose}")
    if is_photo(target_pose):
        if person_kp is None:
            person_kp = load_keypoints(pose)
        target_kp = keypoints_from_photo(target_pose)
        target_size, person_size = _size(target_pose), _size(person)
        scale, _, how = torso_alignment(target_kp, target_size, person_kp, person_size)
        mapped = map_pose_into_frame(target_kp, target_size, person_kp, person_size)
        target_json = write_openpose_json(out_dir / f"{Path(target_pose).stem}_target_keypoints.json", mapped)
        log(f"target pose computed from {target_pose} and mapped into the person's frame "
            f"(scale {scale:.2f} by {how}): {int((mapped[:, 2] > 0).sum())}/18 joints -> {target_json}")
        target_pose = target_json
    return str(pose), str(target_pose)
