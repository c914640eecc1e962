"""`tfvton.export.graph`: the Keras object stays out of the SavedModel; the converter set-up per variant."""
import numpy as np
import pytest


def _dense():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(3)])
    model.build((None, 4))
    return model


def test_saved_module_holds_plain_variables_and_reloads_without_keras(tmp_path):
    import tensorflow as tf

    from tfvton.export import graph

    model = _dense()
    module = graph.variables_module(graph.plain_variables(model))
    holder = graph.Untracked(model)
    module.run = tf.function(lambda x: holder.obj(x, training=False),
                             input_signature=[tf.TensorSpec([2, 4], tf.float32)])
    assert all(type(v).__module__.startswith("tensorflow") for v in module.model_variables)
    tf.saved_model.save(module, str(tmp_path / "sm"))
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(loaded.run(x).numpy(), model(x).numpy(), atol=1e-6)
    # Only the two variables were tracked: no Keras object in the saved object graph (the root module is
    # its one user object).
    from tensorflow.python.saved_model import loader_impl

    nodes = loader_impl.parse_saved_model(str(tmp_path / "sm")).meta_graphs[0].object_graph_def.nodes
    kinds = [node.WhichOneof("kind") for node in nodes]
    objects = sorted(node.user_object.identifier for node in nodes if node.WhichOneof("kind") == "user_object")
    assert kinds.count("variable") == 2, kinds
    assert objects == ["_generic_user_object", "signature_map", "trackable_list_wrapper"], objects
    assert len(loaded.model_variables) == 2


def test_convert_concrete_variants():
    import tensorflow as tf

    from tfvton.export import graph

    model = _dense()
    holder = graph.Untracked(model)
    function = tf.function(lambda x: holder.obj(x, training=False),
                           input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    concrete = function.get_concrete_function()
    module = graph.variables_module(graph.plain_variables(model))
    fp32 = graph.convert_concrete(concrete, module, "fp32")
    fp16 = graph.convert_concrete(concrete, module, "fp16")
    assert fp32[4:8] == b"TFL3" and fp16[4:8] == b"TFL3"
    with pytest.raises(ValueError, match="needs calibration examples"):
        graph.convert_concrete(concrete, module, "int8")
    with pytest.raises(ValueError, match="Received: variant='int4'"):
        graph.convert_concrete(concrete, module, "int4")
    interpreter = pytest.importorskip("ai_edge_litert.interpreter").Interpreter(model_content=fp32)
    runner = interpreter.get_signature_runner()
    x = np.ones((1, 4), np.float32)
    (out,) = runner(**{next(iter(runner.get_input_details())): x}).values()
    np.testing.assert_allclose(out, model(x).numpy(), atol=1e-5)
