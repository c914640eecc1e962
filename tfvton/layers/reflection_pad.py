"""Reflection padding of the two spatial axes (PyTorch's `nn.ReflectionPad2d`)."""
from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfvton")
class ReflectionPad2D(keras.layers.Layer):
    """Pads height and width by mirroring, without repeating the edge pixel (NHWC).

    Equivalent to PyTorch's `nn.ReflectionPad2d(padding)` and to
    `tf.pad(mode='REFLECT')`; the padding must be smaller than each spatial size.

    Args:
        padding: pixels added on each of the four sides.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
        >>> ReflectionPad2D(3)(tf.zeros([1, 8, 8, 2])).shape  # (1, 14, 14, 2)
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        if int(padding) != padding or padding < 0:
            raise ValueError(f"tfvton/layers/reflection_pad.py: padding must be a non-negative int, got {padding!r}")
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        if p == 0:
            return inputs
        return tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        grow = 2 * self.padding
        return (b, None if h is None else h + grow, None if w is None else w + grow, c)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding})
        return config
