"""Contiguous slices whose gradient is a Pad (`tf.slice`), not a StridedSliceGrad.

Python indexing (`x[:, 1:-1]`) traces a StridedSlice, whose gradient kernel
runs 4-12x slower on a CPU than the Pad that `tf.slice`'s gradient is
(measured: a tree-block crop 2.9 vs 0.4 ms, the VGG batch split 33.5 vs 2.7 ms
at the demo's sizes; docs/training.md, "Speed"). Same values, same shapes.
"""
from __future__ import annotations

from typing import Optional, Sequence

import tensorflow as tf


def window(x, begin: Sequence[int], end: Sequence[Optional[int]]):
    """`x[b0:e0, b1:e1, ...]` as one `tf.slice`; axes not given are kept whole.

    Args:
        x: a tensor.
        begin: non-negative start per leading axis.
        end: stop per leading axis: None (to the end), a negative int (from the
            end, as in Python) or a non-negative int.
    Returns:
        The slice, with static sizes wherever `x`'s are known.
    """
    if len(begin) != len(end):
        raise ValueError(f"window: begin and end must have the same length. Received: {begin}, {end}")
    sizes = []
    for axis, (start, stop) in enumerate(zip(begin, end)):
        if start < 0:
            raise ValueError(f"window: begin must be non-negative. Received: {begin}")
        if stop is None:
            sizes.append(-1)
            continue
        if stop < 0:
            length = x.shape[axis] if x.shape[axis] is not None else tf.shape(x)[axis]
            stop = length + stop
        sizes.append(stop - start)
    rank = len(x.shape)
    return tf.slice(x, list(begin) + [0] * (rank - len(begin)), sizes + [-1] * (rank - len(sizes)))
