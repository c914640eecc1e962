import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips
from tfvton.layers.resnet_block import ResnetBlock
from tfvton.layers.tree_block import TreeBlock
from tfvton.networks.tree_generator import TreeGenerator


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("cin,cout,tanh,expected", [
    (26, 4, False, 32_306_180),  # Define_G(26, 4, 64, 'treeresnet'): the appearance generator
    (6, 3, True, 32_240_323),  # Define_G(6, 3, 64, 'treeresnet'): the face generator
])
def test_official_parameter_counts(cin, cout, tanh, expected):
    net = TreeGenerator(output_channels=cout, ngf=64, n_blocks=6, with_tanh=tanh)
    net(_x((1, 20, 20, cin)))  # widths, not the size, fix the count (20: the smallest a dilation-4 reflect pad allows)
    assert net.count_params() == expected


def test_paper_spatial_size_small_width():
    net = TreeGenerator(output_channels=4, ngf=4, n_blocks=1)
    assert net(_x((1, 256, 192, 26))).shape == (1, 256, 192, 4)


@pytest.mark.slow
def test_paper_size_paper_width():
    net = TreeGenerator(output_channels=3, ngf=64, n_blocks=6, with_tanh=True)
    y = np.asarray(net(_x((1, 256, 192, 6)), training=False))
    assert y.shape == (1, 256, 192, 3) and np.abs(y).max() < 1.0


def test_tanh_is_the_only_difference():
    x = _x((2, 24, 20, 6))
    raw = TreeGenerator(output_channels=3, ngf=4, n_blocks=2, with_tanh=False)
    face = TreeGenerator(output_channels=3, ngf=4, n_blocks=2, with_tanh=True)
    raw(x), face(x)
    face.set_weights(raw.get_weights())
    assert_close(face(x, training=False), np.tanh(np.asarray(raw(x, training=False))), atol=1e-6)


@pytest.mark.parametrize("block,fusion_activation,block_cls", [
    ("tree", "relu", TreeBlock), ("resnet", "none", ResnetBlock)])
def test_variants_build_and_run(block, fusion_activation, block_cls):
    net = TreeGenerator(output_channels=4, ngf=4, n_blocks=2, block=block, fusion_activation=fusion_activation)
    y = net(_x((2, 24, 20, 26)), training=True)
    assert y.shape == (2, 24, 20, 4) and np.isfinite(np.asarray(y)).all()
    assert isinstance(net.block_1, block_cls)
    if block == "resnet":
        c = 16  # ngf * 4
        block_params = 2 * (9 * c * c + c)
        assert net.count_params() == _count(0) + 2 * block_params
    else:
        assert net.block_0.fusion_activation == "relu"


def _count(n_blocks):
    net = TreeGenerator(output_channels=4, ngf=4, n_blocks=n_blocks)
    net(_x((1, 20, 20, 26)))
    return net.count_params()


def test_odd_intermediate_sizes_follow_pytorch():
    # 44x20 -> 22x10 -> 11x5 -> 22x10 -> 44x20: the transposed convs give 2H exactly.
    net = TreeGenerator(output_channels=4, ngf=2, n_blocks=1)
    assert net(_x((1, 44, 20, 26))).shape == (1, 44, 20, 4)


def test_bottleneck_must_exceed_the_largest_reflection_pad():
    # As in PyTorch, reflection padding 4 (dilation 4) needs 5+ positions: H/4 and W/4 >= 5.
    with pytest.raises(Exception, match="paddings? must be less than the dimension size"):
        TreeGenerator(output_channels=4, ngf=2, n_blocks=1)(_x((1, 16, 20, 26)))


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="TreeGenerator: block"):
        TreeGenerator(block="dense")
    with pytest.raises(ValueError, match="TreeGenerator: fusion_activation"):
        TreeGenerator(fusion_activation="gelu")


@pytest.mark.parametrize("block", ["tree", "resnet"])
def test_roundtrips(tmp_path, block):
    net = TreeGenerator(output_channels=3, ngf=2, n_blocks=2, block=block, fusion_activation="relu",
                        dropout=0.5, with_tanh=True)
    reloaded = run_layer_roundtrips(net, _x((1, 20, 20, 6)), tmp_path)
    assert reloaded.get_config()["block"] == block


def test_residual_generator_starts_as_the_identity_and_learns():
    import tensorflow as tf

    net = TreeGenerator(output_channels=3, ngf=4, n_blocks=1, dropout=0.0, with_tanh=True, residual=True)
    x = np.clip(_x((2, 24, 24, 6)), -1, 1)
    np.testing.assert_array_equal(net(x).numpy(), x[..., 3:])
    # The zero head still gets a gradient, so training moves the output off the identity.
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(net(x) - 0.5))
    grads = dict(zip([v.path for v in net.trainable_variables], tape.gradient(loss, net.trainable_variables)))
    head = [g for path, g in grads.items() if "head_conv" in path and "kernel" in path][0]
    assert float(tf.reduce_max(tf.abs(head))) > 0


def test_residual_output_stays_in_range_and_serializes(tmp_path):
    net = TreeGenerator(output_channels=3, ngf=2, n_blocks=1, dropout=0.0, with_tanh=True, residual=True)
    x = np.clip(_x((1, 20, 20, 6)), -1, 1)
    net(x)
    net.head_conv.bias.assign(np.full(3, 5.0, np.float32))  # tanh(5) ~ 1: the sum would leave [-1, 1]
    out = net(x).numpy()
    assert out.max() <= 1.0 and out.min() >= -1.0
    reloaded = run_layer_roundtrips(net, x, tmp_path)
    assert reloaded.get_config()["residual"] is True
