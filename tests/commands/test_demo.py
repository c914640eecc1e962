"""`tfvton demo` end to end on the smoke preset (slow: graph tracing of five stages dominates)."""
from __future__ import annotations

import json

import pytest

from tfvton.cli import main


@pytest.mark.slow
def test_demo_smoke_writes_report_metrics_grids_and_exports(tmp_path, mpv_root, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--minutes", "1", "--config", "smoke", "--mpv-root", str(mpv_root),
                 "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for method in ("model", "baseline_source", "baseline_paste"):
        assert {"ssim", "mask_ssim", "l1", "psnr"} <= set(metrics[method])
    summary = json.loads((out / "summary.json").read_text())
    assert [r["stage"] for r in summary["training"]] == ["gmm", "parsing", "appearance", "face", "joint"]
    assert all(r["steps"] >= 2 for r in summary["training"])
    html = (out / "report.html").read_text()
    for name in ("test_pairs.png", "cross_garment.png", "mpv_samples.png", "loss_appearance.png", "metrics.json"):
        assert name in html
    for grid in ("test_pairs", "cross_garment", "mpv_samples"):
        assert (out / "grids" / f"{grid}.png").is_file()
    assert len(list((out / "tryon" / "mpv").glob("*.png"))) == 5
    assert (out / "export" / "saved_model" / "tfvton" / "1" / "saved_model.pb").is_file()
    assert summary["exports"]["saved_model"]["max_abs_diff_vs_keras"] < 0.02  # uint8 output rounding
    assert summary["exports"]["tflite"]["max_abs_diff_vs_keras"] < 1e-3
    assert "tfvton demo summary" in capsys.readouterr().out
