"""MPVDataset: layouts, modes, the tf.data pipeline, and bad input."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from mpv_helpers import H, W, write_flat_dataset, write_official_dataset
from tfvton.data import DataError, MPVDataset, transforms

DEMO_KEYS = {"source_image", "source_parse", "source_shape", "source_head", "source_pose", "target_pose",
             "cloth_image", "cloth_mask"}
TARGET_KEYS = {"target_image", "target_parse", "target_cloth", "target_cloth_mask"}


def _dataset(root, mode="train", **kwargs):
    kwargs.setdefault("progress", False)
    return MPVDataset(root, mode=mode, height=H, width=W, **kwargs)


@pytest.fixture
def flat(tmp_path):
    return write_flat_dataset(tmp_path / "mpv")


def _assert_same(a, b):
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


# ----------------------------------------------------------------------------- real samples

def test_demo_mode_on_the_real_samples(mpv_root):
    ds = MPVDataset(mpv_root, mode="demo", progress=False)
    assert len(ds) == 5 and not ds.bad_samples
    example = ds[0]
    assert set(example) == DEMO_KEYS
    shapes = {"source_image": 3, "source_parse": 20, "source_shape": 1, "source_head": 3, "source_pose": 18,
              "target_pose": 18, "cloth_image": 3, "cloth_mask": 1}
    for key, channels in shapes.items():
        assert example[key].shape == (256, 192, channels) and example[key].dtype == np.float32, key
        assert -1.0 <= example[key].min() and example[key].max() <= 1.0
    np.testing.assert_array_equal(example["source_parse"].sum(-1), 1.0)
    # Every drawn disc holds at most 113 pixels; the source pose has some joints.
    counts = example["source_pose"].sum(axis=(0, 1))
    assert counts.max() <= 113 and (counts > 0).sum() >= 10
    first = next(iter(ds.as_tf_dataset()))
    _assert_same({k: v.numpy() for k, v in first.items()}, example)


# ----------------------------------------------------------------------------- layouts and modes

def test_train_and_test_modes_filter_by_split(flat):
    train, test = _dataset(flat, "train"), _dataset(flat, "test")
    assert [p.line for p in train.samples] == [1, 3, 5] and [p.line for p in test.samples] == [2, 4, 6]
    example = train[1]
    assert set(example) == DEMO_KEYS | TARGET_KEYS
    labels = np.asarray(Image.open(train.samples[1].target_parsing))
    np.testing.assert_array_equal(example["target_parse"].argmax(-1), labels)
    cloth = np.isin(labels, transforms.CLOTH_LABELS)
    np.testing.assert_array_equal(example["target_cloth_mask"][..., 0], cloth.astype(np.float32))
    np.testing.assert_array_equal(example["target_cloth"][~cloth], 1.0)
    np.testing.assert_array_equal(example["target_cloth"][cloth], example["target_image"][cloth])
    head = np.isin(np.asarray(Image.open(train.samples[1].person_parsing)), transforms.FACE_LABELS)
    np.testing.assert_array_equal(example["source_head"][~head], -1.0)
    mask = np.asarray(Image.open(train.samples[1].cloth_mask))
    np.testing.assert_array_equal(example["cloth_mask"][..., 0], (mask == 255).astype(np.float32))


def test_demo_mode_reads_the_target_pose_json_and_space_separated_lists(flat):
    ds = _dataset(flat, "demo")
    assert len(ds) == 6 and set(ds[0]) == DEMO_KEYS
    kp = json.loads((flat / "pose_coco" / (ds.samples[0].target.replace(".json", "") + ".json")).read_text())
    expected = transforms.pose_heatmaps(np.float32(kp["people"][0]["pose_keypoints_2d"]).reshape(18, 3), H, W)
    np.testing.assert_array_equal(ds[0]["target_pose"], expected.numpy())


def test_official_sub_folder_layout_resolves(tmp_path):
    lines = write_official_dataset(tmp_path / "off")
    train, test = _dataset(tmp_path / "off", "train"), _dataset(tmp_path / "off", "test")
    assert len(train) == 2 and len(test) == 2
    pair = test.samples[0]
    assert pair.person_image.endswith("images/val/" + lines[2].split("\t")[0])
    assert "/parse_cihp/val/" in pair.person_parsing and "/" not in pair.person_parsing.split("/val/")[1]
    assert "/images/val/" in pair.cloth_image and "/cloth_mask/val/S02/" in pair.cloth_mask
    assert set(train[0]) == DEMO_KEYS | TARGET_KEYS


def test_cloth_images_may_live_in_images(flat):
    for path in (flat / "cloth_image").iterdir():
        path.rename(flat / "images" / path.name)
    (flat / "cloth_image").rmdir()
    ds = _dataset(flat, "train")
    assert len(ds) == 3 and "/images/" in ds.samples[0].cloth_image


# ----------------------------------------------------------------------------- tf.data

def test_tf_dataset_matches_indexing_and_is_deterministic_for_a_seed(flat):
    ds = _dataset(flat, "test")
    items = list(ds.as_tf_dataset())
    assert len(items) == len(ds)
    for i, item in enumerate(items):
        _assert_same({k: v.numpy() for k, v in item.items()}, ds[i])

    def order(seed):
        out = ds.as_tf_dataset(shuffle=True, seed=seed, repeat=True)
        return [int(np.argmax([np.array_equal(e["cloth_image"].numpy(), it["cloth_image"].numpy()) for it in items]))
                for e in out.take(6)]

    first = order(3)
    assert first == order(3) and sorted(first[:3]) == [0, 1, 2] and sorted(first[3:]) == [0, 1, 2]
    batches = list(_dataset(flat, "demo").as_tf_dataset(batch_size=4, drop_remainder=True))
    assert len(batches) == 1 and batches[0]["source_pose"].shape == (4, H, W, 18)


def test_tf_dataset_works_under_a_distribution_strategy(flat):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    ds = _dataset(flat, "demo").as_tf_dataset(batch_size=2, drop_remainder=True)
    batch = next(iter(strategy.experimental_distribute_dataset(ds)))
    local = strategy.experimental_local_results(batch["source_image"])
    assert local[0].shape == (2, H, W, 3)


# ----------------------------------------------------------------------------- bad input

def _break(flat, ds_line, what):
    """Breaks one file of the pair at `ds_line` (1-based line of data_pair.txt); returns its path."""
    pairs = [line.split("\t") for line in (flat / "data_pair.txt").read_text().splitlines()]
    stem = pairs[ds_line - 1][0][:-4]
    if what == "missing":
        path = flat / "images" / f"{stem}.jpg"
        path.unlink()
    elif what == "unreadable":
        path = flat / "images" / f"{stem}.jpg"
        path.write_bytes(b"this is not a jpeg")
    elif what == "truncated":
        path = flat / "images" / f"{stem}.jpg"
        path.write_bytes(path.read_bytes()[:-600])
    elif what == "no person":
        path = flat / "pose_coco" / f"{stem}_keypoints.json"
        path.write_text(json.dumps({"version": 1.2, "people": []}))
    elif what == "nan":
        path = flat / "pose_coco" / f"{stem}_keypoints.json"
        data = json.loads(path.read_text())
        data["people"][0]["pose_keypoints_2d"][3] = float("nan")
        path.write_text(json.dumps(data))
    elif what == "labels":
        path = flat / "parse_cihp" / f"{stem}.png"
        labels = np.asarray(Image.open(path)).copy()
        labels[0, 0] = 42
        Image.fromarray(labels).save(path)
    elif what == "palette":
        path = flat / "parse_cihp" / f"{stem}.png"
        Image.open(path).convert("P").save(path)
    return path


@pytest.mark.parametrize("what, validate, problem", [
    ("missing", "headers", "missing file"),
    ("unreadable", "headers", "unreadable image"),
    ("truncated", "full", "truncated"),
    ("no person", "headers", "no person"),
    ("nan", "headers", "NaN"),
    ("labels", "full", "outside 0-19"),
    ("palette", "headers", "mode L"),
])
def test_bad_files_name_the_file_and_skip_or_stop(flat, caplog, what, validate, problem):
    path = _break(flat, 3, what)  # line 3 is a train pair (its source person)
    with pytest.raises(DataError, match=problem) as info:
        _dataset(flat, "train", validate=validate, on_bad_sample="stop")
    assert info.value.path == str(path)
    with caplog.at_level(logging.WARNING, logger="tfvton.data.mpv"):
        ds = _dataset(flat, "train", validate=validate, on_bad_sample="skip")
    assert [p.line for p in ds.samples] == [1, 5]
    assert [line for line, _ in ds.bad_samples] == [3] and problem in ds.bad_samples[0][1].problem
    assert path.name in caplog.text and "skipped 1 of 3" in caplog.text


def test_decode_time_errors_name_the_file_when_not_validated_up_front(flat, caplog):
    path = _break(flat, 3, "labels")
    ds = _dataset(flat, "train", validate="headers", on_bad_sample="stop")
    with pytest.raises(DataError, match="outside 0-19") as info:
        ds[1]
    assert info.value.path == str(path)
    with pytest.raises(tf.errors.InvalidArgumentError, match=path.name):
        list(ds.as_tf_dataset())
    skipping = _dataset(flat, "train", validate="headers", on_bad_sample="skip")
    assert len(list(skipping.as_tf_dataset())) == 2  # the bad element is dropped (and logged by tf.data)


def test_malformed_lines_and_demo_lists_in_train_mode(flat):
    text = (flat / "data_pair.txt").read_text()
    (flat / "data_pair.txt").write_text(text + "only_one_column.jpg\n")
    ds = _dataset(flat, "train")
    assert ds.bad_samples[0][0] == 7 and "got 1 column" in ds.bad_samples[0][1].problem
    with pytest.raises(DataError, match="use mode='demo'"):
        MPVDataset(flat, flat / "demo.txt", mode="train", height=H, width=W, on_bad_sample="stop", progress=False)
    with pytest.raises(DataError, match="use mode='demo'"):  # whatever the policy: the list is wrong
        MPVDataset(flat, flat / "demo.txt", mode="train", height=H, width=W, progress=False)
    (flat / "nothing.txt").write_text("nope.jpg\tnope2.jpg\tcloth.jpg\ttrain\n")
    with pytest.raises(DataError, match="no usable pairs.*nope.jpg: missing file"):
        MPVDataset(flat, "nothing.txt", mode="train", height=H, width=W, progress=False)


def test_images_of_another_size_are_resized_and_logged_once(flat, caplog):
    ds = _dataset(flat, "train")
    before = ds[0]
    pair = ds.samples[0]
    for key in ("person_image", "person_parsing"):
        path = getattr(pair, key)
        image = Image.open(path)
        method = Image.NEAREST if key == "person_parsing" else Image.BILINEAR
        image.resize((2 * W, 2 * H), method).save(path, **({"quality": 95} if path.endswith(".jpg") else {}))
    pose = json.loads(open(pair.source_pose).read())
    kp = np.float32(pose["people"][0]["pose_keypoints_2d"]).reshape(18, 3) * np.float32([2, 2, 1])
    pose["people"][0]["pose_keypoints_2d"] = kp.reshape(-1).tolist()
    open(pair.source_pose, "w").write(json.dumps(pose))
    with caplog.at_level(logging.WARNING, logger="tfvton.data.mpv"):
        ds = _dataset(flat, "train")
    assert caplog.text.count(pair.person_image) == 1 and "resized bilinearly" in caplog.text
    assert caplog.text.count(pair.person_parsing) == 1 and "nearest" in caplog.text
    after = ds[0]
    assert after["source_image"].shape == (H, W, 3)
    for key in ("source_parse", "source_pose", "source_shape"):
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
