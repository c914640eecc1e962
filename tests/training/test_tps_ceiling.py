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


def test_evaluate_gmm_cuts_the_warp_to_the_predicted_region(tmp_path):
    # An untrained parsing network and GMM on a tiny SynthMPV: whatever they predict, the cut warp is
    # the warp AND the predicted region, so its IoU is bounded as set algebra says, and the numbers
    # agree with a recomputation from the same networks.
    from tests.training.training_helpers import make_synth, tiny_config
    from tfvton.networks import factory
    from tfvton.networks.forward import cloth_region, generate_parsing, warp_cloth
    from tfvton.training.recipe_study import evaluate_gmm, garment_pixels, split_batches, target_cloth_mask

    root = make_synth(tmp_path, identities=2, poses=2, seed=1)
    config = tiny_config()
    networks = factory.build_networks(config, ["gmm", "parsing_generator"])
    result = evaluate_gmm(networks["gmm"], root, config, "train", networks["parsing_generator"])
    warped, cut, regions, targets = [], [], [], []
    for batch in split_batches(root, config, "train"):
        w = garment_pixels(warp_cloth(networks["gmm"], batch, training=False)["warped_cloth"]).numpy()
        r = cloth_region(generate_parsing(networks["parsing_generator"], batch, training=False)["parsing_onehot"])
        r = r.numpy()[..., 0] > 0.5
        warped.append(w), cut.append(w & r), regions.append(r), targets.append(target_cloth_mask(batch))
    targets = np.concatenate(targets)
    assert result["cloth_iou"] == mask_iou(np.concatenate(warped), targets)
    assert result["cloth_iou_clipped"] == mask_iou(np.concatenate(cut), targets)
    assert result["region_iou"] == mask_iou(np.concatenate(regions), targets)
    assert set(evaluate_gmm(networks["gmm"], root, config, "train")) == {"cloth_iou", "unwarped_cloth_iou"}
