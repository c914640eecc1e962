"""SSIM and mask-SSIM, defined exactly (docs/metrics.md).

SSIM (Wang et al. 2004) with the constants everyone quotes and few state:

- an 11x11 Gaussian window, sigma 1.5 (the separable 1-D kernel
  exp(-x^2 / (2 * 1.5^2)), x = -5..5, normalised to sum 1);
- C1 = (0.01 * L)^2, C2 = (0.03 * L)^2 with the data range L given explicitly
  (255 for 8-bit images, 2 for images in [-1, 1]);
- population (not sample) variances and covariance;
- the SSIM map is computed only where the window fits inside the image
  ("valid" filtering, i.e. a 5-pixel border is dropped), averaged over the
  pixels of each channel, then over the channels.

This is what `skimage.metrics.structural_similarity(x, y, gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=L, channel_axis=-1)`
computes (skimage filters the whole image and then crops the same border), and
what the tests check against.

mask-SSIM: SSIM after the background of both images (target parsing label 0)
is set to the same value, black. Differences in the background then cannot
lower the score; the body region and its border with the background still count.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

WINDOW_SIZE = 11
SIGMA = 1.5
K1 = 0.01
K2 = 0.03

__all__ = ["WINDOW_SIZE", "SIGMA", "K1", "K2", "gaussian_kernel", "ssim", "mask_background", "mask_ssim"]


def gaussian_kernel(size: int = WINDOW_SIZE, sigma: float = SIGMA) -> np.ndarray:
    """The normalised 1-D Gaussian window (scipy's `gaussian_filter1d` weights for truncate=3.5)."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _filter_valid(x: tf.Tensor, kernel: np.ndarray) -> tf.Tensor:
    """Separable Gaussian filtering of (N, H, W, C) float64, 'valid' (no padding), per channel."""
    n_channels = x.shape[-1]
    size = kernel.shape[0]
    kx = tf.constant(np.tile(kernel.reshape(1, size, 1, 1), (1, 1, n_channels, 1)), tf.float64)
    ky = tf.constant(np.tile(kernel.reshape(size, 1, 1, 1), (1, 1, n_channels, 1)), tf.float64)
    x = tf.nn.depthwise_conv2d(x, kx, strides=[1, 1, 1, 1], padding="VALID")
    return tf.nn.depthwise_conv2d(x, ky, strides=[1, 1, 1, 1], padding="VALID")


def ssim(x, y, data_range: float, per_channel: bool = False) -> tf.Tensor:
    """SSIM of each image pair (see the module docstring for the exact definition).

    Args:
        x, y: images (H, W, C) or batches (N, H, W, C), any float or integer
            dtype; H and W must be at least 11.
        data_range: L, the distance between the lowest and highest possible
            pixel value: 255 for uint8 images, 2.0 for images in [-1, 1],
            1.0 for [0, 1]. Required, because guessing it from the data is the
            most common cause of irreproducible SSIM numbers.
        per_channel: return the per-channel means (N, C) instead of their mean.

    Returns:
        float64 tensor (N,) (or () for a single image; (N, C) / (C,) with
        `per_channel`).

    Example:
        >>> ssim(fake_uint8, real_uint8, data_range=255)
    """
    if data_range is None or float(data_range) <= 0:
        raise ValueError(f"ssim: data_range must be a positive number (255 for uint8, 2 for [-1, 1]), "
                         f"got {data_range!r}")
    x = tf.cast(tf.convert_to_tensor(x), tf.float64)
    y = tf.cast(tf.convert_to_tensor(y), tf.float64)
    single = x.shape.rank == 3
    if single:
        x, y = x[None], y[None]
    if x.shape.rank != 4 or x.shape != y.shape:
        raise ValueError(f"ssim: expected two images of the same shape (H, W, C) or (N, H, W, C), "
                         f"got {x.shape} and {y.shape}")
    if x.shape[1] < WINDOW_SIZE or x.shape[2] < WINDOW_SIZE:
        raise ValueError(f"ssim: images must be at least {WINDOW_SIZE}x{WINDOW_SIZE}, got {x.shape[1:3]}")

    kernel = gaussian_kernel()
    c1 = (K1 * float(data_range)) ** 2
    c2 = (K2 * float(data_range)) ** 2
    mu_x = _filter_valid(x, kernel)
    mu_y = _filter_valid(y, kernel)
    # E[x^2] - E[x]^2: the population variance, as skimage with use_sample_covariance=False.
    var_x = _filter_valid(x * x, kernel) - mu_x * mu_x
    var_y = _filter_valid(y * y, kernel) - mu_y * mu_y
    cov_xy = _filter_valid(x * y, kernel) - mu_x * mu_y
    ssim_map = ((2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2))
    per_channel_mean = tf.reduce_mean(ssim_map, axis=[1, 2])  # (N, C)
    result = per_channel_mean if per_channel else tf.reduce_mean(per_channel_mean, axis=-1)
    return result[0] if single else result


def mask_background(image, foreground, background_value: float) -> tf.Tensor:
    """Sets every pixel outside `foreground` to `background_value`.

    Args:
        image: (..., H, W, C) image.
        foreground: (..., H, W, 1) or (..., H, W) mask, nonzero = keep.
        background_value: the value written into the background (0 for uint8
            images, -1 for [-1, 1] images: black in both cases).
    Returns:
        float64 tensor shaped like `image`.
    """
    image = tf.cast(tf.convert_to_tensor(image), tf.float64)
    foreground = tf.convert_to_tensor(foreground)
    if foreground.shape.rank == image.shape.rank - 1:
        foreground = foreground[..., None]
    keep = tf.cast(tf.not_equal(foreground, tf.zeros_like(foreground)), tf.float64)
    return image * keep + background_value * (1.0 - keep)


def mask_ssim(x, y, foreground, data_range: float, background_value: float = None) -> tf.Tensor:
    """mask-SSIM: SSIM after setting the background of both images to black.

    Args:
        x, y: images as for `ssim`.
        foreground: (N, H, W) or (N, H, W, 1) mask of the person, nonzero =
            person; the evaluation uses the target parsing's labels > 0.
        data_range: as for `ssim`.
        background_value: value given to the background in both images;
            default: 0 when `data_range` is 255 or 1 (uint8 / [0, 1] images),
            -1 when it is 2 ([-1, 1] images), i.e. black.
    Returns:
        float64 tensor (N,) (or () for single images).
    """
    if background_value is None:
        background_value = -1.0 if float(data_range) == 2.0 else 0.0
    return ssim(mask_background(x, foreground, background_value),
                mask_background(y, foreground, background_value), data_range)
