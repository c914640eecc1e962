"""`tfvton evaluate` on a tiny SynthMPV set: the JSON keys, and the baselines recomputed independently."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.testing import assert_close
from tfvton.cli import main
from tfvton.data.pair_list import read_pair_list

skimage_metrics = pytest.importorskip("skimage.metrics")


def _skimage_ssim(a, b):
    return skimage_metrics.structural_similarity(a.astype(np.float64), b.astype(np.float64), gaussian_weights=True,
                                                 sigma=1.5, use_sample_covariance=False, data_range=255,
                                                 channel_axis=-1)


def test_evaluate_writes_metrics_json_with_model_and_baselines(tiny_synth, smoke_run_dir, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(smoke_run_dir, run)
    # Default output: RUN/metrics.json; --limit keeps the first pairs of the split.
    assert main(["evaluate", "--model", str(run), "--data-root", str(tiny_synth), "--limit", "4",
                 "--quiet", "--batch-size", "4"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    for method in ("model", "baseline_source", "baseline_paste"):
        for key in ("ssim", "mask_ssim", "l1", "psnr"):
            assert np.isfinite(metrics[method][key]), (method, key)
        assert -1.0 <= metrics[method]["ssim"] <= 1.0
        assert metrics[method]["n"] == 4
    assert metrics["meta"]["pairs"] == 4 and metrics["meta"]["model_output"] == "final"
    assert "is" not in metrics["model"] and "fid" not in metrics["model"]  # no InceptionV3 weights offline
    captured = capsys.readouterr()
    assert "IS / mask-IS / FID / KID skipped" in captured.err

    # Structure metrics: the model has all of them, each baseline the ones it can have.
    model = metrics["model"]
    for key in ("parsing_pixel_accuracy", "parsing_miou", "warped_cloth_iou", "warped_cloth_iou_nonwhite"):
        assert 0.0 <= model[key] <= 1.0, key
    assert model["parsing_classes_present"] == len(model["parsing_iou"]) > 3
    assert_close(model["parsing_miou"], np.mean(list(model["parsing_iou"].values())), atol=1e-12, what="mIoU")
    assert "warped_cloth_iou" not in metrics["baseline_source"] and "parsing_miou" not in metrics["baseline_paste"]
    # The terminal shows the structure table and the per-class IoU by CIHP class name.
    assert "mIoU" in captured.out and "cloth-IoU" in captured.out and "upper_clothes" in captured.out

    # The source baseline recomputed from the files with scikit-image (the synth files are at model size).
    test_pairs = [c for _, c in read_pair_list(tiny_synth / "data_pair.txt") if c[3] == "test"][:4]
    expected = []
    for source, target, _, _ in test_pairs:
        a = np.asarray(Image.open(tiny_synth / "images" / source).convert("RGB"))
        b = np.asarray(Image.open(tiny_synth / "images" / target).convert("RGB"))
        expected.append(_skimage_ssim(a, b))
    assert_close(metrics["baseline_source"]["ssim"], np.mean(expected), atol=1e-6, what="baseline_source SSIM")

    # The paste baseline: the cloth photo over the target's cloth labels (5, 6, 7), then SSIM.
    expected = []
    for source, target, cloth, _ in test_pairs:
        a = np.asarray(Image.open(tiny_synth / "images" / source).convert("RGB"))
        c = np.asarray(Image.open(tiny_synth / "cloth_image" / cloth).convert("RGB"))
        b = np.asarray(Image.open(tiny_synth / "images" / target).convert("RGB"))
        labels = np.asarray(Image.open(tiny_synth / "parse_cihp" / target.replace(".jpg", ".png")))
        paste = np.where(np.isin(labels, (5, 6, 7))[..., None], c, a)
        expected.append(_skimage_ssim(paste, b))
    assert_close(metrics["baseline_paste"]["ssim"], np.mean(expected), atol=1e-6, what="baseline_paste SSIM")

    # Structure baselines from the files: the source parsing as the prediction (pooled accuracy and
    # per-class IoU), and the unwarped cloth mask vs the target's labels 5, 6, 7 (pooled IoU).
    source_labels, target_labels, inter, union = [], [], 0, 0
    for source, target, cloth, _ in test_pairs:
        s_labels = np.asarray(Image.open(tiny_synth / "parse_cihp" / source.replace(".jpg", ".png")))
        t_labels = np.asarray(Image.open(tiny_synth / "parse_cihp" / target.replace(".jpg", ".png")))
        mask = np.asarray(Image.open(tiny_synth / "cloth_mask" / cloth.replace(".jpg", "_mask.png"))) > 127
        region = np.isin(t_labels, (5, 6, 7))
        inter, union = inter + np.sum(mask & region), union + np.sum(mask | region)
        source_labels.append(s_labels)
        target_labels.append(t_labels)
    source_labels, target_labels = np.stack(source_labels), np.stack(target_labels)
    source_row = metrics["baseline_source"]
    assert_close(source_row["parsing_pixel_accuracy"], np.mean(source_labels == target_labels), atol=1e-9,
                 what="source-parsing accuracy")
    face = 13
    face_iou = np.sum((source_labels == face) & (target_labels == face)) / np.sum(
        (source_labels == face) | (target_labels == face))
    assert_close(source_row["parsing_iou"]["face"], face_iou, atol=1e-9, what="source-parsing face IoU")
    assert_close(metrics["baseline_paste"]["warped_cloth_iou"], inter / union, atol=1e-9, what="unwarped cloth IoU")


def test_evaluate_rejects_a_demo_list(tiny_synth, smoke_run_dir, capsys):
    assert main(["evaluate", "--model", str(smoke_run_dir), "--data-root", str(tiny_synth),
                 "--pairs", str(tiny_synth / "demo.txt"), "--quiet", "--no-inception"]) == 1
    assert "demo" in capsys.readouterr().err
