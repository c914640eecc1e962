"""VGG perceptual / style / face losses against a PyTorch re-implementation with the same weights."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from testing import assert_close, torch_or_skip
from tfvton.config import load_config
from tfvton.losses import (OFFICIAL_VGG_LAYER_WEIGHTS, OFFICIAL_VGG_LAYERS, VGGLoss, build_vgg_losses,
                           gram_matrix)
from tfvton.networks.vgg import build_vgg19_features


def _torch_vgg19_features(torch):
    """torchvision-layout `features[:30]` (up to relu5_1) with Kaiming-random weights."""
    nn = torch.nn
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]
    modules, channels = [], 3
    for item in cfg:
        if item == "M":
            modules.append(nn.MaxPool2d(2, 2))
        else:
            conv = nn.Conv2d(channels, item, 3, padding=1)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.uniform_(conv.bias, -0.1, 0.1)
            modules += [conv, nn.ReLU()]
            channels = item
    holder = nn.Module()
    holder.features = nn.Sequential(*modules)
    return holder.eval()


def _torch_reference_losses(torch, features, pred, target):
    """The official VGGLoss semantics written out: slices [:2], [:7], [:12], [:21], [:30];
    weights [1/32, 1/16, 1/8, 1/4, 1] reversed; L1Loss on features and on Gram matrices;
    the face term is L1 on slice 1 only."""
    slices = [features[:end] for end in (2, 7, 12, 21, 30)]
    weights = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0]
    weights.reverse()
    l1 = torch.nn.L1Loss()

    def gram(x):
        b, c, h, w = x.size()
        f = x.view(b, c, h * w)
        return f.bmm(f.transpose(1, 2)) / (c * h * w)

    with torch.no_grad():
        perceptual = sum(w * l1(s(pred), s(target)) for w, s in zip(weights, slices)).item()
        style = sum(w * l1(gram(s(pred)), gram(s(target))) for w, s in zip(weights, slices)).item()
        face = l1(slices[0](pred), slices[0](target)).item()
    return perceptual, style, face


@pytest.fixture(scope="module")
def vgg_pair(tmp_path_factory):
    torch = torch_or_skip()
    holder = _torch_vgg19_features(torch)
    path = tmp_path_factory.mktemp("vgg") / "vgg19-random.pth"
    torch.save(holder.state_dict(), path)
    vgg = build_vgg19_features(OFFICIAL_VGG_LAYERS, weights=str(path))
    return torch, holder.features, vgg


def test_official_layer_weights_are_the_reversed_list():
    assert OFFICIAL_VGG_LAYER_WEIGHTS == (1.0, 0.25, 0.125, 0.0625, 0.03125)
    loss = load_config("paper").loss
    assert loss.vgg_layers == OFFICIAL_VGG_LAYERS
    assert loss.vgg_layer_weights == OFFICIAL_VGG_LAYER_WEIGHTS
    assert loss.face_vgg_layers == ("block1_conv1",) and loss.style == 1.0 and loss.style_criterion == "l1"


def test_vgg_losses_match_torch_with_the_same_weights(vgg_pair):
    torch, features, vgg = vgg_pair
    rng = np.random.default_rng(0)
    pred = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    target = np.clip(pred + rng.normal(0, 0.3, pred.shape), -1, 1).astype(np.float32)
    expected_perceptual, expected_style, expected_face = _torch_reference_losses(
        torch, features, torch.from_numpy(np.transpose(pred, (0, 3, 1, 2))),
        torch.from_numpy(np.transpose(target, (0, 3, 1, 2))))

    appearance = VGGLoss(vgg, OFFICIAL_VGG_LAYERS, OFFICIAL_VGG_LAYER_WEIGHTS)
    terms = appearance(tf.constant(pred), tf.constant(target), style=True)
    assert terms["perceptual"].shape == (2,) and terms["style"].shape == (2,)
    face = VGGLoss(vgg, ("block1_conv1",), (1.0,))(tf.constant(pred), tf.constant(target))
    assert set(face) == {"perceptual"}
    for name, got, want in (("perceptual", terms["perceptual"], expected_perceptual),
                            ("style", terms["style"], expected_style),
                            ("face", face["perceptual"], expected_face)):
        assert_close(got.numpy().mean(), want, atol=1e-6, rtol=1e-4, what=name)


def test_build_vgg_losses_shares_one_network_and_passes_gradients(vgg_pair):
    _, _, vgg = vgg_pair
    losses = build_vgg_losses(load_config("smoke").loss, vgg=vgg)
    assert losses["appearance"].vgg is losses["face"].vgg is vgg
    assert losses["face"].layers == ("block1_conv1",)
    pred = tf.Variable(tf.random.uniform((1, 16, 16, 3), -1, 1, seed=1))
    target = tf.random.uniform((1, 16, 16, 3), -1, 1, seed=2)
    with tf.GradientTape() as tape:
        terms = losses["appearance"](pred, target, style=True)
        total = tf.reduce_sum(terms["perceptual"] + terms["style"])
    grad = tape.gradient(total, pred)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0
    assert not vgg.trainable_weights


def test_build_vgg_losses_from_config_builds_the_union_of_layers():
    config = load_config("smoke").loss
    config = type(config)(vgg_layers=("block1_conv2",), vgg_layer_weights=(1.0,), face_vgg_layers=("relu1_1",))
    losses = build_vgg_losses(config)
    assert losses["appearance"].vgg.layers_requested == ("block1_conv2", "relu1_1")
    assert [layer.name for layer in losses["appearance"].vgg.stack] == ["block1_conv1", "block1_conv2"]


def test_gram_matrix_hand_value():
    # one sample, H=1, W=2, C=2: F = [[1, 2], [3, 4]] (rows = pixels) -> F^T F / (2*1*2)
    features = tf.constant([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert_close(gram_matrix(features), [[[10 / 4, 14 / 4], [14 / 4, 20 / 4]]], atol=1e-7)


def test_vgg_loss_rejects_layers_the_network_does_not_return(vgg_pair):
    _, _, vgg = vgg_pair
    with pytest.raises(ValueError, match="block1_conv2"):
        VGGLoss(vgg, ("block1_conv2",), (1.0,))
    with pytest.raises(ValueError, match="same length"):
        VGGLoss(vgg, OFFICIAL_VGG_LAYERS, (1.0,))
