"""A traced function frozen and folded once, at export time: weights as constants, grappler's constant
folding already applied.

Why: the generators compute some of their kernels from two variables at every
call (the Tree-Block's fused 1x1 convolution is the product of two kernels,
`tfvton.layers.tree_block`). With the variables turned into constants, grappler
folds those products once; in a SavedModel served from variables it cannot,
and the served graph pays for them on every request. Folding at load time
instead (freezing without folding) would make every server process hold the
unfolded and the folded weights during its first request (GBs at paper widths,
docs/benchmarks.md), so the fold runs here, once, and the folded GraphDef is
what gets saved.

`fold(concrete)` returns a `FoldedFunction`: a concrete function with no
variables, called with the same structured arguments and returning the same
structure as the traced one. Calling it inside another `tf.function` adds it
to that function's graph as a call, so the SavedModel (`tfvton.export.saved_model`)
and the TFLite converter (`tfvton.export.tflite`) both start from this graph.
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf
from tensorflow.core.protobuf import config_pb2, meta_graph_pb2, rewriter_config_pb2
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
from tensorflow.python.grappler import tf_optimizer

# Only what removes per-call weight arithmetic: folding, and the arithmetic and
# pruning passes that expose more of it. Layout and op-fusion passes stay with
# the loading process (their output is machine specific).
FOLDING_OPTIMIZERS = ("pruning", "constfold", "arithmetic", "dependency")


def _grappler_fold(graph_def, input_names: Sequence[str], output_names: Sequence[str], graph):
    """Runs grappler's folding passes on a variable-free GraphDef; inputs and outputs keep their names."""
    meta_graph = tf.compat.v1.train.export_meta_graph(graph_def=graph_def, graph=graph)
    fetches = meta_graph_pb2.CollectionDef()
    for name in list(input_names) + list(output_names):
        fetches.node_list.value.append(name)
    # Grappler keeps the nodes of the `train_op` collection (the fetches) with their names.
    meta_graph.collection_def["train_op"].CopyFrom(fetches)
    config = config_pb2.ConfigProto()
    rewriter = config.graph_options.rewrite_options
    rewriter.optimizers[:] = list(FOLDING_OPTIMIZERS)
    rewriter.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.TWO  # fold what arithmetic exposed
    return tf_optimizer.OptimizeGraph(config, meta_graph)


class FoldedFunction:
    """A frozen, folded concrete function called with the traced function's structured arguments.

    Attributes:
        concrete: the variable-free concrete function (flat tensor inputs).
        graph_def: the folded GraphDef it was imported from.
        input_signature: the traced function's structured input signature.
        structured_outputs: the traced function's output structure.
    """

    def __init__(self, concrete, graph_def, input_signature, structured_outputs):
        self.concrete = concrete
        self.graph_def = graph_def
        self.input_signature = input_signature
        self.structured_outputs = structured_outputs

    def __call__(self, *args):
        flat = tf.nest.flatten(args)  # a dict argument flattens in sorted-key order, as traced
        tensors = [tf.convert_to_tensor(value, spec.dtype)
                   for value, spec in zip(flat, tf.nest.flatten(self.input_signature))]
        return tf.nest.pack_sequence_as(self.structured_outputs, self.concrete(*tensors))

    def constant_bytes(self) -> int:
        """Bytes of the constants in the folded graph (the weights it carries)."""
        return sum(len(node.attr["value"].tensor.tensor_content) for node in self.graph_def.node
                   if node.op == "Const")


def fold(function) -> FoldedFunction:
    """Freezes the variables of a traced function and folds its constant subgraphs once.

    Args:
        function: a `tf.function` with an input signature (or a concrete function).

    Returns:
        A `FoldedFunction` computing the same outputs from the same arguments.
    """
    concrete = function.get_concrete_function() if hasattr(function, "get_concrete_function") else function
    frozen = convert_variables_to_constants_v2(concrete)
    input_names = [tensor.name for tensor in frozen.inputs]
    output_names = [tensor.name for tensor in frozen.outputs]
    folded = _grappler_fold(frozen.graph.as_graph_def(), [n.split(":")[0] for n in input_names],
                            [n.split(":")[0] for n in output_names], frozen.graph)

    def import_folded():
        tf.graph_util.import_graph_def(folded, name="")

    wrapped = tf.compat.v1.wrap_function(import_folded, [])
    pruned = wrapped.prune(feeds=[wrapped.graph.get_tensor_by_name(n) for n in input_names],
                           fetches=[wrapped.graph.get_tensor_by_name(n) for n in output_names])
    # structured_input_signature is (args, kwargs); the traced functions here take positional args only.
    return FoldedFunction(pruned, folded, concrete.structured_input_signature[0], concrete.structured_outputs)
