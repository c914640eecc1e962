"""Instance normalisation without learnable parameters, as the official release uses it."""
from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfvton")
class InstanceNorm(keras.layers.Layer):
    """Normalises every channel of every sample over its spatial positions (NHWC).

    Matches the official `get_norm_layer('instance')`, i.e. PyTorch's
    `InstanceNorm2d(affine=False, track_running_stats=False)`: no scale, no
    offset, no running statistics (training and inference behave the same), and
    the biased variance (divided by H*W, not H*W - 1) under the square root.
    A channel with a single spatial position normalises to zero, as in PyTorch.

    Args:
        epsilon: added to the variance before the square root (PyTorch: 1e-5).
        **kwargs: standard `keras.layers.Layer` arguments (name, dtype, ...).

    Example:
        >>> y = InstanceNorm()(tf.random.normal([2, 8, 6, 4]))  # mean 0, var ~1 per (sample, channel)
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, inputs):
        # Statistics in float32 even under mixed precision: float16 sums over
        # 256x192 positions lose the variance.
        x = tf.cast(inputs, tf.float32)
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        y = (x - mean) * tf.math.rsqrt(variance + self.epsilon)
        return tf.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
