"""GAN losses on discriminator outputs, one value per sample.

Official (`utils/loss.py` `GANLoss`, `models/generation_model.py`):
- `gan_mode` `lsgan` (the default and what the release trains with): `MSELoss`
  between the discriminator output and a constant 1.0 (real) or 0.0 (fake),
  averaged over every element. The discriminators end in a sigmoid, so the MSE
  is taken on probabilities.
- `vanilla`: `BCEWithLogitsLoss` on the same outputs (with the sigmoid-ended
  discriminators that is a sigmoid applied twice; kept as the official does it).
- D step: `loss_D = (GAN(D(real_pair), True) + GAN(D(fake_pair.detach()), False)) * 0.5`.
- G step: `GAN(D(fake_pair), True)`, times `G_GAN` (appearance) / `face_gan` (face, 3);
  the parsing stage adds it unweighted.
- A list of discriminator outputs (multi-scale) adds one loss per output.
Per-sample values average over H, W, C, so their batch mean is the PyTorch value.
"""
from __future__ import annotations

from typing import Sequence, Union

import tensorflow as tf

GAN_MODES = ("lsgan", "vanilla")
REAL_LABEL = 1.0
FAKE_LABEL = 0.0


def _check_mode(mode):
    if mode not in GAN_MODES:
        raise ValueError(f"loss.gan_mode must be one of {GAN_MODES}. Received: loss.gan_mode={mode!r}")


def _single_gan_loss(prediction, target_is_real: bool, mode: str, real_label: float = REAL_LABEL):
    prediction = tf.cast(prediction, tf.float32)
    label = real_label if target_is_real else FAKE_LABEL
    target = tf.fill(tf.shape(prediction), label)
    if mode == "lsgan":
        elementwise = tf.square(prediction - target)
    else:
        elementwise = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=prediction)
    return tf.reduce_mean(tf.reshape(elementwise, [tf.shape(prediction)[0], -1]), axis=1)


def gan_loss(prediction: Union[tf.Tensor, Sequence[tf.Tensor]], target_is_real: bool, mode: str = "lsgan",
             real_label: float = REAL_LABEL):
    """GAN loss of discriminator outputs against the real (1) or fake (0) label.

    Args:
        prediction: (B, ...) discriminator output, or a list of them (summed).
        target_is_real: compare with `real_label` (True) or 0.0 (False).
        mode: `lsgan` (MSE) or `vanilla` (BCE on logits).
        real_label: the real target (1.0 official; below 1 is one-sided label smoothing).
    Returns:
        (B,) float32.
    """
    _check_mode(mode)
    if isinstance(prediction, (list, tuple)):
        return tf.add_n([_single_gan_loss(p, target_is_real, mode, real_label) for p in prediction])
    return _single_gan_loss(prediction, target_is_real, mode, real_label)


def discriminator_loss(real_prediction, fake_prediction, mode: str = "lsgan", real_label: float = REAL_LABEL):
    """The official D objective: 0.5 * (loss(real -> 1) + loss(fake -> 0)), per sample.

    Args:
        real_prediction: D on the (source, real target) pair.
        fake_prediction: D on the (source, generated) pair, generator output stopped.
        mode: `lsgan` or `vanilla`.
        real_label: the target for real pairs (`loss.real_label`; 1.0 official, e.g.
            0.9 for one-sided label smoothing, which keeps D from saturating).
    Returns:
        dict of (B,) float32: `total`, `real`, `fake` (`total` already has the 0.5).
    """
    real = gan_loss(real_prediction, True, mode, real_label)
    fake = gan_loss(fake_prediction, False, mode)
    return {"total": 0.5 * (real + fake), "real": real, "fake": fake}


def generator_loss(fake_prediction, mode: str = "lsgan"):
    """The G objective: loss(D(fake) -> 1), per sample, (B,) float32 (weight applied by the caller)."""
    return gan_loss(fake_prediction, True, mode)
