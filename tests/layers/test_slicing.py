"""`window`: Python slicing's values and gradients, traced without StridedSlice (a slow gradient on CPUs)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfvton.layers.slicing import window


@pytest.mark.parametrize("begin, end, reference", [
    ([0, 1, 1], [None, -1, -1], lambda x: x[:, 1:-1, 1:-1]),
    ([0, 3, 0, 2], [None, 7, None, 5], lambda x: x[:, 3:7, :, 2:5]),
    ([2], [None], lambda x: x[2:]),
    ([0, 0, 2], [None, -3, None], lambda x: x[:, :-3, 2:]),
])
def test_window_equals_python_slicing_in_values_and_gradients(begin, end, reference):
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 9, 8, 6)), tf.float32)
    weights = tf.constant(np.random.default_rng(1).normal(size=reference(x).shape), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours, theirs = window(x, begin, end), reference(x)
        loss_ours, loss_theirs = tf.reduce_sum(ours * weights), tf.reduce_sum(theirs * weights)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(tape.gradient(loss_ours, x).numpy(), tape.gradient(loss_theirs, x).numpy())


def test_window_with_unknown_spatial_sizes():
    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32)])
    def crop(x):
        return window(x, [0, 2, 1], [None, -1, -2])

    x = tf.reshape(tf.range(2 * 7 * 6 * 2, dtype=tf.float32), [2, 7, 6, 2])
    np.testing.assert_array_equal(crop(x).numpy(), x.numpy()[:, 2:-1, 1:-2])


def test_window_refuses_a_negative_begin():
    with pytest.raises(ValueError, match="begin must be non-negative"):
        window(tf.zeros([3, 3]), [-1], [None])


def test_tree_generator_gradient_has_no_strided_slice_grad():
    # The crops of the Tree-Blocks, the decoder and the row-wise 7x7 head are tf.slice: their
    # gradients are Pads, 4-12x faster on a CPU than StridedSliceGrad (docs/training.md, "Speed").
    from tfvton.networks.tree_generator import TreeGenerator

    generator = TreeGenerator(output_channels=4, ngf=4, n_blocks=1, dropout=0.0)
    x = tf.zeros([2, 32, 24, 5])
    generator(x)

    @tf.function
    def gradients(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(generator(x, training=True))
        return tape.gradient(loss, generator.trainable_variables)

    operations = gradients.get_concrete_function(x).graph.get_operations()
    assert [op.name for op in operations if op.type == "StridedSliceGrad"] == []
    assert any(op.type == "Slice" and op.inputs[0].shape.rank == 4 for op in operations)
