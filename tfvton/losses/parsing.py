"""Pixel-wise class-weighted cross-entropy for the parsing generator, per sample.

Official (`models/base_model.py`, `utils/loss.py` `PixelSoftmaxLoss`):
- class weights `[0.03]*2 + [0.08] + [0.03]*2 + [0.08]*3 + [0.03]*5 + [0.08]*5 + [0.05]*2`
  (20 CIHP classes; 0.08 on 2 hair, 5 upper-clothes, 6 dress, 7 coat, 13 face,
  14-17 arms and legs; 0.05 on 18-19 shoes);
- the label of each pixel is the arg-max (`topk(1)`) of the one-hot target parse;
- `CrossEntropyLoss(weight=w)` is applied to `softmax(G(x))`, not to the
  generator's output: the parsing stage's `fake_t` and the joint stage's
  `generated_parsing` are already soft-maxed, and the criterion soft-maxes again
  (a double softmax). Mode `official` reproduces this; mode `logits` takes the
  cross-entropy of the generator's output itself;
- PyTorch's weighted mean over the whole batch: sum(w[y] * nll) / sum(w[y]);
- weighted by `lambda_L1` (1) in the parsing stage, `joint_G_parsing` (1) jointly.

Per-sample values. The official normaliser sum(w[y]) spans the whole batch, so
`reduction="batch"` (default) returns
    L_b = sum_p w[y_bp] nll_bp / (sum_{b',p} w[y_b'p] / B),
whose batch mean is exactly the PyTorch value. Inside `strategy.run` the
normaliser and B are summed across replicas (labels only, no gradient), so
`scale_for_replicas(L, global_batch_size=B)` on N replicas gives the same value and
gradients as PyTorch on the global batch. `reduction="sample"` normalises each
sample by its own weight sum instead (independent of the rest of the batch).
"""
from __future__ import annotations

import tensorflow as tf

from tfvton.losses.scaling import cross_replica_sum

# The official per-class weights, CIHP label order (0 background ... 19 right shoe).
PARSING_CLASS_WEIGHTS = tuple([0.03] * 2 + [0.08] * 1 + [0.03] * 2 + [0.08] * 3 + [0.03] * 5
                              + [0.08] * 5 + [0.05] * 2)

PARSING_CE_MODES = ("official", "logits")
REDUCTIONS = ("batch", "sample")


def parsing_cross_entropy(scores, target, mode: str = "official", class_weights=PARSING_CLASS_WEIGHTS,
                          reduction: str = "batch"):
    """Class-weighted pixel cross-entropy, one value per sample.

    Args:
        scores: (B, H, W, K) parsing generator output BEFORE the softmax the
            pipeline applies (the official `generator_parsing(x)`).
        target: (B, H, W, K) one-hot (or soft) target parse; the label is its
            arg-max. Integer labels of shape (B, H, W) are accepted too.
        mode: `official` (cross-entropy of softmax(scores), the double softmax)
            or `logits` (cross-entropy of scores).
        class_weights: K weights, the official ones by default.
        reduction: `batch` (PyTorch's batch-weighted mean, see the module
            docstring) or `sample` (each sample's own weighted mean).
    Returns:
        (B,) float32.
    """
    if mode not in PARSING_CE_MODES:
        raise ValueError(
            f"loss.parsing_ce must be one of {PARSING_CE_MODES}. Received: loss.parsing_ce={mode!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"parsing_cross_entropy: reduction must be one of {REDUCTIONS}. "
                         f"Received: reduction={reduction!r}")
    scores = tf.cast(scores, tf.float32)
    target = tf.convert_to_tensor(target)
    num_classes = scores.shape[-1]
    weights = tf.constant(class_weights, tf.float32)
    if num_classes is not None and len(class_weights) != num_classes:
        raise ValueError(
            f"parsing_cross_entropy: class_weights must hold one weight per parsing class ({num_classes}). "
            f"Received: {len(class_weights)} weights")
    if target.dtype.is_integer:
        labels = tf.cast(target, tf.int32)
    else:
        labels = tf.argmax(target, axis=-1, output_type=tf.int32)

    logits = tf.nn.softmax(scores, axis=-1) if mode == "official" else scores
    nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)  # (B, H, W)
    pixel_weights = tf.gather(weights, labels)
    batch = tf.shape(nll)[0]
    weighted_sum = tf.reduce_sum(tf.reshape(pixel_weights * nll, [batch, -1]), axis=1)
    weight_sum = tf.reduce_sum(tf.reshape(pixel_weights, [batch, -1]), axis=1)
    if reduction == "sample":
        return weighted_sum / weight_sum
    # PyTorch normalises by the weight sum over the global batch; dividing by its
    # per-sample average keeps sum_b(L_b) / B equal to that value.
    total_weight = cross_replica_sum(tf.reduce_sum(weight_sum))
    global_batch = cross_replica_sum(tf.cast(batch, tf.float32))
    return weighted_sum * global_batch / total_weight
