"""Pose keypoints -> the networks' pose inputs: official `pose2loc` + `heatmap_embedding`.

TensorFlow ops only, any number of leading batch dimensions, as the rest of
`tfvton.data.transforms` (which re-exports these functions).
"""
from __future__ import annotations

import tensorflow as tf


def pose_locations(keypoints: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """OpenPose keypoints -> integer (row, col) locations as official `pose2loc`.

    x and y are truncated toward zero (Python `int()`), then x is clipped to
    width - 1 and y to height - 1 from above only (the official code hardcodes
    191 / 255; we generalise to the configured size). Negative values are kept:
    they are never drawn. The confidence is ignored, as in the official code.

    Note: keypoints arrive as float32; the official code truncates the JSON's
    float64. They differ only for a coordinate within ~1e-5 below an integer
    (e.g. 10.999999 -> 11 in float32), which OpenPose's JSON does not produce.

    Args:
        keypoints: float (..., 18, 3) x, y, confidence in pixels.
        height, width: size of the heatmap.
    Returns:
        int32 (..., 18, 2) as (row, col).
    """
    keypoints = tf.convert_to_tensor(keypoints, tf.float32)
    # Clip far-away values first so the int32 cast is defined; it changes no result.
    xy = tf.clip_by_value(keypoints[..., :2], -1e6, 1e6)
    xy = tf.cast(xy, tf.int32)  # truncation toward zero, like int()
    col = tf.minimum(xy[..., 0], width - 1)
    row = tf.minimum(xy[..., 1], height - 1)
    return tf.stack([row, col], axis=-1)


def pose_heatmaps(keypoints: tf.Tensor, height: int, width: int, radius: int = 6) -> tf.Tensor:
    """18 binary disc heatmaps, exactly official `pose2loc` + `heatmap_embedding`.

    A keypoint is drawn only when row > 1 and col > 1 (official rule, so a
    missing joint 0, 0, 0 is not drawn, nor is one at x = 1.5); the disc holds
    the pixels at Euclidean distance <= radius (`sqrt(i^2 + j^2) <= r` is the
    same as `i^2 + j^2 <= r^2` for integers) and is clipped at the borders.

    Args:
        keypoints: float (..., 18, 3) x, y, confidence in pixels of a
            (height, width) image.
        height, width: output size.
        radius: disc radius in pixels (official: 6, i.e. 113 pixels).
    Returns:
        float32 (..., height, width, 18) in {0, 1}.
    Raises:
        tf.errors.InvalidArgumentError: for NaN or infinite keypoints (the
            official `int()` raises on them too).
    """
    keypoints = tf.debugging.check_numerics(
        tf.convert_to_tensor(keypoints, tf.float32), "pose keypoints must be finite (found NaN or Inf)")
    loc = pose_locations(keypoints, height, width)
    row, col = loc[..., 0], loc[..., 1]
    drawn = tf.logical_and(row > 1, col > 1)  # (..., 18)
    # Undrawn joints may be far off; clamp them so the squares cannot overflow int32.
    row = tf.maximum(row, -1)
    col = tf.maximum(col, -1)
    rows = tf.range(height, dtype=tf.int32)[:, None, None]  # (h, 1, 1)
    cols = tf.range(width, dtype=tf.int32)[None, :, None]  # (1, w, 1)
    dy = rows - row[..., None, None, :]  # (..., h, 1, 18)
    dx = cols - col[..., None, None, :]  # (..., 1, w, 18)
    disc = dy * dy + dx * dx <= radius * radius
    disc = tf.logical_and(disc, drawn[..., None, None, :])
    return tf.cast(disc, tf.float32)


def scale_keypoints(keypoints: tf.Tensor, from_hw, height: int, width: int) -> tf.Tensor:
    """Scales keypoints from an image of size `from_hw` to (height, width).

    x is multiplied by width / from_w, y by height / from_h; the confidence is
    kept. When the sizes agree the factors are exactly 1.0, so nothing changes.
    """
    keypoints = tf.convert_to_tensor(keypoints, tf.float32)
    from_hw = tf.cast(from_hw, tf.float32)
    sx = tf.cast(width, tf.float32) / from_hw[1]
    sy = tf.cast(height, tf.float32) / from_hw[0]
    return keypoints * tf.stack([sx, sy, tf.constant(1.0)])

