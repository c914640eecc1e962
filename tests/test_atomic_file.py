"""Atomic output files: checked before the work, one rename after it, nothing stray on failure."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tfvton.atomic_file import AtomicFile, OutputPathError, remove_stale_scratch, scratch_path


def test_commit_replaces_the_target_in_one_step(tmp_path):
    target = tmp_path / "deep" / "result.png"
    with AtomicFile(target) as output:
        assert output.scratch.parent == target.parent  # same folder, so the same filesystem
        assert output.scratch.exists() and not target.exists()  # reserved before any work
        output.commit(lambda scratch: scratch.write_bytes(b"image"))
    assert target.read_bytes() == b"image"
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.png"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # a normal file, not mkstemp's 0600


def test_failed_write_keeps_the_old_target_and_leaves_nothing(tmp_path):
    target = tmp_path / "result.png"
    target.write_bytes(b"old")

    def broken(scratch):
        scratch.write_bytes(b"half")
        raise RuntimeError("inference failed")

    with pytest.raises(RuntimeError):
        with AtomicFile(target) as output:
            output.commit(broken)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.png"]


def test_leaving_without_commit_removes_the_reservation(tmp_path):
    with AtomicFile(tmp_path / "r.png"):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where, problem", [("file/r.png", "is a file, not a folder"), ("", "is a directory")])
def test_unwritable_targets_fail_before_the_work(tmp_path, where, problem):
    (tmp_path / "file").write_text("x")
    called = []
    with pytest.raises(OutputPathError, match=problem) as info:
        AtomicFile(tmp_path / where, what="--output").commit(called.append)
    assert "--output" in str(info.value) and not called


def test_stale_scratch_of_dead_processes_is_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited
    stale = tmp_path / "weights" / "gmm" / f".tmp-{dead_pid}-gmm.weights.h5"
    alive = tmp_path / "weights" / f".tmp-{os.getppid()}-gmm.weights.h5"  # a running process's write
    keep = tmp_path / "weights" / "gmm.weights.h5"
    for path in (stale, alive, keep):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert remove_stale_scratch(tmp_path / "weights", recursive=True) == [stale]
    assert not stale.exists() and alive.exists() and keep.exists()
    assert scratch_path(keep).name == f".tmp-{os.getpid()}-gmm.weights.h5"


def test_runner_removes_weight_scratch_left_by_a_killed_run(tmp_path):
    """A SIGKILL while final weights are written leaves `.tmp-<pid>-*.weights.h5`; the next run removes it."""
    import json

    from tests.training.training_helpers import random_batch, tiny_config
    from tfvton.training import runner
    from tfvton.training.inputs import TensorSource

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / "weights" / "gmm" / f".tmp-{int(dead.stdout)}-gmm.weights.h5"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half-written")
    # The stage is complete, so the run only starts, cleans and skips it.
    (orphan.parent / "stage.json").write_text(json.dumps({"stage": "gmm", "steps": 10 ** 9}))
    data = TensorSource({k: v.numpy() for k, v in random_batch(2, 64, 64).items()})
    [result] = runner.train(tiny_config(), tmp_path, data, stage="gmm", verbose=0)
    assert result["skipped"] and not orphan.exists()


def test_csv_rows_are_on_disk_before_training_goes_on(tmp_path, monkeypatch):
    from tfvton.training import callbacks

    synced = []
    monkeypatch.setattr(callbacks.os, "fsync", lambda fd: synced.append(fd))
    logger = callbacks.DurableCSVLogger(str(tmp_path / "train.csv"), append=True)
    logger.on_train_begin()
    for epoch in range(3):
        logger.on_epoch_end(epoch, {"step": epoch * 5, "g_total": 1.0})
        assert len(synced) == epoch + 1
        # Another reader sees the row before the logger is closed (what a killed run leaves).
        assert Path(tmp_path / "train.csv").read_text().count("\n") == epoch + 2
    logger.on_train_end()
