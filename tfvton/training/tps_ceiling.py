"""The best warped-cloth IoU a thin-plate-spline warp can reach on a split: a bound for the GMM.

    python -m tfvton.training.tps_ceiling --data-root data/synth80-128 --config small \\
        --set data.height=128 --set data.width=96

For every test pair the TPS control-point offsets (`2*G*G` numbers, as the GMM
regresses them) are optimised directly against that pair's target cloth region
(labels 5, 6, 7): soft IoU of the bilinearly warped garment mask, Adam. The
result is scored as `recipe_study.evaluate_gmm` scores a GMM (garment pixels of
the warped cloth vs the target region, IoU over the whole split), so the two
numbers compare: the gap is what the regression misses, not what the TPS cannot do.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfvton.layers.grid_sample import grid_sample
from tfvton.layers.tps_grid import TpsGrid
from tfvton.training.recipe_study import garment_pixels, mask_iou, split_batches, target_cloth_mask

__all__ = ["fit_tps", "tps_ceiling"]


def fit_tps(cloth_mask, target_mask, grid_size: int = 5, steps: int = 600, learning_rate: float = 0.01):
    """Per-sample TPS offsets that warp `cloth_mask` onto `target_mask`.

    Args:
        cloth_mask: (B, H, W, 1) float in {0, 1}.
        target_mask: (B, H, W, 1) float in {0, 1}.
    Returns:
        (B, H, W) bool: the warped cloth mask after optimisation (border padding, > 0.5).
    """
    height, width = int(cloth_mask.shape[1]), int(cloth_mask.shape[2])
    tps = TpsGrid(grid_size, height, width)
    # tanh as the GMM's last layer: offsets stay in [-1, 1], theta = 0 is the identity grid.
    raw = tf.Variable(tf.zeros((cloth_mask.shape[0], 2 * grid_size * grid_size)))
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            warped = grid_sample(cloth_mask, tps(tf.tanh(raw)))
            inter = tf.reduce_sum(warped * target_mask, [1, 2, 3])
            union = tf.reduce_sum(warped + target_mask - warped * target_mask, [1, 2, 3])
            loss = -tf.reduce_sum(inter / tf.maximum(union, 1.0))
        optimizer.apply_gradients([(tape.gradient(loss, raw), raw)])

    for _ in range(steps):
        step()
    return grid_sample(cloth_mask, tps(tf.tanh(raw))).numpy()[..., 0] > 0.5


def tps_ceiling(data_root, config, split: str = "test", steps: int = 600) -> float:
    """IoU over `split` of the per-pair optimised TPS warps (see the module docstring)."""
    warped, targets = [], []
    for batch in split_batches(data_root, config, split):
        cloth = tf.cast(garment_pixels(batch["cloth_image"]), tf.float32)[..., None]
        target = target_cloth_mask(batch)
        warped.append(fit_tps(cloth, tf.constant(target[..., None], tf.float32), config.model.grid_size, steps))
        targets.append(target)
    return mask_iou(np.concatenate(warped), np.concatenate(targets))


def main(argv: Optional[Sequence[str]] = None) -> int:
    from tfvton.config import load_config

    parser = argparse.ArgumentParser(prog="python -m tfvton.training.tps_ceiling", description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", required=True, help="MPV-layout dataset")
    parser.add_argument("--config", default="small", help="preset or YAML (its data size and grid size)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="override key=value")
    parser.add_argument("--split", default="test")
    parser.add_argument("--steps", type=int, default=600, help="Adam steps per batch of pairs")
    args = parser.parse_args(argv)
    config = load_config(args.config, args.overrides)
    iou = tps_ceiling(args.data_root, config, args.split, args.steps)
    print(f"TPS ceiling: warped-cloth IoU {iou:.3f} on the {args.split} split "
          f"({config.data.height}x{config.data.width}, {config.model.grid_size}x{config.model.grid_size} grid)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
