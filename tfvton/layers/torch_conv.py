"""PyTorch convolution semantics from Keras building blocks (helpers, not layers).

Keras' `padding='same'` puts the odd pixel of a strided convolution at the end
and differs from PyTorch's symmetric `padding=p`, so every tfvton convolution is
a `'valid'` Keras convolution with the PyTorch padding applied explicitly:

* `Conv2d(k, s, p)`  ->  `zero_pad(x, p)` then `conv2d(..., stride=s)`.
* `ConvTranspose2d(k, s, p, output_padding=op)`  ->  `conv2d_transpose(...)`
  (Keras `'valid'`, output `(H - 1) * s + k`) then `crop(x, p, p - op)`:
  PyTorch drops `p` rows at the start and `p - op` at the end of that full
  output (`op <= p`, as PyTorch itself requires for stride > dilation).

Kernel layouts, for the checkpoint converters: Keras `Conv2D` holds HWIO
(PyTorch OIHW), Keras `Conv2DTranspose` holds (kh, kw, out, in) (PyTorch
(in, out, kh, kw)); neither needs a spatial flip.

Initialisation follows the official `init_weights('normal', 0.02)`: kernels
from N(0, 0.02), biases zero.
"""
from __future__ import annotations

import keras
import tensorflow as tf

INIT_STDDEV = 0.02


def weight_initializer():
    """N(0, 0.02), the official `init_weights(init_type='normal', init_gain=0.02)`."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=INIT_STDDEV)


def conv2d(filters: int, kernel_size: int, name: str, stride: int = 1, dilation: int = 1,
           use_bias: bool = True) -> keras.layers.Conv2D:
    """A `'valid'` Conv2D initialised as the official release; pad the input yourself."""
    return keras.layers.Conv2D(
        filters, kernel_size, strides=stride, dilation_rate=dilation, padding="valid",
        use_bias=use_bias, kernel_initializer=weight_initializer(), bias_initializer="zeros", name=name)


def conv2d_transpose(filters: int, kernel_size: int, stride: int, name: str,
                     use_bias: bool = True) -> keras.layers.Conv2DTranspose:
    """A `'valid'` Conv2DTranspose initialised as the official release; crop its output with `crop`."""
    return keras.layers.Conv2DTranspose(
        filters, kernel_size, strides=stride, padding="valid", use_bias=use_bias,
        kernel_initializer=weight_initializer(), bias_initializer="zeros", name=name)


def zero_pad(x, padding: int):
    """Zero-pads height and width by `padding` on every side (PyTorch `Conv2d(padding=p)`)."""
    if padding == 0:
        return x
    return tf.pad(x, [[0, 0], [padding, padding], [padding, padding], [0, 0]])


def crop(x, start: int, end: int):
    """Drops `start` rows/columns at the top/left and `end` at the bottom/right."""
    if start == 0 and end == 0:
        return x
    # Negative Python bounds keep the static shape known (tf.shape bounds would not).
    stop = -end if end else None
    return x[:, start:stop, start:stop, :]
