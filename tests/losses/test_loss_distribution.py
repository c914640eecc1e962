"""Per-sample losses + scale_for_replicas: 2 replicas with global batch B == 1 replica with batch B.

The two logical CPU devices must be configured before TensorFlow initialises, so the
check runs in a subprocess; it prints a JSON summary the test asserts on.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(r'''
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    from tfvton.losses import (attention_loss, generator_loss, l1_loss, parsing_cross_entropy,
                               scale_for_replicas, smooth_l1_loss)

    B, H, W = 4, 8, 8
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (B, H, W, 3)).astype(np.float32)
    image = rng.uniform(-1, 1, (B, H, W, 3)).astype(np.float32)
    labels = rng.integers(0, 20, (B, H, W))
    labels[:2] = 0          # replica 0: background only (class weight 0.03)
    labels[2:, :6] = 5      # replica 1: mostly upper clothes (0.08) -> unequal weight sums
    parse = np.eye(20, dtype=np.float32)[labels]
    cloth = (labels == 5).astype(np.float32)[..., None]

    def make_model():
        inputs = keras.Input((H, W, 3))
        hidden = keras.layers.Conv2D(6, 3, padding="same", activation="tanh", name="conv")(inputs)
        scores = keras.layers.Conv2D(20, 1, name="scores")(hidden)
        rgb = keras.layers.Conv2D(3, 1, activation="tanh", name="rgb")(hidden)
        mask = keras.layers.Conv2D(1, 1, activation="sigmoid", name="mask")(hidden)
        critic = keras.layers.Dense(1, activation="sigmoid", name="critic")(keras.layers.AveragePooling2D(4)(rgb))
        return keras.Model(inputs, [scores, rgb, mask, critic])

    def per_sample_loss(model, batch):
        scores, rgb, mask, critic = model(batch["x"], training=True)
        return (parsing_cross_entropy(scores, batch["parse"], mode="official")
                + 2.0 * smooth_l1_loss(rgb, batch["image"]) + l1_loss(rgb, batch["image"])
                + attention_loss(mask, batch["cloth"], tv_weight=0.5) + 3.0 * generator_loss(critic))

    keras.utils.set_random_seed(0)
    initial = make_model().get_weights()
    data = {"x": x, "image": image, "parse": parse, "cloth": cloth}

    def train_step(model, optimizer, batch, naive):
        with tf.GradientTape() as tape:
            per_sample = per_sample_loss(model, batch)
            # naive = what a hand-written reduce_mean does (each replica averages its half)
            loss = tf.reduce_mean(per_sample) if naive else scale_for_replicas(per_sample, B)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    def single(make_optimizer):
        model = make_model()
        model.set_weights(initial)
        optimizer = make_optimizer()
        loss = tf.function(lambda b: train_step(model, optimizer, b, False))(
            {k: tf.constant(v) for k, v in data.items()})
        return model.get_weights(), float(loss)

    def mirrored(make_optimizer, naive=False):
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            model = make_model()
            model.set_weights(initial)
            optimizer = make_optimizer()
            optimizer.build(model.trainable_variables)
        dataset = tf.data.Dataset.from_tensor_slices(data).batch(B)
        batch = next(iter(strategy.experimental_distribute_dataset(dataset)))

        @tf.function
        def step(b):
            per_replica = strategy.run(lambda d: train_step(model, optimizer, d, naive), args=(b,))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        loss = step(batch)
        return model.get_weights(), float(loss), strategy.num_replicas_in_sync

    def max_diff(a, b):
        return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))

    result = {}
    for name, make_optimizer in (("sgd", lambda: keras.optimizers.SGD(0.5)),
                                 ("adam", lambda: keras.optimizers.Adam(1e-2, beta_1=0.5))):
        w1, loss1 = single(make_optimizer)
        w2, loss2, replicas = mirrored(make_optimizer)
        result[name] = {"replicas": replicas, "weight_diff": max_diff(w1, w2),
                        "update_size": max_diff(w1, initial), "loss_single": loss1, "loss_mirrored": loss2}
    w_naive, _, _ = mirrored(lambda: keras.optimizers.SGD(0.5), naive=True)
    w1, _ = single(lambda: keras.optimizers.SGD(0.5))
    result["naive_weight_diff"] = max_diff(w1, w_naive)
    print("RESULT " + json.dumps(result))
''')


def test_mirrored_two_replicas_take_the_single_replica_step(tmp_path):
    script = tmp_path / "distribution_check.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO_ROOT), CUDA_VISIBLE_DEVICES="")
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                               timeout=300, cwd=tmp_path)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, completed.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    for name in ("sgd", "adam"):
        run = result[name]
        assert run["replicas"] == 2
        assert run["update_size"] > 1e-3, f"{name}: the step must move the weights for the check to mean anything"
        assert run["weight_diff"] < 1e-6, f"{name}: 2-replica weights differ from 1-replica by {run['weight_diff']}"
        # the replicas' scaled losses sum to the global-batch loss (incl. the batch-normalised parsing CE)
        assert abs(run["loss_single"] - run["loss_mirrored"]) < 1e-5 * max(1.0, abs(run["loss_single"]))
    # the check is sensitive: averaging per replica (reduce_mean) gives a different, 2x step
    assert result["naive_weight_diff"] > 100 * max(result["sgd"]["weight_diff"], 1e-8)
