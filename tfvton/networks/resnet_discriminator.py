"""The appearance and face discriminator: the official `ResnetDiscriminator`."""
from __future__ import annotations

import keras

from tfvton.layers.instance_norm import InstanceNorm
from tfvton.layers.reflection_pad import ReflectionPad2D
from tfvton.layers.resnet_block import ResnetBlock
from tfvton.layers.torch_conv import conv2d, zero_pad

HEADS = ("official", "conv1")


@keras.saving.register_keras_serializable(package="tfvton")
class ResnetDiscriminator(keras.Model):
    """A ResNet encoder whose sigmoid feature map is the real/fake prediction.

    As the official `ResnetDiscriminator` built by `Define_D(..., 'resnet_blocks',
    n_blocks=3)`: reflect-pad 3, conv7x7 -> ndf, IN, ReLU; 2x [conv3x3 stride 2
    zero-pad 1 -> x2 width, IN, ReLU]; n_blocks ResnetBlocks (no dropout) at
    ndf*4; sigmoid. Official quirk reproduced with `head='official'`: there is
    no 1-channel output convolution, the sigmoid is applied to the ndf*4-channel
    feature map, so the output is (B, H/4, W/4, 256) at ndf=64 (64x48 at
    256x192) and the LSGAN loss is taken over all of it. `head='conv1'` adds a
    reflect-padded 3x3 convolution to 1 channel before the sigmoid
    (B, H/4, W/4, 1); it has no official counterpart.

    Sublayers (stable names the checkpoint converter relies on):
    `stem_conv`, `down1_conv`, `down2_conv`, `block_{i}`, and `head_conv` with `head='conv1'`.

    Args:
        ndf: base width (64).
        n_blocks: residual blocks (3).
        head: `official` or `conv1`.
        **kwargs: standard `keras.Model` arguments.
    """

    def __init__(self, ndf: int = 64, n_blocks: int = 3, head: str = "official", **kwargs):
        super().__init__(**kwargs)
        if head not in HEADS:
            raise ValueError(f"ResnetDiscriminator: head must be one of {HEADS}. Received: head={head!r}")
        self.ndf = ndf
        self.n_blocks = n_blocks
        self.head = head

        # === Layers ===
        self.pad3 = ReflectionPad2D(3, name="pad3")
        self.norm = InstanceNorm(name="norm")
        self.stem_conv = conv2d(ndf, 7, name="stem_conv")
        self.down1_conv = conv2d(ndf * 2, 3, stride=2, name="down1_conv")
        self.down2_conv = conv2d(ndf * 4, 3, stride=2, name="down2_conv")
        for i in range(n_blocks):
            setattr(self, f"block_{i}", ResnetBlock(dropout=0.0, name=f"block_{i}"))
        # Only the conv1 head owns these: an unused sublayer would stay unbuilt.
        self.head_pad = ReflectionPad2D(1, name="head_pad") if head == "conv1" else None
        self.head_conv = conv2d(1, 3, name="head_conv") if head == "conv1" else None

    def call(self, inputs):
        x = keras.ops.relu(self.norm(self.stem_conv(self.pad3(inputs))))
        for conv in (self.down1_conv, self.down2_conv):
            x = keras.ops.relu(self.norm(conv(zero_pad(x, 1))))
        for i in range(self.n_blocks):
            x = getattr(self, f"block_{i}")(x)
        if self.head_conv is not None:
            x = self.head_conv(self.head_pad(x))
        return keras.ops.sigmoid(x)

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update({"ndf": self.ndf, "n_blocks": self.n_blocks, "head": self.head})
        return config
