"""Shared fixtures: deterministic seeds, the real MPV samples (when present), tiny configs."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
MPV_SAMPLES = Path(os.environ.get("TFVTON_MPV_SAMPLES", REPO_ROOT.parent / "shared" / "data" / "mpv_samples"))


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    try:
        import keras
        keras.utils.set_random_seed(0)
    except ImportError:  # config-only tests run without TF
        pass
    yield


@pytest.fixture(scope="session")
def mpv_root() -> Path:
    """The five real MPV samples; tests using them skip cleanly when absent."""
    if not (MPV_SAMPLES / "demo.txt").exists():
        pytest.skip(f"real MPV samples not found at {MPV_SAMPLES}")
    return MPV_SAMPLES


@pytest.fixture(scope="session")
def smoke_config():
    from tfvton.config import load_config
    return load_config("smoke")
