import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.layers.instance_norm import InstanceNorm


def _x(seed=0, shape=(2, 7, 5, 3)):
    rng = np.random.default_rng(seed)
    # Per-channel offsets and scales far from (0, 1) so a wrong axis shows.
    return (rng.normal(size=shape) * [0.5, 3.0, 10.0] + [4.0, -2.0, 0.1]).astype(np.float32)


def test_matches_torch_instance_norm_without_affine():
    torch = torch_or_skip()
    x = _x()
    expected = torch.nn.InstanceNorm2d(3, eps=1e-5, affine=False, track_running_stats=False)(
        torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy().transpose(0, 2, 3, 1)
    assert_close(InstanceNorm()(x), expected, atol=1e-5)


def test_biased_variance_by_hand():
    x = _x(1)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = ((x - mean) ** 2).sum(axis=(1, 2), keepdims=True) / (7 * 5)  # divided by N, not N - 1
    assert_close(InstanceNorm()(x), (x - mean) / np.sqrt(var + 1e-5), atol=1e-5)


def test_no_weights_and_same_in_training():
    layer = InstanceNorm()
    x = _x(2)
    assert_close(layer(x, training=True), layer(x, training=False), atol=0)
    assert layer.weights == []


def test_single_position_normalises_to_zero():
    assert_close(InstanceNorm()(np.full((1, 1, 1, 4), 7.0, np.float32)), np.zeros((1, 1, 1, 4)), atol=0)


def test_float16_policy_keeps_statistics_accurate():
    x = _x(3, (1, 64, 48, 3)) * 100
    y = InstanceNorm(dtype="mixed_float16")(x.astype(np.float16))
    assert y.dtype == "float16"
    assert_close(np.asarray(y, np.float32), InstanceNorm()(x), atol=2e-2)


def test_roundtrips(tmp_path):
    layer = InstanceNorm(epsilon=1e-3)
    reloaded = run_layer_roundtrips(layer, _x(), tmp_path)
    assert reloaded.layers[0].epsilon == pytest.approx(1e-3)


def _reference(x, eps=1e-5):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=(1, 2), keepdims=True) + eps)


@pytest.mark.parametrize("batch", [1, 3])
def test_static_and_unknown_batch_paths_agree(batch):
    # Static batch: one fused kernel per sample; unknown batch (a SavedModel signature with
    # batch None): moments + scale/shift. Both must be the same function.
    import tensorflow as tf

    x = _x(4, (batch, 9, 7, 3))
    layer = InstanceNorm()
    dynamic = tf.function(layer, input_signature=[tf.TensorSpec([None, 9, 7, 3])])
    assert_close(layer(x), _reference(x), atol=1e-5)
    assert_close(dynamic(x), _reference(x), atol=1e-5)


def test_gradient_matches_the_moments_formula():
    import tensorflow as tf

    x = tf.constant(_x(5, (2, 6, 5, 3)))
    weights = tf.constant(np.random.default_rng(6).normal(size=(2, 6, 5, 3)).astype(np.float32))

    def moments_norm(t):
        mean, variance = tf.nn.moments(t, axes=[1, 2], keepdims=True)
        return (t - mean) * tf.math.rsqrt(variance + 1e-5)

    grads = []
    for fn in (InstanceNorm(), moments_norm):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(fn(x) * weights)
        grads.append(tape.gradient(loss, x))
    assert_close(grads[0], grads[1], atol=1e-4)


def test_bfloat16_policy_normalises_with_float32_statistics():
    import tensorflow as tf

    x = _x(7, (1, 32, 24, 3)) * 50 + 200  # large offset: bf16 sums over 768 positions would lose it
    y = InstanceNorm(dtype="mixed_bfloat16")(x)
    assert y.dtype == "bfloat16"
    rounded = np.asarray(tf.cast(tf.cast(x, tf.bfloat16), tf.float32))  # what the layer receives
    # Only the output's own bf16 rounding remains (8-bit mantissa, |y| < 4).
    assert_close(np.asarray(y, np.float32), _reference(rounded), atol=2e-2)
