"""`tryon --output`: written straight to its target in one rename, wherever the working directory is."""
from __future__ import annotations

import os

from PIL import Image

from tests.hostile.conftest import cloth, person
from tfvton.cli import main


def test_output_goes_straight_to_its_target(root, smoke_run_dir, tmp_path, monkeypatch, capsys):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    target = tmp_path / "elsewhere" / "me.png"
    target.parent.mkdir()
    target.write_bytes(b"previous")  # replaced, not appended to
    argv = ["tryon", "--model", str(smoke_run_dir), "--output", str(target), "--quiet",
            "--person", str(root / "images" / f"{person(0)}.jpg"),
            "--parsing", str(root / "parse_cihp" / f"{person(0)}.png"),
            "--pose", str(root / "pose_coco" / f"{person(0)}_keypoints.json"),
            "--target-pose", str(root / "pose_coco" / f"{person(1)}_keypoints.json"),
            "--cloth", str(root / "cloth_image" / f"{cloth(0)}.jpg"),
            "--cloth-mask", str(root / "cloth_mask" / f"{cloth(0)}_mask.png")]
    assert main(argv) == 0, capsys.readouterr().err
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (64, 64)
    assert os.listdir(cwd) == []  # no ./tryon_out, nothing moved from there
    assert sorted(os.listdir(target.parent)) == ["me.png"]  # no scratch file left
    assert str(target) in capsys.readouterr().out
