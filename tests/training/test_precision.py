"""Mixed precision switches: one eager train step per policy, float32 losses and weights."""
from __future__ import annotations

import numpy as np
import pytest

from tests.training.training_helpers import random_batch, tiny_config


@pytest.fixture
def policy_restored():
    import keras

    previous = keras.mixed_precision.global_policy().name
    yield
    keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_step(policy, policy_restored):
    import keras
    import tensorflow as tf

    from tfvton.training import algorithm, runner
    from tfvton.training.strategy import set_precision

    config = tiny_config(f"train.mixed_precision={policy}", "train.batch_size=2")
    assert set_precision(policy) == policy
    batch = random_batch(2, 64, 64, seed=7)
    trainer = runner.build_stage_trainer(config, algorithm.STAGES["parsing"], tf.distribute.get_strategy(), 4, batch,
                                         verbose=0)
    generator = trainer.parsing_generator
    assert generator.compute_dtype == policy.split("_")[1] and generator.variable_dtype == "float32"
    optimizer = trainer.optimizers["parsing_generator"]
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    before = [v.numpy().copy() for v in generator.trainable_variables]
    logs = trainer.train_step(batch)  # eager
    assert all(np.isfinite(float(value)) for value in logs.values()), logs
    assert all(value.dtype == tf.float32 for value in logs.values())
    moved = max(float(np.max(np.abs(a - v.numpy()))) for a, v in zip(before, generator.trainable_variables))
    assert moved > 0  # the (unscaled) update was applied
    assert int(trainer.step.numpy()) == 1
