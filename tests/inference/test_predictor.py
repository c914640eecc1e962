"""`load_predictor`: run directories, SavedModels and TFLite files give the same try-on."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.inference.predictor import describe_source, load_predictor


def test_describe_source_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        describe_source(tmp_path / "nowhere")
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(ValueError, match="model.onnx"):
        describe_source(tmp_path / "model.onnx")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a run directory"):
        describe_source(tmp_path / "empty")


@pytest.mark.slow
def test_saved_model_and_tflite_match_the_run_directory(tmp_path):
    import keras

    from tfvton.config import load_config, save_config
    from tfvton.export.saved_model import export_saved_model
    from tfvton.export.tflite import export_tflite
    from tfvton.export.warmup import synthetic_raw_inputs
    from tfvton.networks.factory import GENERATOR_NAMES, build_networks
    from tfvton.run_dir import RunDir

    keras.utils.set_random_seed(0)
    config = load_config("smoke")
    run = tmp_path / "run"
    RunDir(run).save(config, build_networks(config, GENERATOR_NAMES))
    keras_predictor = load_predictor(run)
    assert describe_source(run) == "run" and keras_predictor.kind == "keras"
    export_saved_model(keras_predictor.pipeline, config, str(tmp_path / "export"), warmup=False)
    paths = export_tflite(keras_predictor.pipeline, config, str(tmp_path / "lite"), variants=("fp32",))
    save_config(config, tmp_path / "lite" / "config.yaml")

    batch = synthetic_raw_inputs(config.data.height, config.data.width, batch=2, seed=0)
    raws = [{k: v[i] for k, v in batch.items()} for i in range(2)]
    for raw in raws:
        raw.setdefault("source_pose_keypoints", raw["target_pose_keypoints"])
    reference = keras_predictor.predict(raws)["output"]
    served = load_predictor(tmp_path / "export")  # the model base folder: the highest version is used
    lite = load_predictor(paths["fp32"])
    assert served.kind == "saved_model" and lite.kind == "tflite"
    # The SavedModel answers in uint8 (one grey level = 2/255 in [-1, 1]); TFLite fp32 in float.
    assert np.abs(served.predict(raws)["output"] - reference).max() <= 2.0 / 255 + 1e-6
    assert np.abs(lite.predict(raws)["output"] - reference).max() < 1e-3
