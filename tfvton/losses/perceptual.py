"""VGG19 perceptual (feature) and style (Gram) losses, per sample.

Official (`utils/loss.py` `VGGLoss`, used in `models/generation_model.py`):
- torchvision `vgg19` slices `features[:2]`, `[:7]`, `[:12]`, `[:21]`, `[:30]`:
  the outputs of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 (Keras
  `block{1..5}_conv1`; the code's comments call them conv1_2 ... conv5_2);
- layer weights `[1/32, 1/16, 1/8, 1/4, 1]` REVERSED before use, i.e.
  relu1_1 x1, relu2_1 x1/4, relu3_1 x1/8, relu4_1 x1/16, relu5_1 x1/32;
- criterion `L1Loss` (mean over all elements) on the features;
- Gram matrix `F F^T / (C H W)` per sample; with `gram=True` the same weighted
  sum is taken over Gram matrices, still with L1 (`use_l1` defaults to True);
- appearance stage: `(gram_loss + feature_loss) * G_VGG`, i.e. style and
  perceptual terms with equal weight 1;
- face stage: the second return value, `L1(relu1_1(fake), relu1_1(real))`
  (first VGG block only, weight 1), times `face_vgg` (1);
- images enter VGG in [-1, 1] without ImageNet normalisation (see
  `tfvton.networks.vgg`).
Per-sample values average over each sample's elements, so their batch mean is
the PyTorch value.
"""
from __future__ import annotations

from typing import Dict, Sequence

import tensorflow as tf

from tfvton.networks.vgg import VGG19Features, build_vgg19_features, resolve_input_mode

# relu1_1 ... relu5_1 with the official weights (after the official `reverse()`).
OFFICIAL_VGG_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
OFFICIAL_VGG_LAYER_WEIGHTS = (1.0, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32)
OFFICIAL_FACE_VGG_LAYERS = ("block1_conv1",)
CRITERIA = ("l1", "mse")


def gram_matrix(features):
    """Gram matrix F^T F / (C H W) per sample.

    Args:
        features: (B, H, W, C).
    Returns:
        (B, C, C) float32.
    """
    features = tf.cast(features, tf.float32)
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], shape[1] * shape[2], shape[3]])
    gram = tf.matmul(flat, flat, transpose_a=True)
    return gram / tf.cast(shape[1] * shape[2] * shape[3], tf.float32)


def _distance(a, b, criterion):
    diff = tf.cast(a, tf.float32) - tf.cast(b, tf.float32)
    elementwise = tf.abs(diff) if criterion == "l1" else tf.square(diff)
    return tf.reduce_mean(tf.reshape(elementwise, [tf.shape(diff)[0], -1]), axis=1)


def _check(layers, layer_weights, criterion):
    if len(layers) != len(layer_weights):
        raise ValueError(
            f"loss.vgg_layers and loss.vgg_layer_weights must have the same length. "
            f"Received: {len(layers)} layers and {len(layer_weights)} weights")
    if criterion not in CRITERIA:
        raise ValueError(f"VGGLoss: criterion must be one of {CRITERIA}. Received: criterion={criterion!r}")


def feature_loss(prediction_features: Dict[str, tf.Tensor], target_features: Dict[str, tf.Tensor],
                 layers: Sequence[str], layer_weights: Sequence[float], criterion: str = "l1"):
    """Σ_l w_l · distance(φ_l(pred), φ_l(target)), per sample, (B,) float32."""
    _check(layers, layer_weights, criterion)
    terms = [weight * _distance(prediction_features[name], target_features[name], criterion)
             for name, weight in zip(layers, layer_weights)]
    return tf.add_n(terms)


def style_loss(prediction_features: Dict[str, tf.Tensor], target_features: Dict[str, tf.Tensor],
               layers: Sequence[str], layer_weights: Sequence[float], criterion: str = "l1"):
    """Σ_l w_l · distance(Gram(φ_l(pred)), Gram(φ_l(target))), per sample, (B,) float32 (official: L1)."""
    _check(layers, layer_weights, criterion)
    terms = [weight * _distance(gram_matrix(prediction_features[name]), gram_matrix(target_features[name]),
                                criterion)
             for name, weight in zip(layers, layer_weights)]
    return tf.add_n(terms)


class VGGLoss:
    """Perceptual and style losses on one (frozen) `VGG19Features`.

    Runs VGG once on prediction and target stacked along the batch. Several
    `VGGLoss` views may share one `VGG19Features` built with the union of their
    layers (e.g. the appearance terms and the face's first block).

    Args:
        vgg: a `VGG19Features` that returns at least `layers`.
        layers: feature names to compare.
        layer_weights: one weight per layer.
        criterion: `l1` (official) or `mse` for the feature term.
        style_criterion: `l1` (official) or `mse` for the Gram term.

    Example:
        >>> loss = VGGLoss(vgg, OFFICIAL_VGG_LAYERS, OFFICIAL_VGG_LAYER_WEIGHTS)
        >>> terms = loss(p_tryon, target_image, style=True)  # {"perceptual": (B,), "style": (B,)}
    """

    def __init__(self, vgg: VGG19Features, layers: Sequence[str] = OFFICIAL_VGG_LAYERS,
                 layer_weights: Sequence[float] = OFFICIAL_VGG_LAYER_WEIGHTS, criterion: str = "l1",
                 style_criterion: str = "l1"):
        _check(layers, layer_weights, criterion)
        _check(layers, layer_weights, style_criterion)
        missing = [name for name in layers if name not in vgg.layers_requested]
        if missing:
            raise ValueError(
                f"VGGLoss: layers must be outputs of the VGG19Features ({list(vgg.layers_requested)}). "
                f"Received: {missing}, which are not")
        self.vgg = vgg
        self.layers = tuple(layers)
        self.layer_weights = tuple(float(w) for w in layer_weights)
        self.criterion = criterion
        self.style_criterion = style_criterion

    def features(self, prediction, target):
        """VGG features of prediction and target (target without gradient), one forward pass."""
        stacked = tf.concat([prediction, tf.stop_gradient(tf.cast(target, prediction.dtype))], axis=0)
        outputs = self.vgg(stacked, training=False)
        # tf.split, not [:batch]: its gradient (a concatenation) is ~12x faster than StridedSlice's.
        halves = {name: tf.split(outputs[name], 2, axis=0) for name in self.layers}
        prediction_features = {name: halves[name][0] for name in self.layers}
        target_features = {name: tf.stop_gradient(halves[name][1]) for name in self.layers}
        return prediction_features, target_features

    def __call__(self, prediction, target, style: bool = False) -> Dict[str, tf.Tensor]:
        """Per-sample losses.

        Args:
            prediction: (B, H, W, 3) image in [-1, 1].
            target: (B, H, W, 3) image in [-1, 1].
            style: also compute the Gram term.
        Returns:
            dict of (B,) float32: `perceptual`, and `style` when asked.
        """
        prediction_features, target_features = self.features(prediction, target)
        result = {"perceptual": feature_loss(prediction_features, target_features, self.layers,
                                             self.layer_weights, self.criterion)}
        if style:
            result["style"] = style_loss(prediction_features, target_features, self.layers,
                                         self.layer_weights, self.style_criterion)
        return result


def build_vgg_losses(loss_config, vgg: VGG19Features = None) -> Dict[str, VGGLoss]:
    """The appearance and face `VGGLoss`es of a `LossConfig`, sharing one VGG.

    Args:
        loss_config: `tfvton.config.LossConfig` (`vgg_layers`, `vgg_layer_weights`,
            `face_vgg_layers`, `style_criterion`, `vgg_input`, `vgg_weights`).
        vgg: an existing `VGG19Features` to reuse; built from the config when None.
    Returns:
        {"appearance": VGGLoss, "face": VGGLoss}.
    """
    face_layers = tuple(loss_config.face_vgg_layers)
    if vgg is None:
        layers = tuple(dict.fromkeys(tuple(loss_config.vgg_layers) + face_layers))
        vgg = build_vgg19_features(
            layers, weights=loss_config.vgg_weights,
            input_mode=resolve_input_mode(loss_config.vgg_input, loss_config.vgg_weights))
    return {
        "appearance": VGGLoss(vgg, loss_config.vgg_layers, loss_config.vgg_layer_weights,
                              style_criterion=loss_config.style_criterion),
        "face": VGGLoss(vgg, face_layers, (1.0,) * len(face_layers)),
    }
