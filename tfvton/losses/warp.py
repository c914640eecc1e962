"""Regularisers of the GMM's sampling grid, per sample.

CP-VTON+ (Minar et al. 2020, `GicLoss`) adds a grid-interval-consistency term to
CP-VTON's L1 so the thin-plate spline cannot fold the garment: at every interior
grid point the horizontal distance to the left neighbour should equal the one to
the right neighbour (x coordinates), and the vertical distance up should equal
the one down (y coordinates):

    L = sum_p | |x_l - x_p| - |x_r - x_p| | + | |y_u - y_p| - |y_d - y_p| |

CP-VTON+ divides the batch sum by B*H*W and weights it by 40; here each sample's
sum is divided by H*W, so the batch mean is their value (`loss.gmm_smoothness`).
"""
from __future__ import annotations

import tensorflow as tf

from tfvton.layers.slicing import window


def grid_smoothness_loss(grid) -> tf.Tensor:
    """CP-VTON+'s grid interval consistency of a sampling grid.

    Args:
        grid: (B, H, W, 2) sampling grid, (x, y) in [-1, 1] (the GMM's output).
    Returns:
        (B,) float32; 0 for any affine grid without shear (evenly spaced rows and columns).
    """
    grid = tf.cast(grid, tf.float32)
    gx, gy = tf.unstack(grid, axis=-1)
    centre_x, centre_y = window(gx, [0, 1, 1], [None, -1, -1]), window(gy, [0, 1, 1], [None, -1, -1])
    left = tf.abs(window(gx, [0, 1, 0], [None, -1, -2]) - centre_x)
    right = tf.abs(window(gx, [0, 1, 2], [None, -1, None]) - centre_x)
    up = tf.abs(window(gy, [0, 0, 1], [None, -2, -1]) - centre_y)
    down = tf.abs(window(gy, [0, 2, 1], [None, None, -1]) - centre_y)
    total = tf.reduce_sum(tf.abs(left - right) + tf.abs(up - down), axis=[1, 2])
    pixels = tf.cast(tf.shape(grid)[1] * tf.shape(grid)[2], tf.float32)
    return total / pixels
