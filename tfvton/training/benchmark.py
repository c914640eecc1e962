"""Time one training step of every stage (for comparison with the official release).

    python -m tfvton.training.benchmark --config paper --batch-size 1 --steps 3

Builds each stage's trainer from the config (random weights; VGG with random
weights, nothing is downloaded), traces the step with one call, then times
`--steps` more calls on a fixed random batch of the config's geometry and prints
the median seconds per step. No data directory and no files are needed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def random_example_batch(batch_size: int, height: int, width: int, seed: int = 0):
    """A batch with every key and shape of `MPVDataset` examples (values random, one-hot parses)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    def image():
        return rng.uniform(-1, 1, (batch_size, height, width, 3)).astype(np.float32)

    def onehot(channels):
        return np.eye(channels, dtype=np.float32)[rng.integers(0, channels, (batch_size, height, width))]

    def binary(channels):
        return (rng.uniform(size=(batch_size, height, width, channels)) > 0.9).astype(np.float32)

    batch = {"source_image": image(), "source_parse": onehot(20), "source_shape": image()[..., :1],
             "source_head": image(), "source_pose": binary(18), "target_pose": binary(18),
             "cloth_image": image(), "cloth_mask": binary(1), "target_image": image(),
             "target_parse": onehot(20), "target_cloth": image(), "target_cloth_mask": binary(1)}
    return {key: tf.constant(value) for key, value in batch.items()}


def time_stage(config, stage_name: str, batch, steps: int = 3):
    """Builds the stage trainer and times its train step; returns a dict of seconds."""
    import tensorflow as tf

    from tfvton.training import algorithm, runner

    stage = algorithm.STAGES[stage_name]
    start = time.perf_counter()
    trainer = runner.build_stage_trainer(config, stage, tf.distribute.get_strategy(), 10, batch, verbose=0)
    step = tf.function(trainer.train_step, jit_compile=config.train.jit_compile or None)
    built = time.perf_counter()
    step(batch)
    first = time.perf_counter()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        logs = step(batch)
        float(next(iter(logs.values())))  # wait for the step
        times.append(time.perf_counter() - t0)
    return {"stage": stage_name, "build_s": built - start, "first_step_s": first - built,
            "step_s": float(np.median(times)), "steps_timed": steps,
            "trainable_params": int(sum(np.prod(v.shape) for name in stage.trains
                                        for v in getattr(trainer, name).trainable_variables))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="paper", help="preset or YAML (default: paper)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3, help="timed steps after the traced one")
    parser.add_argument("--stages", default="gmm,parsing,appearance,face,joint")
    parser.add_argument("--json", action="store_true", help="print one JSON line per stage")
    args = parser.parse_args(argv)

    from tfvton.config import load_config

    config = load_config(args.config, args.overrides)
    batch = random_example_batch(args.batch_size, config.data.height, config.data.width)
    print(f"config {config.name}: {config.data.height}x{config.data.width}, batch {args.batch_size}, "
          f"ngf {config.model.ngf}, ndf {config.model.ndf}, gmm_ngf {config.model.gmm_ngf}", flush=True)
    for name in args.stages.split(","):
        result = time_stage(config, name, batch, args.steps)
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(f"{name:>10}: {result['step_s']:7.3f} s/step (first step {result['first_step_s']:.1f} s, "
                  f"build {result['build_s']:.1f} s, {result['trainable_params']:,} trainable params)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
