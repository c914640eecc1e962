"""Fréchet Inception Distance and Kernel Inception Distance from pool features (docs/metrics.md).

Both compare the 2048-d InceptionV3 pool features (the `avg_pool` layer of the
same network and weights as the Inception Score, `InceptionScorer`) of the
generated images with those of the real target photos of the split.

- FID (Heusel et al. 2017): the Fréchet distance between Gaussians fitted to
  the two feature sets, ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)),
  with unbiased (N - 1) covariances.
- KID (Bińkowski et al. 2018): the unbiased estimate of the squared MMD with
  the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over
  `subsets` random subsets of `subset_size` features drawn without
  replacement from each set (fewer when the sets are smaller); reported as
  mean and std over the subsets. Unbiased, so it suits small test splits
  better than FID, whose bias grows as N shrinks.

The numbers use Keras' ImageNet InceptionV3 weights, not the 2015 TF graph of
the reference FID code, so they rank models on this code base but are not
comparable with FIDs printed in papers.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

DEFAULT_KID_SUBSETS = 100
DEFAULT_KID_SUBSET_SIZE = 1000

__all__ = ["feature_statistics", "frechet_distance", "fid", "kid", "DEFAULT_KID_SUBSETS",
           "DEFAULT_KID_SUBSET_SIZE"]


def _features(features, what: str) -> np.ndarray:
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"{what}: expected features of shape (N, d) with N >= 2. Received: shape={f.shape}")
    return f


def feature_statistics(features) -> Tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and unbiased covariance (d, d) of features (N, d)."""
    f = _features(features, "feature_statistics")
    return f.mean(axis=0), np.cov(f, rowvar=False, ddof=1)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    # Symmetric square root by eigen-decomposition; round-off can make tiny
    # eigenvalues of a rank-deficient covariance (N < d) negative: clip them.
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)).

    Tr((S1 S2)^(1/2)) is computed as the sum of the square roots of the
    eigenvalues of S1^(1/2) S2 S1^(1/2), which has the same eigenvalues as
    S1 S2 but is symmetric positive semi-definite, so no complex round-off
    appears (the reference code takes `scipy.linalg.sqrtm(S1 @ S2)`'s real part).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"frechet_distance: means (d,) and covariances (d, d) must agree. Received: "
                         f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}")
    root1 = _sqrt_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None))))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def fid(real_features, fake_features) -> float:
    """FID between two feature sets (N, d) and (M, d).

    With fewer features than dimensions (any test split under 2048 pairs) the
    d x d covariances are never formed: with A, B the centred feature
    matrices, S_r = A'A / (N-1) and S_g = B'B / (M-1), so Tr(S_r) = ||A||_F^2 / (N-1)
    and Tr((S_r S_g)^(1/2)) = ||A B'||_* / sqrt((N-1)(M-1)) (the nuclear norm:
    the eigenvalues of S_r S_g are the squared singular values of A B' / sqrt((N-1)(M-1))).
    Same value as `frechet_distance`, in O(N M d) instead of O(d^3).
    """
    real = _features(real_features, "fid")
    fake = _features(fake_features, "fid")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"fid: feature sizes differ. Received: {real.shape} and {fake.shape}")
    if max(len(real), len(fake)) > real.shape[1]:
        return frechet_distance(*feature_statistics(real), *feature_statistics(fake))
    a, b = real - real.mean(axis=0), fake - fake.mean(axis=0)
    n, m = len(real) - 1, len(fake) - 1
    trace_sqrt = float(np.sum(np.linalg.svd(a @ b.T, compute_uv=False))) / np.sqrt(n * m)
    diff = real.mean(axis=0) - fake.mean(axis=0)
    return float(diff @ diff + np.sum(a * a) / n + np.sum(b * b) / m - 2.0 * trace_sqrt)


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


# Up to this many features per set, the kernel matrices are computed once and
# each subset indexes into them (4096^2 float64 = 128 MB at most per matrix).
_PRECOMPUTE_KERNELS_UP_TO = 4096


def _mmd2_unbiased(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    m = len(kxx)
    off_diagonal = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(off_diagonal - 2.0 * kxy.sum() / (m * m))


def kid(real_features, fake_features, subsets: int = DEFAULT_KID_SUBSETS,
        subset_size: int = DEFAULT_KID_SUBSET_SIZE, seed: int = 0) -> Dict[str, float]:
    """KID: the unbiased polynomial-kernel MMD^2, mean and std over random subsets.

    Args:
        real_features, fake_features: (N, d) and (M, d).
        subsets: number of subset pairs.
        subset_size: features per subset, capped at min(N, M).
        seed: the subset sampler's seed (the score is deterministic).
    Returns:
        dict `mean`, `std` (population std over the subsets), `subsets`, `subset_size`.
    """
    real = _features(real_features, "kid")
    fake = _features(fake_features, "kid")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"kid: feature sizes differ. Received: {real.shape} and {fake.shape}")
    m = min(int(subset_size), len(real), len(fake))
    if m < 2:
        raise ValueError(f"kid: subsets need at least 2 features. Received: subset_size={subset_size}")
    rng = np.random.default_rng(seed)
    full = None
    if max(len(real), len(fake)) <= _PRECOMPUTE_KERNELS_UP_TO:
        full = (_polynomial_kernel(real, real), _polynomial_kernel(fake, fake), _polynomial_kernel(real, fake))
    values = []
    for _ in range(max(1, int(subsets))):
        i = rng.choice(len(real), m, replace=False)
        j = rng.choice(len(fake), m, replace=False)
        if full is not None:
            kxx, kyy, kxy = full[0][np.ix_(i, i)], full[1][np.ix_(j, j)], full[2][np.ix_(i, j)]
        else:
            x, y = real[i], fake[j]
            kxx, kyy, kxy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
        values.append(_mmd2_unbiased(kxx, kyy, kxy))
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "subsets": len(values), "subset_size": m}
