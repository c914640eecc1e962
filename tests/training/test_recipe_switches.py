"""The training-recipe switches: official defaults, and each switch doing exactly what it says."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfvton.config import load_config
from tfvton.losses import discriminator_loss, grid_smoothness_loss, parsing_cross_entropy
from tfvton.networks.gmm import GMM
from tfvton.networks.parsing_unet import ParsingUNet
from tfvton.training.schedules import build_optimizer


def test_paper_preset_keeps_the_official_recipe():
    config = load_config("paper")
    assert (config.model.parsing_output, config.model.gmm_init) == ("tanh", "official")
    assert (config.loss.parsing_ce, config.loss.gmm_smoothness, config.loss.gan_warmup,
            config.loss.real_label) == ("official", 0.0, 0, 1.0)
    assert config.optimizer.d_lr_scale == 1.0


@pytest.mark.parametrize("override, key", [
    ("model.parsing_output=relu", "model.parsing_output"),
    ("model.gmm_init=zeros", "model.gmm_init"),
    ("loss.real_label=0.3", "loss.real_label"),
    ("loss.gan_warmup=-1", "loss.gan_warmup"),
    ("loss.gmm_smoothness=-2", "loss.gmm_smoothness"),
])
def test_bad_switch_values_name_the_key(override, key):
    with pytest.raises(Exception, match=key.replace(".", r"\.")):
        load_config("smoke", [override])


def _identity_inputs(seed=0, size=64):
    rng = np.random.default_rng(seed)
    agnostic = tf.constant(rng.uniform(-1, 1, (2, size, size, 22)).astype(np.float32))
    cloth = tf.constant(rng.uniform(-1, 1, (2, size, size, 3)).astype(np.float32))
    return agnostic, cloth


def test_identity_initialised_gmm_returns_the_unwarped_cloth():
    agnostic, cloth = _identity_inputs()
    gmm = GMM(ngf=4, height=64, width=64, identity_init=True)
    for training in (True, False):
        grid, theta = gmm((agnostic, cloth), training=training)
        np.testing.assert_array_equal(theta.numpy(), 0.0)
        for padding in ("border", "zeros"):
            np.testing.assert_allclose(gmm.warp(cloth, grid, padding_mode=padding).numpy(), cloth.numpy(), atol=1e-4)
    # The official init regresses some warp: the identity is a real change of the start.
    grid, _ = GMM(ngf=4, height=64, width=64)((agnostic, cloth), training=False)
    assert np.abs(gmm.warp(cloth, grid).numpy() - cloth.numpy()).max() > 1e-2


def test_identity_init_is_in_the_config_round_trip():
    gmm = GMM(ngf=4, height=64, width=64, identity_init=True)
    assert GMM.from_config(gmm.get_config()).identity_init is True


def _regular_grid(height, width):
    ys, xs = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    return np.stack([xs, ys], axis=-1)[None].astype(np.float32)


def test_grid_smoothness_is_zero_on_even_grids_and_counts_one_uneven_point():
    grid = _regular_grid(5, 6)
    np.testing.assert_allclose(grid_smoothness_loss(grid).numpy(), [0.0], atol=1e-7)
    np.testing.assert_allclose(grid_smoothness_loss(grid * [0.5, 2.0]).numpy(), [0.0], atol=1e-7)
    moved = grid.copy()
    moved[0, 2, 2, 0] += 0.1  # one interior x moved right by 0.1: its own |left - right| changes by 0.2
    # and each horizontal neighbour's by 0.1 (both interior: columns 1 and 3 of 0..5); y untouched.
    np.testing.assert_allclose(grid_smoothness_loss(moved).numpy(), [(0.2 + 0.1 + 0.1) / 30], rtol=1e-5)


def test_one_sided_label_smoothing_moves_only_the_real_target():
    real = tf.fill([1, 2, 2, 1], 0.9)
    fake = tf.fill([1, 2, 2, 1], 0.2)
    smoothed = discriminator_loss(real, fake, "lsgan", real_label=0.9)
    official = discriminator_loss(real, fake, "lsgan")
    np.testing.assert_allclose(smoothed["real"].numpy(), [0.0], atol=1e-7)
    np.testing.assert_allclose(official["real"].numpy(), [0.01], rtol=1e-5)
    np.testing.assert_allclose(smoothed["fake"].numpy(), official["fake"].numpy())


def test_d_lr_scale_applies_to_discriminators_only():
    config = load_config("smoke", ["optimizer.d_lr_scale=0.25"]).optimizer
    generator = build_optimizer(config, 100, "g")
    discriminator = build_optimizer(config, 100, "d", discriminator=True)
    assert float(generator.learning_rate) == pytest.approx(2e-4)
    assert float(discriminator.learning_rate) == pytest.approx(5e-5)


def test_linear_parsing_output_is_the_tanh_models_score():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(1, 32, 32, 36)).astype(np.float32))
    tanh_net = ParsingUNet(ngf=4, downsamplings=3, dropout=0.0)
    linear_net = ParsingUNet(ngf=4, downsamplings=3, dropout=0.0, output_activation="linear")
    tanh_out = tanh_net(x)
    linear_net(x)
    linear_net.set_weights(tanh_net.get_weights())  # same weights: the switch holds no variable
    linear_out = linear_net(x).numpy()
    np.testing.assert_allclose(np.tanh(linear_out), tanh_out.numpy(), atol=1e-6)


def test_official_cross_entropy_has_a_floor_the_logits_one_does_not():
    # Why the official parsing loss cannot teach: with tanh scores in [-1, 1] the double softmax
    # bounds the CE below by ~2.77 nats even for a perfect, saturated prediction.
    labels = np.zeros((1, 4, 4), np.int32)
    perfect = np.full((1, 4, 4, 20), -1.0, np.float32)
    perfect[..., 0] = 1.0
    official = float(parsing_cross_entropy(perfect, labels, mode="official")[0])
    assert official == pytest.approx(np.log(1 + 19 * np.exp((1 - np.e ** 2) / (np.e ** 2 + 19))), rel=1e-5)
    assert official > 2.7
    confident = perfect * 10.0  # what a linear output can reach
    assert float(parsing_cross_entropy(confident, labels, mode="logits")[0]) < 1e-6


def test_gan_warmup_ramps_the_generator_gan_term_linearly():
    from tfvton.training.stage_trainer import StageTrainer

    prediction = tf.fill([1, 2, 2, 1], 0.5)  # lsgan: (0.5 - 1)^2 = 0.25
    official = StageTrainer(loss_config={})
    assert float(official.gan_generator_loss(prediction)[0]) == pytest.approx(0.25)
    trainer = StageTrainer(loss_config={"gan_warmup": 4})
    for step, factor in ((0, 0.25), (1, 0.5), (3, 1.0), (50, 1.0)):
        trainer.step.assign(step)
        assert float(trainer.gan_generator_loss(prediction)[0]) == pytest.approx(0.25 * factor)


def test_gmm_trainer_adds_the_silhouette_and_smoothness_terms_only_when_weighted():
    from tests.training.training_helpers import random_batch
    from tfvton.training.gmm_trainer import GMMTrainer

    batch = random_batch(2)
    gmm = GMM(ngf=4, height=64, width=64, identity_init=True)
    official = GMMTrainer(gmm, loss_config={})
    assert set(official.tracked_terms()) == {"g_total", "g_l1"}
    trainer = GMMTrainer(gmm, loss_config={"gmm_mask": 2.0, "gmm_smoothness": 40.0})
    terms = trainer.generator_losses(batch, trainer.generate(batch, training=False))
    # Identity warp: the silhouette term is the L1 between the unwarped mask and the target's cloth region.
    expected = 2.0 * np.abs(batch["cloth_mask"].numpy() - batch["target_cloth_mask"].numpy()).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(terms["g_mask"].numpy(), expected, atol=1e-4)
    np.testing.assert_allclose(terms["g_smooth"].numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(terms["g_total"].numpy(),
                               (terms["g_l1"] + terms["g_mask"] + terms["g_smooth"]).numpy(), rtol=1e-6)


def test_stage_lr_names_the_rate_of_one_stage():
    config = load_config("smoke", ["optimizer.stage_lr=[[parsing, 0.001]]", "optimizer.d_lr_scale=0.5"]).optimizer
    assert float(build_optimizer(config, 100, "g", stage="parsing").learning_rate) == pytest.approx(1e-3)
    assert float(build_optimizer(config, 100, "d", discriminator=True, stage="parsing").learning_rate) == \
        pytest.approx(5e-4)
    assert float(build_optimizer(config, 100, "g", stage="gmm").learning_rate) == pytest.approx(2e-4)


def test_stage_lr_rejects_unknown_stages():
    config = load_config("smoke", ["optimizer.stage_lr=[[parsnip, 0.001]]"]).optimizer
    with pytest.raises(ValueError, match="parsnip"):
        build_optimizer(config, 100, "g", stage="parsing")


@pytest.mark.parametrize("stage, weight", [("parsing", "loss.parsing_gan"), ("appearance", "loss.gan")])
def test_a_zero_gan_weight_trains_without_the_discriminator(stage, weight):
    from tests.training.training_helpers import random_batch, tiny_config
    from tfvton.training import algorithm, runner

    batch = random_batch(2, 64, 64, seed=3)

    def one_step(*overrides):
        import keras

        config = tiny_config("train.batch_size=2", "model.dropout=0.0", *overrides)
        keras.utils.set_random_seed(0)
        trainer = runner.build_stage_trainer(config, algorithm.STAGES[stage], tf.distribute.get_strategy(), 4,
                                             batch, verbose=0)
        generator, discriminator = (getattr(trainer, name) for name in trainer.TRAINED)
        before = {name: [v.numpy().copy() for v in net.trainable_variables]
                  for name, net in (("g", generator), ("d", discriminator))}
        logs = {k: float(v) for k, v in trainer.train_step(batch).items()}
        moved = {name: max(float(np.max(np.abs(a - v.numpy()))) for a, v in zip(before[name], net.trainable_variables))
                 for name, net in (("g", generator), ("d", discriminator))}
        return trainer, logs, moved

    trainer, logs, moved = one_step(f"{weight}=0")
    assert not trainer.adversarial
    assert not {"d_total", "d_real", "d_fake", "g_gan"} & set(logs)
    assert moved["g"] > 0 and moved["d"] == 0.0  # the discriminator is never run nor updated
    official, official_logs, official_moved = one_step()
    assert official.adversarial and official_moved["d"] > 0 and "d_total" in official_logs
    # Same seed, same batch: the generator's loss is the adversarial one minus its GAN term.
    assert logs["g_total"] == pytest.approx(official_logs["g_total"] - official_logs["g_gan"], rel=1e-4)
