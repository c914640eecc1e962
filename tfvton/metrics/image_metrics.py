"""Weight-free pixel metrics: L1 and PSNR, and the 8-bit quantisation every metric sees (docs/metrics.md).

Both are computed per image pair and averaged by the caller, so a dataset's
score is the mean over images (not a pooled MSE).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["l1", "psnr", "to_uint8"]


def to_uint8(image) -> np.ndarray:
    """[-1, 1] float -> uint8 as written to PNG: round(clip((x + 1) * 127.5, 0, 255))."""
    return np.clip(np.round((np.asarray(image, np.float64) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _pair(x, y, what: str):
    x = tf.cast(tf.convert_to_tensor(x), tf.float64)
    y = tf.cast(tf.convert_to_tensor(y), tf.float64)
    if x.shape != y.shape:
        raise ValueError(f"{what}: images must have the same shape, got {x.shape} and {y.shape}")
    single = x.shape.rank == 3
    if single:
        x, y = x[None], y[None]
    return x, y, single


def l1(x, y, data_range: float) -> tf.Tensor:
    """Mean absolute difference, in units of the data range (so 0 = equal, 1 = black vs white).

    Args:
        x, y: images (H, W, C) or (N, H, W, C).
        data_range: the pixel value range (255 for uint8, 2 for [-1, 1]).
    Returns:
        float64 (N,) (or () for single images).
    """
    x, y, single = _pair(x, y, "l1")
    value = tf.reduce_mean(tf.abs(x - y), axis=[1, 2, 3]) / float(data_range)
    return value[0] if single else value


def psnr(x, y, data_range: float, max_db: float = 100.0) -> tf.Tensor:
    """Peak signal-to-noise ratio 10 * log10(L^2 / MSE) in dB, per image.

    Identical images have an infinite PSNR; it is capped at `max_db` so means stay finite.

    Args:
        x, y: images (H, W, C) or (N, H, W, C).
        data_range: L (255 for uint8, 2 for [-1, 1]).
        max_db: the value reported for identical images.
    Returns:
        float64 (N,) (or () for single images).
    """
    x, y, single = _pair(x, y, "psnr")
    mse = tf.reduce_mean(tf.square(x - y), axis=[1, 2, 3])
    value = 10.0 * tf.math.log(float(data_range) ** 2 / tf.maximum(mse, 1e-300)) / tf.math.log(
        tf.constant(10.0, tf.float64))
    value = tf.where(mse > 0, tf.minimum(value, max_db), tf.constant(max_db, tf.float64))
    return value[0] if single else value
