"""Resume after SIGKILL: N steps straight == N/2 steps, a killed process, N/2 resumed steps.

Three processes with `tf.config.experimental.enable_op_determinism()` train the
parsing stage (two networks, two Adams, dropout 0.5 so the dropout RNG state must
be restored too) on shuffled data that crosses epoch boundaries:
- `straight`: 8 steps in one go (a 6-level U-Net, so its innermost level has dropout);
- `kill`: checkpoints every 2 steps and SIGKILLs itself in the middle of saving
  step 6 (files written to the temporary directory, not yet renamed);
- `resume`: the same command on the killed run directory: it must clean the
  orphan, restore step 4 and train 4 more steps.
The final weights and optimizer slots of `straight` and `resume` must be equal.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json, os, signal, sys
import numpy as np
import tensorflow as tf
tf.config.experimental.enable_op_determinism()
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
from tests.training.training_helpers import random_batch, tiny_config
from tfvton.training import checkpoints, runner
from tfvton.training.inputs import TensorSource

mode, run_dir, out = sys.argv[1:4]
config = tiny_config("train.steps=8", "train.checkpoint_every=2", "train.log_every=2", "train.image_every=0",
                     "model.dropout=0.5", "model.parsing_downsamplings=6", "train.batch_size=2",
                     "optimizer.lr=0.001")
data = TensorSource({k: v.numpy() for k, v in random_batch(6, 64, 64, seed=2).items()}, seed=3)
if mode == "kill":
    committed = checkpoints._fsync_tree
    def fsync_then_die(path):
        committed(path)
        if "ckpt-00000006" in path.name:  # written, not yet renamed
            print("KILLING", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    checkpoints._fsync_tree = fsync_then_die
result = runner.train(config, run_dir, data, stage="parsing", verbose=0)[0]
trainer = result["trainer"]
arrays = {}
for name in trainer.TRAINED:
    for i, v in enumerate(getattr(trainer, name).weights):
        arrays[f"{name}/{i}"] = v.numpy()
    for i, v in enumerate(trainer.optimizers[name].variables):
        arrays[f"{name}_opt/{i}"] = v.numpy()
np.savez(out, **arrays)
print("RESULT " + json.dumps({"start_step": result["start_step"], "steps": result["steps"]}), flush=True)
'''


def _run(script: Path, mode: str, run_dir: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO), CUDA_VISIBLE_DEVICES="")
    return subprocess.Popen([sys.executable, str(script), mode, str(run_dir), str(out)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _result(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, output[-4000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_killed_and_resumed_run_equals_a_straight_run(tmp_path):
    script = tmp_path / "resume_worker.py"
    script.write_text(SCRIPT)
    straight_dir, killed_dir = tmp_path / "straight", tmp_path / "killed"
    straight = _run(script, "straight", straight_dir, tmp_path / "straight.npz")
    killed = _run(script, "kill", killed_dir, tmp_path / "unused.npz")
    killed_output, _ = killed.communicate(timeout=900)
    assert killed.returncode == -signal.SIGKILL, killed_output[-4000:]
    assert "KILLING" in killed_output
    checkpoint_dir = killed_dir / "checkpoints" / "parsing"
    left = sorted(p.name for p in checkpoint_dir.iterdir())
    assert "ckpt-00000004" in left and "ckpt-00000006" not in left
    assert any(name.startswith(".tmp-ckpt-00000006") for name in left), left  # the interrupted save

    resumed = _run(script, "resume", killed_dir, tmp_path / "resumed.npz")
    resumed_output, _ = resumed.communicate(timeout=900)
    straight_output, _ = straight.communicate(timeout=900)
    assert resumed.returncode == 0, resumed_output[-4000:]
    assert straight.returncode == 0, straight_output[-4000:]
    assert _result(resumed_output) == {"start_step": 4, "steps": 8}
    assert _result(straight_output) == {"start_step": 0, "steps": 8}
    assert not [p for p in checkpoint_dir.iterdir() if p.name.startswith(".tmp-")]

    expected, got = np.load(tmp_path / "straight.npz"), np.load(tmp_path / "resumed.npz")
    assert sorted(expected.files) == sorted(got.files) and len(expected.files) > 10
    worst = max(float(np.max(np.abs(expected[k] - got[k]))) for k in expected.files)
    assert worst == 0.0, f"resumed run differs from the straight run by up to {worst}"
    # The stage finished in both: exported weights and the completion marker.
    for run_dir in (straight_dir, killed_dir):
        assert (run_dir / "weights" / "parsing" / "stage.json").is_file()
        assert (run_dir / "weights" / "parsing_generator.weights.h5").is_file()
