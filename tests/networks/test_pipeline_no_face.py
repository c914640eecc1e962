"""`model.face_refinement: false`: the pipeline (and so every export) serves the try-on, not a face stage
it never trained."""
import numpy as np

from tests.networks.test_pipeline_face_crop import _batch


def test_without_face_refinement_final_is_the_tryon_and_the_face_generator_is_not_run():
    from tfvton.config import load_config
    from tfvton.networks.factory import build_networks, build_pipeline
    from tfvton.networks.pipeline import TryOnPipeline

    on = load_config("smoke")  # non-residual face generator: random weights change the face
    off = load_config("smoke", ["model.face_refinement=false"])
    networks = build_networks(on)
    batch = _batch(on)
    refined = build_pipeline(on, networks)(batch)
    plain_pipeline = build_pipeline(off, networks)
    plain = plain_pipeline(batch)
    np.testing.assert_array_equal(plain["final"].numpy(), plain["tryon"].numpy())
    np.testing.assert_array_equal(plain["tryon"].numpy(), refined["tryon"].numpy())
    assert np.abs(refined["final"].numpy() - refined["tryon"].numpy()).max() > 1e-3  # the face stage did act
    np.testing.assert_array_equal(plain["face_mask"].numpy(), refined["face_mask"].numpy())
    assert TryOnPipeline.from_config(plain_pipeline.get_config()).face_refinement is False
