"""`tfvton tryon` with poses from photos: no `--pose`, a photo as `--target-pose`, the parsing check."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tfvton.cli import main
from tfvton.data.mpv import load_keypoints
from tfvton.pose import cache

PERSON = "1LJ21D005-G11@10=person_half_front"
TARGET = "4HI21D003-C11@10=person_half_front"


@pytest.fixture
def pose_models():
    if not cache.models_present():
        pytest.skip(f"pose models not cached in {cache.pose_model_dir()} (run `tfvton models fetch pose`)")


def _args(root: Path, parsing: str = PERSON):
    return ["--person", str(root / "images" / f"{PERSON}.jpg"),
            "--parsing", str(root / "parse_cihp" / f"{parsing}.png"),
            "--target-pose", str(root / "images" / f"{TARGET}.jpg"),
            "--cloth", str(root / "cloth_image" / "CO121D08G-O11@10=cloth_front.jpg")]


def test_tryon_from_photos_only(mpv_root, smoke_run_dir, pose_models, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(out)] + _args(mpv_root)) == 0
    captured = capsys.readouterr()
    assert "pose computed from" in captured.out and "mapped into the person's frame" in captured.out
    assert "does not match" not in captured.err
    assert (out / f"{PERSON}__CO121D08G-O11@10=cloth_front.png").is_file()
    # The computed person pose agrees with the OpenPose file that ships with the sample.
    computed = load_keypoints(out / f"{PERSON}_keypoints.json")
    reference = load_keypoints(mpv_root / "pose_coco" / f"{PERSON}_keypoints.json")
    both = (computed[:, 2] > 0) & (reference[:, 2] > 0)
    assert both.sum() >= 10
    assert np.median(np.linalg.norm(computed[both, :2] - reference[both, :2], axis=1)) < 0.04 * 256
    # The target pose is in the person's frame: its torso sits on the person's torso.
    target = load_keypoints(out / f"{TARGET}_target_keypoints.json")
    assert target[1, 2] > 0 and np.linalg.norm(target[1, :2] - computed[1, :2]) < 0.1 * 256


def test_tryon_warns_when_the_parsing_belongs_to_another_photo(mpv_root, pose_models, tmp_path, capsys):
    args = _args(mpv_root, parsing="FIE21D00C-A11@9=person_whole_back")
    args += ["--pose", str(mpv_root / "pose_coco" / f"{PERSON}_keypoints.json")]
    # Inputs are checked before the model loads: the warning comes even though the model is absent.
    missing_model = tmp_path / "no_model"
    assert main(["tryon", "--model", str(missing_model), "--out", str(tmp_path)] + args) == 1
    captured = capsys.readouterr()
    assert "the parsing does not match the photo" in captured.err and "FIE21D00C" in captured.err
    assert str(missing_model) in captured.err
    lines = captured.out.splitlines()
    # --pose given: only the target pose is computed.
    assert not any(line.startswith("pose computed") for line in lines)
    assert any(line.startswith("target pose computed") for line in lines)


def test_tryon_target_photo_without_a_person_names_it(mpv_root, smoke_run_dir, pose_models, tmp_path, capsys):
    args = _args(mpv_root)
    cloth = str(mpv_root / "cloth_image" / "AD121D0HY-Q11@18=cloth_front.jpg")
    args[args.index("--target-pose") + 1] = cloth
    assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(tmp_path)] + args) == 1
    assert f"{cloth}: no person detected" in capsys.readouterr().err


def test_tryon_without_cached_models_says_how_to_fetch(mpv_root, smoke_run_dir, tmp_path, monkeypatch, capsys):
    from tfvton.pose.estimate import default_estimator

    monkeypatch.setenv("TFVTON_HOME", str(tmp_path / "home"))
    default_estimator.cache_clear()
    try:
        assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(tmp_path)] + _args(mpv_root)) == 1
    finally:
        default_estimator.cache_clear()
    assert "tfvton models fetch pose" in capsys.readouterr().err
