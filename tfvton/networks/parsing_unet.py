"""The parsing generator: the pix2pix U-Net as the official `Define_G(..., 'unet_256')` builds it."""
from __future__ import annotations

import keras

from tfvton.layers.instance_norm import InstanceNorm
from tfvton.layers.torch_conv import conv2d, conv2d_transpose

MAX_DOWNSAMPLINGS = 6  # the official 'unet_256'
LEAKY_SLOPE = 0.2
OUTPUT_ACTIVATIONS = ("tanh", "linear")


def derive_unet_downsamplings(height: int, width: int, max_downsamplings: int = MAX_DOWNSAMPLINGS) -> int:
    """U-Net depth for an input size: the largest n <= 6 with H and W divisible by 2**n.

    6 at the paper's 256x192 (the official `unet_256`: 256x192 -> 4x3 at the
    bottleneck); every size tfvton's config accepts (multiples of 32) gets at
    least 5. Depth only changes how many ngf*8 blocks sit in the middle, so
    official checkpoints load only at depth 6.

    Args:
        height: input height in pixels.
        width: input width in pixels.
        max_downsamplings: upper bound (6 as the official release).
    Returns:
        The number of stride-2 downsamplings.
    Raises:
        ValueError: when H or W is not even twice (no useful U-Net).
    """
    n = 0
    while n < max_downsamplings and height % 2 ** (n + 1) == 0 and width % 2 ** (n + 1) == 0:
        n += 1
    if n < 2:
        raise ValueError(f"data.height and data.width must both be divisible by 4 for the parsing U-Net (2 "
                         f"downsamplings at least). Received: data.height={height}, data.width={width}")
    return n


@keras.saving.register_keras_serializable(package="tfvton")
class ParsingUNet(keras.Model):
    """pix2pix U-Net with skip connections, InstanceNorm, and a tanh output.

    Level i = 0 .. n-1 (0 outermost) has inner width ngf * min(2**i, 8), so
    n = 6 gives the official 64, 128, 256, 512, 512, 512. Down path: level 0 is
    a bare conv; deeper levels are LeakyReLU(0.2), conv, IN (no IN at the
    innermost level). Every conv is 4x4 stride 2 with zero padding 1; every
    transposed conv is 4x4 stride 2 padding 1; all carry biases (the official
    `use_bias` is True with InstanceNorm). Up path: ReLU, transposed conv, IN
    (tanh instead of IN at level 0), then Dropout at the ngf*8 -> ngf*8
    intermediate levels 4 .. n-2 (one at n = 6), after the up-norm.

    Skip channels come first in each concatenation. The skip of level i is
    LeakyReLU(d_{i-1}), as the official in-place LeakyReLU leaves the tensor
    that `torch.cat([x, model(x)])` concatenates; only the parent's ReLU reads
    it and ReLU(LeakyReLU(x)) = ReLU(x), so this is not observable. The output
    goes through tanh (or none, `output_activation="linear"`); the pipeline
    applies the softmax.

    Sublayers (stable names the checkpoint converter relies on):
    `down{i}_conv`, `up{i}_deconv` for i = 0 .. n-1.

    Args:
        output_channels: parsing classes (20).
        ngf: base width (64).
        downsamplings: depth n >= 2 (6 for the official checkpoints; see
            `derive_unet_downsamplings`). H and W must be divisible by 2**n.
        dropout: Dropout rate in the intermediate levels (official: 0.5,
            active only with `training=True`).
        output_activation: `tanh` (official) or `linear` (the scores leave
            unbounded, for training from scratch with a cross-entropy on them;
            `model.parsing_output`). No weights depend on it.
        **kwargs: standard `keras.Model` arguments (name, ...).

    Example:
        >>> net = ParsingUNet(output_channels=20, ngf=8, downsamplings=6)
        >>> net(tf.zeros([1, 256, 192, 36])).shape  # (1, 256, 192, 20)
    """

    def __init__(self, output_channels: int = 20, ngf: int = 64, downsamplings: int = MAX_DOWNSAMPLINGS,
                 dropout: float = 0.5, output_activation: str = "tanh", **kwargs):
        super().__init__(**kwargs)
        if output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"model.parsing_output must be one of {OUTPUT_ACTIVATIONS}, got {output_activation!r}")
        if downsamplings < 2:
            raise ValueError(f"ParsingUNet: downsamplings must be >= 2. Received: downsamplings={downsamplings}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"ParsingUNet: dropout must be in [0, 1). Received: dropout={dropout!r}")
        self.output_channels = output_channels
        self.ngf = ngf
        self.downsamplings = downsamplings
        self.dropout = dropout
        self.output_activation = output_activation

        # === Layers ===
        self.norm = InstanceNorm(name="norm")
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout") if dropout > 0 else None
        for i in range(downsamplings):
            outer = output_channels if i == 0 else self.level_width(i - 1)
            # Every level's size is even (H and W divide by 2**n), so 'same' is PyTorch's padding=1.
            setattr(self, f"down{i}_conv", conv2d(self.level_width(i), 4, stride=2, name=f"down{i}_conv",
                                                  padding="same"))
            setattr(self, f"up{i}_deconv", conv2d_transpose(outer, 4, stride=2, name=f"up{i}_deconv",
                                                            padding="same"))

    def level_width(self, level: int) -> int:
        """Inner width of a level: ngf * min(2**level, 8)."""
        return self.ngf * min(2 ** level, 8)

    def has_dropout(self, level: int) -> bool:
        """Whether a level ends with Dropout: the ngf*8 -> ngf*8 intermediate levels."""
        return self.dropout_layer is not None and 4 <= level <= self.downsamplings - 2

    def _down(self, level, x):
        # PyTorch Conv2d(4, 2, padding=1) as 'same' (`torch_conv.SAME_AS_TORCH`).
        return getattr(self, f"down{level}_conv")(x)

    def _up(self, level, x):
        # PyTorch ConvTranspose2d(4, 2, padding=1) as 'same' (`torch_conv.SAME_AS_TORCH`).
        return getattr(self, f"up{level}_deconv")(x)

    def call(self, inputs, training=None):
        n = self.downsamplings
        down = self._down(0, inputs)
        skips = []
        for level in range(1, n):
            down = keras.ops.leaky_relu(down, negative_slope=LEAKY_SLOPE)
            skips.append(down)  # LeakyReLU'd, as the in-place official op leaves it
            down = self._down(level, down)
            if level < n - 1:
                down = self.norm(down)
        x = down
        for level in range(n - 1, 0, -1):
            x = self.norm(self._up(level, keras.ops.relu(x)))
            if self.has_dropout(level):
                x = self.dropout_layer(x, training=training)
            x = keras.ops.concatenate([skips[level - 1], x], axis=-1)
        scores = self._up(0, keras.ops.relu(x))
        return keras.ops.tanh(scores) if self.output_activation == "tanh" else scores

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_channels,)

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update({"output_channels": self.output_channels, "ngf": self.ngf,
                       "downsamplings": self.downsamplings, "dropout": self.dropout,
                       "output_activation": self.output_activation})
        return config
