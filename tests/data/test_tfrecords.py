"""TFRecords of the raw inputs: round trip equals MPVDataset, sharding by file, the prepare command."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mpv_helpers import H, W, write_flat_dataset
from tfvton.data import MPVDataset, MPVRecords, write_tfrecords


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    return write_flat_dataset(tmp_path_factory.mktemp("records") / "mpv", persons=6)


def _numpy(example):
    return {k: v.numpy() for k, v in example.items()}


@pytest.mark.parametrize("mode", ["train", "demo"])
def test_round_trip_equals_mpv_dataset(flat, tmp_path, mode):
    ds = MPVDataset(flat, mode=mode, height=H, width=W, progress=False)
    meta = write_tfrecords(ds, tmp_path / "rec", shards=2, progress=False)
    assert meta["examples"] == len(ds) and len(meta["shards"]) == 2
    records = MPVRecords(tmp_path / "rec", height=H, width=W)
    assert len(records) == len(ds) and records.mode == mode
    got = [_numpy(e) for e in records.as_tf_dataset()]
    assert len(got) == len(ds)
    for i, example in enumerate(got):  # round-robin shards read back in the dataset's order
        expected = ds[i]
        assert set(example) == set(expected)
        for key in expected:
            np.testing.assert_array_equal(example[key], expected[key], err_msg=f"{i} {key}")


def test_sharding_by_file_and_seeded_shuffle(flat, tmp_path):
    ds = MPVDataset(flat, mode="demo", height=H, width=W, progress=False)
    write_tfrecords(ds, tmp_path / "rec", shards=3, progress=False)
    records = MPVRecords(tmp_path / "rec", height=H, width=W)
    cloths = [ds[i]["cloth_image"] for i in range(len(ds))]

    def indices(dataset):
        return [int(np.argmax([np.array_equal(e["cloth_image"].numpy(), c) for c in cloths])) for e in dataset]

    assert indices(records.as_tf_dataset(num_shards=3, shard_index=1)) == [1, 4]
    shuffled = indices(records.as_tf_dataset(shuffle=True, seed=5, shuffle_buffer=8))
    assert sorted(shuffled) == list(range(6)) and shuffled == indices(
        records.as_tf_dataset(shuffle=True, seed=5, shuffle_buffer=8))
    batch = next(iter(records.as_tf_dataset(batch_size=4, drop_remainder=True)))
    assert batch["source_pose"].shape == (4, H, W, 18)
    with pytest.raises(ValueError, match="--shards"):
        records.as_tf_dataset(num_shards=4)


def test_prepare_command(flat, tmp_path):
    from tfvton.cli import main

    out = tmp_path / "prepared"
    assert main(["prepare", "--data-root", str(flat), "--out", str(out), "--shards", "2"]) == 0
    meta = json.loads((out / "records.json").read_text())
    assert meta["mode"] == "train" and meta["examples"] == 3 and meta["skipped"] == 0
    assert sorted(p.name for p in out.glob("*.tfrecord")) == ["train-00000-of-00002.tfrecord",
                                                               "train-00001-of-00002.tfrecord"]
    assert main(["prepare", "--data-root", str(flat), "--pairs", "demo.txt", "--out", str(tmp_path / "d")]) == 0
    assert json.loads((tmp_path / "d" / "records.json").read_text())["mode"] == "demo"
