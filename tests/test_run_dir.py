"""`RunDir`: the run-directory layout, atomic writes, stale temporaries."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest


@pytest.fixture(scope="module")
def smoke_gmm():
    import keras

    from tfvton.config import load_config
    from tfvton.networks.factory import build_networks

    keras.utils.set_random_seed(0)
    config = load_config("smoke")
    return config, build_networks(config, ["gmm"])["gmm"]


def test_save_and_load_keep_the_existing_layout(smoke_gmm, tmp_path):
    from tfvton.config import load_config
    from tfvton.run_dir import RunDir

    config, gmm = smoke_gmm
    run = RunDir(tmp_path / "run").save(config, {"gmm": gmm})
    # The layout runs written before RunDir existed have, so they keep loading.
    assert sorted(str(p.relative_to(run.path)) for p in run.path.rglob("*")) == [
        "config.yaml", "weights", os.path.join("weights", "gmm.weights.h5")]
    assert load_config(run.path / "config.yaml") == config
    assert RunDir.looks_like_run_dir(run.path) and run.networks_with_weights() == ["gmm"]
    loaded = RunDir(str(run.path)).load_networks()["gmm"]
    for expected, got in zip(gmm.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(got, expected)


def test_missing_config_and_weights_name_the_directory(tmp_path):
    from tfvton.run_dir import RunDir

    with pytest.raises(FileNotFoundError, match="has no config.yaml"):
        RunDir(tmp_path).load_config()
    with pytest.raises(ValueError, match="Known names"):
        RunDir(tmp_path).save(None, {"generator": None})


def test_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path):
    from tfvton.run_dir import atomic_write

    target = tmp_path / "config.yaml"
    atomic_write(target, lambda scratch: scratch.write_text("old"))

    def half_then_crash(scratch):
        scratch.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_opening_removes_temporaries_of_dead_processes_only(tmp_path):
    import subprocess
    import sys

    from tfvton.run_dir import RunDir

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    (tmp_path / "weights" / "gmm").mkdir(parents=True)
    stale = [tmp_path / f".tmp-{dead_pid}-config.yaml",
             tmp_path / "weights" / "gmm" / f".tmp-{dead_pid}-gmm.weights.h5"]
    live = tmp_path / "weights" / f".tmp-{os.getpid()}-gmm.weights.h5"  # a writer still running
    other = tmp_path / "weights" / "notes.txt"
    for path in stale + [live, other]:
        path.write_text("x")
    run = RunDir(tmp_path)  # opening cleans
    assert live.exists() and other.exists() and not any(p.exists() for p in stale)
    stale[0].write_text("x")
    assert run.clean_stale_temporaries() == [stale[0]] and not stale[0].exists()


def test_stage_marker_written_last_and_read_back(smoke_gmm, tmp_path):
    from tfvton.run_dir import RunDir

    _, gmm = smoke_gmm
    run = RunDir(tmp_path)
    assert not run.stage_is_complete("gmm", 1) and run.stage_marker("gmm") is None
    written = run.save_stage("gmm", {"gmm": gmm}, steps=5)
    assert written == {"gmm": tmp_path / "weights" / "gmm" / "gmm.weights.h5"}
    assert run.weights_path("gmm").is_file()
    marker = json.loads((tmp_path / "weights" / "gmm" / "stage.json").read_text())
    assert (marker["stage"], marker["steps"], marker["networks"]) == ("gmm", 5, ["gmm"])
    assert run.stage_is_complete("gmm", 5) and not run.stage_is_complete("gmm", 6)
    (tmp_path / "weights" / "gmm" / "stage.json").write_text("{not json")
    assert not run.stage_is_complete("gmm", 1)
    assert run.checkpoints_dir("gmm") == tmp_path / "checkpoints" / "gmm"
    assert run.logs_dir("gmm") == tmp_path / "logs" / "gmm"
    assert run.samples_dir("gmm") == tmp_path / "samples" / "gmm"


def test_a_run_without_face_weights_loads_when_face_refinement_is_off(tmp_path):
    from tfvton.config import load_config
    from tfvton.networks.factory import build_networks
    from tfvton.run_dir import RunDir

    config = load_config("smoke", ["model.face_refinement=false"])
    names = ["gmm", "parsing_generator", "appearance_generator"]
    networks = build_networks(config, names)
    run = RunDir(tmp_path / "run").save(config, networks)
    pipeline = run.load_pipeline()
    np.testing.assert_array_equal(pipeline.gmm.weights[0].numpy(), networks["gmm"].weights[0].numpy())
    with pytest.raises(FileNotFoundError, match="face_generator"):
        run.load_pipeline(load_config("smoke"))  # with face refinement the face weights are required
