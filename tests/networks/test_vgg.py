"""VGG19Features: layer names, truncation, weight loading (.pth / .h5), input scaling, round trips."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.networks.vgg import (TORCHVISION_CONV_INDEX, VGG19_LAYER_NAMES, VGG19Features,
                                 build_vgg19_features, canonical_layer_name, load_vgg19_weights,
                                 resolve_input_mode, torchvision_state_dict_to_keras)

# torchvision `vgg19().features` index of each ReLU output / pool, written out by hand.
TORCH_OUTPUT_INDEX = {"block1_conv1": 1, "block1_conv2": 3, "block1_pool": 4, "block2_conv1": 6,
                      "block2_pool": 9, "block3_conv1": 11, "block4_conv1": 20, "block5_conv1": 29}


def _torch_vgg19_features(torch, last_index=29):
    """A torchvision-layout `features` Sequential (conv/relu/pool) with Kaiming-random weights."""
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
            modules += [conv, nn.ReLU(inplace=False)]
            channels = item
    holder = nn.Module()
    holder.features = nn.Sequential(*modules[: last_index + 1])
    return holder.eval()


def _save_pth(torch, holder, path):
    state = holder.state_dict()
    state["classifier.0.weight"] = torch.zeros(4, 3)  # extra keys of a full torchvision file are ignored
    torch.save(state, path)


def test_layer_names_and_aliases():
    assert VGG19_LAYER_NAMES[:4] == ("block1_conv1", "block1_conv2", "block1_pool", "block2_conv1")
    assert len(VGG19_LAYER_NAMES) == 21  # 16 convs + 5 pools, as keras.applications.VGG19
    assert canonical_layer_name("relu3_1") == "block3_conv1"
    assert canonical_layer_name("conv1_2") == "block1_conv2"
    assert canonical_layer_name("pool4") == "block4_pool"
    assert TORCHVISION_CONV_INDEX["block5_conv1"] == 28 and TORCHVISION_CONV_INDEX["block2_conv2"] == 7
    with pytest.raises(ValueError, match="block6_conv1"):
        canonical_layer_name("block6_conv1")


def test_builds_only_up_to_the_deepest_requested_layer():
    model = VGG19Features(layers=["block2_conv1", "relu1_1"])
    model.build((None, None, None, 3))
    assert [layer.name for layer in model.stack] == ["block1_conv1", "block1_conv2", "block1_pool", "block2_conv1"]
    out = model(tf.zeros((2, 16, 12, 3)))
    assert set(out) == {"block2_conv1", "relu1_1"}
    assert out["relu1_1"].shape == (2, 16, 12, 64) and out["block2_conv1"].shape == (2, 8, 6, 128)


def test_pth_weights_match_torch_features(tmp_path):
    torch = torch_or_skip()
    holder = _torch_vgg19_features(torch)
    path = tmp_path / "vgg19-random.pth"
    _save_pth(torch, holder, path)
    names = list(TORCH_OUTPUT_INDEX)
    model = build_vgg19_features(names, weights=str(path))
    assert not model.trainable
    images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    ours = model(tf.constant(images))
    x = torch.from_numpy(np.transpose(images, (0, 3, 1, 2)))
    with torch.no_grad():
        for index, module in enumerate(holder.features):
            x = module(x)
            for name, wanted in TORCH_OUTPUT_INDEX.items():
                if wanted == index:
                    expected = np.transpose(x.numpy(), (0, 2, 3, 1))
                    scale = np.abs(expected).max()
                    assert_close(ours[name].numpy() / scale, expected / scale, atol=2e-5, what=name)


def test_torchvision_converter_accepts_dataparallel_prefix_and_reports_missing(tmp_path):
    torch = torch_or_skip()
    kernel = np.arange(64 * 3 * 3 * 3, dtype=np.float32).reshape(64, 3, 3, 3)
    converted = torchvision_state_dict_to_keras({"module.features.0.weight": torch.from_numpy(kernel),
                                                 "module.features.0.bias": torch.zeros(64)})
    assert list(converted) == ["block1_conv1"]
    assert_close(converted["block1_conv1"][0][1, 2, 0, 5], kernel[5, 0, 1, 2], atol=0)  # OIHW -> HWIO
    path = tmp_path / "partial.pth"
    torch.save({"features.0.weight": torch.from_numpy(kernel), "features.0.bias": torch.zeros(64)}, path)
    load_vgg19_weights(build_vgg19_features(["block1_conv1"]), str(path))  # enough for block1_conv1
    with pytest.raises(ValueError, match="features.2.weight"):
        build_vgg19_features(["block1_conv2"], weights=str(path))
    with pytest.raises(FileNotFoundError, match="vgg_weights"):
        build_vgg19_features(["block1_conv1"], weights=str(tmp_path / "absent.pth"))


def test_keras_h5_weights_are_copied_by_layer_name(tmp_path):
    import keras
    source = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path / "vgg19_random.weights.h5"
    source.save_weights(path)
    model = build_vgg19_features(["block2_conv1"], weights=str(path))
    for layer in model.conv_layers:
        for got, want in zip(layer.get_weights(), source.get_layer(layer.name).get_weights()):
            assert_close(got, want, atol=0, what=layer.name)


@pytest.mark.parametrize("mode", ["torch", "caffe"])
def test_input_modes_scale_images_in_minus_one_one(mode):
    images = np.random.default_rng(1).uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)
    plain = build_vgg19_features(["block1_conv1"], input_mode="none")
    scaled = build_vgg19_features(["block1_conv1"], input_mode=mode)
    scaled.set_weights(plain.get_weights())
    if mode == "torch":
        manual = ((images + 1) / 2 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    else:
        manual = (images + 1) * 127.5
        manual = manual[..., ::-1] - np.array([103.939, 116.779, 123.68])
    expected = plain(tf.constant(manual, tf.float32))["block1_conv1"]
    assert_close(scaled(tf.constant(images))["block1_conv1"], expected, atol=1e-3, rtol=1e-5)


def test_resolve_input_mode():
    assert resolve_input_mode("official", "imagenet") == "none"
    assert resolve_input_mode("imagenet", "/x/vgg19-dcbb9e9d.pth") == "torch"
    assert resolve_input_mode("imagenet", "imagenet") == "caffe"
    assert resolve_input_mode("imagenet", "/x/vgg19_notop.h5") == "caffe"
    with pytest.raises(ValueError, match="vgg_input"):
        resolve_input_mode("zero_one", "random")


def test_config_and_keras_roundtrip(tmp_path):
    model = build_vgg19_features(["relu1_1", "block2_conv1"], input_mode="torch")
    images = tf.random.uniform((1, 8, 8, 3), -1, 1, seed=0)
    reloaded = run_layer_roundtrips(model, images, tmp_path)
    assert reloaded.get_config()["layers"] == ["relu1_1", "block2_conv1"]
    assert reloaded.get_config()["input_mode"] == "torch"
