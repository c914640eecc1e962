"""The parsing discriminator: the official PatchGAN (`Define_D(..., 'basic')`)."""
from __future__ import annotations

import keras

from tfvton.layers.instance_norm import InstanceNorm
from tfvton.layers.torch_conv import conv2d, zero_pad

LEAKY_SLOPE = 0.2


@keras.saving.register_keras_serializable(package="tfvton")
class PatchDiscriminator(keras.Model):
    """PatchGAN with a sigmoid patch map, as the official `PatchDiscriminator`.

    Every convolution is 4x4 with zero padding 1 and a bias:
    `conv_0` (stride 2, ndf), LeakyReLU(0.2);
    `conv_n` for n = 1 .. n_layers-1 (stride 2, ndf * min(2**n, 8)), IN, LeakyReLU;
    `conv_{n_layers}` (stride 1, ndf * min(2**n_layers, 8)), IN, LeakyReLU;
    `head_conv` (stride 1, 1 channel), sigmoid.
    At 256x192 with n_layers=3 the output is (B, 30, 22, 1). The official
    `Define_D(..., 'basic')` always uses n_layers=3; the parsing
    discriminator sees 56 channels (parsing 20 + pose 18 + cloth mask 1 + source
    parsing without clothes 17).

    Sublayers (stable names the checkpoint converter relies on):
    `conv_0` .. `conv_{n_layers}`, `head_conv`.

    Args:
        ndf: base width (64).
        n_layers: stride-2 layers (3).
        **kwargs: standard `keras.Model` arguments.
    """

    def __init__(self, ndf: int = 64, n_layers: int = 3, **kwargs):
        super().__init__(**kwargs)
        if n_layers < 1:
            raise ValueError(f"PatchDiscriminator: n_layers must be >= 1. Received: n_layers={n_layers}")
        self.ndf = ndf
        self.n_layers = n_layers

        # === Layers ===
        self.norm = InstanceNorm(name="norm")
        for n in range(n_layers + 1):
            stride = 2 if n < n_layers else 1
            setattr(self, f"conv_{n}", conv2d(ndf * min(2 ** n, 8), 4, stride=stride, name=f"conv_{n}"))
        self.head_conv = conv2d(1, 4, name="head_conv")

    def call(self, inputs):
        x = keras.ops.leaky_relu(self.conv_0(zero_pad(inputs, 1)), negative_slope=LEAKY_SLOPE)
        for n in range(1, self.n_layers + 1):
            x = self.norm(getattr(self, f"conv_{n}")(zero_pad(x, 1)))
            x = keras.ops.leaky_relu(x, negative_slope=LEAKY_SLOPE)
        return keras.ops.sigmoid(self.head_conv(zero_pad(x, 1)))

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update({"ndf": self.ndf, "n_layers": self.n_layers})
        return config
