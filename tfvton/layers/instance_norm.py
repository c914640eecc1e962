"""Instance normalisation without learnable parameters, as the official release uses it."""
from __future__ import annotations

import keras
import tensorflow as tf

# Input dtypes the fused kernel takes directly (statistics are float32 inside it).
_FUSED_DTYPES = (tf.float32, tf.float16, tf.bfloat16)


def _fused_instance_norm(x, epsilon: float):
    """Instance norm of ONE sample (batch 1, NHWC) as a training-mode FusedBatchNormV3.

    With a single sample, batch statistics over (N, H, W) are the per-channel
    statistics over (H, W), and the biased variance normalises in training mode,
    exactly as instance norm. The raw op keeps PyTorch's epsilon (the Python
    wrapper raises it to cuDNN's 1.001e-5), computes the statistics in float32
    for float16/bfloat16 inputs, and is one oneDNN kernel that the grappler
    remapper also fuses with a following ReLU. TFLite converts it to the same
    MEAN / SQUARED_DIFFERENCE / RSQRT ops as `tf.nn.moments`.
    """
    channels = x.shape[-1]
    y, _, _, _, _, _ = tf.raw_ops.FusedBatchNormV3(
        x=x, scale=tf.ones([channels], tf.float32), offset=tf.zeros([channels], tf.float32),
        mean=tf.zeros([0], tf.float32), variance=tf.zeros([0], tf.float32), epsilon=epsilon,
        exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
    return y


@keras.saving.register_keras_serializable(package="tfvton")
class InstanceNorm(keras.layers.Layer):
    """Normalises every channel of every sample over its spatial positions (NHWC).

    Matches the official `get_norm_layer('instance')`, i.e. PyTorch's
    `InstanceNorm2d(affine=False, track_running_stats=False)`: no scale, no
    offset, no running statistics (training and inference behave the same), and
    the biased variance (divided by H*W, not H*W - 1) under the square root.
    A channel with a single spatial position normalises to zero, as in PyTorch.

    Implementation (measured on a 2-core AVX-512 CPU, docs/benchmarks.md): with
    a static batch size, each sample goes through one fused batch-norm kernel
    (about 0.5x the time of `tf.nn.moments` + normalise at inference, 0.2-0.4x
    with the gradient); with an unknown batch size, statistics come from
    `tf.nn.moments` in float32 and the output is one scale-and-shift.

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
        x = tf.convert_to_tensor(inputs)
        batch, channels = x.shape[0], x.shape[-1]
        if x.shape.rank == 4 and batch is not None and channels is not None and x.dtype in _FUSED_DTYPES:
            if batch == 1:
                y = _fused_instance_norm(x, self.epsilon)
            else:
                # Slices along the batch axis alias the input buffer; only the concat copies.
                y = tf.concat([_fused_instance_norm(s, self.epsilon) for s in tf.split(x, batch, axis=0)],
                              axis=0)
        else:
            # Statistics in float32 even under mixed precision: float16 sums over
            # 256x192 positions lose the variance.
            x = tf.cast(x, tf.float32)
            mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
            scale = tf.math.rsqrt(variance + self.epsilon)
            y = x * scale - mean * scale
        return tf.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
