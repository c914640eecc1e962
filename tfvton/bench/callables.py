"""The callables the benchmark times: each network or the whole pipeline as a traced function,
frozen, saved and reloaded, or converted to TFLite and run by LiteRT."""
from __future__ import annotations

from typing import Optional

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from tfvton.bench.variants import INT8_FLOAT_OPS
from tfvton.export import frozen, graph
from tfvton.layers.reflection_pad import slice_concat_padding


def network_function(network, name: str, specs, jit_compile: bool = False):
    """One generator as a `tf.function` with fixed input signature (the GMM takes two tensors)."""
    holder = graph.Untracked(network)
    if name == "gmm":
        body = lambda agnostic, cloth: holder.obj((agnostic, cloth), training=False)  # noqa: E731
    else:
        body = lambda x: holder.obj(x, training=False)  # noqa: E731
    return tf.function(body, input_signature=list(specs), jit_compile=jit_compile, autograph=False)


def pipeline_function(pipeline, batch_inputs, jit_compile: bool = False):
    """The pipeline as a `tf.function` on inputs shaped as `batch_inputs`; returns final, tryon, parsing."""
    holder = graph.Untracked(pipeline)
    specs = {k: tf.TensorSpec(v.shape, tf.float32, name=k) for k, v in batch_inputs.items()}

    def body(inputs):
        outputs = holder.obj(inputs, training=False)
        return {"final": outputs["final"], "tryon": outputs["tryon"], "parsing": outputs["parsing"]}

    return tf.function(body, input_signature=[specs], jit_compile=jit_compile, autograph=False)


def freeze(function):
    """The function with its variables turned into constants; same call signature and outputs."""
    concrete = function.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    structure = concrete.structured_outputs

    def call(*args):
        tensors = [tf.convert_to_tensor(a) for a in tf.nest.flatten(args)]  # it binds tensors only
        return tf.nest.pack_sequence_as(structure, frozen(*tensors))

    call.concrete = frozen
    return call


def exported_form(function):
    """The function frozen as `tfvton export` saves it (`tfvton.export.frozen`), same signature."""
    core = frozen.freeze(function)
    return tf.function(lambda *args: core(*args), input_signature=list(core.input_signature), autograph=False)


def specs(arrays):
    """Float32 `TensorSpec`s of the arrays' shapes."""
    return [tf.TensorSpec(a.shape, tf.float32) for a in arrays]


def saved(function, variables, directory: str, keep_alive: list):
    """Saves one function (and the variables it reads) as a SavedModel and loads it back.

    The loaded object owns the restored variables; it goes into `keep_alive`,
    or its function would outlive them.
    """
    module = graph.variables_module(variables)
    module.run = function
    function.get_concrete_function()
    tf.saved_model.save(module, directory)
    loaded = tf.saved_model.load(directory)
    keep_alive.append(loaded)
    return loaded.run


def tflite_convert(function, variables, variant: str, representative=None) -> bytes:
    """One network's function -> TFLite bytes (`fp32`, `fp16` weights, or full `int8` with float I/O).

    Converted inside `slice_concat_padding()` (reflection pads as slices and
    concatenations, which XNNPACK runs; MIRROR_PAD it does not); int8 keeps
    instance norm in float (`INT8_FLOAT_OPS`).
    """
    with slice_concat_padding():
        concrete = function.get_concrete_function()
    dataset = None
    if variant == "int8":
        examples = list(representative)

        def dataset():
            return ([np.asarray(a, np.float32) for a in example] for example in examples)

    return graph.convert_concrete(concrete, graph.variables_module(variables), variant, dataset,
                                  keep_float_ops=INT8_FLOAT_OPS if variant == "int8" else ())


def tflite_callable(model: bytes, arrays, threads: int):
    """A LiteRT (XNNPACK) call of the model's signature on `arrays`, in input order."""
    from ai_edge_litert.interpreter import Interpreter  # optional: checked by `tflite_available`

    interpreter = Interpreter(model_content=model, num_threads=threads)
    runner = interpreter.get_signature_runner()
    names = sorted(runner.get_input_details(), key=lambda n: runner.get_input_details()[n]["index"])
    feed = dict(zip(names, arrays))
    return lambda: runner(**feed)


def tflite_available() -> Optional[str]:
    """None when TFLite variants can run, else why not."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError as error:
        return f"ai_edge_litert is not installed ({error})"
    try:
        from tfvton.export import tflite  # noqa: F401
    except ImportError as error:
        return f"tfvton.export.tflite is not importable ({error})"
    return None
