"""Joint stage: parsing, appearance and face generators together (official --joint_all --joint_parse_loss)."""
from __future__ import annotations

import keras

from tfvton.losses import parsing_cross_entropy
from tfvton.networks import forward
from tfvton.training.appearance_trainer import appearance_terms
from tfvton.training.stage_trainer import StageTrainer


@keras.saving.register_keras_serializable(package="tfvton")
class JointTrainer(StageTrainer):
    """Fine-tunes the three generators end to end against the appearance discriminator.

    Official (train_mode `appearance` with `--joint_all --joint_parse_loss`):
    parsing = softmax(G_parsing(input)) WITH gradient; try-on from the appearance
    generator; the face is cut with the generated parsing's arg-max and refined:
    final = try-on - try-on face + G_face(source face, try-on face) * face mask;
    D (appearance) sees concat(source image, final | target image); loss_G =
    G_GAN * GAN + lambda_L1 * smoothL1(final, target) + G_VGG * (Gram +
    perceptual) + mask * L1(M, cloth labels of argmax(parsing)) + joint_G_parsing
    * CE(parsing, target parse) (no TV term). One Adam per generator; the GMM stays frozen.

    Args:
        parsing_generator, appearance_generator, face_generator: trained generators.
        appearance_discriminator: trained `ResnetDiscriminator` on 6 channels.
        gmm: frozen `GMM`.
        vgg: `VGG19Features` (built from the config if None).
        loss_config: `LossConfig`.
        global_batch_size: B over all replicas.
        face_mode: `full` or `crop` (config `model.face_mode`; `tfvton.networks.forward.face_refiner`).
        face_crop: the crop side in `crop` mode (config `model.face_crop`).
    """

    STAGE = "joint"
    TRAINED = ("parsing_generator", "appearance_generator", "face_generator", "appearance_discriminator")
    FROZEN = ("gmm",)
    EXTRA = ("vgg",)
    DISCRIMINATOR = "appearance_discriminator"
    TERMS = ("d_total", "d_real", "d_fake", "g_total", "g_gan", "g_l1", "g_vgg", "g_style", "g_mask",
             "g_parsing")

    def __init__(self, parsing_generator, appearance_generator, face_generator, appearance_discriminator, gmm,
                 vgg=None, loss_config=None, global_batch_size: int = 1, face_mode: str = "full",
                 face_crop: int = 64, **kwargs):
        super().__init__(loss_config=loss_config, global_batch_size=global_batch_size, **kwargs)
        self.parsing_generator = parsing_generator
        self.appearance_generator = appearance_generator
        self.face_generator = face_generator
        self.appearance_discriminator = appearance_discriminator
        self.gmm = gmm
        self.set_face_mode(face_mode, face_crop)
        self.use_vgg(vgg, "appearance")

    def tracked_terms(self):
        return [t for t in self.TERMS if not (t == "g_style" and not self.loss_config.style)]

    def generate(self, batch, training: bool):
        outputs = forward.render_tryon(batch, self.gmm, self.parsing_generator, self.appearance_generator,
                                       parsing_training=training, appearance_training=training)
        outputs.update(self.refine_face(batch, outputs["tryon"], outputs["parsing_onehot"], training=training))
        return outputs

    def discriminator_pairs(self, batch, outputs):
        return batch["source_image"], batch["target_image"], outputs["final"]

    def generator_losses(self, batch, outputs, fake_prediction):
        terms = appearance_terms(self, outputs["final"], batch["target_image"], outputs["composition_mask"],
                                 outputs["parsing"], fake_prediction, tv=False)
        config = self.loss_config
        terms["g_parsing"] = config.joint_parsing * parsing_cross_entropy(
            outputs["parsing_scores"], batch["target_parse"], mode=config.parsing_ce)
        terms["g_total"] = terms["g_total"] + terms["g_parsing"]
        return terms
