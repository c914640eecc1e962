"""Thin-plate-spline sampling grid from regressed control-point offsets (the GMM's `TpsGridGen`)."""
from __future__ import annotations

import keras
import numpy as np
from keras import ops


def control_points(grid_size: int) -> np.ndarray:
    """The regular control points, shape (2, N) with rows x and y, N = grid_size**2.

    Enumerated as the official release does (`P_Y, P_X = meshgrid(a, a)` then a
    row-major flatten): point n sits at x = a[n // G], y = a[n % G], so x is the
    outer index. Theta's first N entries move these x's, its last N the y's.
    """
    axis = np.linspace(-1.0, 1.0, grid_size)
    p_y, p_x = np.meshgrid(axis, axis)
    return np.stack([p_x.reshape(-1), p_y.reshape(-1)]).astype(np.float64)


def _radial_basis(dist_squared: np.ndarray) -> np.ndarray:
    # U(r) = r^2 log r^2, with r^2 = 0 replaced by 1 first (as the official code
    # does), which makes U = 0 there instead of NaN.
    dist_squared = np.where(dist_squared == 0.0, 1.0, dist_squared)
    return dist_squared * np.log(dist_squared)


def tps_kernel(grid_size: int, height: int, width: int) -> np.ndarray:
    """The constant linear map from control-point targets to the output grid.

    The TPS through targets Q (shape (N,)) evaluated at the output pixels is
    `Phi @ inv(L)[:, :N] @ Q`, where L = [[K, P], [P^T, 0]] is built from the
    regular control points and Phi = [U(pixel, P_n) ..., 1, x, y]. Everything but
    Q is constant, so the product is precomputed here in float64 (TFLite has no
    matrix solve/inverse, and this keeps the graph a single MatMul).

    Returns:
        float64 array (height * width, N); pixels row-major, x = linspace(-1, 1, width)
        along a row and y = linspace(-1, 1, height) down the columns.
    """
    points = control_points(grid_size)
    n = points.shape[1]
    diff = points[:, :, None] - points[:, None, :]
    k = _radial_basis(np.sum(diff**2, axis=0))
    p = np.concatenate([np.ones((n, 1)), points.T], axis=1)  # (N, 3): 1, x, y
    l_matrix = np.block([[k, p], [p.T, np.zeros((3, 3))]])
    l_inverse = np.linalg.inv(l_matrix)

    grid_x, grid_y = np.meshgrid(np.linspace(-1.0, 1.0, width), np.linspace(-1.0, 1.0, height))
    pixels = np.stack([grid_x.reshape(-1), grid_y.reshape(-1)], axis=1)  # (HW, 2)
    dist_squared = np.sum((pixels[:, None, :] - points.T[None, :, :]) ** 2, axis=-1)
    phi = np.concatenate([_radial_basis(dist_squared), np.ones((pixels.shape[0], 1)), pixels], axis=1)
    # Only the first N columns of inv(L) matter: the right-hand side is [Q; 0, 0, 0].
    return phi @ l_inverse[:, :n]


@keras.saving.register_keras_serializable(package="tfvton")
class TpsGrid(keras.layers.Layer):
    """Turns theta (B, 2*G*G) into a sampling grid (B, height, width, 2).

    Theta holds offsets of the G x G regular control points: entries [0, N) move
    the x coordinates, [N, 2N) the y coordinates (N = G*G, order as in
    `control_points`). The grid's last axis is (x, y) in [-1, 1] (beyond that
    when the spline extrapolates), ready for `grid_sample`. Theta = 0 gives the
    identity grid.

    Args:
        grid_size: control points per side (official: 5).
        height: output grid height (the image height, official: 256).
        width: output grid width (official: 192).
        **kwargs: forwarded to `keras.layers.Layer`.
    """

    def __init__(self, grid_size: int = 5, height: int = 256, width: int = 192, **kwargs):
        super().__init__(**kwargs)
        self.grid_size = grid_size
        self.height = height
        self.width = width
        # Constants, not weights: rebuilt from the config, never saved or converted.
        self._kernel_t = tps_kernel(grid_size, height, width).T.astype(np.float32)  # (N, HW)
        # A spline reproduces affine maps exactly, so the regular control points
        # map to the identity grid; adding theta's warp to it keeps theta = 0 exact
        # and loses less float32 precision than warping P + theta as a whole.
        grid_x, grid_y = np.meshgrid(np.linspace(-1.0, 1.0, width), np.linspace(-1.0, 1.0, height))
        self._identity = np.stack([grid_x, grid_y])[None].astype(np.float32)  # (1, 2, H, W)

    def call(self, theta):
        n = self.grid_size * self.grid_size
        kernel_t = ops.convert_to_tensor(self._kernel_t, dtype=theta.dtype)
        offsets = ops.matmul(ops.reshape(theta, (-1, n)), kernel_t)  # (B*2, HW): x rows, y rows
        grid = ops.reshape(offsets, (-1, 2, self.height, self.width))
        grid = grid + ops.convert_to_tensor(self._identity, dtype=theta.dtype)
        return ops.transpose(grid, (0, 2, 3, 1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, 2)

    def get_config(self):
        config = super().get_config()
        config.update({"grid_size": self.grid_size, "height": self.height, "width": self.width})
        return config


# The official release's name for the same operation.
TpsGridGen = TpsGrid
