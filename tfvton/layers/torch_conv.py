"""PyTorch convolution semantics from Keras building blocks (helpers, not layers).

Keras' `padding='same'` puts the odd pixel of a strided convolution at the end
and differs from PyTorch's symmetric `padding=p`, so every tfvton convolution is
a `'valid'` Keras convolution with the PyTorch padding applied explicitly:

* `Conv2d(k, s, p)`  ->  `zero_pad(x, p)` then `conv2d(..., stride=s)`.
* `ConvTranspose2d(k, s, p, output_padding=op)`  ->  `conv2d_transpose(...)`
  (Keras `'valid'`, output `(H - 1) * s + k`) then `crop(x, p, p - op)`:
  PyTorch drops `p` rows at the start and `p - op` at the end of that full
  output (`op <= p`, as PyTorch itself requires for stride > dilation).

The one exception, `SAME_AS_TORCH`: a 4x4 stride-2 kernel with padding 1 on even
sizes, where `'same'` pads exactly as PyTorch (the parsing U-Net's every level).

Kernel layouts, for the checkpoint converters: Keras `Conv2D` holds HWIO
(PyTorch OIHW), Keras `Conv2DTranspose` holds (kh, kw, out, in) (PyTorch
(in, out, kh, kw)); neither needs a spatial flip.

Initialisation follows the official `init_weights('normal', 0.02)`: kernels
from N(0, 0.02), biases zero.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from tfvton.layers.slicing import window

INIT_STDDEV = 0.02
# (kernel, stride, PyTorch padding) for which Keras' 'same' is PyTorch's padding on EVEN input sizes,
# for Conv2d and ConvTranspose2d alike: 'same' pads kernel - stride = 2 pixels, one on each side.
# No separate pad / crop op then (in a TFLite model each is a full-resolution copy).
SAME_AS_TORCH = ((4, 2, 1),)


def _keras_padding(padding: str, kernel_size: int, stride: int) -> str:
    # 'same' anywhere else would pad differently from the official layer it stands for.
    if padding == "same" and (kernel_size, stride, 1) not in SAME_AS_TORCH:
        raise ValueError(f"padding='same' equals PyTorch's padding only for (kernel, stride, padding) in "
                         f"{SAME_AS_TORCH}. Received: kernel_size={kernel_size}, stride={stride}")
    return padding


def weight_initializer():
    """N(0, 0.02), the official `init_weights(init_type='normal', init_gain=0.02)`."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=INIT_STDDEV)


def conv2d(filters: int, kernel_size: int, name: str, stride: int = 1, dilation: int = 1,
           use_bias: bool = True, padding: str = "valid") -> keras.layers.Conv2D:
    """A `'valid'` Conv2D initialised as the official release; pad the input yourself.

    `padding="same"` only where it equals PyTorch's padding (see `SAME_AS_TORCH`).
    """
    return keras.layers.Conv2D(
        filters, kernel_size, strides=stride, dilation_rate=dilation,
        padding=_keras_padding(padding, kernel_size, stride),
        use_bias=use_bias, kernel_initializer=weight_initializer(), bias_initializer="zeros", name=name)


def conv2d_transpose(filters: int, kernel_size: int, stride: int, name: str,
                     use_bias: bool = True, padding: str = "valid") -> keras.layers.Conv2DTranspose:
    """A `'valid'` Conv2DTranspose initialised as the official release; crop its output with `crop`.

    `padding="same"` only where it equals PyTorch's padding (see `SAME_AS_TORCH`).
    """
    return keras.layers.Conv2DTranspose(
        filters, kernel_size, strides=stride, padding=_keras_padding(padding, kernel_size, stride),
        use_bias=use_bias,
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
    stop = -end if end else None
    return window(x, [0, start, start], [None, stop, stop])


def conv2d_by_rows(conv: keras.layers.Conv2D, x):
    """`conv(x)` for a `'valid'`, stride-1, undilated Conv2D, as one 1xk conv plus shifted row sums.

    A kh x kw kernel with few output channels (the generators' 7x7 heads: 64 -> 3
    or 4 channels at full resolution) runs far below the machine's rate in
    oneDNN. Stacking the kh kernel rows into the output channels turns it into a
    single 1 x kw convolution with kh * C_out outputs, which runs at the rate of
    a wide convolution (2.7-4.7x faster at 256x192, docs/benchmarks.md), then
    output row y sums row y + dy of the channel group dy. Same FLOPs, same
    variables (`conv.kernel`, `conv.bias`, built here if needed), float
    rounding apart the same result.

    Args:
        conv: a Keras Conv2D with `padding='valid'`, stride 1, dilation 1.
        x: (B, H, W, C_in) input, already padded.

    Returns:
        (B, H - kh + 1, W - kw + 1, C_out), as `conv(x)` (no activation).
    """
    if not conv.built:
        conv.build(x.shape)
    kernel_h, kernel_w, channels_in, channels_out = conv.kernel.shape
    kernel = tf.cast(conv.kernel, x.dtype)
    # (kh, kw, in, out) -> (1, kw, in, kh * out): output channel dy * out + c holds kernel row dy.
    rows = tf.reshape(tf.transpose(kernel, [1, 2, 0, 3]), [1, kernel_w, channels_in, kernel_h * channels_out])
    z = tf.nn.conv2d(x, rows, strides=1, padding="VALID")
    out_h = tf.shape(z)[1] - (kernel_h - 1) if z.shape[1] is None else z.shape[1] - (kernel_h - 1)
    # tf.slice: its gradient (a Pad) trains faster than StridedSlice's (tfvton.layers.slicing).
    y = tf.slice(z, [0, 0, 0, 0], [-1, out_h, -1, channels_out])
    for dy in range(1, kernel_h):
        y = y + tf.slice(z, [0, dy, 0, dy * channels_out], [-1, out_h, -1, channels_out])
    if conv.use_bias:
        y = tf.nn.bias_add(y, tf.cast(conv.bias, x.dtype))
    return y

