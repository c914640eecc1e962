"""Two GMM switches. `model.gmm_condition: target_cloth`: the GMM also sees the target's cloth
region — the ground truth while it trains alone, the parsing network's arg-max in the pipeline (what
inference has). `model.clip_warp_to_parsing`: the warped cloth is cut to that predicted region."""
from __future__ import annotations

import numpy as np
import pytest

from tests.networks.test_pipeline_face_crop import _batch
from tfvton.config import load_config
from tfvton.networks import forward
from tfvton.networks.factory import build_networks, build_pipeline
from tfvton.networks.gmm import GMM


def _target_config():
    return load_config("smoke", ["model.gmm_condition=target_cloth"])


def test_the_target_cloth_gmm_has_a_23rd_channel_and_the_official_one_keeps_22():
    assert build_networks(load_config("smoke"), ["gmm"])["gmm"].agnostic_channels == 22
    gmm = build_networks(_target_config(), ["gmm"])["gmm"]
    assert (gmm.agnostic_channels, gmm.conditions_on_target_cloth) == (23, True)
    assert GMM.from_config(gmm.get_config()).conditions_on_target_cloth is True
    with pytest.raises(ValueError, match=r"model\.gmm_condition"):
        load_config("smoke", ["model.gmm_condition=target_shape"])


def test_warp_cloth_refuses_a_missing_or_unexpected_target_region():
    config = _target_config()
    batch = _batch(config)
    region = np.ones(batch["cloth_mask"].shape, np.float32)
    with pytest.raises(ValueError, match="needs target_cloth"):
        forward.warp_cloth(build_networks(config, ["gmm"])["gmm"], batch, training=False)
    with pytest.raises(ValueError, match="needs target_cloth"):
        forward.warp_cloth(build_networks(load_config("smoke"), ["gmm"])["gmm"], batch, training=False,
                           target_cloth=region)


def test_the_pipeline_feeds_the_gmm_the_predicted_parsings_cloth_region():
    config = _target_config()
    networks = build_networks(config)
    batch = _batch(config)
    served = build_pipeline(config, networks)(batch)

    parsing = forward.generate_parsing(networks["parsing_generator"], batch, training=False)
    labels = np.argmax(parsing["parsing"].numpy(), axis=-1)
    region = np.isin(labels, (5, 6, 7)).astype(np.float32)[..., None]  # CIHP upper clothes, dress, coat
    np.testing.assert_array_equal(forward.cloth_region(parsing["parsing_onehot"]).numpy(), region)
    expected = forward.warp_cloth(networks["gmm"], batch, training=False, target_cloth=region)
    np.testing.assert_allclose(served["warped_cloth"].numpy(), expected["warped_cloth"].numpy(), atol=1e-6)
    # The 23rd channel is the region in [-1, 1], and the person features depend on it (the
    # smoke GMM's identity-initialised regression would hide it in the warp).
    agnostic = forward.gmm_agnostic(batch, region)
    np.testing.assert_array_equal(agnostic[..., 22:].numpy(), 2.0 * region - 1.0)
    extractor = networks["gmm"].get_layer("extraction_a")
    other = extractor(forward.gmm_agnostic(batch, 1.0 - region)).numpy()
    assert np.abs(other - extractor(agnostic).numpy()).max() > 1e-6  # the same input gives exactly 0


def test_the_gmm_trainer_gives_the_ground_truth_region():
    from tests.training.training_helpers import random_batch
    from tfvton.training.gmm_trainer import GMMTrainer

    batch = random_batch(2)
    gmm = GMM(ngf=4, height=64, width=64, agnostic_channels=23)
    trainer = GMMTrainer(gmm, loss_config={})
    trained = trainer.generate(batch, training=False)
    expected = forward.warp_cloth(gmm, batch, training=False, padding_mode="zeros",
                                  target_cloth=batch["target_cloth_mask"])
    np.testing.assert_allclose(trained["warped_cloth"].numpy(), expected["warped_cloth"].numpy(), atol=1e-6)
    assert set(trainer.visuals(batch)) >= {"warped_cloth", "target_cloth"}


def test_clipping_cuts_the_warped_cloth_to_the_predicted_cloth_region():
    config = load_config("smoke", ["model.clip_warp_to_parsing=true"])
    networks = build_networks(config)
    assert GMM.from_config(networks["gmm"].get_config()).clip_to_parsing is True
    batch = _batch(config)
    served = build_pipeline(config, networks)(batch)
    unclipped = build_pipeline(load_config("smoke"), networks)(batch)
    labels = np.argmax(served["parsing"].numpy(), axis=-1)[..., None]
    inside = np.isin(labels, (5, 6, 7))
    assert 0 < inside.mean() < 1  # both cases occur
    expected = np.where(inside, unclipped["warped_cloth"].numpy(), 1.0)
    np.testing.assert_allclose(served["warped_cloth"].numpy(), expected, atol=1e-6)


def test_the_cloth_iou_of_a_clipping_model_counts_the_clipped_garment():
    from tfvton.metrics.structure import structure_inputs

    h, w = 8, 8
    target = np.zeros((1, h, w), np.int64)
    target[0, 2:6, 2:6] = 5  # the target's cloth region: 16 pixels
    predicted = np.zeros_like(target)
    predicted[0, 2:6, 2:4] = 5  # the predicted region: its left half
    xs, ys = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    identity = np.stack([xs, ys], -1)[None].astype(np.float32)
    cloth_mask = np.zeros((1, h, w, 1), np.float32)
    cloth_mask[0, 1:7, 1:7] = 1.0  # the unwarped garment covers 36 pixels
    batch = {"target_parse": np.eye(20, dtype=np.float32)[target], "source_parse": np.eye(20, dtype=np.float32)[target],
             "cloth_mask": cloth_mask, "cloth_image": np.zeros((1, h, w, 3), np.float32)}
    outputs = {"parsing_labels": predicted, "grid": identity}
    plain = structure_inputs(batch, outputs)["model"]["warped_mask"]
    clipped = structure_inputs(batch, outputs, clip_warp_to_parsing=True)["model"]["warped_mask"]
    assert (plain.sum(), clipped.sum()) == (36, 8)  # IoU 16/36 -> 8/16
    np.testing.assert_array_equal(clipped, plain & (predicted == 5))
