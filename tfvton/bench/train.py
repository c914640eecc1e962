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
from tfvton.bench.reference import OFFICIAL_RELEASE

DEFAULT_STAGES = ("appearance",)


def training_batch(examples: Sequence[Dict[str, np.ndarray]], batch: int) -> Dict[str, np.ndarray]:
    """Model inputs plus target tensors (the source itself) for `batch` examples."""
    from tfvton.bench.inputs import stack_batch
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
    """{stage: {precision: timing dict}}, the batch, and the official release's appearance step as a reference.

    The reference (`reference`) is what `tfvton.bench.reference.OFFICIAL_RELEASE`
    records: measured once, on the machine and date it names.
    """
    from tfvton.bench.inputs import real_format_examples

    log = log or (lambda message: None)
    if examples is None:
        examples, _ = real_format_examples(config, None)
    data = training_batch(examples, batch)
    report: Dict[str, object] = {"batch": batch}
    if OFFICIAL_RELEASE.applies_to(config):  # timed at the paper's geometry and widths only
        report["reference"] = {"appearance_step_s": list(OFFICIAL_RELEASE.training_step_seconds),
                               "what": OFFICIAL_RELEASE.what, "machine": OFFICIAL_RELEASE.machine,
                               "measured": OFFICIAL_RELEASE.measured}
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


def format_table(report: Dict[str, object]) -> str:
    """One line per stage and precision, then the official reference with where and when it was measured."""
    lines = [f"training step, batch {report['batch']}"]
    for stage, by_precision in report.items():
        if stage in ("batch", "reference") or not isinstance(by_precision, dict):
            continue
        for precision, m in by_precision.items():
            if "error" in m:
                lines.append(f"{stage:12s} {precision:15s} failed: {m['error'][:120]}")
            else:
                lines.append(f"{stage:12s} {precision:15s} median {m['median_s']:.3f} s  min {m['min_s']:.3f} s  "
                             f"cpu min {m['cpu_min_s']:.3f} s")
    reference = report.get("reference")
    if reference:
        low, high = reference["appearance_step_s"]
        lines.append(f"{'reference':12s} appearance step {low}-{high} s: {reference['what']}; reference measured on "
                     f"{reference['machine']}, {reference['measured']}; not measured on this machine")
    return "\n".join(lines)
