"""Parsing stage: the U-Net predicts the target parsing; weighted CE + LSGAN (PatchGAN on 56 channels)."""
from __future__ import annotations

import keras

from tfvton.losses import parsing_cross_entropy
from tfvton.networks import forward
from tfvton.training.stage_trainer import StageTrainer


@keras.saving.register_keras_serializable(package="tfvton")
class ParsingTrainer(StageTrainer):
    """Trains the parsing generator against the PatchGAN parsing discriminator.

    Official (train_mode `parsing`): input = (source parse without 5, 6, 7;
    target pose; cloth mask), 36 channels; `fake_t = softmax(G(input))`,
    `real_t = target_parse`; D sees concat(input, fake_t | real_t), 56 channels;
    `loss_G = GAN(D(fake)) + CE(fake_t, target) * lambda_L1`, the CE applied to
    the softmax output (`loss.parsing_ce: official`, a double softmax) or to the
    scores (`logits`).

    Args:
        parsing_generator: `ParsingUNet` (36 -> 20, tanh).
        parsing_discriminator: `PatchDiscriminator` on 56 channels.
        loss_config: `LossConfig` (`parsing`, `parsing_gan`, `parsing_ce`, `gan_mode`).
        global_batch_size: B over all replicas.

    Tracked terms: `d_total`, `d_real`, `d_fake`, `g_total`, `g_gan`, `g_parsing` (`g_total` and
    `g_parsing` only with `loss.parsing_gan: 0`, which trains without the discriminator).
    """

    STAGE = "parsing"
    TRAINED = ("parsing_generator", "parsing_discriminator")
    DISCRIMINATOR = "parsing_discriminator"
    GAN_WEIGHT = "parsing_gan"
    TERMS = ("d_total", "d_real", "d_fake", "g_total", "g_gan", "g_parsing")

    def __init__(self, parsing_generator, parsing_discriminator, loss_config=None, global_batch_size: int = 1,
                 **kwargs):
        super().__init__(loss_config=loss_config, global_batch_size=global_batch_size, **kwargs)
        self.parsing_generator = parsing_generator
        self.parsing_discriminator = parsing_discriminator

    def generate(self, batch, training: bool):
        return forward.generate_parsing(self.parsing_generator, batch, training=training)

    def discriminator_pairs(self, batch, outputs):
        return outputs["parsing_input"], batch["target_parse"], outputs["parsing"]

    def generator_losses(self, batch, outputs, fake_prediction):
        config = self.loss_config
        parsing = config.parsing * parsing_cross_entropy(outputs["parsing_scores"], batch["target_parse"],
                                                         mode=config.parsing_ce)
        if fake_prediction is None:  # loss.parsing_gan = 0: no discriminator
            return {"g_total": parsing, "g_parsing": parsing}
        gan = config.parsing_gan * self.gan_generator_loss(fake_prediction)
        return {"g_total": gan + parsing, "g_gan": gan, "g_parsing": parsing}

    def visuals(self, batch):
        outputs = self.generate(batch, training=False)
        return {"source": batch["source_image"], "cloth": batch["cloth_image"],
                "source_parse": batch["source_parse"], "parsing": outputs["parsing"],
                "target_parse": batch["target_parse"], "target": batch["target_image"]}
