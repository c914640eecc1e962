"""FID and KID formulas: known answers by hand and an independent numpy/scipy implementation."""
from __future__ import annotations

import numpy as np
import pytest

from tests.testing import assert_close
from tfvton.metrics.fid_kid import feature_statistics, fid, frechet_distance, kid

scipy_linalg = pytest.importorskip("scipy.linalg")


def _reference_fid(x, y):
    """The pytorch-fid / TTUR formula: scipy.linalg.sqrtm of the covariance product, real part."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy_linalg.sqrtm(s1.dot(s2))
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def _reference_mmd2(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, by explicit loops over pairs."""
    d, m = x.shape[1], len(x)

    def k(a, b):
        return (np.dot(a, b) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_fid_known_answers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6))
    shift = np.array([1.0, -2.0, 0.0, 0.5, 0.0, 3.0])
    # Same covariance, shifted mean: FID = ||shift||^2.
    assert_close(fid(x, x + shift), float(shift @ shift), atol=1e-8, what="shifted FID")
    assert_close(fid(x, x), 0.0, atol=1e-8, what="FID of a set with itself")
    # Diagonal covariances: Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = (1 - 2) ** 2 + (2 - 2) ** 2 + (3 - 1) ** 2 + 2.0 ** 2  # trace term + |mu1 - mu2|^2
    assert_close(frechet_distance(np.zeros(3), np.diag(a), np.array([2.0, 0, 0]), np.diag(b)), expected,
                 atol=1e-10, what="diagonal FID")


# (40, 8): the covariance path; (12, 16): fewer features than dimensions (as any split under 2048 pairs):
# rank-deficient covariances, the nuclear-norm path.
@pytest.mark.parametrize("n, d", [(40, 8), (12, 16)])
def test_fid_matches_scipy_sqrtm_reference(n, d):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, d))
    y = rng.normal(loc=0.3, scale=1.5, size=(n + 3, d)) @ rng.normal(size=(d, d)) * 0.5
    assert_close(fid(x, y), _reference_fid(x, y), atol=1e-6, rtol=1e-7, what="FID vs scipy")
    both = frechet_distance(*feature_statistics(x), *feature_statistics(y))
    assert_close(fid(x, y), both, atol=1e-6, rtol=1e-7, what="fid vs frechet_distance")
    mu, sigma = feature_statistics(x)
    assert_close(sigma, np.cov(x.T), atol=1e-12, what="unbiased covariance")
    assert_close(mu, x.mean(0), atol=1e-12, what="mean")


def test_kid_hand_computed_one_dimensional_case():
    # x = {0, 1}, y = {1, 2}, d = 1, k(a, b) = (ab + 1)^3:
    # xx = k(0, 1) = 1; yy = k(1, 2) = 27; xy = (1 + 1 + 8 + 27) / 4 = 9.25; MMD^2 = 1 + 27 - 2 * 9.25 = 9.5.
    result = kid([[0.0], [1.0]], [[1.0], [2.0]], subsets=3, subset_size=2)
    assert_close(result["mean"], 9.5, atol=1e-12, what="KID")
    assert result["std"] == 0.0 and result["subset_size"] == 2 and result["subsets"] == 3


def test_kid_matches_the_loop_reference_and_is_unbiased():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(15, 5)), rng.normal(loc=0.5, size=(15, 5))
    # Subsets of the whole set are permutations of it: the estimate is the full-set MMD^2.
    assert_close(kid(x, y, subsets=2, subset_size=100)["mean"], _reference_mmd2(x, y), atol=1e-10,
                 what="KID vs loops")
    # Subsets of a larger set: the mean over subsets equals the loop reference on the same draws.
    big = rng.normal(size=(30, 5))
    result = kid(big, y, subsets=4, subset_size=10, seed=3)
    draws = np.random.default_rng(3)
    expected = [_reference_mmd2(big[draws.choice(30, 10, replace=False)], y[draws.choice(15, 10, replace=False)])
                for _ in range(4)]
    assert_close(result["mean"], np.mean(expected), atol=1e-10, what="subset KID")
    assert_close(result["std"], np.std(expected), atol=1e-10, what="subset KID std")
    # Unbiased: two samples of one distribution score near 0 (either sign), a shifted one clearly above.
    p, q = rng.normal(size=(400, 4)), rng.normal(size=(400, 4))
    same = kid(p, q, subsets=10, subset_size=200)["mean"]
    shifted = kid(p, q + 1.0, subsets=10, subset_size=200)["mean"]
    assert abs(same) < 0.05 < shifted


def test_bad_feature_shapes_are_rejected():
    with pytest.raises(ValueError, match="N >= 2"):
        fid(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="feature sizes differ"):
        kid(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="feature sizes differ"):
        fid(np.zeros((4, 3)), np.zeros((4, 2)))


def test_kid_without_precomputed_kernels_gives_the_same_value(monkeypatch):
    from tfvton.metrics import fid_kid

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 4)), rng.normal(loc=0.2, size=(25, 4))
    precomputed = kid(x, y, subsets=5, subset_size=8, seed=1)
    monkeypatch.setattr(fid_kid, "_PRECOMPUTE_KERNELS_UP_TO", 0)  # as for sets over 4096 features
    direct = kid(x, y, subsets=5, subset_size=8, seed=1)
    assert_close([direct["mean"], direct["std"]], [precomputed["mean"], precomputed["std"]], atol=1e-12,
                 what="KID, two paths")
