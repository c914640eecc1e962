"""Face refinement stage: the face generator with GMM, parsing and appearance generators frozen."""
from __future__ import annotations

import keras

from tfvton.losses import l1_loss
from tfvton.networks import forward
from tfvton.training.stage_trainer import StageTrainer


@keras.saving.register_keras_serializable(package="tfvton")
class FaceTrainer(StageTrainer):
    """Trains the face generator against the face discriminator (paper Eq. 9-10).

    Official (train_mode `face`, no `--joint_all`): the try-on comes from the
    frozen appearance generator fed with the frozen parsing; the face region is
    taken from the TARGET parse (`generated_parsing_face = target_parse`); input =
    (source face, try-on face), 6 channels; face = G_face(input) * face mask;
    refined = try-on - try-on face + face; real face = target image * face mask;
    D sees concat(source face, face | real face); loss_G = face_vgg *
    L1(relu1_1(face), relu1_1(real face)) + face_L1 * L1(face, real face) +
    face_gan * GAN + face_img_L1 * L1(refined, target image).

    Args:
        face_generator: `TreeGenerator` (6 -> 3, tanh).
        face_discriminator: `ResnetDiscriminator` on 6 channels.
        gmm, parsing_generator, appearance_generator: frozen networks.
        vgg: `VGG19Features` returning `loss.face_vgg_layers` (built from the config if None).
        loss_config: `LossConfig` (`face_vgg`, `face_l1`, `face_gan`, `face_img_l1`).
        global_batch_size: B over all replicas.
        face_mode: `full` or `crop` (config `model.face_mode`; `tfvton.networks.forward.face_refiner`).
        face_crop: the crop side in `crop` mode (config `model.face_crop`).
    """

    STAGE = "face"
    TRAINED = ("face_generator", "face_discriminator")
    FROZEN = ("gmm", "parsing_generator", "appearance_generator")
    EXTRA = ("vgg",)
    DISCRIMINATOR = "face_discriminator"
    TERMS = ("d_total", "d_real", "d_fake", "g_total", "g_gan", "g_vgg", "g_l1", "g_refine")

    def __init__(self, face_generator, face_discriminator, gmm, parsing_generator, appearance_generator,
                 vgg=None, loss_config=None, global_batch_size: int = 1, face_mode: str = "full",
                 face_crop: int = 64, **kwargs):
        super().__init__(loss_config=loss_config, global_batch_size=global_batch_size, **kwargs)
        self.face_generator = face_generator
        self.face_discriminator = face_discriminator
        self.gmm = gmm
        self.parsing_generator = parsing_generator
        self.appearance_generator = appearance_generator
        self.set_face_mode(face_mode, face_crop)
        self.use_vgg(vgg, "face")

    def generate(self, batch, training: bool):
        outputs = forward.render_tryon(batch, self.gmm, self.parsing_generator, self.appearance_generator)
        outputs.update(self.refine_face(batch, outputs["tryon"], batch["target_parse"], training=training))
        outputs["real_face"] = batch["target_image"] * outputs["face_mask"]
        return outputs

    def discriminator_pairs(self, batch, outputs):
        return outputs["source_face"], outputs["real_face"], outputs["face"]

    def generator_losses(self, batch, outputs, fake_prediction):
        config = self.loss_config
        face, real_face = outputs["face"], outputs["real_face"]
        terms = {"g_gan": config.face_gan * self.gan_generator_loss(fake_prediction),
                 "g_vgg": config.face_vgg * self.vgg_losses["face"](face, real_face)["perceptual"],
                 "g_l1": config.face_l1 * l1_loss(face, real_face),
                 "g_refine": config.face_img_l1 * l1_loss(outputs["final"], batch["target_image"])}
        terms["g_total"] = terms["g_gan"] + terms["g_vgg"] + terms["g_l1"] + terms["g_refine"]
        return terms

    def visuals(self, batch):
        panels = super().visuals(batch)
        outputs = self.generate(batch, training=False)
        panels["face"] = outputs["face"]
        panels["real_face"] = outputs["real_face"]
        return panels
