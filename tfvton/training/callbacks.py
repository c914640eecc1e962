"""Callbacks of a stage run: NaN guard, checkpoints, step budget, TensorBoard scalars and images.

They read the trainer's `step` variable (the global optimisation step, restored
with the checkpoint), not Keras's epoch/batch counters, so logs, checkpoints and
images line up across resumed runs. They work under `fit()` and under the
multi-worker loop, which drives a `keras.callbacks.CallbackList` by hand.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Optional

import keras
import numpy as np
import tensorflow as tf

from tfvton.errors import TfvtonError
from tfvton.training.grids import compose_grid


def _plugin_metadata(plugin: str):
    # TensorBoard's scalar/image plugin data (version 0) is an empty proto, so the
    # summaries need no `tensorboard` package to write, and TensorBoard reads them.
    return tf.compat.v1.SummaryMetadata(
        plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name=plugin)).SerializeToString()


def write_scalar(tag: str, value: float, step: int) -> None:
    """A TensorBoard scalar via `tf.summary.write` (call under `writer.as_default()`)."""
    tf.summary.write(tag, tf.constant(float(value), tf.float32), step=step, metadata=_plugin_metadata("scalars"))


def write_image(tag: str, image: np.ndarray, step: int) -> None:
    """A TensorBoard image (uint8 RGB (H, W, 3)) via `tf.summary.write`."""
    png = tf.io.encode_png(tf.constant(image, tf.uint8))
    tensor = tf.stack([tf.constant(str(image.shape[1])), tf.constant(str(image.shape[0])), png])
    tf.summary.write(tag, tensor, step=step, metadata=_plugin_metadata("images"))


class NonFiniteLossError(TfvtonError, RuntimeError):
    """A loss term became NaN or infinite; names the stage, the step and the term."""

    def __init__(self, stage: str, step: int, term: str, value: float):
        self.stage, self.step, self.term, self.value = stage, step, term, value
        super().__init__(f"stage {stage!r}, step {step}: loss term {term!r} is {value} -- training stopped; "
                         f"the last checkpoint before this step is intact (lower optimizer.lr, check the data, "
                         f"or try train.mixed_precision=none)")


def _value(value) -> float:
    return float(np.asarray(value))


def check_finite(logs: Optional[Mapping], stage: str, step: int) -> None:
    """Raises `NonFiniteLossError` for the first non-finite value in `logs`."""
    for term, value in (logs or {}).items():
        number = _value(value)
        if not math.isfinite(number):
            raise NonFiniteLossError(stage, step, term, number)


class _StepCallback(keras.callbacks.Callback):
    """Base: `self.step` is the trainer's global step after the batch that just ran."""

    @property
    def step(self) -> int:
        return int(self.model.step.numpy())


class NanGuard(_StepCallback):
    """Stops the run on the first NaN/inf loss term (before any checkpoint of that step).

    Args:
        stage: stage name for the message.
    """

    def __init__(self, stage: str):
        super().__init__()
        self.stage = stage

    def on_train_batch_end(self, batch, logs=None):
        check_finite(logs, self.stage, self.step)


class StopAtStep(_StepCallback):
    """Ends `fit` when the trainer's step reaches the stage budget."""

    def __init__(self, total_steps: int):
        super().__init__()
        self.total_steps = int(total_steps)

    def on_train_batch_end(self, batch, logs=None):
        if self.step >= self.total_steps:
            self.model.stop_training = True


class CheckpointEvery(_StepCallback):
    """Saves through an `AtomicCheckpointManager` every `every` steps and at the end of training.

    Args:
        manager: `tfvton.training.checkpoints.AtomicCheckpointManager`.
        every: steps between checkpoints (0: only at the end).
    """

    def __init__(self, manager, every: int):
        super().__init__()
        self.manager = manager
        self.every = int(every)

    def on_train_batch_end(self, batch, logs=None):
        step = self.step
        if self.every and step % self.every == 0:
            self.manager.save(step)

    def on_train_end(self, logs=None):
        self.manager.save(self.step)


class StepInLogs(_StepCallback):
    """Adds `step` to the epoch logs (so the CSV log has a step column); put it before `CSVLogger`."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["step"] = self.step


class DurableCSVLogger(keras.callbacks.CSVLogger):
    """`CSVLogger` whose every row reaches the disk (flush + fsync) before training goes on.

    A run killed right after a row (SIGKILL, power loss) keeps it; the row is
    written at `log_every` steps, so the cost is one fsync per log row.
    """

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self.csv_file.flush()
        os.fsync(self.csv_file.fileno())


class ScalarSummaries(_StepCallback):
    """TensorBoard scalars: every loss term and each optimizer's learning rate, every `every` steps.

    Args:
        log_dir: TensorBoard directory.
        every: steps between writes.
    """

    def __init__(self, log_dir, every: int):
        super().__init__()
        self.log_dir = str(log_dir)
        self.every = max(1, int(every))
        self.writer = tf.summary.create_file_writer(self.log_dir)

    def on_train_batch_end(self, batch, logs=None):
        step = self.step
        if step % self.every:
            return
        with self.writer.as_default():
            for name, value in (logs or {}).items():
                write_scalar(f"loss/{name}", _value(value), step)
            for name, optimizer in getattr(self.model, "optimizers", {}).items():
                write_scalar(f"learning_rate/{name}", _value(optimizer.learning_rate), step)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.flush()


class ImageGrids(_StepCallback):
    """Every `every` steps, writes the trainer's `visuals` on a fixed batch as a PNG and a TensorBoard image.

    Args:
        batch: a fixed (non-distributed) batch dict, e.g. the first examples of the data.
        out_dir: where `step-XXXXXXXX.png` files go.
        every: steps between grids (0: never).
        writer: optional `tf.summary` writer (TensorBoard `samples` image).
        max_rows: examples per grid.
        final: also write a grid at the end of training.
    """

    def __init__(self, batch, out_dir, every: int, writer=None, max_rows: int = 4, final: bool = False):
        super().__init__()
        self.batch = batch
        self.out_dir = Path(out_dir)
        self.every = int(every)
        self.writer = writer
        self.max_rows = max_rows
        self.final = final
        self._visuals = None
        self._last_step = None

    def write(self, step: int) -> Path:
        """Renders and writes the grid for `step`; returns the PNG path."""
        from PIL import Image

        if self._visuals is None:  # one graph per run instead of an eager pass every time
            self._visuals = tf.function(self.model.visuals)
        panels = {name: np.asarray(value) for name, value in self._visuals(self.batch).items()}
        grid = compose_grid(panels, self.max_rows)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"step-{step:08d}.png"
        Image.fromarray(grid).save(path)
        self._last_step = step
        if self.writer is not None:
            with self.writer.as_default():
                write_image("samples", grid, step)
            self.writer.flush()
        return path

    def on_train_batch_end(self, batch, logs=None):
        step = self.step
        if self.every and step % self.every == 0:
            self.write(step)

    def on_train_end(self, logs=None):
        if self.final and self._last_step != self.step:
            self.write(self.step)
