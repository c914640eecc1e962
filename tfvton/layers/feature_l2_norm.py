"""Channel-wise L2 normalisation of a feature map (the GMM's `FeatureL2Norm`)."""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfvton")
class FeatureL2Norm(keras.layers.Layer):
    """Divides every feature vector by its L2 norm over the channel axis.

    The official release adds `epsilon` to the sum of squares *inside* the
    square root: `x / sqrt(sum_c x^2 + epsilon)`. That differs from
    `tf.math.l2_normalize` (which clamps the sum from below), so it is written out.

    Args:
        epsilon: added to the sum of squares before the square root (official: 1e-6).
        **kwargs: forwarded to `keras.layers.Layer`.

    Example:
        >>> FeatureL2Norm()(keras.ops.ones((1, 4, 3, 8))).shape
        TensorShape([1, 4, 3, 8])
    """

    def __init__(self, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, features):
        norm = ops.sqrt(ops.sum(ops.square(features), axis=-1, keepdims=True) + self.epsilon)
        return features / norm

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
