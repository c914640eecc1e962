import numpy as np
import tensorflow as tf

from tfvton.layers.grid_sample import grid_sample
from tfvton.layers.tps_grid import TpsGrid
from tfvton.training.recipe_study import mask_iou
from tfvton.training.tps_ceiling import fit_tps


def test_fit_tps_recovers_a_known_warp():
    # A rectangle, and the same rectangle warped by a known TPS: the fit must find a warp
    # at least as good as the known one's IoU allows, far above the identity's.
    height, width = 48, 32
    cloth = np.zeros((2, height, width, 1), np.float32)
    cloth[:, 12:36, 8:24] = 1.0
    theta = np.random.default_rng(0).uniform(-0.35, 0.35, (2, 50)).astype(np.float32)
    target = (grid_sample(cloth, TpsGrid(5, height, width)(theta)).numpy() > 0.5).astype(np.float32)
    before = mask_iou(cloth[..., 0] > 0.5, target[..., 0] > 0.5)
    warped = fit_tps(tf.constant(cloth), tf.constant(target), steps=300)
    after = mask_iou(warped, target[..., 0] > 0.5)
    assert before < 0.8, before
    assert after > 0.9 and after > before + 0.1, (before, after)
