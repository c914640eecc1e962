"""Official checkpoint files <-> TryOnPipeline: round trip, prefixes, strictness, safe loading.

Tiny official layout: ngf 4, 64x64, GMM extractors 4 wide (the official GMM
hardcodes 64; `gmm_ngf` exists for tests like this one), 6 U-Net levels,
6 Tree-Blocks, dropout 0.5 (so Tree-Block keys use the official index 6).
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.networks.pipeline_helpers import make_inputs
from tests.testing import assert_close, torch_or_skip

pytestmark = pytest.mark.torch

SIZE = dict(ngf=4, height=64, width=64, gmm_ngf=4)


@pytest.fixture(scope="module")
def source_pipeline():
    import keras
    from tfvton.convert.official import official_config
    from tfvton.networks.factory import build_pipeline

    keras.utils.set_random_seed(2)
    pipeline = build_pipeline(official_config(**SIZE))
    rng = np.random.default_rng(2)
    # Non-trivial BatchNorm statistics, so their mapping is exercised too.
    for variable in pipeline.gmm.weights:
        if "moving_mean" in variable.path:
            variable.assign(rng.normal(0, 0.1, variable.shape).astype("float32"))
        elif "moving_variance" in variable.path:
            variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype("float32"))
    return pipeline


@pytest.fixture(scope="module")
def official_files(source_pipeline, tmp_path_factory):
    from tfvton.convert.official import save_official_checkpoints
    torch_or_skip()
    return save_official_checkpoints(source_pipeline, tmp_path_factory.mktemp("official"))


@pytest.fixture(scope="module")
def reference_outputs(source_pipeline):
    inputs = make_inputs(batch=1, seed=5)
    return inputs, {k: np.asarray(v) for k, v in source_pipeline(inputs, training=False).items()}


def _assert_same_outputs(pipeline, reference_outputs):
    inputs, expected = reference_outputs
    got = pipeline(inputs, training=False)
    for key, value in expected.items():
        assert_close(got[key], value, atol=1e-6, what=key)


def test_files_have_the_official_layout(official_files):
    torch = torch_or_skip()
    assert {p.name for p in official_files.values()} == {"step_009000.pth", "parsing.tar", "app.tar", "face.tar"}
    gmm = torch.load(official_files["gmm"], map_location="cpu", weights_only=True)
    assert all(k.startswith("module.") for k in gmm)
    assert "module.regression.linear.weight" in gmm
    assert tuple(gmm["module.regression.linear.weight"].shape) == (50, 64 * 1 * 1)  # (out, in) as nn.Linear
    parsing = torch.load(official_files["parsing"], map_location="cpu", weights_only=True)
    assert "model.module.model.model.0.weight" in parsing  # Define_G -> DataParallel -> UnetGenerator
    assert tuple(parsing["model.module.model.model.0.weight"].shape) == (4, 36, 4, 4)  # OIHW
    app = torch.load(official_files["appearance"], map_location="cpu", weights_only=True)
    assert tuple(app["model.module.model.1.weight"].shape) == (4, 26, 7, 7)
    assert "model.module.model.10.conv_block1.6.weight" in app  # built with dropout, as demo.py


def test_round_trip_gives_identical_outputs(official_files, reference_outputs):
    from tfvton.convert import load_official
    from tfvton.networks.pipeline import TryOnPipeline

    pipeline = load_official({k: str(v) for k, v in official_files.items()}, **SIZE)
    assert isinstance(pipeline, TryOnPipeline)
    _assert_same_outputs(pipeline, reference_outputs)


def test_export_is_inverse_of_load(official_files, source_pipeline):
    from tfvton.convert import export_official_state_dicts, read_official_state_dict

    exported = export_official_state_dicts(source_pipeline, data_parallel=False)
    for name, path in official_files.items():
        state = read_official_state_dict(path)  # `module.` components stripped
        assert set(state) == set(exported[name]), name
        for key, value in state.items():
            np.testing.assert_array_equal(value, exported[name][key], err_msg=f"{name}: {key}")


def test_bare_keys_and_convert_run_dir(source_pipeline, reference_outputs, tmp_path):
    """Files without DataParallel prefixes load too; convert_official writes a loadable run dir."""
    from tfvton.config import load_config
    from tfvton.convert import convert_official, save_official_checkpoints
    from tfvton.run_dir import RunDir

    torch_or_skip()
    files = save_official_checkpoints(source_pipeline, tmp_path / "bare", data_parallel=False)
    run_dir = convert_official(files, tmp_path / "run", **SIZE)
    config = load_config(run_dir / "config.yaml")
    assert (config.model.ngf, config.model.parsing_downsamplings, config.data.height) == (4, 6, 64)
    assert sorted(p.name for p in (run_dir / "weights").iterdir()) == [
        "appearance_generator.weights.h5", "face_generator.weights.h5", "gmm.weights.h5",
        "parsing_generator.weights.h5"]
    _assert_same_outputs(RunDir(run_dir).load_pipeline(), reference_outputs)


def _rewrite(files, tmp_path, name, edit):
    torch = torch_or_skip()
    state = torch.load(files[name], map_location="cpu", weights_only=True)
    edit(state, torch)
    path = tmp_path / files[name].name
    torch.save(state, path)
    return {**{k: str(v) for k, v in files.items()}, name: str(path)}


@pytest.mark.parametrize("name,edit,needle", [
    ("appearance", lambda s, t: s.__setitem__("model.module.model.99.weight", t.zeros(3)),
     "model.model.99.weight"),
    ("parsing", lambda s, t: s.pop("model.module.model.model.3.bias"), "model.model.model.3.bias"),
    ("gmm", lambda s, t: s.__setitem__("module.regression.linear.bias", t.zeros(7)),
     "regression.linear.bias: file (7,) vs network (50,)"),
    ("gmm", lambda s, t: s["module.regression.linear.bias"].__setitem__(3, float("nan")),
     "non-finite values (1): regression.linear.bias (1 NaN, 0 inf)"),
    ("face", lambda s, t: next(v for k, v in s.items() if k.endswith(".weight")).view(-1).__setitem__(
        0, float("-inf")), "(0 NaN, 1 inf)"),
], ids=["extra_key", "missing_key", "wrong_shape", "nan_weight", "inf_weight"])
def test_mismatch_lists_the_key(source_pipeline, official_files, reference_outputs, tmp_path, name, edit,
                                needle):
    from tfvton.convert import OfficialCheckpointError, load_official_weights

    paths = _rewrite(official_files, tmp_path, name, edit)
    with pytest.raises(OfficialCheckpointError) as info:
        load_official_weights(source_pipeline, paths)
    assert needle in str(info.value)
    assert paths[name] in str(info.value)  # names the file
    assert str(info.value).count("does not fit") == 1  # the other three files are fine
    _assert_same_outputs(source_pipeline, reference_outputs)  # nothing was assigned


def test_pickled_object_is_refused(source_pipeline, official_files, tmp_path):
    torch = torch_or_skip()
    from tfvton.convert import OfficialCheckpointError, load_official_weights, read_official_state_dict

    whole_model = tmp_path / "whole_model.tar"
    torch.save(torch.nn.Linear(2, 2), whole_model)  # a pickled module, as `torch.save(model)` writes
    with pytest.raises(OfficialCheckpointError, match="refused.*weights_only"):
        read_official_state_dict(whole_model)
    paths = {**{k: str(v) for k, v in official_files.items()}, "face": str(whole_model)}
    with pytest.raises(OfficialCheckpointError, match="whole_model.tar: refused"):
        load_official_weights(source_pipeline, paths)

    not_tensors = tmp_path / "not_tensors.pth"
    torch.save({"epoch": 3, "lr": 0.1}, not_tensors)  # loads under weights_only, but holds no tensors
    with pytest.raises(OfficialCheckpointError, match="expected a state_dict"):
        read_official_state_dict(not_tensors)


def test_wrapped_state_dict_and_path_keys(source_pipeline, official_files, tmp_path):
    torch = torch_or_skip()
    from tfvton.convert import OfficialCheckpointError, load_official_weights, read_official_state_dict

    face = torch.load(official_files["face"], weights_only=True)
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"state_dict": face}, wrapped)
    assert "model.model.1.weight" in read_official_state_dict(wrapped)
    legacy = tmp_path / "legacy.tar"  # the pre-1.6 pickle format PyTorch 0.4.1 wrote the official files in
    torch.save(face, legacy, _use_new_zipfile_serialization=False)
    legacy_state = read_official_state_dict(legacy)
    np.testing.assert_array_equal(legacy_state["model.model.1.weight"], face["model.module.model.1.weight"].numpy())
    with pytest.raises(OfficialCheckpointError, match="missing face"):
        load_official_weights(source_pipeline, {k: v for k, v in official_files.items() if k != "face"})
    with pytest.raises(OfficialCheckpointError, match="not found"):
        read_official_state_dict(tmp_path / "absent.pth")


def test_cli_reports_errors(tmp_path, capsys):
    torch_or_skip()
    from tfvton.cli import main

    absent = str(tmp_path / "absent.pth")
    code = main(["convert-official", "--gmm", absent, "--parsing", absent, "--appearance", absent,
                 "--face", absent, "--run-dir", str(tmp_path / "run")])
    assert code == 1
    assert "absent.pth: checkpoint file not found" in capsys.readouterr().err
