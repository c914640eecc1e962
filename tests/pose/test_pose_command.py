"""`tfvton pose` and `tfvton models`: files written, errors naming the photo, the offline message."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from tfvton.cli import main
from tfvton.data.mpv import load_keypoints
from tfvton.pose import keypoints_from_photo

STEM = "FIE21D00C-A11@9=person_whole_back"


def test_pose_writes_openpose_json_and_a_rendering(mpv_root, pose_models, tmp_path, capsys):
    photo = mpv_root / "images" / f"{STEM}.jpg"
    assert main(["pose", str(photo), "--out", str(tmp_path), "--render"]) == 0
    keypoints = load_keypoints(tmp_path / f"{STEM}_keypoints.json")
    document = json.loads((tmp_path / f"{STEM}_keypoints.json").read_text())
    assert len(document["people"][0]["pose_keypoints_2d"]) == 54
    np.testing.assert_allclose(keypoints, keypoints_from_photo(photo), atol=1e-3)
    # A whole-body photo: the neck, shoulders and hips are all found, inside the 192x256 frame.
    for joint in (1, 2, 5, 8, 11):
        assert keypoints[joint, 2] > 0 and 0 <= keypoints[joint, 0] < 192 and 0 <= keypoints[joint, 1] < 256
    assert keypoints[1, 1] < keypoints[8, 1]  # neck above the hips: upright
    with Image.open(tmp_path / f"{STEM}_rendered.png") as rendering:
        assert rendering.size == (192, 256)
    assert "joints seen" in capsys.readouterr().out
    # --reference compares with the OpenPose file of the same stem and prints the accuracy.
    assert main(["pose", str(photo), "--out", str(tmp_path / "r"), "--reference", str(mpv_root / "pose_coco")]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.startswith(f"against {mpv_root / 'pose_coco'}: ") and "within 10 %" in summary


def test_pose_names_the_photo_without_a_person(mpv_root, pose_models, tmp_path, capsys):
    cloth = mpv_root / "cloth_image" / "CO121D08G-O11@10=cloth_front.jpg"
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((64, 48, 3), 128, np.uint8)).save(blank)
    assert main(["pose", str(cloth), str(blank), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"{cloth}: no person detected" in err and f"{blank}: no person detected" in err
    assert not (tmp_path / "o").exists()


def test_pose_without_cached_models_says_how_to_fetch(tmp_path, monkeypatch, capsys):
    from tfvton.pose.estimate import default_estimator

    monkeypatch.setenv("TFVTON_HOME", str(tmp_path))
    photo = tmp_path / "x.jpg"
    photo.write_bytes(b"not read: the models are checked first")
    default_estimator.cache_clear()
    try:
        assert main(["pose", str(photo), "--out", str(tmp_path / "o")]) == 1
    finally:
        default_estimator.cache_clear()
    assert "tfvton models fetch pose" in capsys.readouterr().err
    assert main(["models", "status", "pose"]) == 1
