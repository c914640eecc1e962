"""`evaluate_structure` on a tiny SynthMPV with a smoke pipeline, checked against independent recomputation."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.data.transforms import LABEL_NAMES


@pytest.fixture(scope="module")
def tiny_test_split(tmp_path_factory, smoke_config):
    from tfvton.data import MPVDataset
    from tfvton.data.synth import generate

    root = tmp_path_factory.mktemp("synth_structure")
    generate(root, identities=6, poses_per_identity=3, size=(64, 64), seed=0)
    return MPVDataset.from_config(root, None, "test", smoke_config.data)


@pytest.fixture(scope="module")
def identity_gmm_pipeline(smoke_config):
    from tfvton.networks.factory import build_pipeline

    keras.utils.set_random_seed(0)
    pipeline = build_pipeline(smoke_config)
    # A zero last layer makes theta = 0: the identity TPS grid, so the warped cloth mask is the cloth mask.
    linear = pipeline.gmm.get_layer("regression_linear")
    linear.set_weights([np.zeros_like(w) for w in linear.get_weights()])
    return pipeline


def test_evaluate_structure_matches_an_independent_recount(tiny_test_split, identity_gmm_pipeline):
    from tfvton.metrics.structure import evaluate_structure

    batch = next(iter(tiny_test_split.as_tf_dataset(batch_size=4)))
    batch = {k: np.asarray(v) for k, v in batch.items()}
    # Any iterable of preprocessed batches is a dataset; max_batches stops before the second copy.
    results = evaluate_structure(identity_gmm_pipeline, [batch, batch], max_batches=1, baselines=True,
                                 compiled=False)
    model = results["model"]
    assert model["n"] == 4

    outputs = identity_gmm_pipeline(batch, training=False)
    target = batch["target_parse"].argmax(-1)
    predicted = np.asarray(outputs["parsing"]).argmax(-1)

    # Per class with boolean masks (no confusion matrix): IoU = |P & T| / |P | T| over the 4 images.
    present = [c for c in range(20) if (target == c).any()]
    assert model["parsing_classes_present"] == len(present)
    for c in present:
        iou = np.sum((predicted == c) & (target == c)) / np.sum((predicted == c) | (target == c))
        assert_close(model["parsing_iou"][LABEL_NAMES[c]], iou, atol=1e-6, what=LABEL_NAMES[c])
    assert_close(model["parsing_miou"], np.mean(list(model["parsing_iou"].values())), atol=1e-12, what="mIoU")
    assert_close(model["parsing_pixel_accuracy"], np.mean(predicted == target), atol=1e-6, what="accuracy")

    # Identity grid: the model's warped mask is the unwarped cloth mask, i.e. the paste baseline's.
    region = np.isin(target, (5, 6, 7))
    mask = batch["cloth_mask"][..., 0] > 0.5
    expected = np.sum(mask & region) / np.sum(mask | region)
    assert_close(model["warped_cloth_iou"], expected, atol=1e-6, what="warped-cloth IoU")
    assert_close(results["baseline_paste"]["warped_cloth_iou"], expected, atol=1e-6, what="paste baseline")
    assert 0.0 < expected < 1.0
    # The source baseline's parsing is the source parsing.
    source = batch["source_parse"].argmax(-1)
    assert_close(results["baseline_source"]["parsing_pixel_accuracy"], np.mean(source == target), atol=1e-6,
                 what="source baseline accuracy")
    assert "warped_cloth_iou" not in results["baseline_source"]


def test_evaluate_structure_reads_an_mpv_split_and_rejects_empty_input(tiny_test_split, identity_gmm_pipeline):
    from tfvton.metrics.structure import evaluate_structure

    first = evaluate_structure(identity_gmm_pipeline, tiny_test_split, max_batches=1, batch_size=2, compiled=False)
    assert first["n"] == 2 and 0.0 <= first["parsing_miou"] <= 1.0 and first["parsing_classes_present"] > 3
    with pytest.raises(ValueError, match="no batches"):
        evaluate_structure(identity_gmm_pipeline, [], max_batches=1)
