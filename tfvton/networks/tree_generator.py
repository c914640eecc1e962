"""The appearance and face generators: the official `TreeResnetGenerator`."""
from __future__ import annotations

import keras

from tfvton.layers.instance_norm import InstanceNorm
from tfvton.layers.reflection_pad import ReflectionPad2D
from tfvton.layers.resnet_block import ResnetBlock
from tfvton.layers.torch_conv import conv2d, conv2d_by_rows, conv2d_transpose, crop, zero_pad
from tfvton.layers.tree_block import FUSION_ACTIVATIONS, TreeBlock

BLOCKS = ("tree", "resnet")
N_DOWNSAMPLINGS = 2


@keras.saving.register_keras_serializable(package="tfvton")
class TreeGenerator(keras.Model):
    """Encoder, n residual Tree-Blocks at 1/4 resolution, decoder.

    As the official `TreeResnetGenerator` (all convolutions with biases, all
    norms InstanceNorm without affine parameters):
    reflect-pad 3, conv7x7 -> ngf, IN, ReLU;
    2x [conv3x3 stride 2 zero-pad 1 -> x2 width, IN, ReLU];
    n_blocks x TreeBlock (or ResnetBlock with `block='resnet'`) at ngf*4;
    2x [ConvTranspose 3x3 stride 2 padding 1 output_padding 1 -> /2 width, IN, ReLU];
    reflect-pad 3, conv7x7 -> output_channels; tanh if `with_tanh`.
    H and W must be divisible by 4, and H/4, W/4 >= 5: as in PyTorch, the
    Tree-Block's reflection padding of 4 needs more positions than it pads.

    The official appearance generator (26 -> 4) has no tanh (the pipeline
    applies tanh / sigmoid to its channel groups); the face generator (6 -> 3)
    has one.

    Sublayers (stable names the checkpoint converter relies on):
    `stem_conv`, `down1_conv`, `down2_conv`, `block_{i}` (i = 0 .. n_blocks-1),
    `up1_deconv`, `up2_deconv`, `head_conv`.

    Args:
        output_channels: 4 (appearance: render RGB + composition mask) or 3 (face).
        ngf: base width (64).
        n_blocks: residual blocks at the bottleneck (6).
        block: `tree` (the paper's Tree-Block) or `resnet` (standard ResNet
            blocks: the paper's SRB-VTON baseline).
        fusion_activation: `none` (official) or `relu` (paper's Eq. 2); Tree-Blocks only.
        dropout: Dropout rate inside the blocks (official: 0.5, training only).
        with_tanh: tanh on the output.
        residual: add the output to the input's last `output_channels` channels
            (clipped to [-1, 1]), with the head initialised to zero so the
            untrained generator returns them unchanged (the face generator's
            input ends with the face to refine; config `model.face_residual`).
            Not in the official release.
        **kwargs: standard `keras.Model` arguments.

    Example:
        >>> face = TreeGenerator(output_channels=3, ngf=8, n_blocks=2, with_tanh=True)
        >>> face(tf.zeros([1, 64, 48, 6])).shape  # (1, 64, 48, 3)
    """

    def __init__(self, output_channels: int = 4, ngf: int = 64, n_blocks: int = 6, block: str = "tree",
                 fusion_activation: str = "none", dropout: float = 0.5, with_tanh: bool = False,
                 residual: bool = False, **kwargs):
        super().__init__(**kwargs)
        if block not in BLOCKS:
            raise ValueError(f"TreeGenerator: block must be one of {BLOCKS}. Received: block={block!r}")
        if fusion_activation not in FUSION_ACTIVATIONS:
            raise ValueError(f"TreeGenerator: fusion_activation must be one of {FUSION_ACTIVATIONS}. "
                             f"Received: fusion_activation={fusion_activation!r}")
        if n_blocks < 0:
            raise ValueError(f"TreeGenerator: n_blocks must be >= 0. Received: n_blocks={n_blocks}")
        self.output_channels = output_channels
        self.ngf = ngf
        self.n_blocks = n_blocks
        self.block = block
        self.fusion_activation = fusion_activation
        self.dropout = dropout
        self.with_tanh = with_tanh
        self.residual = residual

        # === Layers ===
        self.pad3 = ReflectionPad2D(3, name="pad3")
        self.norm = InstanceNorm(name="norm")
        self.stem_conv = conv2d(ngf, 7, name="stem_conv")
        self.down1_conv = conv2d(ngf * 2, 3, stride=2, name="down1_conv")
        self.down2_conv = conv2d(ngf * 4, 3, stride=2, name="down2_conv")
        for i in range(n_blocks):
            if block == "tree":
                layer = TreeBlock(dropout=dropout, fusion_activation=fusion_activation, name=f"block_{i}")
            else:
                layer = ResnetBlock(dropout=dropout, name=f"block_{i}")
            setattr(self, f"block_{i}", layer)
        self.up1_deconv = conv2d_transpose(ngf * 2, 3, stride=2, name="up1_deconv")
        self.up2_deconv = conv2d_transpose(ngf, 3, stride=2, name="up2_deconv")
        self.head_conv = conv2d(output_channels, 7, name="head_conv")
        if residual:
            # A head that starts at zero makes the untrained generator the identity on its input's
            # last channels: a few training steps can then only improve on what it was given.
            self.head_conv.kernel_initializer = keras.initializers.Zeros()

    def call(self, inputs, training=None):
        x = keras.ops.relu(self.norm(self.stem_conv(self.pad3(inputs))))
        for conv in (self.down1_conv, self.down2_conv):
            x = keras.ops.relu(self.norm(conv(zero_pad(x, 1))))
        for i in range(self.n_blocks):
            x = getattr(self, f"block_{i}")(x, training=training)
        for deconv in (self.up1_deconv, self.up2_deconv):
            # ConvTranspose2d(3, 2, padding=1, output_padding=1): the 'valid' output is 2H + 1;
            # PyTorch drops 1 row at the start and 1 - 1 = 0 at the end -> 2H.
            x = keras.ops.relu(self.norm(crop(deconv(x), 1, 0)))
        # The 7x7 head has 3-4 output channels: as rows it runs 3-5x faster (same variables).
        x = conv2d_by_rows(self.head_conv, self.pad3(x))
        x = keras.ops.tanh(x) if self.with_tanh else x
        if self.residual:
            base = keras.ops.cast(inputs[..., -self.output_channels:], x.dtype)
            x = keras.ops.clip(base + x, -1.0, 1.0)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_channels,)

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update({"output_channels": self.output_channels, "ngf": self.ngf, "n_blocks": self.n_blocks,
                       "block": self.block, "fusion_activation": self.fusion_activation,
                       "dropout": self.dropout, "with_tanh": self.with_tanh, "residual": self.residual})
        return config
