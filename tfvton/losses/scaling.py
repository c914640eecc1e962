"""Turning per-sample losses into a replica's share of the global-batch mean.

Every loss in `tfvton.losses` returns one value per sample, shape (B,). A stage
trainer weights and adds them, then calls `scale_for_replicas` inside
`strategy.run`. Measured on TF 2.21 / Keras 3.15 (tests/losses/test_distribution.py):
the optimizer SUMS gradients across replicas, so each replica must return
sum(its per-sample losses) / GLOBAL batch size; then N replicas with global batch
B take the same step as one replica with batch B. A hand-written `reduce_mean`
over the local batch would make the step N times too large. Log
`loss * num_replicas()` (or the unscaled per-sample mean) for a batch-mean value.
"""
from __future__ import annotations

from typing import Optional

import tensorflow as tf


def scale_for_replicas(per_sample, global_batch_size: Optional[int] = None):
    """Sum of per-sample losses divided by the global batch size.

    Args:
        per_sample: (B_local,) loss per sample on this replica (any float dtype;
            computed in float32 so mixed precision does not overflow).
        global_batch_size: B summed over replicas. `None` uses
            B_local * num_replicas_in_sync (right when every replica gets an equal
            share; pass it explicitly when the last batch may be ragged).
    Returns:
        A float32 scalar whose gradients, summed over replicas, equal the
        gradients of the global-batch mean.
    """
    per_sample = tf.cast(per_sample, tf.float32)
    if per_sample.shape.rank != 1:
        raise ValueError(
            f"scale_for_replicas: per_sample must be per-sample losses of shape (B,). "
            f"Received: shape {per_sample.shape}")
    return tf.nn.compute_average_loss(per_sample, global_batch_size=global_batch_size)


def num_replicas() -> int:
    """Replicas in sync in the current context (1 without a strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def cross_replica_sum(value):
    """Sums `value` over replicas when called inside `strategy.run`; identity otherwise.

    Used where a reduction must span the global batch (the official parsing loss
    divides by the sum of class weights over the whole batch). Not differentiated:
    callers pass quantities that depend on labels only.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, tf.stop_gradient(value))
