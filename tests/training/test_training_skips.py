"""Training counts honestly: a pair that fails only when decoded is skipped and named, or stops the run.

The tiny SynthMPV set gets one person photo cut after its valid header (it passes
the up-front header check; TensorFlow fails on it only when decoding).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.hostile.conftest import truncate
from tests.training.training_helpers import TINY_OVERRIDES, tiny_config


@pytest.fixture
def spoilt_root(synth_root, tmp_path):
    """A copy of `synth_root` whose first train pair's person photo is cut in half; returns (root, photo)."""
    root = Path(shutil.copytree(synth_root, tmp_path / "synth"))
    first_train = next(line.split() for line in (root / "data_pair.txt").read_text().splitlines()
                       if line.split()[-1] == "train")
    photo = root / "images" / first_train[0]
    truncate(photo)
    return root, photo


def _lines_using(root: Path, name: str):
    return [number for number, line in enumerate((root / "data_pair.txt").read_text().splitlines(), 1)
            if line.split()[-1] == "train" and name in line.split()[:2]]


def test_source_skips_counts_and_names_the_pair(spoilt_root, caplog):
    from tfvton.training.inputs import MPVSource

    root, photo = spoilt_root
    config = tiny_config()
    with caplog.at_level("WARNING"):
        data = MPVSource.from_config(str(root), config)
    expected = _lines_using(root, photo.name)
    assert expected and [s.line for s in data.skips.skipped] == expected
    assert all(Path(s.file).name == photo.name for s in data.skips.skipped)
    assert data.num_examples == len(data.mpv) - len(expected)
    assert photo.name in caplog.text and "skipping pair" in caplog.text
    assert f"{data.num_examples} of {len(data.mpv)} pairs used" in data.summary()
    # The training pipeline runs on the pairs that decode: no error, nothing dropped.
    batch = next(iter(data.dataset(2)))
    assert batch["source_image"].shape[0] == 2
    assert data.sample_batch(8)["source_image"].shape[0] == data.num_examples


@pytest.mark.slow  # one GMM step; the skip itself is covered by the test above
def test_train_command_skip_logs_and_counts_the_file(spoilt_root, tmp_path, capsys):
    from tfvton.cli import main

    root, photo = spoilt_root
    argv = ["train", "--config", "smoke", "--data-root", str(root), "--run-dir", str(tmp_path / "run"),
            "--stage", "gmm", "--quiet"]
    for override in list(TINY_OVERRIDES) + ["train.steps=1", "train.checkpoint_every=1", "train.log_every=1",
                                            "train.image_every=1"]:
        argv += ["--set", override]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "gmm: trained 0 -> 1" in captured.out
    skipped = len(_lines_using(root, photo.name))
    assert "tfvton train: " in captured.err and f"{skipped} skipped ({photo}" in captured.err


def test_train_command_stop_fails_with_one_line_naming_the_file(spoilt_root, tmp_path, capsys):
    from tfvton.cli import main

    root, photo = spoilt_root
    run = tmp_path / "run"
    argv = ["train", "--config", "smoke", "--data-root", str(root), "--run-dir", str(run), "--stage", "gmm",
            "--quiet", "--set", "data.on_bad_sample=stop"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("tfvton train:")]
    assert len(lines) == 1 and str(photo) in lines[0] and "Traceback" not in err
    assert not (run / "checkpoints").exists()  # stopped before the first step
