"""The frozen SavedModel: no variables, weights as constants (folded by grappler when loaded), the same outputs
as the variables export and the Keras pipeline through both signatures and TF-Serving's loader."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.export.export_helpers import SERVING_KEYS, raw_inputs, smoke_export
from tests.testing import assert_close
from tfvton.export import frozen, saved_model
from tfvton.export.warmup import encode_raw_inputs


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return smoke_export(str(tmp_path_factory.getbasetemp()))


def _op_types(graph_def):
    types = [node.op for node in graph_def.node]
    for function in graph_def.library.function:
        types += [node.op for node in function.node_def]
    return types


def test_freeze_turns_variables_into_constants():
    a = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)
    b = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2) / 10)
    # The Tree-Block's pattern: a kernel computed from two variables at every call.
    function = tf.function(lambda x: {"y": tf.matmul(x, tf.matmul(a, b)), "z": x * 2.0},
                           input_signature=[tf.TensorSpec([None, 4], tf.float32)], autograph=False)
    folded = frozen.freeze(function)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    got, want = folded(x), function(x)
    assert set(got) == {"y", "z"}
    for key in want:
        np.testing.assert_allclose(got[key].numpy(), want[key].numpy(), rtol=1e-6)
    types = [node.op for node in folded.concrete.graph.as_graph_def().node]
    assert types.count("Const") >= 2, types  # the weights (grappler folds their product when the graph loads)
    assert not {"VarHandleOp", "ReadVariableOp"} & set(types)
    assert folded(np.ones((5, 4), np.float32))["y"].shape == (5, 2)  # the batch stays dynamic


def test_frozen_export_holds_no_variables(exported):
    from tensorflow.python.saved_model import loader_impl

    meta_graph = loader_impl.parse_saved_model(exported.version_dir).meta_graphs[0]
    types = _op_types(meta_graph.graph_def)
    assert "ReadVariableOp" not in types and "VarHandleOp" not in types
    assert list(exported.loaded.model_variables) == []


def test_frozen_export_matches_variables_export_and_serving_loader(exported, tmp_path):
    unfrozen_dir = saved_model.export_saved_model(exported.pipeline, exported.config, str(tmp_path), "tfvton", 1,
                                                  include_intermediates=True, warmup=False, freeze=False)
    unfrozen = tf.saved_model.load(unfrozen_dir)
    assert len(unfrozen.model_variables) > 0
    raw = raw_inputs(batch=2, seed=21)
    frozen_out = exported.call(raw)
    variables_out = {key: value.numpy() for key, value in unfrozen.signatures["serving_default"](
        **{key: tf.constant(raw[key]) for key in SERVING_KEYS}).items()}
    for key in ("final", "tryon", "warped_cloth", "composition_mask"):
        assert_close(frozen_out[key], variables_out[key], atol=1e-5, what=key)
    # Against the Keras pipeline (eager preprocessing), and through TF-Serving's V1 loader (a Session).
    want = exported.reference(raw)
    assert_close(frozen_out["final"], want["final"], atol=1e-5, what="final vs Keras")
    session = exported.session.run("predict_bytes", encode_raw_inputs(raw), ("final", "tryon_image"))
    arrays_session = exported.session.run("serving_default", raw, ("final",))
    assert_close(arrays_session["final"], frozen_out["final"], atol=1e-5, what="session serving_default")
    assert session["tryon_image"].shape == (2, 64, 64, 3)
