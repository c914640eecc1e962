"""The VITON-HD layout reader: against the same renders in the MPV layout, hand-made files, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tfvton.data.layouts import detect_layout, open_dataset
from tfvton.data.mpv import MPVDataset
from tfvton.data.raw_io import DataError
from tfvton.data.synth import generate
from tfvton.data.vitonhd import VitonHDDataset, read_mask, read_parsing

H, W = 128, 96  # written size; the model size below is half of it
SEED, IDENTITIES, POSES = 3, 3, 2


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """The same renders written in both layouts."""
    base = tmp_path_factory.mktemp("layouts")
    for layout in ("mpv", "viton-hd"):
        generate(base / layout, identities=IDENTITIES, poses_per_identity=POSES, size=(H, W), seed=SEED,
                 layout=layout, vis=False)
    return base / "mpv", base / "viton-hd"


def _mpv_stem(vitonhd_stem: str, root: Path) -> str:
    """The MPV person stem of a VITON-HD stem (`00001_01` is identity 1, pose 2)."""
    identity, pose = (int(v) for v in vitonhd_stem.split("_"))
    matches = sorted((root / "images").glob(f"SYN{identity:06d}@{pose + 1}=*.jpg"))
    assert len(matches) == 1, matches
    return matches[0].stem


def test_layouts_are_detected(roots):
    mpv_root, vh_root = roots
    assert detect_layout(mpv_root) == "mpv" and detect_layout(vh_root) == "viton-hd"
    assert isinstance(open_dataset(vh_root, mode="train", height=64, width=48), VitonHDDataset)
    assert isinstance(open_dataset(mpv_root, mode="train", height=64, width=48), MPVDataset)
    assert detect_layout(vh_root / "train") == "viton-hd"  # one split folder on its own


def test_raw_inputs_equal_the_mpv_files_of_the_same_render(roots):
    mpv_root, vh_root = roots
    ds = VitonHDDataset(vh_root, mode="train", height=64, width=48)
    assert len(ds) == (IDENTITIES - 1) * POSES  # the last identity is the test split
    for i in range(len(ds)):
        raw = ds.raw(i)
        stem = _mpv_stem(Path(ds.samples[i].source).stem, mpv_root)
        person = np.asarray(Image.open(mpv_root / "images" / f"{stem}.jpg"))
        np.testing.assert_array_equal(raw["person_image"], person)  # same encoder, same bytes
        np.testing.assert_array_equal(raw["person_parsing"], np.asarray(Image.open(mpv_root / "parse_cihp" /
                                                                                    f"{stem}.png")))
        coco = json.loads((mpv_root / "pose_coco" / f"{stem}_keypoints.json").read_text())
        expected = np.asarray(coco["people"][0]["pose_keypoints_2d"], np.float32).reshape(18, 3)
        np.testing.assert_array_equal(raw["source_pose_keypoints"], expected)  # BODY_25 written, COCO-18 read
        np.testing.assert_array_equal(raw["target_pose_keypoints"], expected)  # same-pose pairs
        cloth_name = Path(ds.samples[i].source).stem.split("_")[0]
        mask_png = np.asarray(Image.open(mpv_root / "cloth_mask" / f"SYN{int(cloth_name):06d}@0=cloth_front_mask.png"))
        mask = raw["cloth_mask"][..., 0]
        assert set(np.unique(mask)) <= {0, 255}
        # A JPEG mask thresholded at 128 against the exact PNG: only edge pixels may differ.
        assert np.mean(mask != mask_png) < 0.01


def test_examples_match_mpv_keys_shapes_and_paired_targets(roots):
    mpv_root, vh_root = roots
    ds = VitonHDDataset(vh_root, mode="train", height=64, width=48)
    reference = MPVDataset(mpv_root, mode="train", height=64, width=48)[0]
    example = ds[0]
    assert set(example) == set(reference) == set(ds.keys)
    for key, value in example.items():
        assert value.shape == reference[key].shape and value.dtype == np.float32, key
    np.testing.assert_array_equal(example["target_image"], example["source_image"])
    np.testing.assert_array_equal(example["target_parse"], example["source_parse"])
    np.testing.assert_array_equal(example["target_pose"], example["source_pose"])
    # Keypoints are scaled with the image: the 128x96 keypoints halved, drawn at 64x48.
    from tfvton.data import transforms

    points = ds.keypoints(0)["source_pose_keypoints"] * np.float32([0.5, 0.5, 1.0])
    np.testing.assert_array_equal(example["source_pose"],
                                  transforms.pose_heatmaps(points, 64, 48, ds.radius).numpy())
    # Nearest with half-pixel centres at a factor of 2: output pixel i reads input floor((i + 0.5) * 2) = 2i + 1.
    ids = read_parsing(ds.files(0)["person_parsing"])[1::2, 1::2]
    np.testing.assert_array_equal(example["source_parse"].argmax(-1), ids)


def test_tf_data_pipeline_equals_eager_examples(roots):
    ds = VitonHDDataset(roots[1], mode="train", height=64, width=48)
    batch = next(iter(ds.as_tf_dataset(batch_size=len(ds))))
    for i in range(len(ds)):
        example = ds[i]
        for key, value in example.items():
            np.testing.assert_array_equal(batch[key][i].numpy(), value, err_msg=key)


def test_test_mode_is_paired_and_demo_mode_takes_the_listed_cloth(roots):
    vh_root = roots[1]
    lines = [line.split() for line in (vh_root / "test_pairs.txt").read_text().splitlines()]
    paired = VitonHDDataset(vh_root, mode="test", height=64, width=48)
    demo = VitonHDDataset(vh_root, mode="demo", height=64, width=48)
    assert len(paired) == len(demo) == len(lines) == POSES
    for i, (person, cloth) in enumerate(lines):
        assert Path(paired.files(i)["cloth_image"]) == vh_root / "test" / "cloth" / person
        assert Path(demo.files(i)["cloth_image"]) == vh_root / "test" / "cloth" / cloth
    assert "target_image" not in demo[0] and "target_pose" in demo[0]
    assert not demo.has_target and paired.has_target


def test_palette_index_is_read_not_the_colour(tmp_path):
    ids = np.tile(np.array([[0, 5, 13, 19], [2, 14, 15, 10]], np.uint8), (8, 4))  # 16x16, the reader's minimum
    image = Image.fromarray(ids, "P")
    rng = np.random.default_rng(0)
    image.putpalette(rng.integers(0, 256, 768).astype(np.uint8).tolist())  # any colours at all
    image.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_parsing(tmp_path / "p.png"), ids)
    Image.fromarray(ids, "L").save(tmp_path / "l.png")
    np.testing.assert_array_equal(read_parsing(tmp_path / "l.png"), ids)


def test_bad_parsings_and_masks_name_the_file(tmp_path):
    Image.fromarray(np.full((16, 16, 3), (255, 0, 0), np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(DataError, match="rgb.png: .*colour image"):
        read_parsing(tmp_path / "rgb.png")
    bad = Image.fromarray(np.tile(np.array([[0, 20], [255, 3]], np.uint8), (8, 8)), "P")
    bad.putpalette(list(range(256)) * 3)  # without a palette PIL renumbers the indices on save
    bad.save(tmp_path / "ids.png")
    with pytest.raises(DataError, match=r"ids.png: .*within 0-19; found \[20, 255\]"):
        read_parsing(tmp_path / "ids.png")
    with pytest.raises(DataError, match="missing.png: missing file"):
        read_parsing(tmp_path / "missing.png")
    # JPEG-like edge noise is thresholded at 128, as VITON-HD's readers do.
    values = np.zeros((16, 16), np.uint8)
    values[4:12, 4:12] = 250
    values[4, 4:8] = (127, 128, 3, 255)
    Image.fromarray(values).save(tmp_path / "mask.png")
    mask = read_mask(tmp_path / "mask.png")[..., 0]
    np.testing.assert_array_equal(mask, np.where(values >= 128, 255, 0))


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_bad_pairs_are_skipped_or_stop(roots, tmp_path):
    root = _copy(roots[1], tmp_path / "vh")
    first = (root / "train_pairs.txt").read_text().split()[0]
    (root / "train" / "cloth-mask" / first).unlink()
    ds = VitonHDDataset(root, mode="train", height=64, width=48)
    assert len(ds) == (IDENTITIES - 1) * POSES - 1
    assert len(ds.bad_samples) == 1 and ds.bad_samples[0][0] == 1
    assert f"cloth-mask/{first}" in str(ds.bad_samples[0][1])
    with pytest.raises(DataError, match="cloth-mask/.*missing file"):
        VitonHDDataset(root, mode="train", height=64, width=48, on_bad_sample="stop")


def test_flat_split_folder_and_older_folder_names(roots, tmp_path):
    # One split on its own, with the original VITON-HD code's names and a pair list beside it.
    root = _copy(roots[1] / "test", tmp_path / "flat")
    (root / "image-parse-v3").rename(root / "image-parse")
    (root / "openpose_json").rename(root / "openpose-json")
    (root / "pairs.txt").write_text((roots[1] / "test_pairs.txt").read_text())
    ds = open_dataset(root, "pairs.txt", "test", height=64, width=48)
    assert isinstance(ds, VitonHDDataset) and len(ds) == POSES
    assert ds[0]["source_parse"].shape == (64, 48, 20)


def test_prepare_records_decode_like_the_dataset(roots, tmp_path):
    from tfvton.data.tfrecords import MPVRecords, write_tfrecords

    ds = VitonHDDataset(roots[1], mode="train", height=64, width=48)
    write_tfrecords(ds, tmp_path / "records", shards=1)
    records = MPVRecords(tmp_path / "records", height=64, width=48, radius=ds.radius)
    first = next(iter(records.as_tf_dataset(batch_size=1)))
    for key, value in ds[0].items():
        np.testing.assert_array_equal(first[key][0].numpy(), value, err_msg=key)


def test_commands_choose_the_mode_and_list_per_layout(roots):
    from tfvton.data.layouts import choose_pairs_and_mode

    mpv_root, vh_root = roots
    # The try-on commands prefer the demo list: VITON-HD's unpaired test list; the others train.
    assert choose_pairs_and_mode(vh_root, None, None, prefer="demo.txt") == (None, "demo")
    assert choose_pairs_and_mode(vh_root, None, None, prefer="data_pair.txt") == (None, "train")
    assert choose_pairs_and_mode(vh_root, "train_pairs.txt", None, prefer="demo.txt") == (Path("train_pairs.txt"),
                                                                                          "train")
    assert choose_pairs_and_mode(mpv_root, None, None, prefer="demo.txt") == (mpv_root / "demo.txt", "demo")
    with pytest.raises(ValueError, match="layout.*Received: layout='vitonhd'"):
        open_dataset(vh_root, layout="vitonhd")
