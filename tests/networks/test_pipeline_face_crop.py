"""`model.face_mode: crop`: the pipeline refines the face on a crop (tfvton.layers.FaceCrop)."""
import keras
import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.data import transforms
from tfvton.layers.face_crop import box_offsets, crop_at


@keras.saving.register_keras_serializable(package="tfvton_tests")
class TryonFaceIdentity(keras.Model):
    """Returns its try-on-face channels: a face stage that changes nothing."""

    def call(self, inputs, training=None):
        return inputs[..., 3:6]


def _batch(config, seed=0):
    rng = np.random.default_rng(seed)
    h, w = config.data.height, config.data.width
    labels = np.zeros((1, h, w), np.int64)
    labels[0, 6:16, 24:40] = 13  # a face
    labels[0, 20:50, 16:48] = 5  # upper clothes
    parse = np.eye(20, dtype=np.float32)[labels]
    return {
        "source_image": rng.uniform(-1, 1, (1, h, w, 3)).astype(np.float32),
        "source_parse": parse,
        "source_shape": rng.uniform(-1, 1, (1, h, w, 1)).astype(np.float32),
        "source_head": rng.uniform(-1, 1, (1, h, w, 3)).astype(np.float32),
        "target_pose": (rng.uniform(size=(1, h, w, 18)) > 0.97).astype(np.float32),
        "cloth_image": rng.uniform(-1, 1, (1, h, w, 3)).astype(np.float32),
        "cloth_mask": (rng.uniform(size=(1, h, w, 1)) > 0.5).astype(np.float32),
    }


@pytest.fixture(scope="module")
def crop_config():
    from tfvton.config import load_config

    return load_config("smoke", ["model.face_mode=crop", "model.face_crop=32"])


def test_identity_face_stage_leaves_the_tryon(crop_config):
    from tfvton.networks.factory import build_networks, build_pipeline

    networks = build_networks(crop_config, ["gmm", "parsing_generator", "appearance_generator"])
    networks["face_generator"] = TryonFaceIdentity()
    pipeline = build_pipeline(crop_config, networks)
    assert pipeline.face_mode == "crop" and pipeline.face_refiner.crop_size == 32
    out = pipeline(_batch(crop_config), training=False)
    assert_close(out["final"], out["tryon"], atol=1e-6, what="final")


def test_crop_mode_refines_inside_the_generated_face_box_only(crop_config):
    from tfvton.networks.factory import build_pipeline

    pipeline = build_pipeline(crop_config)
    batch = _batch(crop_config, 1)
    out = {k: np.asarray(v) for k, v in pipeline(batch, training=False).items()}
    face_mask = out["face_mask"]
    source_mask = np.asarray(transforms.part_mask(batch["source_parse"], transforms.FACE_LABELS))
    source_at = np.asarray(box_offsets(source_mask, 32, 32))
    target_at = np.asarray(box_offsets(face_mask, 32, 32))
    crops = np.concatenate([np.asarray(crop_at(batch["source_image"] * source_mask, source_at, 32, 32)),
                            np.asarray(crop_at(out["tryon"] * face_mask, target_at, 32, 32))], axis=-1)
    refined = np.asarray(pipeline.face_generator(crops, training=False))
    expected = out["tryon"].copy()
    top, left = target_at[0]
    window = (slice(None), slice(top, top + 32), slice(left, left + 32))
    expected[window] = (out["tryon"][window] * (1 - face_mask[window]) + refined * face_mask[window])
    assert_close(out["final"], expected, atol=1e-5, what="final")


def test_config_round_trip_keeps_the_mode(crop_config):
    from tfvton.networks.factory import build_pipeline
    from tfvton.networks.pipeline import TryOnPipeline

    pipeline = build_pipeline(crop_config)
    config = pipeline.get_config()
    assert (config["face_mode"], config["face_crop"]) == ("crop", 32)
    clone = TryOnPipeline.from_config(config)
    assert clone.face_mode == "crop" and clone.face_refiner is not None
    with pytest.raises(ValueError, match="face_mode must be 'full' or 'crop'"):
        TryOnPipeline(*(None,) * 4, face_mode="half")
