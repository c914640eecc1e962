import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.convert.generators import (tree_generator_from_official, tree_generator_to_official,
                                       unet_from_official, unet_to_official)
from tfvton.networks.parsing_unet import ParsingUNet
from tfvton.networks.tree_generator import TreeGenerator

# Define_G(36, 20, 4, 'unet_256', 'instance', True, gpu_ids=[]).state_dict(): names and shapes,
# read from the official code (OIHW for Conv2d, (in, out, kh, kw) for ConvTranspose2d).
OFFICIAL_UNET_NGF4 = {
    "model.model.model.0.weight": (4, 36, 4, 4), "model.model.model.0.bias": (4,),
    "model.model.model.1.model.1.weight": (8, 4, 4, 4), "model.model.model.1.model.1.bias": (8,),
    "model.model.model.1.model.3.model.1.weight": (16, 8, 4, 4),
    "model.model.model.1.model.3.model.1.bias": (16,),
    "model.model.model.1.model.3.model.3.model.1.weight": (32, 16, 4, 4),
    "model.model.model.1.model.3.model.3.model.1.bias": (32,),
    "model.model.model.1.model.3.model.3.model.3.model.1.weight": (32, 32, 4, 4),
    "model.model.model.1.model.3.model.3.model.3.model.1.bias": (32,),
    "model.model.model.1.model.3.model.3.model.3.model.3.model.1.weight": (32, 32, 4, 4),
    "model.model.model.1.model.3.model.3.model.3.model.3.model.1.bias": (32,),
    "model.model.model.1.model.3.model.3.model.3.model.3.model.3.weight": (32, 32, 4, 4),
    "model.model.model.1.model.3.model.3.model.3.model.3.model.3.bias": (32,),
    "model.model.model.1.model.3.model.3.model.3.model.5.weight": (64, 32, 4, 4),
    "model.model.model.1.model.3.model.3.model.3.model.5.bias": (32,),
    "model.model.model.1.model.3.model.3.model.5.weight": (64, 16, 4, 4),
    "model.model.model.1.model.3.model.3.model.5.bias": (16,),
    "model.model.model.1.model.3.model.5.weight": (32, 8, 4, 4), "model.model.model.1.model.3.model.5.bias": (8,),
    "model.model.model.1.model.5.weight": (16, 4, 4, 4), "model.model.model.1.model.5.bias": (4,),
    "model.model.model.3.weight": (8, 20, 4, 4), "model.model.model.3.bias": (20,),
}

# Define_G(26, 4, 4, 'treeresnet', use_dropout=True): everything outside blocks 11..15, and block 10.
OFFICIAL_TREE_NGF4_SAMPLE = {
    "model.model.1.weight": (4, 26, 7, 7), "model.model.4.weight": (8, 4, 3, 3),
    "model.model.7.weight": (16, 8, 3, 3), "model.model.10.conv_block1.1.weight": (16, 16, 3, 3),
    "model.model.10.conv_block1.6.weight": (16, 16, 3, 3), "model.model.10.conv_block4.6.bias": (16,),
    "model.model.10.joint1.0.weight": (32, 32, 1, 1), "model.model.10.joint2.0.weight": (16, 64, 1, 1),
    "model.model.16.weight": (16, 8, 3, 3), "model.model.16.bias": (8,), "model.model.19.weight": (8, 4, 3, 3),
    "model.model.23.weight": (4, 4, 7, 7), "model.model.23.bias": (4,),
}
OFFICIAL_TREE_KEYS = 132


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _built(net, shape):
    net(_x(shape))
    rng = np.random.default_rng(7)
    for v in net.weights:  # non-zero biases too, so a swapped bias shows
        v.assign(rng.normal(scale=0.1, size=v.shape).astype(np.float32))
    return net


def test_unet_keys_and_shapes_are_the_official_ones():
    state = unet_to_official(_built(ParsingUNet(20, ngf=4, downsamplings=6), (1, 64, 64, 36)))
    assert {k: v.shape for k, v in state.items()} == OFFICIAL_UNET_NGF4


def test_unet_round_trip():
    x = _x((1, 64, 64, 36), 1)
    source = _built(ParsingUNet(20, ngf=4, downsamplings=6), x.shape)
    target = ParsingUNet(20, ngf=4, downsamplings=6)
    target(x)
    unet_from_official(unet_to_official(source), target)
    for a, b in zip(source.weights, target.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert_close(target(x, training=False), source(x, training=False), atol=0)


def test_tree_keys_and_shapes_are_the_official_ones():
    state = tree_generator_to_official(_built(TreeGenerator(4, ngf=4, n_blocks=6), (1, 32, 32, 26)))
    assert len(state) == OFFICIAL_TREE_KEYS
    assert {k: state[k].shape for k in OFFICIAL_TREE_NGF4_SAMPLE} == OFFICIAL_TREE_NGF4_SAMPLE
    assert {k.split(".")[2] for k in state} == {str(i) for i in (1, 4, 7, 10, 11, 12, 13, 14, 15, 16, 19, 23)}


@pytest.mark.parametrize("block,fusion", [("tree", "none"), ("tree", "relu"), ("resnet", "none")])
def test_tree_round_trip(block, fusion):
    x = _x((1, 24, 20, 6), 2)
    make = lambda: TreeGenerator(3, ngf=2, n_blocks=2, block=block, fusion_activation=fusion, with_tanh=True)
    source = _built(make(), x.shape)
    target = make()
    target(x)
    tree_generator_from_official(tree_generator_to_official(source), target)
    assert_close(target(x, training=False), source(x, training=False), atol=0)


def test_tree_dropout_layouts():
    x = _x((1, 20, 20, 6))
    source = _built(TreeGenerator(3, ngf=2, n_blocks=1, dropout=0.5), x.shape)
    with_dropout = tree_generator_to_official(source)
    without = tree_generator_to_official(source, use_dropout=False)
    assert "model.model.10.conv_block2.6.weight" in with_dropout
    assert "model.model.10.conv_block2.5.weight" in without
    # Either layout loads, into models with or without dropout.
    for state in (with_dropout, without):
        for rate in (0.0, 0.5):
            target = TreeGenerator(3, ngf=2, n_blocks=1, dropout=rate)
            target(x)
            tree_generator_from_official(state, target)
            assert_close(target(x, training=False), source(x, training=False), atol=0)
    resnet = _built(TreeGenerator(3, ngf=2, n_blocks=1, block="resnet", dropout=0.0), x.shape)
    assert "model.model.10.conv_block.5.weight" in tree_generator_to_official(resnet)


def test_strict_listing_every_problem_and_assigning_nothing():
    x = _x((1, 64, 64, 36))
    source = _built(ParsingUNet(20, ngf=4, downsamplings=6), x.shape)
    target = ParsingUNet(20, ngf=4, downsamplings=6)
    target(x)
    before = [np.asarray(v).copy() for v in target.weights]
    state = unet_to_official(source)
    del state["model.model.model.0.bias"]
    state["model.model.model.2.weight"] = np.zeros(3, np.float32)
    state["model.model.model.3.weight"] = np.zeros((8, 20, 3, 3), np.float32)
    state["module.extra"] = np.zeros(1, np.float32)
    with pytest.raises(ValueError) as err:
        unet_from_official(state, target)
    message = str(err.value)
    for fragment in ("model.model.model.0.bias", "model.model.model.2.weight", "module.extra",
                     "model.model.model.3.weight: official shape (8, 20, 3, 3)", "DataParallel"):
        assert fragment in message
    for old, v in zip(before, target.weights):
        np.testing.assert_array_equal(old, np.asarray(v))


def test_width_mismatch_is_reported():
    x = _x((1, 20, 20, 26))
    state = tree_generator_to_official(_built(TreeGenerator(4, ngf=4, n_blocks=1), x.shape))
    target = TreeGenerator(4, ngf=2, n_blocks=1)
    target(x)
    with pytest.raises(ValueError, match="does not fit"):
        tree_generator_from_official(state, target)
    with pytest.raises(ValueError, match="no Keras variable"):  # a 6-block file into a 1-block model
        tree_generator_from_official({**state, "model.model.11.joint1.0.weight": np.zeros(1)},
                                     _built(TreeGenerator(4, ngf=4, n_blocks=1), x.shape))


def test_unbuilt_model_is_refused():
    with pytest.raises(ValueError, match="not built"):
        unet_to_official(ParsingUNet(20, ngf=4))
    with pytest.raises(ValueError, match="not built"):
        tree_generator_from_official({}, TreeGenerator(4, ngf=4))
