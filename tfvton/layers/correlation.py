"""Dense feature correlation between two feature maps (the GMM's `FeatureCorrelation`)."""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfvton")
class Correlation(keras.layers.Layer):
    """Correlates every position of `feature_b` with every position of `feature_a`.

    For inputs A, B of shape (B, h, w, C) the output has shape (B, h, w, h*w):

        out[b, yB, xB, k] = sum_c A[b, yA, xA, c] * B[b, yB, xB, c],  k = xA * h + yA

    i.e. the spatial grid is B's, and the channels enumerate A's positions
    column-major (x outer, y inner). That is the order the official release
    produces (it transposes A's H and W axes before flattening), and the order
    the regression weights of the official checkpoint expect.

    Args:
        **kwargs: forwarded to `keras.layers.Layer`.

    Call args:
        inputs: a pair `(feature_a, feature_b)` of equally shaped NHWC tensors.
    """

    def call(self, inputs):
        feature_a, feature_b = inputs
        shape = ops.shape(feature_a)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        # A's positions column-major: (B, w, h, C) -> (B, w*h, C).
        a = ops.reshape(ops.transpose(feature_a, (0, 2, 1, 3)), (batch, width * height, channels))
        # B's positions row-major: (B, h*w, C).
        b = ops.reshape(feature_b, (batch, height * width, channels))
        product = ops.matmul(b, ops.transpose(a, (0, 2, 1)))  # (B, h*w [B], w*h [A])
        return ops.reshape(product, (batch, height, width, height * width))

    def compute_output_shape(self, input_shape):
        shape_a = input_shape[0]
        height, width = shape_a[1], shape_a[2]
        channels = height * width if height is not None and width is not None else None
        return (shape_a[0], height, width, channels)

    def get_config(self):
        return super().get_config()


# The official release's name for the same operation.
FeatureCorrelation = Correlation
