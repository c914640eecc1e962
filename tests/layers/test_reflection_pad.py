import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.layers.reflection_pad import ReflectionPad2D


def _x(shape=(2, 6, 5, 3)):
    return np.random.default_rng(0).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("padding", [1, 3, 4])
def test_matches_torch_reflection_pad(padding):
    torch = torch_or_skip()
    x = _x()
    expected = torch.nn.ReflectionPad2d(padding)(torch.from_numpy(x.transpose(0, 3, 1, 2)))
    assert_close(ReflectionPad2D(padding)(x), expected.numpy().transpose(0, 2, 3, 1), atol=0)


def test_mirrors_without_repeating_the_edge():
    row = np.arange(4, dtype=np.float32).reshape(1, 1, 4, 1)  # 0 1 2 3
    y = np.asarray(ReflectionPad2D(2)(np.repeat(row, 3, axis=1)))
    np.testing.assert_array_equal(y[0, 0, :, 0], [2, 1, 0, 1, 2, 3, 2, 1])


def test_output_shape_and_zero_padding():
    layer = ReflectionPad2D(3)
    assert layer.compute_output_shape((None, 8, None, 2)) == (None, 14, None, 2)
    assert_close(ReflectionPad2D(0)(_x()), _x(), atol=0)


def test_rejects_negative_padding():
    with pytest.raises(ValueError, match="ReflectionPad2D: padding"):
        ReflectionPad2D(-1)


def test_roundtrips(tmp_path):
    run_layer_roundtrips(ReflectionPad2D(2), _x(), tmp_path)


@pytest.mark.parametrize("padding", [1, 2, 3, 4])
def test_slice_concat_padding_equals_mirror_pad_and_converts_without_mirror_pad(padding):
    import tensorflow as tf

    from tfvton.layers.reflection_pad import reflect_pad, slice_concat_padding

    x = _x((1, 9, 7, 2))
    with slice_concat_padding():
        sliced = reflect_pad(tf.constant(x), padding)
        function = tf.function(lambda t: reflect_pad(t, padding), input_signature=[tf.TensorSpec(x.shape)])
        concrete = function.get_concrete_function()
    assert_close(sliced, ReflectionPad2D(padding)(x), atol=0)
    ops = {op.type for op in concrete.graph.get_operations()}
    assert "MirrorPad" not in ops and "ConcatV2" in ops
    # Outside the context the layer is MirrorPad again.
    plain = tf.function(lambda t: reflect_pad(t, padding)).get_concrete_function(tf.TensorSpec(x.shape))
    assert "MirrorPad" in {op.type for op in plain.graph.get_operations()}


def test_slice_concat_padding_checks_the_size():
    from tfvton.layers.reflection_pad import reflect_pad, slice_concat_padding

    with slice_concat_padding(), pytest.raises(ValueError, match="paddings? must be less than the dimension size"):
        reflect_pad(_x((1, 4, 9, 1)), 4)
