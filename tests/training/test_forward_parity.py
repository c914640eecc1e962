"""The stage trainers chain the networks exactly as the inference `TryOnPipeline` does."""
from __future__ import annotations

from tests.testing import assert_close
from tests.training.training_helpers import random_batch, tiny_config


def test_joint_forward_equals_the_pipeline():
    from tfvton.networks import factory
    from tfvton.training.joint_trainer import JointTrainer

    config = tiny_config()
    networks = factory.build_networks(config)
    pipeline = factory.build_pipeline(config, networks)
    trainer = JointTrainer(networks["parsing_generator"], networks["appearance_generator"],
                           networks["face_generator"], networks["appearance_discriminator"], networks["gmm"],
                           loss_config=config.loss, global_batch_size=2)
    batch = random_batch(2, 64, 64, seed=5)
    expected = pipeline(batch, training=False)
    got = trainer.generate(batch, training=False)
    for key in ("warped_cloth", "parsing", "coarse", "composition_mask", "tryon", "final", "face_mask"):
        assert_close(got[key], expected[key], atol=1e-5, what=key)


def test_gmm_stage_warps_with_zero_padding_as_the_official_loss():
    import numpy as np
    import tensorflow as tf

    from tfvton.layers.grid_sample import grid_sample
    from tfvton.networks import factory
    from tfvton.networks import forward
    from tfvton.training.gmm_trainer import GMMTrainer

    config = tiny_config()
    gmm = factory.build_networks(config, ["gmm"])["gmm"]
    trainer = GMMTrainer(gmm, loss_config=config.loss, global_batch_size=2)
    batch = random_batch(2, 64, 64, seed=6)
    outputs = trainer.generate(batch, training=False)
    grid, _ = gmm((forward.gmm_agnostic(batch), batch["cloth_image"]), training=False)
    assert_close(outputs["warped_cloth"], grid_sample(batch["cloth_image"], grid, padding_mode="zeros"), atol=1e-6)
    # Per-sample loss = mean |warped - im_c| over each sample's pixels.
    losses = trainer.generator_losses(batch, outputs)
    manual = np.mean(np.abs(outputs["warped_cloth"].numpy() - batch["target_cloth"].numpy()), axis=(1, 2, 3))
    assert_close(losses["g_l1"], manual * config.loss.gmm_l1, atol=1e-6)
    assert tf.reduce_all(losses["g_total"] == losses["g_l1"])


def test_trainer_config_roundtrip():
    import keras

    from tfvton.networks import factory
    from tfvton.training.parsing_trainer import ParsingTrainer

    config = tiny_config("loss.parsing_ce=logits")
    networks = factory.build_networks(config, ["parsing_generator", "parsing_discriminator"])
    trainer = ParsingTrainer(**networks, loss_config=config.loss, global_batch_size=4, name="parsing_trainer")
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(trainer))
    assert type(clone) is ParsingTrainer and clone.global_batch_size == 4
    assert clone.loss_config == config.loss and clone.parsing_generator.get_config() == networks[
        "parsing_generator"].get_config()
    assert [m.name for m in clone.metrics] == ["d_total", "d_real", "d_fake", "g_total", "g_gan", "g_parsing"]
