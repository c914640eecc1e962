"""`tfvton tflite-run`: a .tflite export runs through LiteRT on MPV-layout inputs."""
from __future__ import annotations

import pytest
from PIL import Image

from tfvton.cli import main


def test_refuses_a_model_that_is_not_tflite(smoke_run_dir, capsys):
    assert main(["tflite-run", "--model", str(smoke_run_dir), "--data-root", "x"]) == 2
    assert "--model must be a .tflite file" in capsys.readouterr().err


@pytest.mark.slow
def test_runs_an_exported_tflite_file_on_the_real_samples(smoke_run_dir, mpv_root, tmp_path):
    from tfvton.config import save_config
    from tfvton.export.tflite import export_tflite
    from tfvton.inference.predictor import load_predictor

    predictor = load_predictor(smoke_run_dir)
    paths = export_tflite(predictor.pipeline, predictor.config, str(tmp_path / "lite"), variants=("fp32",))
    save_config(predictor.config, tmp_path / "lite" / "config.yaml")
    out = tmp_path / "out"
    code = main(["tflite-run", "--model", str(paths["fp32"]), "--threads", "1", "--data-root", str(mpv_root),
                 "--out", str(out), "--quiet"])
    assert code == 0
    images = sorted(out.glob("*.png"))
    assert len(images) == 5
    config = predictor.config
    assert Image.open(images[0]).size == (config.data.width, config.data.height)
