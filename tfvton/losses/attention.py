"""Attention (composition-mask) loss of the appearance generator, per sample.

Official (`models/generation_model.py` appearance stage, `utils/loss.py` `TVLoss`):
- mask term: `L1Loss(m_composite, warped_cloth_parse) * mask` (weight 1), where
  `m_composite` is the sigmoid composition mask and `warped_cloth_parse` is 1 on
  the pixels whose arg-max of the GENERATED parsing is 5, 6 or 7 (upper clothes,
  dress, coat) — the target mask comes from the parsing generator, not the
  ground truth;
- TV term, only with `--mask_tvloss` (off by default, and not in the joint
  `--joint_parse_loss` objective), weight 1:
  `2 * (sum(dh^2) / (C (H-1) W) + sum(dw^2) / (C H (W-1))) / B` with squared
  differences of vertically / horizontally adjacent pixels summed over the batch.
Per sample the TV is `2 * (sum_b(dh^2) / (C (H-1) W) + sum_b(dw^2) / (C H (W-1)))`,
whose batch mean equals the official value.
"""
from __future__ import annotations

import tensorflow as tf

from tfvton.losses.reconstruction import l1_loss

# CIHP labels whose pixels the composition mask should select (upper clothes, dress, coat).
CLOTH_LABELS = (5, 6, 7)


def total_variation_loss(mask):
    """The official `TVLoss` per sample (squared differences, normalised by element counts).

    Args:
        mask: (B, H, W, C) tensor, H and W at least 2.
    Returns:
        (B,) float32.
    """
    mask = tf.cast(mask, tf.float32)
    shape = tf.shape(mask)
    height, width, channels = shape[1], shape[2], shape[3]
    dh = mask[:, 1:, :, :] - mask[:, :-1, :, :]
    dw = mask[:, :, 1:, :] - mask[:, :, :-1, :]
    count_h = tf.cast(channels * (height - 1) * width, tf.float32)
    count_w = tf.cast(channels * height * (width - 1), tf.float32)
    h_tv = tf.reduce_sum(tf.square(dh), axis=[1, 2, 3])
    w_tv = tf.reduce_sum(tf.square(dw), axis=[1, 2, 3])
    return 2.0 * (h_tv / count_h + w_tv / count_w)


def mask_l1_loss(mask, target_mask):
    """‖M − M_c‖₁ as the official `L1Loss`: mean absolute difference per sample, (B,) float32."""
    return l1_loss(mask, target_mask)


def attention_loss(mask, target_mask, tv_weight: float = 0.0):
    """‖M − M_c‖₁ + tv_weight · TV(M), per sample.

    Args:
        mask: (B, H, W, 1) composition mask M in [0, 1].
        target_mask: (B, H, W, 1) cloth mask M_c (see `cloth_mask_from_parsing`).
        tv_weight: λ_TV (config `loss.mask_tv`; official: 0, or 1 with `--mask_tvloss`).
    Returns:
        (B,) float32. The caller multiplies by `loss.mask`.
    """
    loss = mask_l1_loss(mask, target_mask)
    if tv_weight:
        loss = loss + tv_weight * total_variation_loss(mask)
    return loss


def cloth_mask_from_parsing(parsing):
    """The official `warped_cloth_parse`: 1 where arg-max(parsing) is 5, 6 or 7.

    Args:
        parsing: (B, H, W, 20) parsing probabilities or scores.
    Returns:
        (B, H, W, 1) float32 in {0, 1}, no gradient.
    """
    labels = tf.argmax(parsing, axis=-1, output_type=tf.int32)
    hits = [tf.equal(labels, label) for label in CLOTH_LABELS]
    return tf.cast(tf.reduce_any(tf.stack(hits, axis=-1), axis=-1, keepdims=True), tf.float32)
