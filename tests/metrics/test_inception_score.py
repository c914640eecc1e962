"""Inception Score: the split arithmetic by hand, and IS = 1 for identical images."""
import numpy as np
import pytest

from tests.testing import assert_close


def test_score_from_probabilities_hand_values():
    from tfvton.metrics.inception_score import score_from_probabilities
    # Two confident, different predictions: KL = log 2 each, IS = 2 exactly.
    p = np.array([[1.0, 0.0], [0.0, 1.0]] * 5)
    result = score_from_probabilities(p, splits=1)
    assert_close(result["mean"], 2.0, atol=1e-9, what="IS of two sure classes")
    # Five splits of two different rows each: every split scores 2, std 0.
    result = score_from_probabilities(p, splits=5)
    assert result["splits"] == 5 and result["n"] == 10
    assert_close([result["mean"], result["std"]], [2.0, 0.0], atol=1e-9, what="IS over splits")
    # Ten splits of one row each: IS 1 (a single prediction is its own marginal).
    assert_close(score_from_probabilities(p, splits=10)["mean"], 1.0, atol=1e-9, what="one-row splits")
    # Uniform predictions: IS = 1.
    assert_close(score_from_probabilities(np.full((7, 4), 0.25))["mean"], 1.0, atol=1e-12, what="uniform IS")


def test_resolve_weights_never_downloads_unless_allowed(tmp_path, monkeypatch):
    from tfvton.metrics.inception_score import resolve_weights
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert resolve_weights(None, allow_download=False) is None
    assert resolve_weights(None, allow_download=True) == "imagenet"
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        resolve_weights(str(tmp_path / "missing.h5"))
    weights = tmp_path / "models" / "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
    weights.parent.mkdir()
    weights.write_bytes(b"")
    assert resolve_weights(None) == str(weights)


@pytest.fixture(scope="module")
def random_scorer():
    """InceptionV3 with random weights at its minimum input (75): building it is the slow part, so once."""
    from tfvton.metrics.inception_score import InceptionScorer
    return InceptionScorer("random", input_size=75, batch_size=10)


def test_inception_score_of_identical_images_is_one_random_weights(random_scorer):
    scorer = random_scorer
    image = np.random.default_rng(0).uniform(-1, 1, size=(1, 24, 20, 3)).astype(np.float32)
    images = np.repeat(image, 10, axis=0)
    probabilities = scorer.probabilities(images)
    assert probabilities.shape == (10, 1000)
    assert_close(probabilities.sum(axis=1), np.ones(10), atol=1e-4, what="softmax rows")
    result = scorer.score(images, splits=10)
    assert result["splits"] == 10
    assert_close([result["mean"], result["std"]], [1.0, 0.0], atol=1e-5, what="IS of identical images")


def test_pool_features_are_the_classifier_input_random_weights(random_scorer):
    from tfvton.metrics.inception_score import POOL_FEATURES
    scorer = random_scorer
    images = np.random.default_rng(1).uniform(-1, 1, size=(4, 24, 20, 3)).astype(np.float32)
    features, probabilities = scorer.features_and_probabilities(images)
    assert features.shape == (4, POOL_FEATURES) and probabilities.shape == (4, 1000)
    # softmax(features @ W + b) with the classifier's own weights gives the probabilities back.
    kernel, bias = scorer.model.get_layer("predictions").get_weights()
    logits = features @ kernel + bias
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert_close(probabilities, expected, atol=1e-5, what="classifier on the pool features")
    assert_close(scorer.features(images), features, atol=1e-5, what="features() alone")
