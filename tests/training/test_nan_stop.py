"""A NaN in a loss term stops the run with a message naming the stage, the step and the term,
before the bad step is checkpointed or exported."""
from __future__ import annotations

import numpy as np
import pytest

from tests.training.training_helpers import random_batch, tiny_config


def test_nan_stops_the_stage_before_it_is_checkpointed(tmp_path):
    import tensorflow as tf

    from tfvton.training import algorithm, runner
    from tfvton.training.callbacks import NonFiniteLossError
    from tfvton.training.inputs import TensorSource

    config = tiny_config("train.steps=6", "train.checkpoint_every=1", "train.log_every=1", "train.image_every=0",
                         "train.batch_size=2")
    examples = {k: v.numpy() for k, v in random_batch(6, 64, 64, seed=4).items()}
    examples["target_cloth"][4, 10, 10, 0] = np.nan  # example 4 is in the third batch (no shuffling)
    data = TensorSource(examples, seed=None)
    with pytest.raises(NonFiniteLossError) as info:
        runner.train_stage(config, algorithm.STAGES["gmm"], tmp_path, data, tf.distribute.get_strategy(), verbose=0)
    error = info.value
    assert (error.stage, error.step) == ("gmm", 3) and error.term in ("g_total", "g_l1")
    assert f"stage 'gmm', step 3: loss term '{error.term}' is nan" in str(error)
    checkpoints = sorted(p.name for p in (tmp_path / "checkpoints" / "gmm").iterdir() if p.name.startswith("ckpt-"))
    assert checkpoints == ["ckpt-00000001", "ckpt-00000002"]
    assert not (tmp_path / "weights").exists()


def test_nan_stops_the_command_with_exit_code_3(tmp_path, monkeypatch, capsys):
    # The command turns the error into a one-line message and exit code 3.
    from tfvton.commands import train as train_command
    from tfvton.training import runner
    from tfvton.training.callbacks import NonFiniteLossError

    def fail(*args, **kwargs):
        raise NonFiniteLossError("appearance", 17, "g_vgg", float("nan"))

    monkeypatch.setattr(runner, "train", fail)
    from types import SimpleNamespace

    # A data source that used every pair (the command reports skipped pairs before training).
    monkeypatch.setattr("tfvton.training.inputs.MPVSource.from_config", lambda *a, **k: SimpleNamespace(skips=[]))
    from tfvton.cli import main

    code = main(["train", "--config", "smoke", "--data-root", str(tmp_path), "--run-dir", str(tmp_path / "run"),
                 "--stage", "appearance", "--quiet"])
    assert code == 1
    assert "stage 'appearance', step 17: loss term 'g_vgg' is nan" in capsys.readouterr().err
    assert train_command.STAGE_CHOICES[-1] == "all"
