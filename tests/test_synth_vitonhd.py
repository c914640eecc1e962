"""`tfvton synth --layout viton-hd`: the files of the VITON-HD release, and training from them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tfvton.data.formats.keypoints import to_coco18
from tfvton.data.synth import generate
from tfvton.data.synth.labels import CIHP_COLOURS, SYNTH_LABELS
from tfvton.data.synth.vitonhd_writer import coco18_to_body25

H, W = 64, 64
IDENTITIES, POSES, SEED = 4, 2, 5


def _files(root: Path):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth_vitonhd")
    generate(out, identities=IDENTITIES, poses_per_identity=POSES, size=(H, W), seed=SEED, layout="viton-hd")
    return out


def test_files_are_those_of_the_vitonhd_release(root):
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "synthmpv.json", "test", "test_pairs.txt",
                                                       "train", "train_pairs.txt"]
    stems = {"train": [f"{i:05d}_{k:02d}" for i in range(IDENTITIES - 1) for k in range(POSES)],
             "test": [f"{IDENTITIES - 1:05d}_{k:02d}" for k in range(POSES)]}
    for split, names in stems.items():
        expected = sorted(f"{split}/{folder}/{stem}{suffix}" for stem in names for folder, suffix in (
            ("image", ".jpg"), ("cloth", ".jpg"), ("cloth-mask", ".jpg"), ("image-parse-v3", ".png"),
            ("openpose_json", "_keypoints.json")))
        assert [f for f in _files(root) if f.startswith(split + "/")] == expected
        for stem in names:
            parsing = Image.open(root / split / "image-parse-v3" / f"{stem}.png")
            assert (parsing.format, parsing.mode, parsing.size) == ("PNG", "P", (W, H))
            ids = np.asarray(parsing)
            assert set(np.unique(ids)) <= set(SYNTH_LABELS)
            # Shown in a viewer, the palette gives the CIHP colours.
            np.testing.assert_array_equal(np.asarray(parsing.convert("RGB")), CIHP_COLOURS[ids])
            mask = Image.open(root / split / "cloth-mask" / f"{stem}.jpg")
            assert (mask.format, mask.mode) == ("JPEG", "L")


def test_pair_lists_are_paired_for_train_and_unpaired_for_test(tmp_path):
    generate(tmp_path, identities=5, poses_per_identity=2, size=(H, W), seed=SEED, layout="viton-hd",
             test_fraction=0.4)
    train = [line.split(" ") for line in (tmp_path / "train_pairs.txt").read_text().splitlines()]
    test = [line.split(" ") for line in (tmp_path / "test_pairs.txt").read_text().splitlines()]
    assert train == [[f"{i:05d}_{k:02d}.jpg"] * 2 for i in range(3) for k in range(2)]
    # Each test person wears the garment of the next test identity (cyclic), as the release's unpaired list.
    assert test == [["00003_00.jpg", "00004_00.jpg"], ["00003_01.jpg", "00004_00.jpg"],
                    ["00004_00.jpg", "00003_00.jpg"], ["00004_01.jpg", "00003_00.jpg"]]


def test_pose_json_is_openpose_body25(root):
    data = json.loads((root / "train" / "openpose_json" / "00000_00_keypoints.json").read_text())
    points = np.asarray(data["people"][0]["pose_keypoints_2d"], np.float64).reshape(25, 3)
    r_hip, l_hip = points[9], points[12]
    assert r_hip[2] > 0 and l_hip[2] > 0
    np.testing.assert_allclose(points[8, :2], (r_hip[:2] + l_hip[:2]) / 2, atol=1e-3)  # MidHip
    np.testing.assert_array_equal(points[19:], 0)  # no feet in the renders: unseen, as OpenPose writes


def test_coco18_to_body25_inserts_mid_hip_and_feet():
    coco = np.stack([np.arange(18) + 1.0, np.arange(18) + 100.0, np.full(18, 0.5)], axis=1)
    body = coco18_to_body25(coco)
    # Hand-written OpenPose BODY_25 order: COCO-18 0-7, MidHip, then COCO-18 8-17, then 6 feet.
    expected_x = [1, 2, 3, 4, 5, 6, 7, 8, (9 + 12) / 2, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] + [0] * 6
    np.testing.assert_array_equal(body[:, 0], expected_x)
    # Back through the reader's mapping (`tfvton.data.formats`): the same COCO-18 keypoints.
    np.testing.assert_array_equal(to_coco18(body, "body25"), coco)
    coco[11] = 0  # l_hip unseen: no MidHip
    assert (coco18_to_body25(coco)[8] == 0).all()


def test_same_seed_gives_identical_bytes(root, tmp_path):
    generate(tmp_path, identities=IDENTITIES, poses_per_identity=POSES, size=(H, W), seed=SEED, layout="viton-hd")
    assert _files(tmp_path) == _files(root)
    for name in _files(root):
        assert (tmp_path / name).read_bytes() == (root / name).read_bytes(), name


def test_cli_writes_the_layout(tmp_path):
    out = tmp_path / "vh"
    result = subprocess.run([sys.executable, "-m", "tfvton", "synth", "--layout", "viton-hd", "--out", str(out),
                             "--identities", "2", "--poses-per-identity", "2", "--size", "64x64", "--workers", "1",
                             "--quiet"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "VITON-HD layout" in result.stdout
    assert (out / "train_pairs.txt").read_text() == "00000_00.jpg 00000_00.jpg\n00000_01.jpg 00000_01.jpg\n"


def test_training_source_opens_the_vitonhd_layout(root):
    from tfvton.config import load_config
    from tfvton.training.inputs import MPVSource

    data = MPVSource.from_config(root, load_config("smoke"))
    # `train.pairs_file` (data_pair.txt) is not there: the layout's own train_pairs.txt is read.
    assert type(data.mpv).__name__ == "VitonHDDataset" and data.mpv.pairs_file == root / "train_pairs.txt"
    assert data.num_examples == (IDENTITIES - 1) * POSES


@pytest.mark.slow  # builds, traces and checkpoints a stage trainer
def test_one_gmm_step_trains_from_the_vitonhd_layout(root, tmp_path):
    import tensorflow as tf

    from tests.training.training_helpers import tiny_config
    from tfvton.training import algorithm, runner
    from tfvton.training.inputs import MPVSource

    config = tiny_config("train.steps=1", "train.checkpoint_every=1", "train.log_every=1", "train.image_every=0")
    data = MPVSource.from_config(root, config)
    result = runner.train_stage(config, algorithm.STAGES["gmm"], tmp_path, data, tf.distribute.get_strategy(),
                                verbose=0)
    assert result["steps"] == 1 and not result["skipped"]
    assert all(np.isfinite(float(v)) for v in result["history"].values())
    assert any(p.name.startswith("ckpt-00000001") for p in (tmp_path / "checkpoints" / "gmm").iterdir())
