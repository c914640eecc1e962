"""`evaluate_predictor` wiring, with a stand-in predictor and scorer (no network): which images feed FID /
KID, which parsing and cloth masks feed the structure metrics, for the model and each baseline."""
from __future__ import annotations

import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.metrics.evaluation import baseline_images, evaluate_predictor, format_structure_tables, format_table
from tfvton.metrics.fid_kid import fid, kid
from tfvton.metrics.image_metrics import to_uint8


class _OraclePredictor:
    """Returns the target photo, the target parsing and the identity grid: a perfect try-on."""

    source, kind, face_refinement, height, width, clip_warp_to_parsing = "<oracle>", "keras", True, 64, 64, False

    def run_model_inputs(self, batch):
        b, h, w = batch["target_parse"].shape[:3]
        xs, ys = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
        grid = np.broadcast_to(np.stack([xs, ys], -1)[None], (b, h, w, 2)).astype(np.float32)
        return {"output": batch["target_image"], "parsing": batch["target_parse"], "grid": grid,
                "warped_cloth": batch["cloth_image"]}


class _ColourScorer:
    """Features = per-channel mean and std of the image (6-d); uniform class probabilities."""

    weights = "colour statistics (test stand-in)"

    def features(self, images):
        images = np.asarray(images, np.float64)
        return np.concatenate([images.mean(axis=(1, 2)), images.std(axis=(1, 2))], axis=1)

    def probabilities(self, images):
        return np.full((len(images), 1000), 1e-3)

    def features_and_probabilities(self, images):
        return self.features(images), self.probabilities(images)


@pytest.fixture(scope="module")
def tiny_split(tmp_path_factory, smoke_config):
    from tfvton.data import MPVDataset
    from tfvton.data.synth import generate

    root = tmp_path_factory.mktemp("synth_evaluation")
    generate(root, identities=6, poses_per_identity=3, size=(64, 64), seed=0)
    return MPVDataset.from_config(root, None, "test", smoke_config.data)


def test_oracle_scores_perfectly_and_fid_kid_use_the_target_photos(tiny_split):
    scorer = _ColourScorer()
    results = evaluate_predictor(_OraclePredictor(), tiny_split, batch_size=4, scorer=scorer, progress=False)
    model, source, paste = results["model"], results["baseline_source"], results["baseline_paste"]
    assert model["n"] == len(tiny_split) == 6
    assert model["ssim"] == 1.0 and model["parsing_pixel_accuracy"] == 1.0 and model["parsing_miou"] == 1.0
    assert all(v == 1.0 for v in model["parsing_iou"].values())
    # The identity grid leaves the cloth mask where it is: the model's cloth IoU is the paste baseline's.
    assert_close(model["warped_cloth_iou"], paste["warped_cloth_iou"], atol=1e-12, what="identity warp")
    assert_close(model["warped_cloth_iou_nonwhite"], paste["warped_cloth_iou_nonwhite"], atol=1e-12,
                 what="identity warp, non-white")
    assert source["parsing_miou"] < 1.0

    # FID / KID: the real set is the target photos, the generated set each method's (8-bit) images.
    batches = [{k: np.asarray(v) for k, v in b.items()} for b in tiny_split.as_tf_dataset(batch_size=6)]
    real = scorer.features(to_uint8(batches[0]["target_image"]) / 127.5 - 1.0)
    pasted = scorer.features(baseline_images(batches[0])["baseline_paste"] / 127.5 - 1.0)
    assert_close(model["fid"], 0.0, atol=1e-9, what="FID of the targets with themselves")
    # SynthMPV's test pairs use every pose of an identity as source and as target: the same image sets.
    assert_close(source["fid"], 0.0, atol=1e-6, what="source baseline FID")
    assert_close(paste["fid"], fid(real, pasted), atol=1e-6, what="paste baseline FID")
    assert_close(paste["kid"], kid(real, pasted)["mean"], atol=1e-8, what="paste baseline KID")
    assert paste["fid"] > 1e-3
    assert "inception" in results["meta"] and "structure" in results["meta"]

    table = format_table(results)
    assert "FID" in table and "KID" in table
    structure = format_structure_tables(results)
    assert "13 face" in structure and "1.0000" in structure
