"""`StageTrainer`: the keras.Model every stage trainer builds on (keras-io GAN guide pattern).

A stage trainer holds the networks of one stage of Algorithm 1 (passed in, so
each can be saved and exported on its own), one optimizer per trained network
(passed to `compile`), and a `keras.metrics.Mean` per loss term (the `metrics`
property, so `fit()` shows and resets them). `train_step` runs the
discriminator step, then the generator step against the updated discriminator,
as the official `optimize_parameters` does.

Distribution: every loss is per sample; the weighted sum of a network's terms is
scaled with `tfvton.losses.scale_for_replicas(..., global_batch_size=B)`, so N replicas
holding B/N samples each take the same step as one replica holding B (the
optimizer sums gradients across replicas). The trackers receive the per-sample
values, so they report global-batch means. `train_step` works inside `fit()` and
inside `strategy.run` in the multi-worker loop (`tfvton.training.custom_loop`).
A stage whose GAN weight is 0 (`GAN_WEIGHT`) skips its discriminator entirely.

Mixed precision: losses are float32; with `mixed_float16` the optimizers are
`LossScaleOptimizer`s and each one's gradients come from its own scaled loss.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence

import keras
import tensorflow as tf

from tfvton.config import LossConfig, config_from_dict, config_to_dict
from tfvton.losses import adversarial, build_vgg_losses, scale_for_replicas
from tfvton.networks import forward

# Tracked terms that exist only while the discriminator trains.
ADVERSARIAL_TERMS = ("d_total", "d_real", "d_fake", "g_gan")


def _watch(tape, network) -> None:
    # Keras variables wrap a tf.Variable (`.value` outside an autocast scope).
    tape.watch([variable.value for variable in network.trainable_variables])


def _as_loss_config(value) -> LossConfig:
    if value is None:
        return LossConfig()
    if isinstance(value, LossConfig):
        return value
    return config_from_dict({"loss": dict(value)}).loss


class StageTrainer(keras.Model):
    """Base class: trackers, optimizers, the D-then-G step, checkpoint objects.

    Subclasses set `STAGE`, `TRAINED` (attribute names of the networks this stage
    updates, each with an optimizer of the same key), `DISCRIMINATOR` (attribute
    name or None), `TERMS` (loss names tracked), and implement `generate`,
    `generator_losses` and (GAN stages) `discriminator_pairs`.

    Args:
        loss_config: `LossConfig` (or its dict) with the loss weights.
        global_batch_size: B, the batch summed over replicas (and workers).
        **kwargs: forwarded to `keras.Model`.
    """

    STAGE = ""
    TRAINED: Sequence[str] = ()
    FROZEN: Sequence[str] = ()
    DISCRIMINATOR: Optional[str] = None
    # The `LossConfig` field weighting this stage's generator GAN term; when it is 0 the stage
    # trains without its discriminator (`adversarial`). None: always adversarial.
    GAN_WEIGHT: Optional[str] = None
    TERMS: Sequence[str] = ()

    def __init__(self, loss_config=None, global_batch_size: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.loss_config = _as_loss_config(loss_config)
        self.global_batch_size = int(global_batch_size)
        if self.global_batch_size < 1:
            raise ValueError(f"{type(self).__name__}: global_batch_size must be >= 1. "
                             f"Received: global_batch_size={global_batch_size}")
        # The step counter lives with the networks in every checkpoint.
        self.step = keras.Variable(0, dtype="int64", trainable=False, name="step",
                                   aggregation="only_first_replica")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.tracked_terms()}
        self.optimizers: Dict[str, keras.optimizers.Optimizer] = {}

    # === Networks ===
    def trained_networks(self) -> Dict[str, keras.Model]:
        """Networks this stage updates, by factory key."""
        return {name: getattr(self, name) for name in self.TRAINED}

    def frozen_networks(self) -> Dict[str, keras.Model]:
        """Networks this stage runs in inference mode without updating."""
        return {name: getattr(self, name) for name in self.FROZEN if getattr(self, name, None) is not None}

    @property
    def adversarial(self) -> bool:
        """Whether the discriminator trains and judges: it has one, and its GAN weight is not 0.

        With the weight at 0 the generator's loss does not depend on the discriminator, so
        training it would only cost time (about a third of an appearance step at the demo's
        settings, docs/training.md); it then keeps its initial weights.
        """
        if not self.DISCRIMINATOR:
            return False
        return self.GAN_WEIGHT is None or getattr(self.loss_config, self.GAN_WEIGHT) != 0

    def tracked_terms(self) -> Sequence[str]:
        """Loss names with a tracker (subclasses drop terms whose weight is zero)."""
        return tuple(t for t in self.TERMS if self.adversarial or t not in ADVERSARIAL_TERMS)

    def _generators(self) -> Sequence[str]:
        return [name for name in self.TRAINED if name != self.DISCRIMINATOR]

    # === Compile / build ===
    def compile(self, optimizers: Mapping[str, keras.optimizers.Optimizer], jit_compile: bool = False,
                run_eagerly: bool = False):
        """Takes one optimizer per trained network.

        Args:
            optimizers: {network key: optimizer}; keys must equal `TRAINED`.
            jit_compile: XLA-compile the train step.
            run_eagerly: debug mode.
        """
        missing = sorted(set(self.TRAINED) - set(optimizers))
        extra = sorted(set(optimizers) - set(self.TRAINED))
        if missing or extra:
            raise ValueError(f"{type(self).__name__}.compile: optimizers must hold one optimizer per trained network "
                             f"{list(self.TRAINED)}. Received: missing {missing}, unexpected {extra}")
        super().compile(optimizer=None, jit_compile=jit_compile, run_eagerly=run_eagerly)
        self.optimizers = dict(optimizers)

    def build_for_training(self, batch) -> None:
        """Dummy forward pass and `optimizer.build` (call inside `strategy.scope()` before `fit`).

        Creates every network, optimizer slot and tracker variable up front, so a
        checkpoint can be restored into them and `fit` never creates state lazily
        inside a replica context.
        """
        for name, network in self.frozen_networks().items():
            network.trainable = False
        for name in self.TRAINED:
            getattr(self, name).trainable = True
        outputs = self.generate(batch, training=False)
        if self.DISCRIMINATOR:
            condition, real, fake = self.discriminator_pairs(batch, outputs)
            getattr(self, self.DISCRIMINATOR)(tf.concat([condition, real], axis=-1), training=False)
        for name, optimizer in self.optimizers.items():
            optimizer.build(getattr(self, name).trainable_variables)
        for tracker in self.trackers.values():
            tracker.update_state(0.0)
            tracker.reset_state()
        self.built = True

    def call(self, inputs, training=False):
        return self.generate(inputs, training=training)

    # === Subclass API ===
    def generate(self, batch, training: bool) -> Dict[str, tf.Tensor]:
        """The stage's forward pass; returns named tensors (see `tfvton.networks.forward`)."""
        raise NotImplementedError

    def discriminator_pairs(self, batch, outputs):
        """(condition, real, fake) for the discriminator: D sees concat(condition, real|fake)."""
        raise NotImplementedError

    def generator_losses(self, batch, outputs, fake_prediction) -> Dict[str, tf.Tensor]:
        """Weighted per-sample generator terms; must include `g_total` (their sum)."""
        raise NotImplementedError

    def visuals(self, batch) -> Dict[str, tf.Tensor]:
        """Named images for the sample grid (see `tfvton.training.grids`)."""
        outputs = self.generate(batch, training=False)
        panels = {"source": batch["source_image"], "cloth": batch["cloth_image"]}
        for key in ("warped_cloth", "parsing", "coarse", "composition_mask", "tryon", "final"):
            if key in outputs:
                panels[key] = outputs[key]
        panels["target"] = batch["target_image"]
        return panels

    # === Shared set-up of the stages ===
    def use_vgg(self, vgg, kind: str) -> None:
        """VGG losses of `kind` (`appearance` | `face`) from the loss config, on a frozen VGG.

        Args:
            vgg: a `VGG19Features` to share, or None to build one from the config.
            kind: which `build_vgg_losses` entry this stage uses.
        """
        self.vgg_losses = build_vgg_losses(self.loss_config, vgg)
        self.vgg = self.vgg_losses[kind].vgg
        self.vgg.trainable = False

    def set_face_mode(self, face_mode: str = "full", face_crop: int = 64) -> None:
        """Refines faces as the pipeline will serve them (config `model.face_mode` / `model.face_crop`).

        Call after `self.face_generator` is set. `crop` wraps it in a `FaceCrop`
        (same variables), so a crop-mode model is trained on crops.
        """
        self.face_mode = face_mode
        self.face_crop = int(face_crop)
        self.face_refiner = forward.face_refiner(self.face_generator, face_mode, self.face_crop)

    def refine_face(self, batch, image, face_parse, training: bool) -> Dict[str, tf.Tensor]:
        """`tfvton.networks.forward.refine_face` of `image` in this stage's face mode."""
        return forward.refine_face(self.face_generator, batch["source_image"], batch["source_parse"], image,
                                   face_parse, training=training, refiner=self.face_refiner)

    # === Loss helpers ===
    def scale(self, per_sample) -> tf.Tensor:
        """This replica's share of the global-batch mean (`tfvton.losses.scale_for_replicas`)."""
        return scale_for_replicas(per_sample, self.global_batch_size)

    def gan_warmup_factor(self) -> tf.Tensor:
        """min(1, (step + 1) / loss.gan_warmup): the ramp on every generator GAN term (1 when off)."""
        warmup = self.loss_config.gan_warmup
        if warmup <= 0:
            return tf.constant(1.0)
        return tf.minimum(1.0, tf.cast(self.step.value + 1, tf.float32) / float(warmup))

    def gan_generator_loss(self, fake_prediction):
        loss = adversarial.generator_loss(fake_prediction, self.loss_config.gan_mode)
        if self.loss_config.gan_warmup <= 0:
            return loss  # the official term, untouched
        return loss * self.gan_warmup_factor()

    # === Steps ===
    def _apply(self, tape, loss, names: Sequence[str]) -> None:
        # Each optimizer differentiates its own (possibly loss-scaled) copy of the loss.
        for name in names:
            optimizer = self.optimizers[name]
            variables = getattr(self, name).trainable_variables
            target = loss[name] if isinstance(loss, dict) else loss
            gradients = tape.gradient(target, variables)
            optimizer.apply_gradients(zip(gradients, variables))

    def _scaled_losses(self, loss, names):
        return {name: self.optimizers[name].scale_loss(loss) for name in names}

    def _discriminator_step(self, batch, outputs) -> Dict[str, tf.Tensor]:
        discriminator = getattr(self, self.DISCRIMINATOR)
        condition, real, fake = self.discriminator_pairs(batch, outputs)
        condition = tf.stop_gradient(condition)
        fake = tf.stop_gradient(fake)
        with tf.GradientTape() as tape:
            _watch(tape, discriminator)
            real_prediction = discriminator(tf.concat([condition, tf.cast(real, condition.dtype)], axis=-1),
                                            training=True)
            fake_prediction = discriminator(tf.concat([condition, tf.cast(fake, condition.dtype)], axis=-1),
                                            training=True)
            terms = adversarial.discriminator_loss(real_prediction, fake_prediction, self.loss_config.gan_mode,
                                                   self.loss_config.real_label)
            scaled = self._scaled_losses(self.scale(terms["total"]), [self.DISCRIMINATOR])
        self._apply(tape, scaled, [self.DISCRIMINATOR])
        return {"d_total": terms["total"], "d_real": terms["real"], "d_fake": terms["fake"]}

    def train_losses(self, batch) -> Dict[str, tf.Tensor]:
        """One optimisation step; returns the per-sample loss terms (B_local,)."""
        generators = self._generators()
        persistent = len(generators) > 1
        with tf.GradientTape(persistent=persistent) as tape:
            # Explicit watch: a network frozen by an earlier stage in the same process
            # keeps non-trainable tf.Variables underneath, which a tape ignores.
            for name in generators:
                _watch(tape, getattr(self, name))
            outputs = self.generate(batch, training=True)
            d_terms = {}
            if self.adversarial:
                with tape.stop_recording():
                    d_terms = self._discriminator_step(batch, outputs)
                condition, _, fake = self.discriminator_pairs(batch, outputs)
                fake_prediction = getattr(self, self.DISCRIMINATOR)(
                    tf.concat([tf.stop_gradient(condition), tf.cast(fake, condition.dtype)], axis=-1),
                    training=True)
            else:
                fake_prediction = None
            g_terms = self.generator_losses(batch, outputs, fake_prediction)
            scaled = self._scaled_losses(self.scale(g_terms["g_total"]), generators)
        self._apply(tape, scaled, generators)
        del tape
        return {**d_terms, **g_terms}

    def eval_losses(self, batch) -> Dict[str, tf.Tensor]:
        """The same terms without updates (networks in inference mode)."""
        outputs = self.generate(batch, training=False)
        d_terms = {}
        fake_prediction = None
        if self.adversarial:
            discriminator = getattr(self, self.DISCRIMINATOR)
            condition, real, fake = self.discriminator_pairs(batch, outputs)
            real_prediction = discriminator(tf.concat([condition, tf.cast(real, condition.dtype)], axis=-1),
                                            training=False)
            fake_prediction = discriminator(tf.concat([condition, tf.cast(fake, condition.dtype)], axis=-1),
                                            training=False)
            terms = adversarial.discriminator_loss(real_prediction, fake_prediction, self.loss_config.gan_mode,
                                                   self.loss_config.real_label)
            d_terms = {"d_total": terms["total"], "d_real": terms["real"], "d_fake": terms["fake"]}
        return {**d_terms, **self.generator_losses(batch, outputs, fake_prediction)}

    def _track(self, terms) -> Dict[str, tf.Tensor]:
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        terms = self.train_losses(data)
        self.step.assign_add(1)
        return self._track(terms)

    def test_step(self, data):
        return self._track(self.eval_losses(data))

    @property
    def metrics(self):
        return list(self.trackers.values())

    # === Checkpoints / export ===
    def checkpoint_objects(self) -> Dict[str, object]:
        """What a checkpoint holds: trained networks, their optimizers, the step and dropout RNG states."""
        objects = {"step": self.step}
        for name in self.TRAINED:
            network = getattr(self, name)
            objects[name] = network
            objects[f"{name}_optimizer"] = self.optimizers[name]
            seeds = [v for v in network.variables if "seed_generator_state" in v.path]
            if seeds:
                objects[f"{name}_seeds"] = seeds
        return objects

    # === Config ===
    def get_config(self):
        config = {"name": self.name, "loss_config": config_to_dict(self.loss_config),
                  "global_batch_size": self.global_batch_size}
        if hasattr(self, "face_mode"):
            config.update({"face_mode": self.face_mode, "face_crop": self.face_crop})
        for name in tuple(self.TRAINED) + tuple(self.FROZEN) + tuple(getattr(self, "EXTRA", ())):
            value = getattr(self, name, None)
            config[name] = None if value is None else keras.saving.serialize_keras_object(value)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in tuple(cls.TRAINED) + tuple(cls.FROZEN) + tuple(getattr(cls, "EXTRA", ())):
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
