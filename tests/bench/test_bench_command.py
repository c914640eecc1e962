"""`tfvton bench` end to end on the smoke preset: the JSON interface, bf16's quality floor, face crop."""
import json

import pytest

from tfvton.bench import callables, runner
from tfvton.cli import main

NETWORK_KEYS = {"median_s", "min_s", "gflops", "fraction_of_machine"}
# bf16 keeps 8 bits of mantissa; through four random smoke generators the final image stays
# well above this (measured ~37-45 dB); a broken cast path (e.g. a grid in bf16) falls far below.
BF16_PSNR_FLOOR_DB = 30.0


def test_smoke_bench_writes_the_interface_keys(tmp_path):
    out = tmp_path / "bench.json"
    code = main(["bench", "--config", "smoke", "--variants", "function,bf16+crop", "--runs", "1",
                 "--warmup", "0", "--synthetic", "--face-crop", "32", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["machine"]["matmul_gflops"] > 0
    for variant in ("function", "bf16+crop"):
        entry = report[variant]
        assert {"median_s", "min_s"} <= set(entry["end_to_end"])
        assert set(entry["networks"]) == {"gmm", "parsing", "appearance", "face"}
        for measured in entry["networks"].values():
            assert NETWORK_KEYS <= set(measured)
            assert measured["min_s"] > 0 and measured["gflops"] > 0
    assert report["bf16+crop"]["face_mode"] == "crop"
    assert report["bf16+crop"]["quality"]["psnr_db"] >= BF16_PSNR_FLOOR_DB
    # The crop (32x32 of 64x64) gives the face generator a quarter of the positions (a little
    # more: the head's pad rows and the dilation-3 space-to-batch padding weigh more on a crop).
    full, crop = report["meta"]["gflops"]["full"], report["meta"]["gflops"]["crop"]
    assert crop["face"] == pytest.approx(full["face"] / 4, rel=0.05)
    assert crop["appearance"] == full["appearance"]


def test_bf16_final_image_within_the_psnr_floor_on_real_inputs(mpv_root, smoke_config):
    options = runner.BenchOptions(variants=("bf16",), runs=1, warmup=0, networks=False, mpv_root=str(mpv_root),
                                  probe_runs=1)
    report = runner.run_benchmark(smoke_config, options)
    quality = report["bf16"]["quality"]
    assert quality["images"] == 5
    assert quality["psnr_min_db"] >= BF16_PSNR_FLOOR_DB
    assert quality["ssim_min"] > 0.95


def test_variant_names():
    assert runner.parse_variant("tflite-int8+crop") == ("tflite-int8", True, False)
    assert runner.parse_variant("savedmodel") == ("savedmodel", False, False)
    assert runner.parse_variant("bf16+frozen+crop") == ("bf16", True, True)
    with pytest.raises(ValueError, match="unknown variant 'onnx'"):
        runner.parse_variant("onnx")
    with pytest.raises(ValueError, match="unknown variant 'bf16\\+fast'"):
        runner.parse_variant("bf16+fast")
    with pytest.raises(ValueError, match="applies to function, xla, bf16"):
        runner.parse_variant("tflite-int8+frozen")
    assert main(["bench", "--config", "smoke", "--variants", "onnx"]) == 2


def test_frozen_function_keeps_signature_and_outputs():
    import keras
    import numpy as np
    import tensorflow as tf

    dense = keras.layers.Dense(3)
    dense.build((None, 4))
    function = tf.function(lambda inputs: {"y": dense(inputs["a"]) * 2.0, "z": inputs["b"] + 1.0},
                           input_signature=[{"a": tf.TensorSpec([2, 4]), "b": tf.TensorSpec([2])}], autograph=False)
    frozen = callables.freeze(function)
    feed = {"a": np.ones((2, 4), np.float32), "b": np.arange(2, dtype=np.float32)}
    expected, got = function(feed), frozen(feed)
    assert set(got) == {"y", "z"}
    for key in expected:
        np.testing.assert_allclose(np.asarray(got[key]), np.asarray(expected[key]), atol=1e-6)
    op_types = {op.type for op in frozen.concrete.graph.get_operations()}
    assert "ReadVariableOp" not in op_types and "Const" in op_types


def test_savedmodel_variant_times_the_frozen_export(smoke_config, tmp_path):
    import tensorflow as tf

    options = runner.BenchOptions(variants=("savedmodel",), runs=1, warmup=0, probe_runs=1, quality=False,
                                  workdir=str(tmp_path))
    report = runner.run_benchmark(smoke_config, options)
    entry = report["savedmodel"]
    assert set(entry["networks"]) == {"gmm", "parsing", "appearance", "face"}
    assert entry["end_to_end"]["size_mb"] > 0
    # What was timed end to end is `tfvton export`'s artefact: both signatures, no variables.
    loaded = tf.saved_model.load(str(tmp_path / "export_savedmodel" / "tfvton" / "1"))
    assert set(loaded.signatures) == {"serving_default", "predict_bytes"}
    assert list(loaded.model_variables) == []


def test_serving_throughput_by_batch_and_concurrency(smoke_config, tmp_path):
    from tfvton.bench import serving
    from tfvton.bench.inputs import real_format_raw
    from tfvton.bench.precisions import build_generators, make_pipeline

    pipeline = make_pipeline(smoke_config, build_generators(smoke_config))
    raw = real_format_raw(smoke_config, None, count=2)
    report = serving.run_serving_benchmark(smoke_config, pipeline, raw, str(tmp_path), batch_sizes=(1, 2),
                                           concurrency=(1, 2), calls=1, warmup=0)
    rows = report["rows"]
    assert [(r["batch"], r["concurrency"]) for r in rows] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert all(r["tryons"] == r["batch"] * r["concurrency"] and r["tryons_per_s"] > 0 for r in rows)
    assert report["export"]["frozen"]
    assert "try-ons/s" in serving.format_table(report)
