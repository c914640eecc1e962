"""PIL-exact BILINEAR resampling of 8-bit grey images in TensorFlow ops (for the body shape).

The official `source_parse_shape` blurs the body mask with two PIL resizes; reproducing them
bit for bit needs Pillow's fixed-point filter, built here as constant matrices at trace time.
`tfvton.data.transforms` re-exports `pil_bilinear_resize`.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

# Pillow's fixed-point resampling precision for 8-bit images (Resample.c: 32 - 8 - 2).
_PIL_PRECISION_BITS = 22


def _pil_bilinear_coefficients(in_size: int, out_size: int) -> np.ndarray:
    """Pillow's fixed-point BILINEAR coefficients as an (out_size, in_size) int64 matrix.

    Mirrors Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` (Resample.c):
    the filter support grows with the scale when downsampling (antialias),
    weights are normalised per output pixel, then rounded to 22-bit integers.
    Runs in numpy at trace time only.
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale  # bilinear filter support is 1
    matrix = np.zeros((out_size, in_size), np.int64)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        ss = 1.0 / filterscale
        xmin = max(int(center - support + 0.5), 0)  # C (int) truncates toward zero, like int()
        xmax = min(int(center + support + 0.5), in_size)
        weights = []
        for x in range(xmin, xmax):
            t = abs((x - center + 0.5) * ss)
            weights.append(1.0 - t if t < 1.0 else 0.0)
        total = sum(weights)
        for i, w in enumerate(weights):
            if total != 0.0:
                w /= total
            # Bilinear weights are never negative, so this is Pillow's rounding.
            matrix[xx, xmin + i] = int(0.5 + w * (1 << _PIL_PRECISION_BITS))
    return matrix


def _pil_pass(x: tf.Tensor, coefficients: np.ndarray) -> tf.Tensor:
    """One separable Pillow pass along the last axis: (..., n) uint8 values -> (..., m).

    Pillow computes clip8((2^21 + sum(v * k)) >> 22) in 32-bit integers. To do
    it with float32 matmuls that are exact even under TF32 / reduced-precision
    GPU matmuls, each coefficient k (< 2^23) is split into 8-bit digits
    k = a * 2^16 + b * 2^8 + c; every product and partial sum then stays an
    integer below 2^24, and the carries are propagated with exact floor divisions.
    """
    k = coefficients
    digits = np.concatenate([k >> 16, (k >> 8) & 255, k & 255], axis=0).astype(np.float32)  # (3m, n)
    m = k.shape[0]
    sums = tf.matmul(x, tf.constant(digits.T))  # (..., 3m)
    a, b, c = sums[..., :m], sums[..., m:2 * m], sums[..., 2 * m:]
    b = b + tf.math.floor(c / 256.0)
    a = a + tf.math.floor(b / 256.0) + float(1 << (_PIL_PRECISION_BITS - 1 - 16))  # + 2^21 rounding
    # The remaining low digits sum to < 2^16, so they cannot change floor(total / 2^22).
    return tf.minimum(tf.math.floor(a / 64.0), 255.0)


def pil_bilinear_resize(image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Resizes 8-bit grey images exactly as PIL `Image.resize((width, height), BILINEAR)`.

    PIL resizes 8-bit images with separable fixed-point filtering, horizontal
    pass first, rounding to uint8 after each pass; both are reproduced with
    constant matrices (built in numpy at trace time) applied by matmuls.

    Args:
        image: (..., h, w) integer-valued tensor with values in 0-255 (static h, w).
        height, width: output size.
    Returns:
        float32 (..., height, width) holding integers 0-255.
    """
    x = tf.cast(image, tf.float32)
    in_h, in_w = x.shape[-2], x.shape[-1]
    if in_h is None or in_w is None:
        raise ValueError(f"pil_bilinear_resize needs a static image size, got shape {x.shape}")
    if in_w != width:  # Pillow skips a pass whose size does not change
        x = _pil_pass(x, _pil_bilinear_coefficients(in_w, width))
    if in_h != height:
        x = tf.linalg.matrix_transpose(x)
        x = _pil_pass(x, _pil_bilinear_coefficients(in_h, height))
        x = tf.linalg.matrix_transpose(x)
    return x
