"""Fast unit tests of the training runtime: stages as data, budgets, schedules, TF_CONFIG,
atomic checkpoints, image grids, NaN messages and TensorBoard summaries."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tests.testing import assert_close


# ----------------------------------------------------------------------------- algorithm

def test_algorithm_one_is_consistent_with_factory_and_trainers():
    from tfvton.networks.factory import NETWORK_NAMES
    from tfvton.training import algorithm
    from tfvton.training.stages import TRAINERS

    names = [stage.name for stage in algorithm.ALGORITHM_1]
    assert names == ["gmm", "parsing", "appearance", "face", "joint"]
    assert algorithm.resolve_stages("all") == algorithm.ALGORITHM_1
    assert algorithm.resolve_stages("face") == (algorithm.STAGES["face"],)
    seen = set()
    for stage in algorithm.ALGORITHM_1:
        assert set(stage.networks) <= set(NETWORK_NAMES)
        assert not set(stage.trains) & set(stage.freezes)
        for network, source in stage.starts_from:
            assert network in stage.networks
            assert source in seen, f"{stage.name} starts {network} from a later stage {source}"
            assert network in algorithm.STAGES[source].trains
        for network in stage.freezes:  # a frozen network must come from somewhere
            assert stage.start_stage(network) is not None
        trainer = TRAINERS[stage.trainer]
        assert tuple(trainer.TRAINED) == stage.trains and tuple(trainer.FROZEN) == stage.freezes
        seen.add(stage.name)
    # The paper's order: alignment and parsing, then appearance, then face, then all jointly.
    assert algorithm.STAGES["joint"].trains == ("parsing_generator", "appearance_generator", "face_generator",
                                                "appearance_discriminator")


def test_unknown_stage_lists_the_choices():
    from tfvton.training import algorithm

    with pytest.raises(ValueError, match="gmm, parsing, appearance, face, joint, all"):
        algorithm.resolve_stages("warp")


def test_stage_budgets_steps_epochs_and_overrides(smoke_config):
    import dataclasses

    from tfvton.training.algorithm import stage_budget, steps_per_epoch

    train = dataclasses.replace(smoke_config.train, steps=20, stage_steps=(("face", 7),))
    assert stage_budget(train, "gmm") == 20
    assert stage_budget(train, "face") == 7
    by_epochs = dataclasses.replace(train, epochs=3, stage_epochs=(("joint", 1),))
    assert steps_per_epoch(10, 4) == 2  # full batches only
    assert stage_budget(by_epochs, "gmm", steps_per_epoch=2) == 6
    assert stage_budget(by_epochs, "joint", steps_per_epoch=2) == 2
    assert stage_budget(by_epochs, "face", steps_per_epoch=2) == 7  # stage_steps wins
    with pytest.raises(ValueError, match="steps_per_epoch"):
        stage_budget(by_epochs, "gmm")
    with pytest.raises(ValueError, match="unknown stage"):
        stage_budget(dataclasses.replace(train, stage_steps=(("warp", 3),)), "gmm")


# ----------------------------------------------------------------------------- schedules

def test_linear_decay_hand_values_and_config_roundtrip():
    from tfvton.training.schedules import LinearDecay

    schedule = LinearDecay(2e-4, total_steps=1000, decay_steps=400)
    # Constant for the first 600 steps, then linearly to zero at 1000.
    for step, expected in ((0, 2e-4), (600, 2e-4), (800, 1e-4), (900, 5e-5), (1000, 0.0), (1200, 0.0)):
        assert_close(float(schedule(step)), expected, atol=1e-10, what=f"lr at step {step}")  # float32
    whole = LinearDecay(1.0, total_steps=10)  # decay_steps 0: over the whole stage
    assert_close(float(whole(5)), 0.5, atol=1e-7)
    clone = LinearDecay.from_config(schedule.get_config())
    assert clone.get_config() == schedule.get_config()


def test_build_optimizer_matches_the_paper_adam(smoke_config):
    import dataclasses

    import keras

    from tfvton.training.schedules import LinearDecay, build_optimizer

    adam = build_optimizer(smoke_config.optimizer, 100, "g")
    assert isinstance(adam, keras.optimizers.Adam)
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.5, 0.999, 1e-8)
    assert_close(float(adam.learning_rate), 2e-4, atol=1e-10)
    decayed = build_optimizer(dataclasses.replace(smoke_config.optimizer, decay="linear", decay_steps=50), 100, "g")
    assert isinstance(decayed._learning_rate, LinearDecay)
    scaled = build_optimizer(smoke_config.optimizer, 100, "g", loss_scale=True)
    assert isinstance(scaled, keras.optimizers.LossScaleOptimizer)
    with pytest.raises(ValueError, match="optimizer.decay"):
        build_optimizer(dataclasses.replace(smoke_config.optimizer, decay="cosine"), 100, "g")


# ----------------------------------------------------------------------------- strategy

def test_tf_config_parsing_and_chief():
    from tfvton.training.strategy import read_tf_config

    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    assert read_tf_config({}) is None
    spec = read_tf_config({"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})})
    assert spec.num_workers == 2 and not spec.is_chief
    spec = read_tf_config({"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})})
    assert spec.is_chief
    with pytest.raises(ValueError, match="TF_CONFIG environment variable must be JSON"):
        read_tf_config({"TF_CONFIG": "{cluster"})
    with pytest.raises(ValueError, match="TF_CONFIG.task"):
        read_tf_config({"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "ps"}})})


def test_select_strategy_choices(monkeypatch):
    import tensorflow as tf

    from tfvton.training.strategy import is_chief, select_strategy

    assert select_strategy("none") is tf.distribute.get_strategy()
    assert select_strategy("auto") is tf.distribute.get_strategy()  # no GPUs here
    assert is_chief(select_strategy("none"))
    with pytest.raises(ValueError, match="train.strategy must be one of"):
        select_strategy("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        select_strategy("multiworker")


# ----------------------------------------------------------------------------- checkpoints

def _tracked_state():
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)
    step = keras.Variable(0, dtype="int64", trainable=False)
    return model, optimizer, step, tf.train.Checkpoint(model=model, optimizer=optimizer, step=step)


def _train_once(model, optimizer, step):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(tf.ones((1, 3))) ** 2)
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    step.assign_add(1)


def _state(model, optimizer, step):
    return [v.numpy().copy() for v in model.variables + optimizer.variables] + [int(step.numpy())]


def test_checkpoint_roundtrip_keeps_n_and_tf_can_find_it(tmp_path):
    import tensorflow as tf

    from tfvton.training.checkpoints import AtomicCheckpointManager

    model, optimizer, step, checkpoint = _tracked_state()
    manager = AtomicCheckpointManager(checkpoint, tmp_path, max_to_keep=2)
    assert manager.restore_latest() is None and manager.latest_step == 0
    saved = {}
    for _ in range(4):
        _train_once(model, optimizer, step)
        manager.save(int(step.numpy()))
        saved[int(step.numpy())] = _state(model, optimizer, step)
    assert [s for s, _ in manager.checkpoints] == [3, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint", "ckpt-00000003", "ckpt-00000004"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-00000004" / "ckpt")
    # A fresh process: new objects, restored from the latest checkpoint (optimizer slots included).
    model2, optimizer2, step2, checkpoint2 = _tracked_state()
    restored = AtomicCheckpointManager(checkpoint2, tmp_path, max_to_keep=2).restore_latest()
    assert restored.endswith("ckpt-00000004/ckpt")
    for got, want in zip(_state(model2, optimizer2, step2), saved[4]):
        assert_close(got, want, atol=0, what="restored state")


def test_killed_save_leaves_the_last_good_checkpoint(tmp_path, monkeypatch):
    from tfvton.training import checkpoints
    from tfvton.training.checkpoints import AtomicCheckpointManager

    model, optimizer, step, checkpoint = _tracked_state()
    manager = AtomicCheckpointManager(checkpoint, tmp_path, max_to_keep=3)
    _train_once(model, optimizer, step)
    manager.save(1)
    good = _state(model, optimizer, step)
    _train_once(model, optimizer, step)

    class Killed(BaseException):
        pass

    def die(*args):  # the process dies after writing, before the commit rename
        raise Killed()

    monkeypatch.setattr(checkpoints.os, "rename", die)
    # A killed process runs no clean-up: the save's own removal of its scratch never happens.
    monkeypatch.setattr(checkpoints.shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(Killed):
        manager.save(2)
    monkeypatch.undo()
    orphans = [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert len(orphans) == 1 and (tmp_path / orphans[0] / "ckpt.index").exists()
    # The next start cleans the orphan and resumes from step 1.
    model2, optimizer2, step2, checkpoint2 = _tracked_state()
    manager2 = AtomicCheckpointManager(checkpoint2, tmp_path, max_to_keep=3)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert manager2.restore_latest().endswith("ckpt-00000001/ckpt")
    for got, want in zip(_state(model2, optimizer2, step2), good):
        assert_close(got, want, atol=0, what="state after a killed save")


def test_restore_into_a_different_network_names_the_problem(tmp_path):
    import keras
    import tensorflow as tf

    from tfvton.training.checkpoints import AtomicCheckpointManager

    model, optimizer, step, checkpoint = _tracked_state()
    AtomicCheckpointManager(checkpoint, tmp_path).save(1)
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(5)])
    manager = AtomicCheckpointManager(tf.train.Checkpoint(model=other), tmp_path)
    with pytest.raises(ValueError, match="does not match the networks/optimizers"):
        manager.restore_latest()


# ----------------------------------------------------------------------------- grids, callbacks

def test_grid_layout_and_colours():
    from tfvton.data.preview import LABEL_COLOURS, PAD, TITLE_HEIGHT
    from tfvton.training.grids import compose_grid

    image = -np.ones((3, 8, 6, 3), np.float32)  # black
    mask = np.ones((3, 8, 6, 1), np.float32)  # white
    parsing = np.zeros((3, 8, 6, 20), np.float32)
    parsing[..., 5] = 1.0  # upper clothes
    grid = compose_grid({"source": image, "composition_mask": mask, "parsing": parsing}, max_rows=2)
    assert grid.shape == (TITLE_HEIGHT + PAD + 2 * (8 + PAD), PAD + 3 * (6 + PAD), 3)
    y = TITLE_HEIGHT + PAD + 8 + PAD + 3  # inside the second row
    assert tuple(grid[y, PAD + 2]) == (0, 0, 0)
    assert tuple(grid[y, PAD + (6 + PAD) + 2]) == (255, 255, 255)
    assert tuple(grid[y, PAD + 2 * (6 + PAD) + 2]) == tuple(LABEL_COLOURS[5])
    with pytest.raises(ValueError, match="must have 1, 3 or 20 channels"):
        compose_grid({"pose": np.zeros((1, 8, 6, 18))})


def test_nan_message_names_stage_step_and_term():
    from tfvton.training.callbacks import NonFiniteLossError, check_finite

    check_finite({"g_l1": 0.5, "d_total": np.float32(0.1)}, "gmm", 3)
    with pytest.raises(NonFiniteLossError) as info:
        check_finite({"g_l1": 0.5, "g_vgg": float("nan")}, "appearance", 42)
    assert (info.value.stage, info.value.step, info.value.term) == ("appearance", 42, "g_vgg")
    assert "stage 'appearance', step 42: loss term 'g_vgg' is nan" in str(info.value)


def test_summaries_are_tensorboard_scalars_and_images(tmp_path):
    import tensorflow as tf

    from tfvton.training.callbacks import write_image, write_scalar

    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        write_scalar("loss/g_l1", 0.25, step=7)
        write_image("samples", np.full((4, 6, 3), 200, np.uint8), step=7)
    writer.flush()
    found = {}
    for name in os.listdir(tmp_path):
        for event in tf.compat.v1.train.summary_iterator(str(tmp_path / name)):
            for value in event.summary.value:
                found[value.tag] = (event.step, value.metadata.plugin_data.plugin_name, value.tensor)
    step, plugin, tensor = found["loss/g_l1"]
    assert (step, plugin) == (7, "scalars")
    assert_close(tf.make_ndarray(tensor), 0.25, atol=0)
    step, plugin, tensor = found["samples"]
    width, height, png = tf.make_ndarray(tensor)
    assert (step, plugin, width, height) == (7, "images", b"6", b"4")
    assert tuple(tf.io.decode_png(png).numpy()[0, 0]) == (200, 200, 200)
