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
