"""Distribution strategy, `TF_CONFIG`, mixed precision and XLA switches for `tfvton train`.

`--strategy` (config `train.strategy`):
    `auto`         `MirroredStrategy` when more than one GPU is visible, else the
                   default (single-device) strategy.
    `none`         the default strategy: one device, no replication.
    `mirrored`     `MirroredStrategy` over every visible GPU (or the given devices,
                   e.g. two logical CPUs in tests).
    `multiworker`  `MultiWorkerMirroredStrategy`; reads the cluster from `TF_CONFIG`.
                   Keras 3.15's `fit()` fails under it (keras-team/keras#20585), so
                   `tfvton train` drives it with a hand-written loop
                   (`tfvton.training.custom_loop`).

Launching two workers (one process per machine, or both on one host for a test):

    TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]},
                "task": {"type": "worker", "index": 0}}' \\
        tfvton train --config paper --data-root /data/MPV --run-dir runs/mw \\
        --stage appearance --strategy multiworker
    # ... the same on host1 with "index": 1. Worker 0 is the chief: it writes
    # checkpoints, logs, images and weights; the others write to scratch dirs.

The strategy must be created before any other TensorFlow work in the process (the
collective runtime of `MultiWorkerMirroredStrategy` is configured at creation).

Mixed precision (`train.mixed_precision`: `none` | `float32` | `mixed_float16` |
`mixed_bfloat16` | `auto`, see `tfvton.training.precision`) sets the global Keras
dtype policy before each stage's networks are built; losses are computed in
float32, and `mixed_float16` wraps every optimizer in a `LossScaleOptimizer`. `train.jit_compile` compiles the train step with XLA.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional, Sequence

# The allowed values live with the config checks (one home); re-exported for the CLI's choices.
from tfvton.config.validation import PRECISIONS, STRATEGIES
from tfvton.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ClusterSpec:
    """What this process is in a multi-worker job (read from `TF_CONFIG`).

    Attributes:
        workers: `host:port` of every worker.
        task_type: `worker` or `chief`.
        task_index: this process's index among its task type.
    """

    workers: tuple
    task_type: str
    task_index: int

    @property
    def is_chief(self) -> bool:
        """Worker 0 (or the explicit `chief` task) writes the run directory."""
        return self.task_type == "chief" or (self.task_type == "worker" and self.task_index == 0)

    @property
    def num_workers(self) -> int:
        return len(self.workers)


def read_tf_config(environ: Optional[dict] = None) -> Optional[ClusterSpec]:
    """Parses `TF_CONFIG`, the JSON cluster description `MultiWorkerMirroredStrategy` reads.

    Args:
        environ: the environment (default `os.environ`).
    Returns:
        A `ClusterSpec`, or None when `TF_CONFIG` is unset or empty.
    Raises:
        ValueError: `TF_CONFIG` is not valid JSON or lacks `cluster.worker` / `task`.
    """
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"the TF_CONFIG environment variable must be JSON. Received: {err}") from None
    cluster = data.get("cluster") or {}
    task = data.get("task") or {}
    workers = tuple(cluster.get("chief", ())) + tuple(cluster.get("worker", ()))
    if not workers:
        raise ConfigError(f"TF_CONFIG.cluster must list `worker` addresses. Received: {cluster!r}")
    if task.get("type") not in ("worker", "chief") or not isinstance(task.get("index"), int):
        raise ConfigError('TF_CONFIG.task must be {"type": "worker"|"chief", "index": <int>}. '
                          f"Received: {task!r}")
    return ClusterSpec(workers=workers, task_type=task["type"], task_index=task["index"])


def select_strategy(name: str = "auto", devices: Optional[Sequence[str]] = None):
    """Returns the `tf.distribute.Strategy` for `train.strategy`.

    Args:
        name: `auto` | `none` | `mirrored` | `multiworker`.
        devices: devices for `mirrored` (default: all visible GPUs, or the CPU).
    Returns:
        A strategy; `tf.distribute.get_strategy()` for `none` (and `auto` on one device).
    Raises:
        ValueError: unknown name, or `multiworker` without `TF_CONFIG`.
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ConfigError(f"train.strategy must be one of {STRATEGIES}. Received: train.strategy={name!r}")
    if name == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        name = "mirrored" if len(gpus) > 1 else "none"
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=list(devices) if devices else None)
    if read_tf_config() is None:
        raise ConfigError("train.strategy=multiworker needs the TF_CONFIG environment variable (the "
                          "cluster's worker addresses and this task's index). Received: TF_CONFIG unset")
    # RING collectives work on CPU and GPU alike; NCCL is picked by AUTO on GPUs.
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.AUTO)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def is_multi_worker(strategy) -> bool:
    """True for `MultiWorkerMirroredStrategy` with more than one worker."""
    extended = getattr(strategy, "extended", None)
    return bool(getattr(extended, "_in_multi_worker_mode", lambda: False)())


def is_chief(strategy=None) -> bool:
    """Whether this process writes the run directory (always true outside multi-worker jobs)."""
    if strategy is not None and not is_multi_worker(strategy):
        return True
    spec = read_tf_config()
    return True if spec is None else spec.is_chief


def set_precision(policy: str = "none", stage: Optional[str] = None, ngf: Optional[int] = None) -> str:
    """Sets the global Keras dtype policy for `train.mixed_precision`; call before building the networks.

    Args:
        policy: a `train.mixed_precision` value (`none`/`float32`, `mixed_float16`,
            `mixed_bfloat16`, or `auto`, resolved by `tfvton.training.precision.resolve`).
        stage: the stage about to be built (`auto` may keep a stage in float32).
        ngf: the generators' base width (`auto` keeps narrow networks in float32 on CPUs).
    Returns:
        The Keras policy name that is now global.
    """
    from tfvton.training import precision

    return precision.apply(precision.resolve(policy, stage, ngf=ngf))
