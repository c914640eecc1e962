"""Losses, one module per family; every loss returns per-sample values of shape (B,).

A stage trainer weights and adds the terms with `loss.*` from the config, then
calls `scale_for_replicas(per_sample, global_batch_size)` inside `strategy.run`.
"""
from tfvton.losses.adversarial import discriminator_loss, gan_loss, generator_loss
from tfvton.losses.attention import (attention_loss, cloth_mask_from_parsing, mask_l1_loss,
                                     total_variation_loss)
from tfvton.losses.parsing import PARSING_CLASS_WEIGHTS, parsing_cross_entropy
from tfvton.losses.perceptual import (OFFICIAL_VGG_LAYER_WEIGHTS, OFFICIAL_VGG_LAYERS, VGGLoss,
                                      build_vgg_losses, feature_loss, gram_matrix, style_loss)
from tfvton.losses.reconstruction import l1_loss, mse_loss, smooth_l1_loss
from tfvton.losses.scaling import cross_replica_sum, num_replicas, scale_for_replicas
from tfvton.losses.warp import grid_smoothness_loss

__all__ = [
    "OFFICIAL_VGG_LAYERS", "OFFICIAL_VGG_LAYER_WEIGHTS", "PARSING_CLASS_WEIGHTS", "VGGLoss",
    "attention_loss", "build_vgg_losses", "cloth_mask_from_parsing", "cross_replica_sum",
    "discriminator_loss", "feature_loss", "gan_loss", "generator_loss", "gram_matrix", "grid_smoothness_loss",
    "l1_loss",
    "mask_l1_loss", "mse_loss", "num_replicas", "parsing_cross_entropy", "scale_for_replicas",
    "smooth_l1_loss", "style_loss", "total_variation_loss",
]
