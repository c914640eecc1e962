"""Helpers shared by the tests (keras-hub style): shape, config and save/load round trips."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest


def torch_or_skip():
    """Returns the torch module, or skips the test when the optional extra is absent."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (optional extra `convert`)")
    import torch
    torch.manual_seed(0)
    torch.set_num_threads(1)
    return torch


def assert_close(actual, expected, atol=1e-5, rtol=0.0, what="value"):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = np.max(np.abs(actual - expected)) if actual.size else 0.0
    assert np.allclose(actual, expected, atol=atol, rtol=rtol), f"{what}: max abs error {err:.3g} > {atol}"


def run_layer_roundtrips(layer_or_model, inputs, tmp_path: Path, compare_outputs=True):
    """Config round trip and `.keras` save/load round trip of a layer or model.

    Args:
        layer_or_model: a built Keras layer or model, registered under package `tfvton`.
        inputs: what the object is called on.
        tmp_path: pytest's temporary directory.
        compare_outputs: compare outputs in inference mode after the round trips.
    Returns:
        The reloaded object.
    """
    import keras

    outputs = layer_or_model(inputs, training=False)
    config = layer_or_model.get_config()
    clone = layer_or_model.__class__.from_config(config)
    clone(inputs, training=False)
    assert clone.get_config() == config

    if isinstance(layer_or_model, keras.Model):
        model = layer_or_model
    else:  # wrap a layer so it can be saved as a .keras file
        model = keras.Sequential([layer_or_model])
    path = tmp_path / "roundtrip.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    if compare_outputs:
        got = reloaded(inputs, training=False)
        _assert_tree_close(got, outputs)
    return reloaded


def _assert_tree_close(a, b, atol=1e-6):
    if isinstance(a, dict):
        assert set(a) == set(b)
        for key in a:
            _assert_tree_close(a[key], b[key], atol)
    elif isinstance(a, (list, tuple)):
        for x, y in zip(a, b):
            _assert_tree_close(x, y, atol)
    else:
        assert_close(np.asarray(a), np.asarray(b), atol=atol)
