"""Graph pieces every export shares: untracked Keras objects, plain variables, the TFLite converter.

The SavedModel export (`tfvton.export.saved_model`), the TFLite export
(`tfvton.export.tflite`) and the benchmark's SavedModel and TFLite variants
(`tfvton.bench`) all save a `tf.function` that calls a Keras model. Three
things must be done the same way each time:

- the Keras object stays out of the SavedModel's object graph (`Untracked`):
  a tracked Keras 3 layer is saved as a Keras object, which the TFLite
  converter and TF-Serving's C++ loader cannot restore;
- the variables are tracked as the plain `tf.Variable`s under the Keras
  wrappers (`plain_variables`), so any TF loader reads them;
- the TFLite converter is set up per variant (`convert_concrete`): float32,
  float16 weights, or int8 with float input/output, calibrated on a
  representative dataset, with chosen ops or tensors left in float.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Sequence

import tensorflow as tf

from tfvton.data import transforms
from tfvton.networks.pipeline import INPUT_KEYS as MODEL_INPUT_KEYS

TFLITE_VARIANTS = ("fp32", "fp16", "int8")
# Channels of the pipeline's model tensors (docs/architecture.md).
MODEL_INPUT_CHANNELS = {"source_image": 3, "source_parse": transforms.NUM_LABELS, "source_shape": 1,
                        "source_head": 3, "target_pose": transforms.NUM_KEYPOINTS, "cloth_image": 3,
                        "cloth_mask": 1}


class Untracked:
    """Holds an object where TF's object tracking cannot see it.

    TF tracks attributes of trackable objects (`tf.Module`, Keras layers) into
    a SavedModel's object graph; attributes of a plain object are invisible to
    it. A `tf.function` that calls `holder.obj(...)` still captures the
    variables it reads, which the module tracks separately (`plain_variables`).

    Args:
        obj: the object to hide (a Keras model).
    """

    def __init__(self, obj):
        self.obj = obj


def plain_variables(model) -> List[tf.Variable]:
    """The model's variables as the plain `tf.Variable`s a SavedModel should hold.

    Tracking the Keras 3 wrappers instead saves them as Keras objects, which
    `tf.saved_model.load` restores but the MLIR SavedModel importer (the TFLite
    converter) cannot freeze: it leaves uninitialised resource variables behind.
    The plain variables make a SavedModel any TF loader reads (TF-Serving's
    C++ loader, the TFLite converter, `tf.compat.v1` sessions).
    """
    return [getattr(variable, "value", variable) for variable in model.variables]


def variables_module(variables: Iterable[tf.Variable]) -> tf.Module:
    """A `tf.Module` that tracks only `variables` (attribute `model_variables`)."""
    module = tf.Module()
    module.model_variables = list(variables)
    return module


def pipeline_core(pipeline, height: int, width: int, output_keys: Sequence[str], batch: Optional[int] = None):
    """The pipeline as a `tf.function` from the model tensors to `output_keys` (what both exports wrap).

    Args:
        pipeline: a built `TryOnPipeline`.
        height: model input height.
        width: model input width.
        output_keys: the pipeline outputs to return (a dict of them).
        batch: a fixed batch size (TFLite), or None for any.

    Returns:
        A `tf.function` with one dict argument (`MODEL_INPUT_KEYS`, float32 NHWC).
    """
    specs = {key: tf.TensorSpec([batch, height, width, MODEL_INPUT_CHANNELS[key]], tf.float32, name=key)
             for key in MODEL_INPUT_KEYS}
    holder = Untracked(pipeline)
    keys = tuple(output_keys)

    def core(inputs):
        outputs = holder.obj(inputs, training=False)
        return {key: outputs[key] for key in keys}

    return tf.function(core, input_signature=[specs], autograph=False)


def convert_concrete(concrete, module: tf.Module, variant: str = "fp32",
                     representative_dataset: Optional[Callable[[], Iterable]] = None,
                     keep_float_ops: Sequence[str] = (), keep_float_tensors: Sequence[str] = ()) -> bytes:
    """Converts a concrete function to a TFLite flatbuffer.

    Args:
        concrete: the concrete function to convert.
        module: the `tf.Module` tracking the variables it reads (`variables_module`).
        variant: `fp32`; `fp16` (float16 weights, dequantised at load); `int8`
            (int8 weights and activations, float input and output).
        representative_dataset: for `int8`, a callable returning an iterable of
            calibration inputs (one list of arrays, or one dict by input name,
            per example).
        keep_float_ops: for `int8`, TFLite op names left in float.
        keep_float_tensors: for `int8`, tensor names whose producing ops stay in float.
    Returns:
        The model bytes.
    Raises:
        ValueError: an unknown variant, or `int8` without a representative dataset.
    """
    if variant not in TFLITE_VARIANTS:
        raise ValueError(f"the TFLite variant must be one of {', '.join(TFLITE_VARIANTS)}. "
                         f"Received: variant={variant!r}")
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    if variant == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "int8":
        if representative_dataset is None:
            raise ValueError("the int8 TFLite variant needs calibration examples (a representative dataset). "
                             "Received: none")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset
        # INT8 first; the float builtins only catch ops that have no int8 kernel.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        keep_float_ops, keep_float_tensors = list(keep_float_ops), list(keep_float_tensors)
        if keep_float_ops or keep_float_tensors:
            options = tf.lite.experimental.QuantizationDebugOptions(
                denylisted_ops=keep_float_ops or None, denylisted_nodes=keep_float_tensors or None)
            debugger = tf.lite.experimental.QuantizationDebugger(
                converter=converter, debug_dataset=representative_dataset, debug_options=options)
            return bytes(debugger.get_nondebug_quantized_model())
    return bytes(converter.convert())
