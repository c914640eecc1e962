"""Fixtures for the command tests: a smoke-config run directory with random weights, a tiny SynthMPV set."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def smoke_run_dir(tmp_path_factory):
    """A run directory (config.yaml + the four generators' weights) of the smoke config, random weights."""
    import keras

    from tfvton.config import load_config
    from tfvton.networks.factory import GENERATOR_NAMES, build_networks
    from tfvton.run_dir import RunDir

    keras.utils.set_random_seed(0)
    config = load_config("smoke")
    run_dir = tmp_path_factory.mktemp("smoke_run")
    RunDir(run_dir).save(config, build_networks(config, GENERATOR_NAMES))
    return run_dir


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory):
    """A SynthMPV dataset at 64x64: 6 identities x 3 poses (one test identity: 6 test pairs)."""
    from tfvton.data.synth import generate

    root = tmp_path_factory.mktemp("synth")
    generate(root, identities=6, poses_per_identity=3, size=(64, 64), seed=0)
    return root
