"""The hand-written training loop: `experimental_distribute_dataset` + `strategy.run(trainer.train_step)`.

Keras 3.15's `fit()` fails under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585), so multi-worker runs take this path. It calls the
same `train_step` as `fit()` and drives the same callbacks (progress bar, CSV,
TensorBoard, checkpoints, NaN guard) through a `keras.callbacks.CallbackList`,
one "epoch" per `steps_per_epoch` steps.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def make_step_function(trainer, strategy, jit_compile: bool = False):
    """A `tf.function` running one distributed `trainer.train_step` on the iterator's next batch."""

    def replica_step(batch):
        return trainer.train_step(batch)

    @tf.function(jit_compile=jit_compile or None)
    def step_function(iterator):
        strategy.run(replica_step, args=(next(iterator),))

    return step_function


def fit(trainer, dataset, strategy, start_step: int, total_steps: int, callbacks, steps_per_epoch: int,
        jit_compile: bool = False, verbose: int = 1):
    """Trains `trainer` from `start_step` to `total_steps`.

    Args:
        trainer: a compiled, built `StageTrainer` created under `strategy.scope()`.
        dataset: batched `tf.data.Dataset` of the GLOBAL batch size.
        strategy: the distribution strategy.
        start_step: the trainer's current step.
        total_steps: the stage budget.
        callbacks: Keras callbacks (those of `tfvton.training.callbacks` and `CSVLogger`).
        steps_per_epoch: steps between epoch-level logs.
        jit_compile: XLA-compile the step.
        verbose: progress bar when > 0.
    Returns:
        The last logs as {name: float}.
    """
    iterator = iter(strategy.experimental_distribute_dataset(dataset))
    step_function = make_step_function(trainer, strategy, jit_compile)
    callback_list = keras.callbacks.CallbackList(
        list(callbacks), add_history=True, add_progbar=verbose > 0, model=trainer, verbose=verbose,
        epochs=-(-total_steps // steps_per_epoch), steps=steps_per_epoch)
    trainer.stop_training = False
    callback_list.on_train_begin()
    step, epoch, logs = start_step, start_step // steps_per_epoch, {}
    while step < total_steps and not trainer.stop_training:
        for tracker in trainer.metrics:
            tracker.reset_state()
        callback_list.on_epoch_begin(epoch)
        for batch_index in range(steps_per_epoch):
            callback_list.on_train_batch_begin(batch_index)
            step_function(iterator)
            step += 1
            logs = {name: float(tracker.result()) for name, tracker in trainer.trackers.items()}
            callback_list.on_train_batch_end(batch_index, logs)
            if step >= total_steps or trainer.stop_training:
                break
        epoch_logs = dict(logs)
        callback_list.on_epoch_end(epoch, epoch_logs)
        epoch += 1
    callback_list.on_train_end(logs)
    return logs
