"""Reflection padding of the two spatial axes (PyTorch's `nn.ReflectionPad2d`)."""
from __future__ import annotations

import contextlib
import threading

import keras
import tensorflow as tf

_STATE = threading.local()


@contextlib.contextmanager
def slice_concat_padding(enabled: bool = True):
    """While active, reflection pads are TRACED as row/column slices and concatenations.

    For TFLite conversion: LiteRT's XNNPACK delegate runs STRIDED_SLICE and
    CONCATENATION (in fp32 and int8) but not MIRROR_PAD, which falls back to
    the reference kernel and splits the delegated graph. Measured on four
    3x3 convs at 64x48x256 (docs/benchmarks.md): MIRROR_PAD added 27 ms to
    34 ms of int8 convolutions, slices + concatenations 2 ms. In TensorFlow
    itself MirrorPad is the faster one, so this is off by default.

    Example:
        >>> with slice_concat_padding():
        ...     tflite_model = converter.convert()  # traces inside the context
    """
    previous = getattr(_STATE, "slices", False)
    _STATE.slices = enabled
    try:
        yield
    finally:
        _STATE.slices = previous


def _mirror_by_slices(x, p: int, axis: int):
    size = x.shape[axis]
    if p >= size:
        raise ValueError(f"reflect_pad: padding must be less than the dimension size. "
                         f"Received: padding={p} on axis {axis} of size {size}")

    def line(i):  # one row / column, positive stride (what XNNPACK's slice takes)
        index = [slice(None)] * 4
        index[axis] = slice(i, i + 1)
        return x[tuple(index)]

    before = [line(i) for i in range(p, 0, -1)]
    after = [line(size - 1 - i) for i in range(1, p + 1)]
    # At most 5 inputs per concatenation (XNNPACK's limit), hence the two levels.
    before = before[0] if p == 1 else tf.concat(before, axis=axis)
    after = after[0] if p == 1 else tf.concat(after, axis=axis)
    return tf.concat([before, x, after], axis=axis)


def reflect_pad(x, padding: int):
    """Mirrors `padding` rows and columns onto every side of an NHWC tensor (edge not repeated).

    TensorFlow's MirrorPad (`tf.pad(mode='REFLECT')`); inside
    `slice_concat_padding()` (and with static H, W) the same values from
    slices and concatenations, for TFLite. A concatenation of reversed slices
    was also measured in TensorFlow: 3-7% more of a Tree generator's CPU time
    than MirrorPad (docs/benchmarks.md).

    Args:
        x: (B, H, W, C) tensor.
        padding: pixels added on each side; must be smaller than H and W.
    """
    p = int(padding)
    if p == 0:
        return x
    if getattr(_STATE, "slices", False) and x.shape[1] is not None and x.shape[2] is not None:
        return _mirror_by_slices(_mirror_by_slices(x, p, 1), p, 2)
    return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")


@keras.saving.register_keras_serializable(package="tfvton")
class ReflectionPad2D(keras.layers.Layer):
    """Pads height and width by mirroring, without repeating the edge pixel (NHWC).

    Equivalent to PyTorch's `nn.ReflectionPad2d(padding)` and to
    `tf.pad(mode='REFLECT')`; the padding must be smaller
    than each spatial size.

    Args:
        padding: pixels added on each of the four sides.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
        >>> ReflectionPad2D(3)(tf.zeros([1, 8, 8, 2])).shape  # (1, 14, 14, 2)
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        if int(padding) != padding or padding < 0:
            raise ValueError(f"ReflectionPad2D: padding must be a non-negative int. Received: padding={padding!r}")
        self.padding = int(padding)

    def call(self, inputs):
        return reflect_pad(inputs, self.padding)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        grow = 2 * self.padding
        return (b, None if h is None else h + grow, None if w is None else w + grow, c)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding})
        return config
