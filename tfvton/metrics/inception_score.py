"""Inception Score and mask-IS, and the InceptionV3 features FID / KID use (docs/metrics.md).

IS = exp(E_x KL(p(y|x) || p(y))) over the 1000 ImageNet classes of InceptionV3
(Salimans et al. 2016), computed on `splits` (10) disjoint parts of the image
set and reported as mean and standard deviation over the parts. mask-IS is the
same score on the generated images with their background (target parsing
label 0) set to black.

Weights: InceptionV3 with its ImageNet classifier, from a local Keras weights
file (`.h5` / `.weights.h5`); Keras' own cache
(`~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels.h5`) is used
when present; a download happens only when the caller allows it. Random
weights exist for tests only: their scores mean nothing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Optional

import numpy as np

# The file `keras.applications.InceptionV3(weights="imagenet")` downloads and caches.
KERAS_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
DEFAULT_SPLITS = 10
INPUT_SIZE = 299
# InceptionV3's global average pool before the classifier: the FID / KID features.
POOL_LAYER = "avg_pool"
POOL_FEATURES = 2048

__all__ = ["KERAS_WEIGHTS_FILE", "DEFAULT_SPLITS", "INPUT_SIZE", "POOL_LAYER", "POOL_FEATURES", "resolve_weights",
           "score_from_probabilities", "InceptionScorer"]


def resolve_weights(weights: Optional[str] = None, allow_download: bool = False) -> Optional[str]:
    """Decides where the InceptionV3 weights come from, without downloading.

    Args:
        weights: a path to a Keras InceptionV3 weights file (with the top
            classifier), or None to look in Keras' cache.
        allow_download: allow `"imagenet"` (Keras downloads the file once
            and caches it) when no local file is found.
    Returns:
        a file path, `"imagenet"`, or None when no weights are available.
    Raises:
        FileNotFoundError: when `weights` names a file that does not exist.
    """
    if weights:
        if weights == "imagenet":
            return "imagenet" if allow_download else _cached_keras_weights()
        if not Path(weights).is_file():
            raise FileNotFoundError(f"InceptionV3 weights file {weights} does not exist (expected a Keras "
                                    f"InceptionV3 weights file with the classifier, e.g. {KERAS_WEIGHTS_FILE})")
        return str(weights)
    cached = _cached_keras_weights()
    if cached:
        return cached
    return "imagenet" if allow_download else None


def _cached_keras_weights() -> Optional[str]:
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    path = keras_home / "models" / KERAS_WEIGHTS_FILE
    return str(path) if path.is_file() else None


def score_from_probabilities(probabilities: np.ndarray, splits: int = DEFAULT_SPLITS) -> Dict[str, float]:
    """The Inception Score of a set of class distributions.

    The N rows are cut into `splits` consecutive parts (`numpy.array_split`,
    so sizes differ by at most one; fewer parts when N < splits); for each part
    IS = exp(mean_i KL(p_i || mean_j p_j)).

    Args:
        probabilities: (N, K) rows summing to 1.
        splits: number of parts.
    Returns:
        dict with `mean` and `std` (population std over the parts), `splits`, `n`.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"inception score: expected (N, K) probabilities with N > 0, got shape {p.shape}")
    splits = max(1, min(int(splits), len(p)))
    eps = 1e-12
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + eps) - np.log(marginal + eps)), axis=1)
        scores.append(float(np.exp(kl.mean())))
    return {"mean": float(np.mean(scores)), "std": float(np.std(scores)), "splits": splits, "n": int(len(p))}


class InceptionScorer:
    """InceptionV3 class probabilities, pool features and the IS of image sets.

    Args:
        weights: what `resolve_weights` returned (a file path or `"imagenet"`),
            or `"random"` (tests only).
        input_size: the classifier's input side; 299 for real weights (the
            ImageNet classifier needs it). Tests with random weights may use
            75, InceptionV3's minimum.
        batch_size: images per forward pass.

    Example:
        >>> scorer = InceptionScorer(resolve_weights(allow_download=True))
        >>> scorer.score(fake_images)  # images in [-1, 1], NHWC
        {'mean': ..., 'std': ..., 'splits': 10, 'n': ...}
    """

    def __init__(self, weights: str, input_size: int = INPUT_SIZE, batch_size: int = 32):
        import keras

        if weights is None:
            raise ValueError("InceptionScorer: no weights; pass a weights file, 'imagenet' (download) or "
                             "'random' (tests only)")
        if weights != "random" and input_size != INPUT_SIZE:
            raise ValueError(f"InceptionScorer: real weights need input_size {INPUT_SIZE}, got {input_size}")
        self.weights = weights
        self.input_size = input_size
        self.batch_size = batch_size
        self.model = keras.applications.InceptionV3(
            weights=None if weights == "random" else weights, include_top=True,
            input_shape=(input_size, input_size, 3), classifier_activation="softmax")
        # The same network's 2048-d pool features (FID / KID) come out of the same pass.
        self._both = keras.Model(self.model.inputs, [self.model.get_layer(POOL_LAYER).output, self.model.output])

    def features_and_probabilities(self, images):
        """Pool features (N, 2048) and softmax class probabilities (N, 1000) of images in [-1, 1].

        Images (NHWC, any size) are resized bilinearly to the classifier's
        input; [-1, 1] is already the range `inception_v3.preprocess_input`
        produces. One forward pass gives both.
        """
        import tensorflow as tf

        images = np.asarray(images, dtype=np.float32)
        features, probabilities = [], []
        for start in range(0, len(images), self.batch_size):
            batch = tf.image.resize(images[start:start + self.batch_size], [self.input_size, self.input_size],
                                    method="bilinear")
            pool, softmax = self._both(batch, training=False)
            features.append(np.asarray(pool, dtype=np.float64))
            probabilities.append(np.asarray(softmax, dtype=np.float64))
        if not features:
            return np.zeros((0, POOL_FEATURES)), np.zeros((0, 1000))
        return np.concatenate(features, axis=0), np.concatenate(probabilities, axis=0)

    def features(self, images) -> np.ndarray:
        """Pool features (N, 2048) of images in [-1, 1] (the FID / KID features)."""
        return self.features_and_probabilities(images)[0]

    def probabilities(self, images) -> np.ndarray:
        """Softmax class probabilities (N, 1000) of images in [-1, 1] (NHWC, any size)."""
        return self.features_and_probabilities(images)[1]

    def score(self, images, splits: int = DEFAULT_SPLITS) -> Dict[str, float]:
        """IS (mean, std over `splits` parts) of images in [-1, 1]."""
        return score_from_probabilities(self.probabilities(images), splits)
