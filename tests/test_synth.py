"""SynthMPV on disk: MPV layout, determinism, pair lists, OpenPose JSON, CLI (TF-free except the MPVDataset check)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tfvton.data.synth import generate
from tfvton.data.synth.labels import CIHP_COLOURS, SYNTH_LABELS
from tfvton.data.synth.writer import identity_of

H, W = 128, 96
IDENTITIES, POSES, SEED = 6, 3, 11


def _files(root: Path):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _persons(root: Path):
    return sorted(p.stem for p in (root / "images").glob("*.jpg"))


def _lines(path: Path):
    return [line.split("\t") for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthmpv")
    generate(out, identities=IDENTITIES, poses_per_identity=POSES, size=(H, W), seed=SEED, workers=1)
    return out


def test_layout_matches_mpv(root):
    persons = _persons(root)
    assert len(persons) == IDENTITIES * POSES
    assert sorted(p.name for p in root.iterdir()) == [
        "README.md", "cloth_image", "cloth_mask", "data_pair.txt", "demo.txt", "images", "parse_cihp",
        "pose_coco", "synthmpv.json"]
    for stem in persons:
        image = Image.open(root / "images" / f"{stem}.jpg")
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (W, H))
        parsing = Image.open(root / "parse_cihp" / f"{stem}.png")
        assert (parsing.format, parsing.mode, parsing.size) == ("PNG", "L", (W, H))
        vis = Image.open(root / "parse_cihp" / f"{stem}_vis.png")
        assert vis.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(vis), CIHP_COLOURS[np.asarray(parsing)])
        assert (root / "pose_coco" / f"{stem}_keypoints.json").is_file()
    clothes = sorted(p.stem for p in (root / "cloth_image").glob("*.jpg"))
    assert len(clothes) == IDENTITIES
    for stem in clothes:
        cloth = Image.open(root / "cloth_image" / f"{stem}.jpg")
        assert (cloth.format, cloth.mode, cloth.size) == ("JPEG", "RGB", (W, H))
        mask = Image.open(root / "cloth_mask" / f"{stem}_mask.png")
        assert (mask.mode, mask.size) == ("L", (W, H))
        values = set(np.unique(np.asarray(mask)).tolist())
        assert values == {0, 255}
        # Front view on white: white away from the garment (JPEG rings for a few pixels at its edge).
        near = cv2.dilate(np.asarray(mask), np.ones((7, 7), np.uint8)) > 0
        white = np.asarray(cloth)[~near]
        assert white.min() >= 230 and white.mean() >= 253


def test_parsing_uses_only_the_synth_labels(root):
    seen = set()
    for path in (root / "parse_cihp").glob("*.png"):
        if path.stem.endswith("_vis"):
            continue
        labels = set(np.unique(np.asarray(Image.open(path))).tolist())
        assert labels <= set(SYNTH_LABELS), (path.name, labels - set(SYNTH_LABELS))
        seen |= labels
    # The labels every rendering has (others depend on sleeves, trousers, framing).
    assert {0, 2, 5, 9, 13} <= seen and ({14, 15} & seen)


def test_pose_json_has_the_openpose_structure(root):
    missing = 0
    for path in sorted((root / "pose_coco").glob("*_keypoints.json")):
        data = json.loads(path.read_text())
        assert data["version"] == 1.3
        assert len(data["people"]) == 1
        person = data["people"][0]
        assert person["person_id"] == [-1]
        for key in ("face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"):
            assert person[key] == []
        kp = np.asarray(person["pose_keypoints_2d"], np.float64).reshape(18, 3)
        absent = kp[:, 2] == 0
        assert np.all(kp[absent] == 0), "missing joints must be 0,0,0"
        present = kp[~absent]
        assert np.all((present[:, 0] >= 0) & (present[:, 0] <= W - 1))
        assert np.all((present[:, 1] >= 0) & (present[:, 1] <= H - 1))
        assert np.all((present[:, 2] > 0) & (present[:, 2] <= 1))
        missing += int(absent.any())
        # neck, nose and shoulders are always framed
        assert np.all(kp[[0, 1, 2, 5], 2] > 0), path.name
    assert missing > 0, "half-body crops should leave some joints missing"


def test_present_keypoints_lie_on_the_body(root):
    """Every reported joint is on a labelled pixel (1 px tolerance for rounding)."""
    for stem in _persons(root):
        parsing = np.asarray(Image.open(root / "parse_cihp" / f"{stem}.png"))
        body = cv2.dilate((parsing > 0).astype(np.uint8), np.ones((3, 3), np.uint8))
        kp = np.asarray(json.loads((root / "pose_coco" / f"{stem}_keypoints.json").read_text())
                        ["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
        for j, (x, y, c) in enumerate(kp):
            if c > 0:
                assert body[int(round(y)), int(round(x))], f"{stem}: keypoint {j} at ({x}, {y}) off the body"


def test_pairs_share_identity_and_test_identities_are_unseen(root):
    pairs = _lines(root / "data_pair.txt")
    assert len(pairs) == IDENTITIES * POSES * (POSES - 1)
    train_ids, test_ids = set(), set()
    for source, target, cloth, split in pairs:
        assert split in ("train", "test")
        assert source != target
        assert identity_of(source) == identity_of(target) == identity_of(cloth)
        (train_ids if split == "train" else test_ids).add(identity_of(source))
        assert (root / "images" / source).is_file() and (root / "images" / target).is_file()
        assert (root / "cloth_image" / cloth).is_file()
    assert train_ids and test_ids and not train_ids & test_ids


def test_demo_triplets_use_another_identity_garment(root):
    demo = _lines(root / "demo.txt")
    test_ids = {identity_of(p[0]) for p in _lines(root / "data_pair.txt") if p[3] == "test"}
    assert len(demo) == len(test_ids)
    for person, pose_json, cloth, split in demo:
        assert split == "test"
        assert identity_of(person) in test_ids
        assert identity_of(cloth) != identity_of(person)
        assert pose_json.endswith("_keypoints.json") and (root / "pose_coco" / pose_json).is_file()
        assert (root / "cloth_image" / cloth).is_file()


def _garment_stats(image: np.ndarray, mask: np.ndarray):
    region = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grad = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    return image[region].mean(0), float(grad[region].mean()), int(region.sum())


def test_garment_pixels_carry_the_in_shop_garment(tmp_path):
    """Label-5 pixels have the in-shop garment's mean colour and a similar amount of texture."""
    generate(tmp_path, identities=8, poses_per_identity=2, size=(256, 192), seed=5)
    meta = json.loads((tmp_path / "synthmpv.json").read_text())
    cloth_stats = {}
    for rec in meta["records"]:
        cloth = np.asarray(Image.open(tmp_path / "cloth_image" / rec["cloth"]))
        mask = np.asarray(Image.open(tmp_path / "cloth_mask" / (Path(rec["cloth"]).stem + "_mask.png"))) > 0
        cloth_stats[rec["name"]] = _garment_stats(cloth, mask)
    closer_than_others = 0
    for rec in meta["records"]:
        own_mean, own_grad, _ = cloth_stats[rec["name"]]
        for person in rec["persons"]:
            image = np.asarray(Image.open(tmp_path / "images" / person["image"]))
            parsing = np.asarray(Image.open(tmp_path / "parse_cihp" / (Path(person["image"]).stem + ".png")))
            mean, grad, n = _garment_stats(image, parsing == 5)
            assert n > 200
            assert np.abs(mean - own_mean).max() < 25, (person["image"], mean, own_mean)
            # The warp rescales the texture (x0.5 .. x1.2), so edges per pixel change within a factor ~3.
            assert 1 / 3 < grad / own_grad < 3.5, (person["image"], grad, own_grad)
            others = [np.abs(mean - s[0]).max() for name, s in cloth_stats.items() if name != rec["name"]]
            closer_than_others += np.abs(mean - own_mean).max() < np.median(others)
    assert closer_than_others >= 0.9 * 16


def test_same_seed_gives_identical_bytes_whatever_the_workers(root, tmp_path):
    again = tmp_path / "again"
    generate(again, identities=IDENTITIES, poses_per_identity=POSES, size=(H, W), seed=SEED, workers=2)
    files = _files(root)
    assert files == _files(again)
    for name in files:
        assert (root / name).read_bytes() == (again / name).read_bytes(), name


def test_other_seed_gives_other_files(root, tmp_path):
    other = tmp_path / "other"
    generate(other, identities=IDENTITIES, poses_per_identity=POSES, size=(H, W), seed=SEED + 1)
    same_names = set(_files(root)) & set(_files(other))
    images = [n for n in same_names if n.startswith(("cloth_image/", "images/"))]
    assert images and all((root / n).read_bytes() != (other / n).read_bytes() for n in images)


def test_an_identity_does_not_depend_on_the_dataset_size(root, tmp_path):
    small = tmp_path / "small"
    generate(small, identities=2, poses_per_identity=POSES, size=(H, W), seed=SEED)
    for name in _files(small):
        if name.startswith(("images/", "cloth_image/", "parse_cihp/", "pose_coco/", "cloth_mask/")):
            assert (small / name).read_bytes() == (root / name).read_bytes(), name


@pytest.mark.parametrize("size", [(64, 64), (96, 160)])
def test_other_sizes(tmp_path, size):
    generate(tmp_path, identities=2, poses_per_identity=2, size=size, seed=0)
    for path in (tmp_path / "images").glob("*.jpg"):
        assert Image.open(path).size == (size[1], size[0])
    for path in (tmp_path / "cloth_image").glob("*.jpg"):
        assert Image.open(path).size == (size[1], size[0])


def test_bad_arguments_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="identities"):
        generate(tmp_path, identities=1)
    with pytest.raises(ValueError, match="size"):
        generate(tmp_path, identities=2, size=(16, 16))


def test_cli_writes_the_dataset_without_tensorflow(tmp_path):
    out = tmp_path / "cli"
    code = ("import sys; from tfvton.cli import main; "
            f"rc = main(['synth', '--out', {str(out)!r}, '--identities', '2', '--poses-per-identity', '2', "
            "'--size', '64x64', '--seed', '3', '--workers', '1', '--quiet']); "
            "assert 'tensorflow' not in sys.modules, 'synth imported TensorFlow'; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "wrote 4 persons" in result.stdout
    assert len(list((out / "images").glob("*.jpg"))) == 4


def test_cli_rejects_a_bad_size(capsys):
    from tfvton.cli import main

    with pytest.raises(SystemExit):
        main(["synth", "--out", "unused", "--size", "256by192"])
    assert "HxW" in capsys.readouterr().err


@pytest.mark.parametrize("mode, pairs", [("train", "data_pair.txt"), ("test", "data_pair.txt"),
                                         ("demo", "demo.txt"), ("demo", "data_pair.txt")])
def test_loads_through_mpv_dataset(root, mode, pairs):
    from tfvton.data.mpv import MPVDataset

    dataset = MPVDataset(root, root / pairs, mode=mode, height=H, width=W, validate="full", progress=False)
    assert not dataset.bad_samples
    listed = [p for p in _lines(root / pairs) if mode == "demo" or p[3] == mode]
    assert len(dataset) == len(listed)
    example = dataset[0]
    assert example["source_image"].shape == (H, W, 3)
    assert example["source_parse"].shape == (H, W, 20)
    assert example["target_pose"].shape == (H, W, 18)
    assert example["cloth_mask"].shape == (H, W, 1)
    np.testing.assert_array_equal(example["source_parse"].sum(-1), 1.0)
    if mode != "demo":
        assert example["target_image"].shape == (H, W, 3)
        assert example["target_cloth_mask"].sum() > 0
