"""A traced function frozen once, at export time: its weights become constants of the graph.

Why: the generators compute some of their kernels from two variables at every
call (the Tree-Block's fused 1x1 convolution is the product of two kernels,
`tfvton.layers.tree_block`). Read from variables, grappler cannot fold those
products, and the served graph pays for them on every request; with the
weights as constants, grappler folds them once when the graph is first
optimised (for TF-Serving: while the model loads and runs its warm-up
requests, before it takes traffic).

Folding here, at export, was tried too (grappler run on the frozen GraphDef
before saving): at paper widths it needed more than 18 GB (the 450 MB of
weights copied through every rewrite) and was killed; the fold the loading
process does costs a few GB once (docs/benchmarks.md).

`freeze(function)` returns a `FrozenFunction`: a concrete function with no
variables, called with the same structured arguments and returning the same
structure as the traced one. Calling it inside another `tf.function` adds it
to that function's graph as a call, so the SavedModel
(`tfvton.export.saved_model`) serves this graph.
"""
from __future__ import annotations

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2


class FrozenFunction:
    """A frozen concrete function called with the traced function's structured arguments.

    Attributes:
        concrete: the variable-free concrete function (flat tensor inputs).
        input_signature: the traced function's structured input signature.
        structured_outputs: the traced function's output structure.
    """

    def __init__(self, concrete, input_signature, structured_outputs):
        self.concrete = concrete
        self.input_signature = input_signature
        self.structured_outputs = structured_outputs

    def __call__(self, *args):
        flat = tf.nest.flatten(args)  # a dict argument flattens in sorted-key order, as traced
        tensors = [tf.convert_to_tensor(value, spec.dtype)
                   for value, spec in zip(flat, tf.nest.flatten(self.input_signature))]
        return tf.nest.pack_sequence_as(self.structured_outputs, self.concrete(*tensors))


def freeze(function) -> FrozenFunction:
    """Turns the variables a traced function reads into constants.

    Args:
        function: a `tf.function` with an input signature (or a concrete function).

    Returns:
        A `FrozenFunction` computing the same outputs from the same arguments.
    """
    concrete = function.get_concrete_function() if hasattr(function, "get_concrete_function") else function
    frozen = convert_variables_to_constants_v2(concrete)
    # structured_input_signature is (args, kwargs); the traced functions here take positional args only.
    return FrozenFunction(frozen, concrete.structured_input_signature[0], concrete.structured_outputs)
