import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.layers.tree_block import TreeBlock

C = 4


def _x(seed=0, shape=(2, 9, 7, C)):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        v.assign(rng.normal(scale=0.3, size=v.shape).astype(np.float32))


def _torch_tree_block(torch, x, layer, relu_fusion=False):
    """The official DilatedResnetBlock, written from its facts with torch functional ops."""
    F = torch.nn.functional

    def w(conv):  # Keras HWIO -> torch OIHW
        return (torch.from_numpy(np.asarray(conv.kernel).transpose(3, 2, 0, 1).copy()),
                torch.from_numpy(np.asarray(conv.bias)))

    def conv(t, layer_, d):
        weight, bias = w(layer_)
        return F.conv2d(F.pad(t, [d] * 4, mode="reflect"), weight, bias, dilation=d)

    def fuse(layer_, a, b):
        weight, bias = w(layer_)
        y = F.conv2d(torch.cat((a, b), dim=1), weight, bias)
        return F.relu(y) if relu_fusion else y

    t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    children = []
    for d in (1, 2, 3, 4):
        y = F.relu(F.instance_norm(conv(t, getattr(layer, f"conv_block{d}_a"), d), eps=1e-5))
        children.append(F.instance_norm(conv(y, getattr(layer, f"conv_block{d}_b"), d), eps=1e-5))
    node1 = fuse(layer.joint1, children[0], children[1])
    node2 = fuse(layer.joint1, children[2], children[3])
    out = t + fuse(layer.joint2, node1, node2)
    return out.numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("fusion_activation", ["none", "relu"])
def test_matches_torch_reimplementation(fusion_activation):
    torch = torch_or_skip()
    layer = TreeBlock(dropout=0.5, fusion_activation=fusion_activation)
    x = _x()
    layer(x)
    _randomize(layer)
    expected = _torch_tree_block(torch, x, layer, relu_fusion=fusion_activation == "relu")
    assert_close(layer(x, training=False), expected, atol=1e-5)


def test_variables_and_shared_joint1():
    layer = TreeBlock(dropout=0.0)
    layer(_x())
    shapes = {v.path.split("/", 1)[1]: tuple(v.shape) for v in layer.weights}
    assert shapes["joint1/kernel"] == (1, 1, 2 * C, 2 * C)  # one joint1 serves both pairs
    assert shapes["joint2/kernel"] == (1, 1, 4 * C, C)
    for d in (1, 2, 3, 4):
        assert shapes[f"conv_block{d}_a/kernel"] == shapes[f"conv_block{d}_b/kernel"] == (3, 3, C, C)
    assert len(layer.weights) == 2 * (8 + 2)
    assert [c.dilation_rate for c in (layer.conv_block1_a, layer.conv_block4_b)] == [(1, 1), (4, 4)]


def test_fusion_activation_changes_output():
    x = _x()
    a, b = TreeBlock(dropout=0.0), TreeBlock(dropout=0.0, fusion_activation="relu")
    a(x), b(x)
    _randomize(a), _randomize(b)
    assert np.abs(np.asarray(a(x)) - np.asarray(b(x))).max() > 1e-2


def test_dropout_only_in_training():
    layer = TreeBlock(dropout=0.5)
    x = _x()
    assert_close(layer(x, training=False), layer(x, training=False), atol=0)
    assert np.abs(np.asarray(layer(x, training=True)) - np.asarray(layer(x, training=False))).max() > 1e-3


def test_rejects_unknown_fusion_activation():
    with pytest.raises(ValueError, match="TreeBlock: fusion_activation"):
        TreeBlock(fusion_activation="sigmoid")


def test_roundtrips(tmp_path):
    layer = TreeBlock(dropout=0.5, fusion_activation="relu")
    reloaded = run_layer_roundtrips(layer, _x(), tmp_path)
    assert reloaded.layers[0].get_config()["fusion_activation"] == "relu"


def test_folded_fusion_trains_joint1_and_joint2_like_the_unfolded_one():
    # The official-structure computation (two joint1 convs, then joint2) from the same variables.
    import tensorflow as tf

    from tfvton.bench.ablation import BASELINE, _tree_block

    layer = TreeBlock(dropout=0.0)
    x = tf.constant(_x(3))
    layer(x)
    _randomize(layer, seed=4)
    variables = [layer.joint1.kernel.value, layer.joint1.bias.value, layer.joint2.kernel.value,
                 layer.joint2.bias.value]
    results = []
    for fn in (lambda t: layer(t, training=False), lambda t: _tree_block(layer, t, BASELINE)):
        with tf.GradientTape() as tape:
            y = fn(x)
            loss = tf.reduce_sum(y * tf.sin(y))
        results.append((y, tape.gradient(loss, variables)))
    assert_close(results[0][0], results[1][0], atol=1e-5)
    for folded, unfolded in zip(results[0][1], results[1][1]):
        assert_close(folded, unfolded, atol=1e-4, rtol=1e-5)
