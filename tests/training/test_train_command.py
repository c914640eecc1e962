"""`tfvton train` on a tiny SynthMPV directory: the run directory it leaves, resuming, errors,
the whole of Algorithm 1 (slow) and two multi-worker processes (slow)."""
from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.training.training_helpers import TINY_OVERRIDES

REPO = Path(__file__).resolve().parents[2]


def _sets(*overrides):
    args = []
    for override in overrides:
        args += ["--set", override]
    return args


def _check_tensorboard_logs(run_dir: Path, stage: str):
    """Reads logs/<stage> with TensorBoard's own reader (the one `tensorboard --logdir` loads): the loss
    scalars equal the CSV rows of their steps, and the `samples` image is the PNG grid of its step."""
    import io

    from PIL import Image
    from tensorboard.backend.event_processing import event_accumulator, plugin_event_accumulator
    from tensorboard.util import tensor_util

    log_dir = run_dir / "logs" / stage
    reader = plugin_event_accumulator.EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    reader.Reload()
    scalars = set(reader.PluginTagToContent("scalars"))
    assert "loss/g_total" in scalars and any(tag.startswith("learning_rate/") for tag in scalars)
    assert set(reader.PluginTagToContent("images")) == {"samples"}
    # Scalars are written every `train.log_every` steps, as the CSV rows (same interval means).
    rows = {int(r["step"]): float(r["g_total"]) for r in csv.DictReader(open(log_dir / "train.csv"))}
    events = reader.Tensors("loss/g_total")
    assert [e.step for e in events] == sorted(rows)
    for event in events:
        np.testing.assert_allclose(tensor_util.make_ndarray(event.tensor_proto), rows[event.step], rtol=1e-5)
    # An image summary is [width, height, PNG].
    last = reader.Tensors("samples")[-1]
    width, height, png = tensor_util.make_ndarray(last.tensor_proto)
    grid = np.asarray(Image.open(run_dir / "samples" / stage / f"step-{last.step:08d}.png"))
    assert (int(width), int(height)) == (grid.shape[1], grid.shape[0])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), grid)
    # The classic reader files TF2 summaries under `tensors`, with the plugin named in the metadata.
    classic = event_accumulator.EventAccumulator(str(log_dir), size_guidance={event_accumulator.TENSORS: 0})
    classic.Reload()
    assert {"loss/g_total", "samples"} <= set(classic.Tags()["tensors"])
    assert classic.SummaryMetadata("samples").plugin_data.plugin_name == "images"


def _check_stage_outputs(run_dir: Path, stage: str, trained, steps: int):
    from tfvton.run_dir import RunDir

    checkpoints = sorted(p.name for p in (run_dir / "checkpoints" / stage).iterdir() if p.name.startswith("ckpt-"))
    assert checkpoints and checkpoints[-1] == f"ckpt-{steps:08d}"
    marker = json.loads((run_dir / "weights" / stage / "stage.json").read_text())
    assert marker["steps"] == steps and marker["networks"] == sorted(trained)
    for name in trained:
        assert (run_dir / "weights" / stage / f"{name}.weights.h5").is_file()
        assert RunDir(run_dir).weights_path(name).is_file()
    rows = list(csv.DictReader(open(run_dir / "logs" / stage / "train.csv")))
    assert rows and int(rows[-1]["step"]) == steps and "g_total" in rows[-1]
    assert all(np.isfinite(float(value)) for key, value in rows[-1].items() if not key.startswith("val_"))
    _check_tensorboard_logs(run_dir, stage)
    grids = sorted((run_dir / "samples" / stage).glob("step-*.png"))
    assert grids and grids[-1].name == f"step-{steps:08d}.png"


def test_gmm_stage_run_directory_resume_and_missing_weights(synth_root, tmp_path, capsys):
    from tfvton.cli import main
    from tfvton.config import load_config
    from tfvton.run_dir import RunDir

    run_dir = tmp_path / "run"
    overrides = list(TINY_OVERRIDES) + ["train.steps=2", "train.checkpoint_every=1", "train.log_every=1",
                                        "train.image_every=1"]
    argv = ["train", "--config", "smoke", "--data-root", str(synth_root), "--run-dir", str(run_dir),
            "--stage", "gmm", "--quiet"] + _sets(*overrides)
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "gmm: trained 0 -> 2" in out
    assert f"tensorboard --logdir {run_dir / 'logs'}" in out  # the command that opens the run's logs
    # The resolved config is written next to the checkpoints and reloads to the same values.
    assert load_config(run_dir / "config.yaml") == load_config("smoke", overrides)
    _check_stage_outputs(run_dir, "gmm", ["gmm"], 2)
    assert RunDir(run_dir).load_networks(["gmm"])["gmm"].count_params() > 0
    # The same command again: the stage is complete and skipped.
    assert main(argv) == 0
    assert "gmm: skipped (complete)" in capsys.readouterr().out
    # The appearance stage needs the parsing stage's weights: a clear error, exit code 1.
    argv_appearance = [a if a != "gmm" else "appearance" for a in argv]
    assert main(argv_appearance) == 1
    error = capsys.readouterr().err
    assert "parsing_generator" in error and "'parsing' stage first" in error


@pytest.mark.slow
def test_smoke_config_all_stages(synth_root, tmp_path):
    """`tfvton train --config smoke --stage all` as a user runs it (a subprocess), then the run loads as a pipeline."""
    from tfvton.run_dir import RunDir
    from tfvton.training.algorithm import ALGORITHM_1

    run_dir = tmp_path / "run"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO), CUDA_VISIBLE_DEVICES="")
    steps = 4
    result = subprocess.run(
        [sys.executable, "-m", "tfvton", "train", "--config", "smoke", "--data-root", str(synth_root),
         "--run-dir", str(run_dir), "--stage", "all", "--quiet"]
        + _sets(f"train.steps={steps}", "train.checkpoint_every=2", "train.log_every=2", "train.image_every=2"),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (run_dir / "config.yaml").is_file()
    for stage in ALGORITHM_1:
        _check_stage_outputs(run_dir, stage.name, stage.trains, steps)
        assert f"{stage.name}: trained 0 -> {steps}" in result.stdout
    pipeline = RunDir(run_dir).load_pipeline()
    from tests.training.training_helpers import random_batch

    outputs = pipeline(random_batch(1, 64, 64), training=False)
    assert np.all(np.isfinite(outputs["final"].numpy()))


MULTI_WORKER_SCRIPT = r'''
import json, os, sys
import numpy as np
from tfvton.training import strategy as strategy_lib
strategy = strategy_lib.select_strategy("multiworker")  # before any other TF work
import tensorflow as tf
from tests.training.training_helpers import random_batch, tiny_config
from tfvton.training import runner
from tfvton.training.inputs import TensorSource

run_dir, out = sys.argv[1:3]
config = tiny_config("train.steps=3", "train.checkpoint_every=2", "train.log_every=1", "train.image_every=0",
                     "train.batch_size=4", "train.strategy=multiworker")
data = TensorSource({k: v.numpy() for k, v in random_batch(8, 64, 64, seed=5).items()}, seed=0)
result = runner.train(config, run_dir, data, stage="gmm", strategy=strategy, verbose=0)[0]
np.savez(out, *[v.numpy() for v in result["trainer"].gmm.weights])
print("RESULT " + json.dumps({"steps": result["steps"], "replicas": strategy.num_replicas_in_sync,
                              "chief": strategy_lib.is_chief(strategy)}), flush=True)
'''


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_end_with_identical_weights(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(MULTI_WORKER_SCRIPT)
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    run_dir = tmp_path / "run"  # shared, as on a shared filesystem
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO), CUDA_VISIBLE_DEVICES="",
                   TF_CONFIG=json.dumps(tf_config))
        processes.append(subprocess.Popen([sys.executable, str(script), str(run_dir), str(tmp_path / f"w{index}.npz")],
                                          cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True))
    outputs = [p.communicate(timeout=900)[0] for p in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-4000:]
    results = [json.loads([l for l in o.splitlines() if l.startswith("RESULT ")][-1][7:]) for o in outputs]
    assert [r["chief"] for r in results] == [True, False]
    assert all(r["steps"] == 3 and r["replicas"] == 2 for r in results)
    first, second = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
    assert max(float(np.max(np.abs(first[k] - second[k]))) for k in first.files) == 0.0
    # Only the chief wrote the run directory.
    assert (run_dir / "weights" / "gmm" / "stage.json").is_file()
    assert sorted(p.name for p in (run_dir / "checkpoints" / "gmm").iterdir() if p.name.startswith("ckpt-")) == [
        "ckpt-00000002", "ckpt-00000003"]
