"""Training throughput: one optimisation step (generator and discriminator) per stage, timed.

Builds each stage's trainer exactly as `tfvton train` does
(`tfvton.training.runner.build_stage_trainer`: official losses, Adam, random
VGG unless the config names weights), compiles `train_step` into one
`tf.function` and times it on a real-format batch. The batch is a
self-reconstruction pair (target = source) of the benchmark's inputs: the
shapes and the value ranges are those of training; the content does not
change the cost. `precision='mixed_bfloat16'` builds the networks under
Keras' bf16 policy (fp32 master weights, bf16 compute).
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence

import numpy as np

from tfvton.bench import timing

DEFAULT_STAGES = ("appearance",)
# The official release on this machine type (issue 8): appearance step, G and D, batch 1.
OFFICIAL_APPEARANCE_STEP_S = (8.2, 8.8)


def training_batch(examples: Sequence[Dict[str, np.ndarray]], batch: int) -> Dict[str, np.ndarray]:
    """Model inputs plus target tensors (the source itself) for `batch` examples."""
    from tfvton.bench.runner import stack_batch
    from tfvton.data import transforms

    inputs = stack_batch(examples, batch)
    out = dict(inputs)
    out["target_image"] = inputs["source_image"]
    out["target_parse"] = inputs["source_parse"]
    out["target_cloth"] = np.asarray(transforms.cloth_part_image(inputs["source_image"], inputs["source_parse"]))
    out["target_cloth_mask"] = np.asarray(transforms.part_mask(inputs["source_parse"], transforms.CLOTH_LABELS))
    out["source_pose"] = inputs["target_pose"]
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


def time_train_step(config, stage_name: str, batch: Dict[str, np.ndarray], runs: int, warmup: int,
                    precision: str = "none", jit_compile: bool = False) -> timing.Timing:
    """Seconds per `train_step` of one stage (built fresh, random start weights)."""
    import keras
    import tensorflow as tf

    from tfvton.training.algorithm import STAGES
    from tfvton.training.runner import build_stage_trainer
    from tfvton.training.strategy import set_precision

    previous = keras.config.dtype_policy()
    set_precision(precision)
    try:
        trainer = build_stage_trainer(config, STAGES[stage_name], tf.distribute.get_strategy(), total_steps=1000,
                                      sample={k: tf.constant(v[:1]) for k, v in batch.items()}, verbose=0)
    finally:
        keras.config.set_dtype_policy(previous)
    step = tf.function(trainer.train_step, jit_compile=jit_compile)
    data = {k: tf.constant(v) for k, v in batch.items()}
    return timing.time_callable(lambda: step(data), runs=runs, warmup=warmup)


def run_train_benchmark(config, examples=None, stages: Sequence[str] = DEFAULT_STAGES, batch: int = 1,
                        runs: int = 10, warmup: int = 2, precisions: Sequence[str] = ("none", "mixed_bfloat16"),
                        log: Optional[Callable[[str], None]] = None) -> Dict[str, object]:
    """{stage: {precision: timing dict}} plus the official reference for the appearance step."""
    from tfvton.bench.runner import real_format_examples

    log = log or (lambda message: None)
    if examples is None:
        examples, _ = real_format_examples(config, None)
    data = training_batch(examples, batch)
    report: Dict[str, object] = {"batch": batch, "official_appearance_step_s": list(OFFICIAL_APPEARANCE_STEP_S)}
    for stage in stages:
        report[stage] = {}
        for precision in precisions:
            try:
                measured = time_train_step(config, stage, data, runs, warmup, precision)
            except Exception as error:  # a stage failing must not lose the others
                report[stage][precision] = {"error": f"{type(error).__name__}: {error}"}
                log(f"train {stage} {precision}: failed: {error}")
                continue
            report[stage][precision] = measured.as_dict()
            log(f"train {stage:10s} {precision:15s} step median {measured.median_s:.3f}s min {measured.min_s:.3f}s")
    return report


def add_estimates(report: Dict[str, object], machine: Dict[str, float]) -> None:
    """Adds `est_unloaded_s` to each step timing: its CPU time at the probe's FLOPs per CPU second,
    rescaled to the unloaded machine's matmul rate (see `tfvton.bench.runner.add_machine_fractions`)."""
    from tfvton.bench.runner import REFERENCE_MATMUL_GFLOPS

    scale = machine["matmul_cpu_gflops"] / REFERENCE_MATMUL_GFLOPS
    for by_precision in report.values():
        if isinstance(by_precision, dict):
            for measured in by_precision.values():
                if "cpu_min_s" in measured:
                    measured["est_unloaded_s"] = measured["cpu_min_s"] * scale


def format_table(report: Dict[str, object]) -> str:
    lines = [f"training step, batch {report['batch']} (official appearance step: "
             f"{report['official_appearance_step_s'][0]}-{report['official_appearance_step_s'][1]} s)"]
    for stage, by_precision in report.items():
        if not isinstance(by_precision, dict):
            continue
        for precision, m in by_precision.items():
            if "error" in m:
                lines.append(f"{stage:12s} {precision:15s} failed: {m['error'][:120]}")
            else:
                estimate = f"  est. unloaded {m['est_unloaded_s']:.2f} s" if "est_unloaded_s" in m else ""
                lines.append(f"{stage:12s} {precision:15s} median {m['median_s']:.3f} s  min {m['min_s']:.3f} s  "
                             f"cpu min {m['cpu_min_s']:.3f} s{estimate}")
    return "\n".join(lines)
