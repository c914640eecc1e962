"""The Tree-Block (tree dilated fusion block) of the appearance and face generators."""
from __future__ import annotations

import keras
import tensorflow as tf

from tfvton.layers.instance_norm import InstanceNorm
from tfvton.layers.reflection_pad import ReflectionPad2D, reflect_pad
from tfvton.layers.torch_conv import conv2d, crop

DILATIONS = (1, 2, 3, 4)
FUSION_ACTIVATIONS = ("none", "relu")


@keras.saving.register_keras_serializable(package="tfvton")
class TreeBlock(keras.layers.Layer):
    """Four dilated residual branches fused pairwise by 1x1 convolutions, plus a skip.

    As the official `DilatedResnetBlock`: for dilation d in 1, 2, 3, 4 a branch
    `reflect-pad d, conv3x3 (dilation d), IN, ReLU, Dropout, reflect-pad d,
    conv3x3 (dilation d), IN` keeps C channels. The SAME 1x1 `joint1`
    (2C -> 2C) fuses concat(b1, b2) and again concat(b3, b4); the 1x1 `joint2`
    (4C -> C) fuses concat(node1, node2); the block returns x + joint2(...).
    Concatenation order is always (lower dilation, higher dilation) on the
    channel axis. The official code has no activation after the fusions;
    `fusion_activation='relu'` adds one after each fusion convolution
    (both joint1 outputs and joint2, before the residual add) for the σ of the
    paper's Eq. 2. Height and width must be at least 5 (reflection padding 4,
    as PyTorch requires too).

    Computation (the same function, less work; docs/benchmarks.md): the four
    branches read one reflection pad of 4, centre-cropped to d for branch d;
    without a fusion activation the two fusion levels are linear, so
    joint2(concat(joint1(b1, b2), joint1(b3, b4))) is evaluated as ONE 1x1
    convolution on concat(b1, b2, b3, b4) with the product kernel
    [K1 K2a; K1 K2b] (4C -> C) and bias b1 (K2a + K2b) + b2, folded from the
    `joint1` / `joint2` variables at every call (gradients reach both). That
    drops 8 C^2 of the 12 C^2 multiply-adds per pixel of the fusions (about
    8.5% of the block at C = 256).

    Sublayers (stable names the checkpoint converter relies on):
    `conv_block{d}_a`, `conv_block{d}_b` (d = 1..4), `joint1`, `joint2`.

    Args:
        dropout: rate of the Dropout after the first ReLU of every branch
            (official: 0.5; only active with `training=True`). 0 removes it.
        fusion_activation: `none` (official) or `relu` (paper's Eq. 2).
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:
        >>> y = TreeBlock(dropout=0.0)(tf.zeros([1, 16, 12, 8]))  # (1, 16, 12, 8)
    """

    def __init__(self, dropout: float = 0.5, fusion_activation: str = "none", **kwargs):
        super().__init__(**kwargs)
        if fusion_activation not in FUSION_ACTIVATIONS:
            raise ValueError(f"TreeBlock: fusion_activation must be one of {FUSION_ACTIVATIONS}. "
                             f"Received: fusion_activation={fusion_activation!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"TreeBlock: dropout must be in [0, 1). Received: dropout={dropout!r}")
        self.dropout = dropout
        self.fusion_activation = fusion_activation
        self.norm = InstanceNorm(name="norm")
        self.pads = {d: ReflectionPad2D(d, name=f"pad{d}") for d in DILATIONS}
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout") if dropout > 0 else None
        # conv_block{d}_a/_b, joint1, joint2 are created in build(): the width comes from the input.

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"TreeBlock: the channel axis of the input must be known. "
                             f"Received: input_shape={input_shape}")
        feature_shape = (input_shape[0], None, None, channels)
        for d in DILATIONS:
            for part in ("a", "b"):
                conv = conv2d(channels, 3, dilation=d, name=f"conv_block{d}_{part}")
                conv.build(feature_shape)
                setattr(self, f"conv_block{d}_{part}", conv)
        self.joint1 = conv2d(2 * channels, 1, name="joint1")
        self.joint1.build((input_shape[0], None, None, 2 * channels))
        self.joint2 = conv2d(channels, 1, name="joint2")
        self.joint2.build((input_shape[0], None, None, 4 * channels))
        super().build(input_shape)

    def _branch(self, padded, d, training):
        conv_a = getattr(self, f"conv_block{d}_a")
        conv_b = getattr(self, f"conv_block{d}_b")
        # The reflection pad of d is the centre of the reflection pad of 4.
        margin = max(DILATIONS) - d
        x = crop(padded, margin, margin)
        y = keras.ops.relu(self.norm(conv_a(x)))
        if self.dropout_layer is not None:
            y = self.dropout_layer(y, training=training)
        return self.norm(conv_b(self.pads[d](y)))

    def _folded_fusion(self, branches):
        # joint2 o (joint1 twice) is linear without a fusion activation: one 1x1 conv.
        channels = branches[0].shape[-1]
        # Reshapes and splits, not indexing: no StridedSlice in the training graph (tfvton.layers.slicing).
        k1 = tf.reshape(tf.cast(self.joint1.kernel, tf.float32), [2 * channels, 2 * channels])
        k2 = tf.reshape(tf.cast(self.joint2.kernel, tf.float32), [4 * channels, channels])
        k2a, k2b = tf.split(k2, 2, axis=0)  # rows for node1, then node2
        kernel = tf.concat([tf.matmul(k1, k2a), tf.matmul(k1, k2b)], axis=0)
        bias = tf.linalg.matvec(k2a + k2b, tf.cast(self.joint1.bias, tf.float32), transpose_a=True)
        bias = bias + tf.cast(self.joint2.bias, tf.float32)
        dtype = branches[0].dtype
        kernel = tf.reshape(tf.cast(kernel, dtype), [1, 1, 4 * channels, channels])
        y = tf.nn.conv2d(tf.concat(branches, axis=-1), kernel, 1, "VALID")
        return tf.nn.bias_add(y, tf.cast(bias, dtype))

    def _fuse(self, conv, a, b):
        y = conv(keras.ops.concatenate([a, b], axis=-1))
        return keras.ops.relu(y) if self.fusion_activation == "relu" else y

    def call(self, inputs, training=None):
        padded = reflect_pad(inputs, max(DILATIONS))
        b1, b2, b3, b4 = (self._branch(padded, d, training) for d in DILATIONS)
        if self.fusion_activation == "none":
            return inputs + self._folded_fusion([b1, b2, b3, b4])
        node1 = self._fuse(self.joint1, b1, b2)
        node2 = self._fuse(self.joint1, b3, b4)  # the same weights, as in the official code
        return inputs + self._fuse(self.joint2, node1, node2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout, "fusion_activation": self.fusion_activation})
        return config
