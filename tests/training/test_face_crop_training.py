"""`model.face_mode: crop`: the face stage trains the face generator on the crops the pipeline serves."""
from __future__ import annotations

import numpy as np

from tests.testing import assert_close
from tests.training.training_helpers import random_batch, tiny_config

CROP = 32


def _face_stage_trainer(config, batch, steps):
    import tensorflow as tf

    from tfvton.training import algorithm, runner

    trainer = runner.build_stage_trainer(config, algorithm.STAGES["face"], tf.distribute.get_strategy(), steps,
                                         batch, verbose=0)
    for _ in range(steps):
        trainer.train_step(batch)
    return trainer


def test_crop_mode_face_stage_trains_on_crops_and_matches_the_pipeline():
    import tensorflow as tf

    from tfvton.layers.face_crop import FaceCrop
    from tfvton.networks import factory, forward

    config = tiny_config("model.face_mode=crop", f"model.face_crop={CROP}", "train.batch_size=2",
                         "optimizer.lr=1e-3")
    batch = random_batch(2, 64, 64, seed=3)
    trainer = _face_stage_trainer(config, batch, steps=3)
    assert int(trainer.step.numpy()) == 3
    assert isinstance(trainer.face_refiner, FaceCrop) and trainer.face_refiner.crop_size == CROP

    # The generator's own calls during a step see CROP x CROP inputs, never the 64 x 64 frame.
    seen = []
    generator = trainer.face_generator
    original = generator.call

    def recording_call(inputs, *args, **kwargs):
        seen.append(tuple(inputs.shape[1:3]))
        return original(inputs, *args, **kwargs)

    generator.call = recording_call
    try:
        trainer.train_step(batch)
    finally:
        generator.call = original
    assert seen and set(seen) == {(CROP, CROP)}

    # Same weights: the pipeline (which cuts the face with the generated parsing) and the face stage fed
    # that same parsing as its face region compute the same face and final image.
    networks = {name: getattr(trainer, name) for name in factory.GENERATOR_NAMES}
    pipeline = factory.build_pipeline(config, networks)
    assert pipeline.face_mode == "crop"
    served = pipeline(batch, training=False)
    onehot = forward.generate_parsing(trainer.parsing_generator, batch, training=False)["parsing_onehot"]
    trained = trainer.generate({**batch, "target_parse": onehot}, training=False)
    for key in ("face_mask", "tryon", "final"):
        assert_close(trained[key], served[key], atol=1e-5, what=key)

    # And the crop really is a different model from the full frame with these weights.
    full = forward.refine_face(trainer.face_generator, batch["source_image"], batch["source_parse"],
                               trained["tryon"], onehot, training=False)
    inside = np.asarray(trained["face_mask"]) > 0
    assert float(tf.reduce_max(tf.abs(full["final"] - trained["final"]))) > 1e-3
    assert np.any(inside)


def test_full_mode_face_stage_keeps_the_whole_frame():
    from tfvton.training import algorithm
    from tfvton.training.stages import build_trainer
    from tfvton.networks import factory

    config = tiny_config()
    stage = algorithm.STAGES["face"]
    networks = factory.build_networks(config, stage.networks)
    trainer = build_trainer(stage, networks, config, global_batch_size=2)
    assert trainer.face_mode == "full" and trainer.face_refiner is None
    assert trainer.get_config()["face_mode"] == "full"
