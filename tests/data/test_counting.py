"""Honest counting: pairs that fail only when decoded go through the same skip/stop rule, named by file."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.data.mpv_helpers import write_flat_dataset
from tfvton.data.counting import SkipLog, decoded_batches
from tfvton.data.mpv import DataError, MPVDataset


def _name(i):
    return f"P{i:02d}-A11@{i}=person_half_front"


@pytest.fixture
def spoilt_root(tmp_path):
    """demo.txt lines 1-6; person 1's photo is cut after its header, person 4's parsing holds label 25."""
    root = write_flat_dataset(tmp_path / "mpv", persons=6)
    photo = root / "images" / f"{_name(1)}.jpg"
    data = photo.read_bytes()
    photo.write_bytes(data[:len(data) // 2])
    labels = np.zeros((64, 48), np.uint8)
    labels[5:9, 5:9] = 25
    Image.fromarray(labels).save(root / "parse_cihp" / f"{_name(4)}.png")
    return root


def test_decoding_failures_are_counted_and_named(spoilt_root):
    dataset = MPVDataset(spoilt_root, mode="demo", height=64, width=48, on_bad_sample="skip")
    assert len(dataset) == 6 and not dataset.bad_samples  # both pass the up-front check
    skips = SkipLog.from_dataset(dataset)
    seen = []
    for indices, batch in decoded_batches(dataset, 6, 2, skips):
        assert len(indices) == len(batch["source_image"]) and "pair_index" not in batch
        seen += indices
    assert seen == [0, 2, 3, 5]
    counts = skips.counts(len(seen))
    assert (counts["n_requested"], counts["n_evaluated"]) == (6, 4)
    assert [(item["line"], item["file"].rsplit("/", 1)[-1]) for item in counts["skipped"]] == [
        (2, f"{_name(1)}.jpg"), (5, f"{_name(4)}.png")]
    assert "decode" in counts["skipped"][0]["reason"] and "25" in counts["skipped"][1]["reason"]


def test_limit_counts_only_the_pairs_asked_for(spoilt_root):
    dataset = MPVDataset(spoilt_root, mode="demo", height=64, width=48, on_bad_sample="skip")
    skips = SkipLog.from_dataset(dataset)
    seen = [i for indices, _ in decoded_batches(dataset, 3, 4, skips) for i in indices]
    assert seen == [0, 2] and skips.counts(2)["n_requested"] == 3


def test_stop_raises_the_first_decoding_failure_naming_the_file(spoilt_root):
    dataset = MPVDataset(spoilt_root, mode="demo", height=64, width=48, on_bad_sample="stop")
    seen = []
    with pytest.raises(DataError, match=_name(1)) as info:
        for indices, _ in decoded_batches(dataset, 6, 1, SkipLog.from_dataset(dataset)):
            seen += indices
    assert info.value.path.endswith(f"{_name(1)}.jpg")
    assert seen == [0]  # nothing after the bad pair was used


@pytest.mark.parametrize("split", ["tset", "Test", "validation"])
def test_misspelt_split_is_a_bad_line_not_a_silent_drop(tmp_path, split):
    root = write_flat_dataset(tmp_path / "mpv", persons=6)
    lines = (root / "data_pair.txt").read_text().splitlines()
    lines[3] = lines[3].rsplit("\t", 1)[0] + "\t" + split  # line 4, a test line
    (root / "data_pair.txt").write_text("\n".join(lines) + "\n")
    skipping = MPVDataset(root, mode="test", height=64, width=48, on_bad_sample="skip")
    assert len(skipping) == 2  # lines 2 and 6
    [(line, error)] = skipping.bad_samples
    assert line == 4 and error.path.endswith("data_pair.txt:4") and repr(split) in error.problem
    train = MPVDataset(root, mode="train", height=64, width=48, on_bad_sample="skip")
    assert len(train) == 3 and [n for n, _ in train.bad_samples] == [4]  # counted in either mode
    with pytest.raises(DataError, match=r"data_pair.txt:4: the split column"):
        MPVDataset(root, mode="test", height=64, width=48, on_bad_sample="stop")


def test_skip_log_rejects_unknown_rule():
    with pytest.raises(ValueError, match="on_bad_sample"):
        SkipLog("ignore")
