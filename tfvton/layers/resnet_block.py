"""The pix2pix residual block (the SRB-VTON baseline's block and the ResNet discriminator's)."""
from __future__ import annotations

import keras

from tfvton.layers.instance_norm import InstanceNorm
from tfvton.layers.reflection_pad import ReflectionPad2D
from tfvton.layers.torch_conv import conv2d


@keras.saving.register_keras_serializable(package="tfvton")
class ResnetBlock(keras.layers.Layer):
    """x + [reflect-pad 1, conv3x3, IN, ReLU, Dropout, reflect-pad 1, conv3x3, IN](x).

    As the official `ResnetBlock(padding_type='reflect', norm_layer=instance)`,
    which the ResNet discriminator uses without dropout (the official
    `Define_D` never passes `use_dropout`). Convolutions keep the input's
    channel count and carry biases (the official `use_bias` is True with
    InstanceNorm).

    Sublayers (stable names the checkpoint converter relies on): `conv_a`, `conv_b`.

    Args:
        dropout: rate of the Dropout after the ReLU (0 removes it).
        **kwargs: standard `keras.layers.Layer` arguments.
    """

    def __init__(self, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"ResnetBlock: dropout must be in [0, 1). Received: dropout={dropout!r}")
        self.dropout = dropout
        self.pad = ReflectionPad2D(1, name="pad")
        self.norm = InstanceNorm(name="norm")
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout") if dropout > 0 else None

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"ResnetBlock: the channel axis of the input must be known. "
                             f"Received: input_shape={input_shape}")
        feature_shape = (input_shape[0], None, None, channels)
        self.conv_a = conv2d(channels, 3, name="conv_a")
        self.conv_a.build(feature_shape)
        self.conv_b = conv2d(channels, 3, name="conv_b")
        self.conv_b.build(feature_shape)
        super().build(input_shape)

    def call(self, inputs, training=None):
        y = keras.ops.relu(self.norm(self.conv_a(self.pad(inputs))))
        if self.dropout_layer is not None:
            y = self.dropout_layer(y, training=training)
        return inputs + self.norm(self.conv_b(self.pad(y)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout})
        return config
