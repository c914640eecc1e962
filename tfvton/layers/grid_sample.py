"""Bilinear sampling of an image at grid positions, as PyTorch 0.4.1's `grid_sample`."""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfvton.layers.slicing import window

PADDING_MODES = ("border", "zeros")


def grid_sample(image, grid, padding_mode: str = "border"):
    """Samples `image` bilinearly at the normalised positions in `grid`.

    Matches `torch.nn.functional.grid_sample(image, grid, mode='bilinear',
    align_corners=True)` (the only behaviour of PyTorch 0.4.1, which trained the
    official weights): x = -1 / +1 are the centres of the first / last column.
    Built from floor, clip and flat gathers only, so it converts to TFLite
    builtins.

    Args:
        image: (B, H, W, C) float tensor.
        grid: (B, Hg, Wg, 2) float tensor, last axis (x, y) in [-1, 1]; values
            outside that range are allowed.
        padding_mode: `border` (positions clamped to the image edge; what the
            official inference `warped_image` uses) or `zeros` (outside pixels read
            as 0; PyTorch's default, used by the official GMM training loss).

    Returns:
        (B, Hg, Wg, C) tensor of the image's dtype.

    Example:
        >>> image = keras.ops.ones((1, 8, 6, 3))
        >>> grid = keras.ops.zeros((1, 4, 4, 2))
        >>> grid_sample(image, grid).shape
        TensorShape([1, 4, 4, 3])
    """
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    image_shape = ops.shape(image)
    batch, height, width, channels = image_shape[0], image_shape[1], image_shape[2], image_shape[3]
    grid_shape = ops.shape(grid)
    out_height, out_width = grid_shape[1], grid_shape[2]

    dtype = image.dtype
    grid = ops.cast(grid, dtype)
    max_x = ops.cast(width - 1, dtype)
    max_y = ops.cast(height - 1, dtype)
    # Single-output slices, not grid[..., 0] (a StridedSliceGrad in training) nor unstack (a multi-output
    # UNPACK that the int8 converter quantises although the warp is kept float: warp 32.8 vs 35.7 dB).
    grid_x = tf.squeeze(window(grid, [0, 0, 0, 0], [None, None, None, 1]), -1)
    grid_y = tf.squeeze(window(grid, [0, 0, 0, 1], [None, None, None, 2]), -1)
    x = (grid_x + 1.0) * 0.5 * max_x
    y = (grid_y + 1.0) * 0.5 * max_y
    if padding_mode == "border":
        # Clamping the position equals clamping each corner index (what 0.4.1
        # does): both corners then hit the edge pixel and the weights sum to 1.
        x = ops.clip(x, 0.0, max_x)
        y = ops.clip(y, 0.0, max_y)
    x0 = ops.floor(x)
    y0 = ops.floor(y)
    wx1 = x - x0
    wy1 = y - y0
    wx0 = 1.0 - wx1
    wy0 = 1.0 - wy1

    batch_offset = ops.reshape(ops.arange(batch, dtype="int32") * (height * width), (-1, 1, 1))
    if padding_mode == "border":
        return _sample_quads(image, x0, y0, (wx0 * wy0, wx1 * wy0, wx0 * wy1, wx1 * wy1), batch_offset)
    flat_image = ops.reshape(image, (-1, channels))

    def corner(cx, cy, weight):
        ix = ops.cast(cx, "int32")
        iy = ops.cast(cy, "int32")
        if padding_mode == "zeros":
            inside = (ix >= 0) & (ix <= width - 1) & (iy >= 0) & (iy <= height - 1)
            weight = weight * ops.cast(inside, dtype)
        # Out-of-range corners only occur with zero weight (border) or masked
        # weight (zeros); clip so the gather stays in bounds.
        ix = ops.clip(ix, 0, width - 1)
        iy = ops.clip(iy, 0, height - 1)
        index = batch_offset + iy * width + ix
        values = tf.gather(flat_image, ops.reshape(index, (-1,)))  # in bounds: no negative-index fix-up
        values = ops.reshape(values, (batch, out_height, out_width, channels))
        return values * weight[..., None]

    return (
        corner(x0, y0, wx0 * wy0)
        + corner(x0 + 1.0, y0, wx1 * wy0)
        + corner(x0, y0 + 1.0, wx0 * wy1)
        + corner(x0 + 1.0, y0 + 1.0, wx1 * wy1)
    )


def _sample_quads(image, x0, y0, weights, batch_offset):
    """Border mode in one gather: every pixel carries its right, lower and lower-right neighbours.

    With the positions clamped, a corner past the last row or column is that edge pixel, which is
    what the neighbours repeat there; so one gather of 4C channels reads the four corners that four
    gathers would (one TFLite GATHER instead of four, with one index computation). Same products,
    summed in the same order: the same values as the four-gather form.
    """
    shape = ops.shape(image)
    batch, width, channels = shape[0], shape[2], image.shape[-1]
    if channels is None:
        raise ValueError("grid_sample: the image's channel axis must be known (border mode)")
    right = ops.concatenate([image[:, :, 1:], image[:, :, -1:]], axis=2)
    pair = ops.concatenate([image, right], axis=-1)
    below = ops.concatenate([pair[:, 1:], pair[:, -1:]], axis=1)
    quads = ops.reshape(ops.concatenate([pair, below], axis=-1), (-1, 4 * channels))
    index = batch_offset + ops.cast(y0, "int32") * width + ops.cast(x0, "int32")
    values = tf.gather(quads, ops.reshape(index, (-1,)))
    grid_shape = ops.shape(x0)
    values = ops.reshape(values, (batch, grid_shape[1], grid_shape[2], 4 * channels))
    # Slices, not a split: one output each, which the int8 converter keeps float with the warp.
    top_left, top_right, bottom_left, bottom_right = (
        window(values, [0, 0, 0, k * channels], [None, None, None, (k + 1) * channels]) for k in range(4))
    w00, w10, w01, w11 = weights
    return (top_left * w00[..., None] + top_right * w10[..., None] + bottom_left * w01[..., None]
            + bottom_right * w11[..., None])


@keras.saving.register_keras_serializable(package="tfvton")
class GridSample(keras.layers.Layer):
    """Layer form of `grid_sample`; called on `(image, grid)`.

    Args:
        padding_mode: `border` (default, official inference) or `zeros`.
        **kwargs: forwarded to `keras.layers.Layer`.
    """

    def __init__(self, padding_mode: str = "border", **kwargs):
        super().__init__(**kwargs)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"GridSample: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        self.padding_mode = padding_mode

    def call(self, inputs):
        image, grid = inputs
        return grid_sample(image, grid, padding_mode=self.padding_mode)

    def compute_output_shape(self, input_shape):
        image_shape, grid_shape = input_shape
        return (image_shape[0], grid_shape[1], grid_shape[2], image_shape[3])

    def get_config(self):
        config = super().get_config()
        config.update({"padding_mode": self.padding_mode})
        return config
