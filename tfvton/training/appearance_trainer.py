"""Appearance stage: Tree-Block generator with the GMM and the parsing generator frozen."""
from __future__ import annotations

import keras
import tensorflow as tf

from tfvton.losses import (cloth_mask_from_parsing, mask_l1_loss, smooth_l1_loss,
                           total_variation_loss)
from tfvton.networks import forward
from tfvton.training.stage_trainer import StageTrainer


def appearance_terms(trainer, image, target, composition_mask, parsing, fake_prediction, tv: bool = True):
    """The official appearance objective on `image` (the try-on, or the face-refined try-on jointly).

    `g_gan` = G_GAN * GAN (absent when `fake_prediction` is None: no discriminator),
    `g_l1` = lambda_L1 * smoothL1(image, target), `g_vgg` = G_VGG * perceptual,
    `g_style` = G_VGG * style * Gram term, `g_mask` = mask * L1(M, cloth labels of
    argmax(parsing)), `g_mask_tv` = mask_tv * TV(M) (only when `tv` and the weight is
    non-zero). All per sample; `g_total` is their sum.
    """
    config = trainer.loss_config
    terms = {} if fake_prediction is None else {"g_gan": config.gan * trainer.gan_generator_loss(fake_prediction)}
    terms["g_l1"] = config.l1 * smooth_l1_loss(image, target)
    vgg = trainer.vgg_losses["appearance"](image, target, style=bool(config.style))
    terms["g_vgg"] = config.vgg * vgg["perceptual"]
    if config.style:
        terms["g_style"] = config.vgg * config.style * vgg["style"]
    terms["g_mask"] = config.mask * mask_l1_loss(composition_mask, cloth_mask_from_parsing(parsing))
    if tv and config.mask_tv:
        terms["g_mask_tv"] = config.mask_tv * total_variation_loss(composition_mask)
    terms["g_total"] = tf.add_n(list(terms.values()))
    return terms


@keras.saving.register_keras_serializable(package="tfvton")
class AppearanceTrainer(StageTrainer):
    """Trains the appearance generator against the appearance discriminator.

    Official (train_mode `appearance`): parsing = softmax(G_parsing(input)) without
    gradient; input = (image without cloth, warped cloth, parsing), 26 channels;
    render = tanh, M = sigmoid, try-on = warped * M + render * (1 - M); D sees
    concat(source image, try-on | target image), 6 channels; loss_G = G_GAN * GAN +
    lambda_L1 * smoothL1 + G_VGG * (Gram + perceptual) + mask * L1(M, cloth
    labels of the generated parsing's arg-max) [+ TV]. The warped cloth comes
    from the frozen GMM in-graph (the official read it from files the GMM wrote).
    Frozen networks run in inference mode (the official left them in train mode,
    i.e. with dropout in the parsing U-Net).

    Args:
        appearance_generator: `TreeGenerator` (26 -> 4).
        appearance_discriminator: `ResnetDiscriminator` on 6 channels.
        gmm: frozen `GMM`.
        parsing_generator: frozen `ParsingUNet`.
        vgg: `VGG19Features` returning the config's VGG layers (built from the config if None).
        loss_config: `LossConfig`.
        global_batch_size: B over all replicas.
    """

    STAGE = "appearance"
    TRAINED = ("appearance_generator", "appearance_discriminator")
    FROZEN = ("gmm", "parsing_generator")
    EXTRA = ("vgg",)
    DISCRIMINATOR = "appearance_discriminator"
    GAN_WEIGHT = "gan"
    TERMS = ("d_total", "d_real", "d_fake", "g_total", "g_gan", "g_l1", "g_vgg", "g_style", "g_mask",
             "g_mask_tv")

    def __init__(self, appearance_generator, appearance_discriminator, gmm, parsing_generator, vgg=None,
                 loss_config=None, global_batch_size: int = 1, **kwargs):
        super().__init__(loss_config=loss_config, global_batch_size=global_batch_size, **kwargs)
        self.appearance_generator = appearance_generator
        self.appearance_discriminator = appearance_discriminator
        self.gmm = gmm
        self.parsing_generator = parsing_generator
        self.use_vgg(vgg, "appearance")

    def tracked_terms(self):
        # Terms switched off by a zero weight are not tracked (keeps the logs honest).
        config = self.loss_config
        return [t for t in super().tracked_terms() if not ((t == "g_style" and not config.style)
                                                           or (t == "g_mask_tv" and not config.mask_tv))]

    def generate(self, batch, training: bool):
        return forward.render_tryon(batch, self.gmm, self.parsing_generator, self.appearance_generator,
                                    appearance_training=training)

    def discriminator_pairs(self, batch, outputs):
        return batch["source_image"], batch["target_image"], outputs["tryon"]

    def generator_losses(self, batch, outputs, fake_prediction):
        return appearance_terms(self, outputs["tryon"], batch["target_image"], outputs["composition_mask"],
                                outputs["parsing"], fake_prediction)
