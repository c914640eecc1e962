import numpy as np

from tests.testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.layers.feature_l2_norm import FeatureL2Norm


def test_hand_computed_vector():
    # (3, 4) / sqrt(9 + 16 + eps), and an all-zero vector stays 0 thanks to eps.
    x = np.zeros((1, 1, 2, 2), np.float32)
    x[0, 0, 0] = [3.0, 4.0]
    out = np.asarray(FeatureL2Norm()(x))
    assert_close(out[0, 0, 0], np.array([3.0, 4.0]) / np.sqrt(25.0 + 1e-6), atol=1e-7)
    assert_close(out[0, 0, 1], [0.0, 0.0], atol=0)


def test_matches_torch_official_formula():
    torch = torch_or_skip()
    x = np.random.default_rng(1).normal(size=(2, 5, 3, 16)).astype(np.float32) * 0.01  # small: eps matters
    t = torch.from_numpy(x.transpose(0, 3, 1, 2))
    # eps added inside the square root, sum over the channel axis.
    norm = torch.pow(torch.sum(torch.pow(t, 2), 1) + 1e-6, 0.5).unsqueeze(1).expand_as(t)
    expected = torch.div(t, norm).numpy().transpose(0, 2, 3, 1)
    assert_close(FeatureL2Norm()(x), expected, atol=1e-5)


def test_roundtrip(tmp_path):
    x = np.random.default_rng(0).normal(size=(1, 4, 3, 8)).astype(np.float32)
    run_layer_roundtrips(FeatureL2Norm(epsilon=1e-4), x, tmp_path)
