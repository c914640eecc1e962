"""`tfvton tryon`: MPV-layout and single-file inputs, smoke weights, clear errors naming the bad file."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tfvton.cli import main
from tfvton.data.pair_list import read_pair_list


def _single_args(root: Path):
    stem = "1LJ21D005-G11@10=person_half_front"
    return ["--person", str(root / "images" / f"{stem}.jpg"),
            "--parsing", str(root / "parse_cihp" / f"{stem}.png"),
            "--pose", str(root / "pose_coco" / f"{stem}_keypoints.json"),
            "--target-pose", str(root / "pose_coco" / "AD121D0G7-A11@10=person_half_front_keypoints.json"),
            "--cloth", str(root / "cloth_image" / "CO121D08G-O11@10=cloth_front.jpg")]


def test_tryon_mpv_demo_list_one_image_per_triplet(mpv_root, smoke_run_dir, smoke_config, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["tryon", "--model", str(smoke_run_dir), "--data-root", str(mpv_root), "--out", str(out),
                 "--grid", "--quiet"]) == 0
    triplets = read_pair_list(mpv_root / "demo.txt")
    images = sorted(p for p in out.glob("*.png") if not p.name.endswith("_grid.png"))
    grids = sorted(out.glob("*_grid.png"))
    assert len(images) == len(triplets) == 5 and len(grids) == 5
    for _, (person, _, cloth, _) in triplets:
        path = out / f"{Path(person).stem}__{Path(cloth).stem}.png"
        with Image.open(path) as image:
            # The try-on comes at the model size (smoke: 64x64), RGB.
            assert image.size == (smoke_config.data.width, smoke_config.data.height) and image.mode == "RGB"
    with Image.open(grids[0]) as strip:
        # Eight tiles side by side (2-pixel gaps) under a title bar.
        assert strip.size[0] == 8 * smoke_config.data.width + 7 * 2
    assert "5 try-on image(s) at 64x64" in capsys.readouterr().out


def test_tryon_single_files_computes_the_cloth_mask(mpv_root, smoke_run_dir, tmp_path):
    out = tmp_path / "single"
    target = tmp_path / "me.png"
    assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(out), "--output", str(target)]
                + _single_args(mpv_root)) == 0
    with Image.open(target) as image:
        assert image.size == (64, 64)
        assert np.asarray(image).std() > 0  # a real picture, not a constant
    mask = out / "CO121D08G-O11@10=cloth_front_mask.png"  # GrabCut, since no --cloth-mask was given
    reference = np.asarray(Image.open(mpv_root / "cloth_mask" / "CO121D08G-O11@10=cloth_front_mask.png")) == 255
    computed = np.asarray(Image.open(mask)) == 255
    assert (computed & reference).sum() / (computed | reference).sum() > 0.95


@pytest.mark.parametrize("which", ["missing", "truncated"])
def test_tryon_single_file_errors_name_the_file(mpv_root, smoke_run_dir, tmp_path, capsys, which):
    args = _single_args(mpv_root)
    bad = tmp_path / "person.jpg"
    if which == "truncated":
        data = (mpv_root / "images" / "1LJ21D005-G11@10=person_half_front.jpg").read_bytes()
        bad.write_bytes(data[: len(data) // 3])
    args[args.index("--person") + 1] = str(bad)
    assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(tmp_path / "o")] + args) == 1
    err = capsys.readouterr().err
    assert str(bad) in err
    assert ("missing file" in err) if which == "missing" else ("corrupt" in err)


def test_tryon_wrong_parsing_and_pose_files_are_named(mpv_root, smoke_run_dir, tmp_path, capsys):
    args = _single_args(mpv_root)
    vis = mpv_root / "parse_cihp" / "1LJ21D005-G11@10=person_half_front_vis.png"  # colours, not label ids
    args[args.index("--parsing") + 1] = str(vis)
    assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(tmp_path), "--parsing-format", "cihp"]
                + args) == 1
    err = capsys.readouterr().err
    assert str(vis) in err and "label map" in err and "docs/inputs.md" in err
    args = _single_args(mpv_root)
    pose = tmp_path / "empty_keypoints.json"
    pose.write_text('{"version": 1.3, "people": []}')
    args[args.index("--target-pose") + 1] = str(pose)
    assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(tmp_path)] + args) == 1
    err = capsys.readouterr().err
    assert str(pose) in err and "no person" in err


def test_tryon_mpv_layout_missing_and_corrupt_files_are_named(mpv_root, smoke_run_dir, tmp_path, capsys):
    root = tmp_path / "mpv"
    shutil.copytree(mpv_root, root, ignore=shutil.ignore_patterns("data_pair.txt"))
    mask = root / "cloth_mask" / "AD121D0HY-Q11@18=cloth_front_mask.png"
    mask.unlink()
    assert main(["tryon", "--model", str(smoke_run_dir), "--data-root", str(root), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 1
    err = capsys.readouterr().err
    assert str(mask) in err and "missing file" in err
    shutil.copy(mpv_root / "cloth_mask" / mask.name, mask)
    person = root / "images" / "4HI21D003-C11@10=person_half_front.jpg"
    person.write_bytes(person.read_bytes()[:2000])  # header intact, body cut: only decoding notices
    assert main(["tryon", "--model", str(smoke_run_dir), "--data-root", str(root), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 1
    assert str(person) in capsys.readouterr().err


def test_tryon_needs_one_input_form(smoke_run_dir, tmp_path, capsys):
    assert main(["tryon", "--model", str(smoke_run_dir), "--person", "a.jpg"]) == 2
    assert "--parsing" in capsys.readouterr().err
    assert main(["tryon", "--model", str(tmp_path / "nothing"), "--data-root", str(tmp_path)]) == 1
    assert str(tmp_path / "nothing") in capsys.readouterr().err



@pytest.mark.slow
def test_tryon_reads_other_formats_and_says_what_it_detected(mpv_root, smoke_run_dir, tmp_path, capsys):
    """A colour-rendered parsing and a 0/1 mask run end to end; auto-detection is printed.

    That they read as the MPV files do is checked without a model in tests/data/test_raw_io.py.
    """
    args = _single_args(mpv_root)
    stem = "1LJ21D005-G11@10=person_half_front"
    args[args.index("--parsing") + 1] = str(mpv_root / "parse_cihp" / f"{stem}_vis.png")
    mask = np.asarray(Image.open(mpv_root / "cloth_mask" / "CO121D08G-O11@10=cloth_front_mask.png")) // 255
    Image.fromarray(mask.astype(np.uint8)).save(tmp_path / "mask01.png")
    args += ["--cloth-mask", str(tmp_path / "mask01.png")]
    assert main(["tryon", "--model", str(smoke_run_dir), "--out", str(tmp_path / "b")] + args) == 0
    out = capsys.readouterr().out
    assert "colour rendering in the CIHP/LIP palette" in out and "OpenPose COCO-18" in out
