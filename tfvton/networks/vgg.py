"""VGG19 feature extractor for the perceptual, style and face losses.

The official release computes its VGG losses with torchvision's `vgg19` loaded
from `vgg_model/vgg19-dcbb9e9d.pth` and feeds it the generator's images in
[-1, 1] directly, without ImageNet normalisation (`utils/loss.py`, `VGGLoss`).
`VGG19Features` rebuilds the VGG19 convolution stack with the layer names of
`keras.applications.VGG19` (`block1_conv1` ... `block5_pool`); Keras convs
carry their ReLU, so `block{i}_conv{j}` is torchvision's `relu{i}_{j}` output.
Only the layers up to the deepest requested one are built.

Weights (`load_vgg19_weights`, or `build_vgg19_features(weights=...)`):
    `random`    Glorot init, for tests; nothing is read or downloaded.
    `imagenet`  `keras.applications.VGG19(weights="imagenet")`; downloads the
                Keras (Caffe-converted) weights once. Only when the user asks.
    `*.pth`     torchvision's `vgg19-dcbb9e9d.pth` (what the official code used),
                converted OIHW -> HWIO; needs torch (imported lazily).
    `*.h5`      Keras VGG19 weights (the applications' `..._notop.h5`, or a
                `.weights.h5` saved from `keras.applications.VGG19`).

Input scaling (`input_mode`): the network is always called on images in [-1, 1].
    `none`   feed them as they are (the official code; use with the `.pth`).
    `torch`  ImageNet normalisation of torchvision: RGB in [0, 1], then
             (x - mean) / std.
    `caffe`  what the Keras `imagenet` weights expect: BGR in [0, 255] minus the
             per-channel ImageNet mean.
`resolve_input_mode(vgg_input, weights)` maps the config's `loss.vgg_input`
(`official` | `imagenet`) to one of these, matching the weight source.
"""
from __future__ import annotations

import os
import re
from typing import Dict, Sequence

import keras
import numpy as np
from keras import ops

from tfvton.errors import ConfigError

# (block, convolutions in the block) for VGG19.
_VGG19_BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))

# Layer order of the Keras VGG19 (without the input layer).
VGG19_LAYER_NAMES = tuple(
    name
    for block, n_convs in _VGG19_BLOCKS
    for name in [f"block{block}_conv{j}" for j in range(1, n_convs + 1)] + [f"block{block}_pool"]
)

_VGG19_FILTERS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}

# Index of each conv in torchvision's `vgg19().features` (conv, relu, ..., maxpool).
TORCHVISION_CONV_INDEX = {}
_index = 0
for _block, _n_convs in _VGG19_BLOCKS:
    for _j in range(1, _n_convs + 1):
        TORCHVISION_CONV_INDEX[f"block{_block}_conv{_j}"] = _index
        _index += 2  # conv + relu
    _index += 1  # maxpool
del _index, _block, _n_convs, _j

INPUT_MODES = ("none", "torch", "caffe")
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

_ALIAS = re.compile(r"^(?:relu|conv)(\d)_(\d)$")
_POOL_ALIAS = re.compile(r"^pool(\d)$")


def canonical_layer_name(name: str) -> str:
    """Maps `relu3_1` / `conv3_1` / `pool3` aliases to the Keras name `block3_conv1` / `block3_pool`.

    Both `relu` and `conv` aliases name the post-ReLU output: Keras convs carry their
    activation (the official code's "conv1_2" comments also point at ReLU outputs).

    Raises:
        ValueError: the name is no VGG19 layer.
    """
    match = _ALIAS.match(name)
    if match:
        name = f"block{match.group(1)}_conv{match.group(2)}"
    match = _POOL_ALIAS.match(name)
    if match:
        name = f"block{match.group(1)}_pool"
    if name not in VGG19_LAYER_NAMES:
        raise ValueError(
            f"VGG19 layer names must be one of {', '.join(VGG19_LAYER_NAMES)} (or aliases relu<i>_<j>, "
            f"conv<i>_<j>, pool<i>). Received: {name!r}")
    return name


@keras.saving.register_keras_serializable(package="tfvton")
class VGG19Features(keras.Model):
    """VGG19 conv stack returning a dict of the requested layer outputs.

    Args:
        layers: names of the outputs to return (Keras names like `block1_conv1`,
            or aliases `relu1_1`, `conv1_2`, `pool3`). The dict is keyed by these
            names as given.
        input_mode: `none` | `torch` | `caffe`, how images in [-1, 1] are scaled
            before the first conv (see the module docstring).
        **kwargs: passed to `keras.Model` (e.g. `name`, `trainable`).

    The `layers` argument is stored as `layers_requested` (`keras.Model.layers` is
    taken). Weights are not a constructor argument, so that reloading a saved model never
    reads a file or downloads: use `build_vgg19_features` or `load_vgg19_weights`.

    Example:
        >>> vgg = build_vgg19_features(["block1_conv1", "block2_conv1"], weights="random")
        >>> feats = vgg(images)  # {"block1_conv1": (B,H,W,64), "block2_conv1": (B,H/2,W/2,128)}
    """

    def __init__(self, layers: Sequence[str] = ("block1_conv1",), input_mode: str = "none", **kwargs):
        super().__init__(**kwargs)
        if isinstance(layers, str):
            layers = (layers,)
        if not layers:
            raise ValueError("VGG19Features: layers must name at least one layer. Received: layers=()")
        if input_mode not in INPUT_MODES:
            raise ValueError(
                f"VGG19Features: input_mode must be one of {INPUT_MODES}. "
                f"Received: input_mode={input_mode!r}")
        self.layers_requested = tuple(layers)
        self.input_mode = input_mode
        self._canonical = tuple(canonical_layer_name(name) for name in self.layers_requested)
        deepest = max(VGG19_LAYER_NAMES.index(name) for name in self._canonical)
        # === Layers === (only up to the deepest requested output)
        self.stack = []
        for name in VGG19_LAYER_NAMES[: deepest + 1]:
            if name.endswith("_pool"):
                layer = keras.layers.MaxPooling2D(2, strides=2, name=name)
            else:
                block = int(name[5])
                layer = keras.layers.Conv2D(_VGG19_FILTERS[block], 3, padding="same",
                                            activation="relu", name=name)
            self.stack.append(layer)

    @property
    def conv_layers(self):
        """The built `Conv2D` layers, in order."""
        return [layer for layer in self.stack if isinstance(layer, keras.layers.Conv2D)]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.stack:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def _scale_inputs(self, x):
        if self.input_mode == "none":
            return x
        if self.input_mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, dtype=x.dtype)
            std = ops.convert_to_tensor(_TORCH_STD, dtype=x.dtype)
            return ((x + 1.0) * 0.5 - mean) / std
        # caffe: RGB [-1, 1] -> BGR [0, 255] minus the ImageNet mean.
        x = (x + 1.0) * 127.5
        x = ops.flip(x, axis=-1)
        return x - ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=x.dtype)

    def call(self, images) -> Dict[str, "keras.KerasTensor"]:
        x = self._scale_inputs(images)
        wanted = set(self._canonical)
        found = {}
        for layer in self.stack:
            x = layer(x)
            if layer.name in wanted:
                found[layer.name] = x
        return {name: found[canonical] for name, canonical in zip(self.layers_requested, self._canonical)}

    def get_config(self):
        config = super().get_config()
        config.update({"layers": list(self.layers_requested), "input_mode": self.input_mode})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def resolve_input_mode(vgg_input: str, weights: str) -> str:
    """Maps `loss.vgg_input` (`official` | `imagenet`) to a `VGG19Features.input_mode`.

    `imagenet` follows the weight source: torchvision normalisation for a `.pth`,
    Caffe preprocessing for the Keras weights (`imagenet`, `.h5`) and for `random`
    torchvision's (arbitrary, the weights mean nothing).
    """
    if vgg_input == "official":
        return "none"
    if vgg_input != "imagenet":
        raise ConfigError(
            f"loss.vgg_input must be 'official' or 'imagenet'. Received: loss.vgg_input={vgg_input!r}")
    if weights in ("imagenet",) or str(weights).endswith(".h5"):
        return "caffe"
    return "torch"


def build_vgg19_features(layers: Sequence[str], weights: str = "random", input_mode: str = "none",
                         trainable: bool = False, name: str = "vgg19_features") -> VGG19Features:
    """Builds a frozen `VGG19Features` and loads its weights.

    Args:
        layers: requested outputs (see `VGG19Features`).
        weights: `random`, `imagenet` (downloads the Keras weights), or a path to
            torchvision's `.pth` or a Keras `.h5`.
        input_mode: `none` | `torch` | `caffe`.
        trainable: the loss network is frozen by default.
        name: model name.
    Returns:
        The built model.
    """
    model = VGG19Features(layers=layers, input_mode=input_mode, name=name)
    model.build((None, None, None, 3))
    load_vgg19_weights(model, weights)
    model.trainable = trainable
    return model


def load_vgg19_weights(model: VGG19Features, weights: str) -> None:
    """Loads `random` / `imagenet` / `.pth` / `.h5` weights into a built `VGG19Features`."""
    if not model.built:
        model.build((None, None, None, 3))
    if weights in (None, "random"):
        return
    if weights == "imagenet":
        source = keras.applications.VGG19(include_top=False, weights="imagenet", input_shape=(None, None, 3))
        _copy_from_keras_vgg19(model, source)
        return
    path = os.fspath(weights)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{path}: no such file (loss.vgg_weights must be 'random', 'imagenet', or a path to "
            f"torchvision's vgg19-dcbb9e9d.pth or a Keras VGG19 .h5). Received: loss.vgg_weights={path!r}")
    if path.endswith((".pth", ".pt")):
        _load_torchvision_state_dict(model, path)
    elif path.endswith(".h5"):
        source = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
        source.load_weights(path)
        _copy_from_keras_vgg19(model, source)
    else:
        raise ConfigError(
            f"loss.vgg_weights must be 'random', 'imagenet', a .pth (torchvision) or a .h5 (Keras) file. "
            f"Received: loss.vgg_weights={path!r}")


def _copy_from_keras_vgg19(model: VGG19Features, source: keras.Model) -> None:
    for layer in model.conv_layers:
        layer.set_weights(source.get_layer(layer.name).get_weights())


def torchvision_state_dict_to_keras(state_dict) -> Dict[str, list]:
    """Converts torchvision `vgg19().features` tensors to `{keras_conv_name: [kernel_HWIO, bias]}`.

    Accepts keys `features.N.weight` with or without a DataParallel `module.` prefix;
    values may be torch tensors or numpy arrays. Missing convs are left out.
    """
    arrays = {}
    for key, value in state_dict.items():
        key = key[len("module."):] if key.startswith("module.") else key
        arrays[key] = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
    converted = {}
    for name, index in TORCHVISION_CONV_INDEX.items():
        w_key, b_key = f"features.{index}.weight", f"features.{index}.bias"
        if w_key in arrays and b_key in arrays:
            converted[name] = [np.transpose(arrays[w_key], (2, 3, 1, 0)), arrays[b_key]]
    return converted


def _load_torchvision_state_dict(model: VGG19Features, path: str) -> None:
    try:
        import torch  # optional extra `convert`; only needed for .pth files
    except ImportError as error:
        raise ImportError(
            f"{path}: reading a .pth VGG19 checkpoint (loss.vgg_weights) needs torch "
            f"(pip install 'tfvton[convert]')") from error
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    converted = torchvision_state_dict_to_keras(state_dict)
    for layer in model.conv_layers:
        if layer.name not in converted:
            index = TORCHVISION_CONV_INDEX[layer.name]
            raise ValueError(
                f"{path}: expected torchvision's vgg19 state_dict with features.{index}.weight/bias "
                f"(for {layer.name}). Received: no such key")
        kernel, bias = converted[layer.name]
        expected = tuple(layer.kernel.shape)
        if kernel.shape != expected:
            raise ValueError(
                f"{path}: features.{TORCHVISION_CONV_INDEX[layer.name]}.weight must convert to {expected} "
                f"for {layer.name}. Received: shape {kernel.shape}")
        layer.set_weights([kernel, bias])
