"""Same seed and config -> bitwise-equal weights, in two fresh processes.

Two processes start at the same time and each trains the GMM stage, then the
parsing stage (a GAN stage: two networks, two Adams, dropout 0.5) with
`train.deterministic`. Every weight array both runs export must be bitwise
equal. Before the GMM's regression initializer was built per layer, 0 of its 90
arrays matched (its seed was drawn at import time, before `train.seed` was set).

The fast test drives `runner.train` on in-memory batches; the slow one runs
`tfvton train --deterministic` on a SynthMPV directory (files, `tf.data` decode,
shuffle).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

RUNNER_SCRIPT = r'''
import sys
from tests.training.training_helpers import random_batch, tiny_config
from tfvton.training import runner
from tfvton.training.inputs import TensorSource

run_dir = sys.argv[1]
config = tiny_config("train.steps=2", "train.batch_size=2", "train.log_every=2", "train.checkpoint_every=0",
                     "train.image_every=0", "model.dropout=0.5", "train.seed=7", "train.deterministic=true")
data = TensorSource({k: v.numpy() for k, v in random_batch(4, 64, 64, seed=2).items()}, seed=3)
for stage in ("gmm", "parsing"):
    runner.train(config, run_dir, data, stage=stage, verbose=0)
'''

CLI_SCRIPT = r'''
import sys
from tfvton.cli import main
from tests.training.training_helpers import TINY_OVERRIDES

data_root, run_dir = sys.argv[1:3]
overrides = list(TINY_OVERRIDES) + ["train.steps=3", "train.batch_size=2", "train.log_every=3",
                                    "train.checkpoint_every=0", "train.image_every=0", "model.dropout=0.5",
                                    "train.seed=7"]
for stage in ("gmm", "parsing"):
    argv = ["train", "--config", "smoke", "--data-root", data_root, "--run-dir", run_dir, "--stage", stage,
            "--quiet", "--deterministic"]
    for item in overrides:
        argv += ["--set", item]
    code = main(argv)
    if code:
        sys.exit(code)
'''


def _weight_arrays(run_dir: Path):
    """Every dataset of every exported `.weights.h5` of `run_dir`, keyed by file and dataset path."""
    arrays = {}
    for path in sorted((run_dir / "weights").glob("*/*.weights.h5")):
        with h5py.File(path, "r") as handle:
            def visit(name, item, prefix=path.relative_to(run_dir).as_posix()):
                if isinstance(item, h5py.Dataset):
                    arrays[f"{prefix}:{name}"] = item[()]
            handle.visititems(visit)
    return arrays


def _train_twice(script, args, tmp_path, steps):
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    runs = [tmp_path / "first", tmp_path / "second"]
    # Both at once: two fresh processes, half the wall time on two cores.
    procs = [subprocess.Popen([sys.executable, "-c", script, *args, str(run)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for run in runs]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-3000:]
    for run in runs:
        for stage in ("gmm", "parsing"):
            marker = json.loads((run / "weights" / stage / "stage.json").read_text())
            assert marker["steps"] == steps
    return runs


def _assert_bitwise_equal(runs):
    first, second = (_weight_arrays(run) for run in runs)
    assert sorted(first) == sorted(second)
    gmm_arrays = [key for key in first if key.startswith("weights/gmm/")]
    gan_arrays = [key for key in first if key.startswith("weights/parsing/parsing_discriminator")]
    assert len(gmm_arrays) >= 40 and len(gan_arrays) >= 4, sorted(first)
    different = [key for key in first if not np.array_equal(first[key], second[key])]
    assert not different, f"{len(different)} of {len(first)} weight arrays differ: {different[:5]}"


def test_two_fresh_processes_train_bitwise_equal_weights(tmp_path):
    _assert_bitwise_equal(_train_twice(RUNNER_SCRIPT, [], tmp_path, steps=2))


@pytest.mark.slow
def test_train_command_is_reproducible_on_files(synth_root, tmp_path):
    _assert_bitwise_equal(_train_twice(CLI_SCRIPT, [str(synth_root)], tmp_path, steps=3))
