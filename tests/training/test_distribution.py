"""Two replicas with global batch B take the same step as one replica with batch B.

Each stage runs in a subprocess with two logical CPU devices (configured before
TensorFlow initialises): the same trainer is built and stepped once with the
default strategy and once under `MirroredStrategy`, from the same seeded
initialisation, on the same global batch of 4 (2 per replica). Compared: every
trained network's weights (BatchNorm statistics included) and every Adam slot.
Adam's first step is lr * g / (|g| + eps), which hides a wrongly scaled loss; its
moment slots (0.5 g and 0.001 g^2) do not, so they catch a loss that is not
divided by the GLOBAL batch size.

The networks run in float64 here: the GMM's BatchNorm at initialisation is so
ill-conditioned that float32 round-off alone (the order of a sum) moves its
gradients by ~10% (measured on one device, synchronized vs two-pass moments), so
a float32 comparison would test round-off, not the distribution logic.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
import keras
keras.mixed_precision.set_global_policy("float64")
from tests.training.training_helpers import random_batch, tiny_config
from tfvton.training import algorithm, runner
from tfvton.training.inputs import TensorSource

stage = algorithm.STAGES[sys.argv[1]]
config = tiny_config("train.batch_size=4")
examples = {k: v.numpy().astype("float64") for k, v in random_batch(4, 64, 64, seed=1).items()}
data = TensorSource(examples, seed=None)
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
state, report = {}, {"stage": stage.name}
for label, strategy in (("single", tf.distribute.get_strategy()), ("mirrored", mirrored)):
    trainer = runner.build_stage_trainer(config, stage, strategy, 10, data.sample_batch(4), verbose=0)
    before = [v.numpy() for n in stage.trains for v in getattr(trainer, n).weights]
    history = trainer.fit(data.dataset(4), steps_per_epoch=1, epochs=1, verbose=0, shuffle=False).history
    state[label] = {
        "weights": [v.numpy() for n in stage.trains for v in getattr(trainer, n).weights],
        "slots": [v.numpy() for n in stage.trains for v in trainer.optimizers[n].variables
                  if "momentum" in v.path or "velocity" in v.path],
    }
    report[label] = {
        "replicas": strategy.num_replicas_in_sync,
        "losses": {k: v[-1] for k, v in history.items()},
        "moved": max(float(np.max(np.abs(a - b))) for a, b in zip(before, state[label]["weights"])),
        "gmm_synchronized": bool(getattr(getattr(trainer, "gmm", None), "synchronized", False)),
    }
for key in ("weights", "slots"):
    pairs = list(zip(state["single"][key], state["mirrored"][key]))
    report[key + "_count"] = len(pairs)
    report[key + "_max_diff"] = max(float(np.max(np.abs(a - b))) for a, b in pairs)
    report[key + "_max_abs"] = max(float(np.max(np.abs(a))) for a, _ in pairs)
print("REPORT " + json.dumps(report))
'''


def _launch(stage: str, tmp_path: Path) -> subprocess.Popen:
    script = tmp_path / "distribution_step.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO), CUDA_VISIBLE_DEVICES="")
    return subprocess.Popen([sys.executable, str(script), stage], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _report(process: subprocess.Popen) -> dict:
    output, _ = process.communicate(timeout=900)
    lines = [line for line in output.splitlines() if line.startswith("REPORT ")]
    assert process.returncode == 0 and lines, output[-4000:]
    return json.loads(lines[-1][len("REPORT "):])


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    # Both stages at once: two processes share the two cores better than one after the other.
    processes = {stage: _launch(stage, tmp_path_factory.mktemp(stage)) for stage in ("gmm", "appearance")}
    return {stage: _report(process) for stage, process in processes.items()}


@pytest.mark.parametrize("stage", ["gmm", "appearance"])
def test_two_replicas_take_the_single_replica_step(reports, stage):
    report = reports[stage]
    assert report["single"]["replicas"] == 1 and report["mirrored"]["replicas"] == 2
    assert report["single"]["moved"] > 1e-5  # the step did something
    # The appearance stage's losses are taken in float32 (the forward casts the generator's output),
    # so its float64 gradients carry float32 round-off (measured: up to 3e-4 of the largest slot,
    # from ReLU and arg-max decisions that flip with the order of a sum); Adam's first step then
    # moves a few near-zero-gradient weights by up to 2 * lr. A replica-scaling error moves every
    # slot by 50% or more, so the slot tolerance below still catches one by three orders of magnitude.
    weights_tolerance, slots_tolerance = {"gmm": (1e-5, 1e-5), "appearance": (5e-4, 1e-3)}[stage]
    assert report["weights_max_diff"] < weights_tolerance, report
    # Slots are g and g^2 scaled: compare relative to the largest slot value.
    assert report["slots_max_diff"] < slots_tolerance * max(1.0, report["slots_max_abs"]), report
    for term, value in report["single"]["losses"].items():
        assert abs(value - report["mirrored"]["losses"][term]) < 1e-5, (term, report)
    if stage == "gmm":  # its BatchNorm must see the global batch under a strategy
        assert report["mirrored"]["gmm_synchronized"] and not report["single"]["gmm_synchronized"]
