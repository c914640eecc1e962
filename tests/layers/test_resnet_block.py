import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.layers.resnet_block import ResnetBlock


def _x(seed=0, shape=(2, 8, 6, 3)):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_matches_torch_reimplementation():
    torch = torch_or_skip()
    F = torch.nn.functional
    layer = ResnetBlock(dropout=0.5)
    x = _x()
    layer(x)
    rng = np.random.default_rng(1)
    for v in layer.weights:
        v.assign(rng.normal(scale=0.3, size=v.shape).astype(np.float32))

    def conv(t, c):
        return F.conv2d(F.pad(t, [1] * 4, mode="reflect"),
                        torch.from_numpy(np.asarray(c.kernel).transpose(3, 2, 0, 1).copy()),
                        torch.from_numpy(np.asarray(c.bias)))

    t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    y = F.relu(F.instance_norm(conv(t, layer.conv_a), eps=1e-5))
    expected = (t + F.instance_norm(conv(y, layer.conv_b), eps=1e-5)).numpy().transpose(0, 2, 3, 1)
    assert_close(layer(x, training=False), expected, atol=1e-5)


def test_dropout_only_in_training():
    layer, x = ResnetBlock(dropout=0.5), _x()
    assert_close(layer(x), layer(x, training=False), atol=0)
    assert np.abs(np.asarray(layer(x, training=True)) - np.asarray(layer(x))).max() > 1e-3
    assert ResnetBlock(dropout=0.0).dropout_layer is None


def test_rejects_bad_dropout():
    with pytest.raises(ValueError, match="ResnetBlock: dropout"):
        ResnetBlock(dropout=1.0)


def test_roundtrips(tmp_path):
    run_layer_roundtrips(ResnetBlock(dropout=0.25), _x(), tmp_path)
