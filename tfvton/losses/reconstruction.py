"""Pixel reconstruction losses: L1, smooth L1, MSE, one value per sample.

Official use (`models/generation_model.py`, criteria in `models/base_model.py`):
- GMM stage: `L1Loss(warped_cloth, im_c)`.
- appearance stage: `SmoothL1Loss(p_tryon, target_image) * lambda_L1` (beta 1).
- face stage: `L1Loss(face_fake, face_real) * face_L1` (10) and
  `L1Loss(refined_image, target_image) * face_img_L1` (1).
PyTorch's losses take the mean over every element of the batch; these take the
mean over each sample's H, W, C, so with equal-sized samples the batch mean of
the result equals the PyTorch value.
"""
from __future__ import annotations

import tensorflow as tf


def _per_sample_mean(values):
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def _as_float32(prediction, target):
    return tf.cast(prediction, tf.float32), tf.cast(target, tf.float32)


def l1_loss(prediction, target):
    """Mean absolute error per sample.

    Args:
        prediction: (B, ...) tensor.
        target: same shape.
    Returns:
        (B,) float32.
    """
    prediction, target = _as_float32(prediction, target)
    return _per_sample_mean(tf.abs(prediction - target))


def mse_loss(prediction, target):
    """Mean squared error per sample, (B,) float32."""
    prediction, target = _as_float32(prediction, target)
    return _per_sample_mean(tf.square(prediction - target))


def smooth_l1_loss(prediction, target, beta: float = 1.0):
    """PyTorch's `SmoothL1Loss(beta)` per sample: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.

    Args:
        prediction: (B, ...) tensor.
        target: same shape.
        beta: the quadratic-to-linear threshold (PyTorch default and the official 1.0).
    Returns:
        (B,) float32.
    """
    prediction, target = _as_float32(prediction, target)
    diff = tf.abs(prediction - target)
    if beta <= 0:
        return _per_sample_mean(diff)
    elementwise = tf.where(diff < beta, 0.5 * tf.square(diff) / beta, diff - 0.5 * beta)
    return _per_sample_mean(elementwise)
