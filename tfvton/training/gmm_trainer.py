"""Clothing alignment stage: the GMM regresses a TPS warp; L1(warped cloth, im_c) (CP-VTON)."""
from __future__ import annotations

from typing import Dict

import keras
import tensorflow as tf

from tfvton.losses import grid_smoothness_loss, l1_loss
from tfvton.networks import forward
from tfvton.training.stage_trainer import StageTrainer


@keras.saving.register_keras_serializable(package="tfvton")
class GMMTrainer(StageTrainer):
    """Trains the geometric matching module alone (no discriminator).

    Official (`generation_model.py`, train_mode `gmm`): agnostic = (body shape,
    head, target pose); `grid, theta = gmm(agnostic, cloth)`; the warp uses
    `F.grid_sample`'s default zero padding (with `model.gmm_condition: target_cloth`
    the ground-truth target cloth region is a 23rd agnostic channel); loss `L1(warped, im_c)` where `im_c`
    is the target's cloth region on white (`target_cloth` here). With
    `loss.gmm_smoothness` > 0, CP-VTON+'s grid-interval consistency on the grid
    is added (`tfvton.losses.grid_smoothness_loss`); with `loss.gmm_mask` > 0, the
    L1 between the warped cloth mask and the target's cloth region (a silhouette
    term: on flat garments the image L1 has gradient only at edges and texture).

    Args:
        gmm: the `GMM` network (built with `synchronized=True` under a multi-replica strategy).
        loss_config: `LossConfig` (`gmm_l1`, `gmm_smoothness`, `gmm_mask`).
        global_batch_size: B over all replicas.

    Tracked terms: `g_total`, `g_l1`, and `g_smooth`, `g_mask` when their weights are not 0 (weighted).
    """

    STAGE = "gmm"
    TRAINED = ("gmm",)
    TERMS = ("g_total", "g_l1", "g_smooth", "g_mask")

    def __init__(self, gmm, loss_config=None, global_batch_size: int = 1, **kwargs):
        super().__init__(loss_config=loss_config, global_batch_size=global_batch_size, **kwargs)
        self.gmm = gmm

    def generate(self, batch, training: bool) -> Dict[str, tf.Tensor]:
        # The loss warps with zero padding (official `F.grid_sample` default); inference
        # and the later stages use border padding (official `warped_image`).
        return forward.warp_cloth(self.gmm, batch, training=training, padding_mode="zeros",
                                  target_cloth=self._target_cloth(batch))

    def _target_cloth(self, batch):
        # Alone, the GMM learns from the ground-truth target region; the later stages
        # (forward.render_tryon) give it the parsing network's prediction.
        return batch["target_cloth_mask"] if self.gmm.conditions_on_target_cloth else None

    def tracked_terms(self):
        weights = {"g_smooth": self.loss_config.gmm_smoothness, "g_mask": self.loss_config.gmm_mask}
        return tuple(t for t in self.TERMS if weights.get(t, 1.0))

    def generator_losses(self, batch, outputs, fake_prediction=None):
        config = self.loss_config
        l1 = config.gmm_l1 * l1_loss(outputs["warped_cloth"], batch["target_cloth"])
        terms = {"g_total": l1, "g_l1": l1}
        if config.gmm_smoothness:
            terms["g_smooth"] = config.gmm_smoothness * grid_smoothness_loss(outputs["grid"])
            terms["g_total"] += terms["g_smooth"]
        if config.gmm_mask:
            mask = batch["cloth_mask"]
            warped_mask = self.gmm.warp(mask, tf.cast(outputs["grid"], mask.dtype), padding_mode="zeros")
            terms["g_mask"] = config.gmm_mask * l1_loss(warped_mask, batch["target_cloth_mask"])
            terms["g_total"] += terms["g_mask"]
        return terms

    def visuals(self, batch):
        outputs = forward.warp_cloth(self.gmm, batch, training=False, padding_mode="border",
                                     target_cloth=self._target_cloth(batch))
        return {"source": batch["source_image"], "cloth": batch["cloth_image"],
                "warped_cloth": outputs["warped_cloth"], "target_cloth": batch["target_cloth"],
                "target": batch["target_image"]}
