"""FLOPs of a traced graph: convolutions and matrix products, 2 FLOPs per multiply-add.

Counted from the ops of a `tf.function`'s concrete graph (nested function
calls included), so the figure is what the graph executes: the Tree-Block's
folded fusion and the row-stacked head convolution count as they run, not as
the layer list suggests. Elementwise ops, normalisation, padding and gathers
are not counted (they are memory-bound; the official structure's 452 GFLOPs
count only convolutions and matmuls too).

Per op (all shapes static, batch included):
- Conv2D, DepthwiseConv2dNative, Conv2DBackpropFilter: output elements x
  kh x kw x C_in (depthwise: x 1 per channel multiplier) multiply-adds.
- Conv2DBackpropInput (a transposed convolution): elements of the incoming
  gradient (the transposed conv's input) x kh x kw x C_out.
- MatMul / BatchMatMul*: M x N x K (x batch); Einsum: the product of the
  sizes of every distinct index.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Dict, Iterable, Optional, Sequence

import numpy as np

CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall")


def _shape(tensor):
    dims = tensor.shape.as_list() if tensor.shape.rank is not None else None
    if dims is None or any(d is None for d in dims):
        raise ValueError(f"FLOP counting needs fully defined shapes (trace with a fully defined input signature). "
                         f"Received: op input {tensor.name} of shape {tensor.shape}")
    return dims


def op_macs(op) -> int:
    """Multiply-adds of one graph op (0 for ops that are not convolutions or matmuls)."""
    kind = op.type
    if kind == "Conv2D":
        kh, kw, cin, _ = _shape(op.inputs[1])
        return int(np.prod(_shape(op.outputs[0]))) * kh * kw * cin
    if kind == "DepthwiseConv2dNative":
        kh, kw, _, _ = _shape(op.inputs[1])
        return int(np.prod(_shape(op.outputs[0]))) * kh * kw
    if kind == "Conv2DBackpropInput":
        kh, kw, cin, _ = _shape(op.inputs[1])  # filter (kh, kw, C_out of the transposed conv, C_in)
        return int(np.prod(_shape(op.inputs[2]))) * kh * kw * cin
    if kind == "Conv2DBackpropFilter":
        kh, kw, cin, _ = (int(v) for v in _constant(op.inputs[1]))
        return int(np.prod(_shape(op.inputs[2]))) * kh * kw * cin
    if kind == "MatMul":
        a, b = _shape(op.inputs[0]), _shape(op.inputs[1])
        m, k = (a[1], a[0]) if op.get_attr("transpose_a") else (a[0], a[1])
        n = b[0] if op.get_attr("transpose_b") else b[1]
        return m * n * k
    if kind in ("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        a, b = _shape(op.inputs[0]), _shape(op.inputs[1])
        adj_a, adj_b = op.get_attr("adj_x"), op.get_attr("adj_y")
        m, k = (a[-1], a[-2]) if adj_a else (a[-2], a[-1])
        n = b[-2] if adj_b else b[-1]
        batch = int(np.prod(_shape(op.outputs[0])[:-2]))
        return batch * m * n * k
    if kind == "Einsum":
        equation = op.get_attr("equation").decode()
        inputs, _ = equation.split("->")
        sizes = {}
        for term, tensor in zip(inputs.split(","), op.inputs):
            for letter, size in zip(term.strip(), _shape(tensor)):
                sizes[letter] = size
        return int(np.prod(list(sizes.values())))
    return 0


def _constant(tensor):
    from tensorflow.python.framework import tensor_util

    return tensor_util.constant_value(tensor)


def graph_macs(graph, by_type: Optional[Counter] = None) -> int:
    """Multiply-adds of a graph, recursing into nested function calls."""
    total = 0
    for op in graph.get_operations():
        if op.type in CALL_OPS:
            function = graph._get_function(op.get_attr("f").name)  # no public accessor for the callee
            total += graph_macs(function.graph, by_type)
            continue
        macs = op_macs(op)
        if macs and by_type is not None:
            by_type[op.type] += macs
        total += macs
    return total


def concrete_flops(concrete_function, by_type: Optional[Counter] = None) -> int:
    """FLOPs (2 per multiply-add) of a concrete function's graph."""
    return 2 * graph_macs(concrete_function.graph, by_type)


def function_flops(fn: Callable, input_specs: Sequence, by_type: Optional[Counter] = None) -> int:
    """Traces `fn(*inputs)` with fixed specs (tf.TensorSpec) and counts its FLOPs.

    Example:
        >>> conv = keras.layers.Conv2D(8, 3)
        >>> function_flops(lambda x: conv(x), [tf.TensorSpec([1, 10, 10, 4])])
        36864  # 2 * (8*8 outputs * 8 channels) * 3*3*4
    """
    import tensorflow as tf

    concrete = tf.function(fn, autograph=False).get_concrete_function(*input_specs)
    return concrete_flops(concrete, by_type)


def summarize(by_type: Counter) -> Dict[str, float]:
    """GFLOPs per op type (2 per multiply-add)."""
    return {kind: 2 * macs / 1e9 for kind, macs in by_type.most_common()}


def total_gflops(values: Iterable[int]) -> float:
    return sum(values) / 1e9
