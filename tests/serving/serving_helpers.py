"""Inputs written as the MPV files are (JPEG photos, mode-L PNGs, OpenPose JSON) for the client tests."""
from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from tests.export.export_helpers import raw_inputs


def write_request_files(directory, seed=0, size=64):
    """Writes one try-on's files; returns (paths dict, raw arrays as PIL reads the files back)."""
    raw = raw_inputs(batch=1, seed=seed, size=size)
    paths = {
        "person": directory / "person.jpg", "cloth": directory / "cloth.jpg",
        "parsing": directory / "person.png", "cloth_mask": directory / "cloth_mask.png",
        "target_pose": directory / "pose_keypoints.json",
    }
    Image.fromarray(raw["person_image"][0]).save(paths["person"], quality=90)
    Image.fromarray(raw["cloth_image"][0]).save(paths["cloth"], quality=90)
    Image.fromarray(raw["person_parsing"][0]).save(paths["parsing"])
    Image.fromarray(raw["cloth_mask"][0, ..., 0]).save(paths["cloth_mask"])
    people = [{"person_id": [-1], "pose_keypoints_2d": raw["target_pose_keypoints"][0].reshape(-1).tolist()}]
    paths["target_pose"].write_text(json.dumps({"version": 1.3, "people": people}))
    decoded = dict(raw)
    decoded["person_image"] = np.asarray(Image.open(paths["person"]))[None]
    decoded["cloth_image"] = np.asarray(Image.open(paths["cloth"]))[None]
    decoded["target_pose_keypoints"] = np.asarray(
        json.loads(paths["target_pose"].read_text())["people"][0]["pose_keypoints_2d"], np.float32).reshape(1, 18, 3)
    return {key: str(path) for key, path in paths.items()}, decoded
