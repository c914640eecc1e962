import numpy as np
import pytest

from tests.testing import run_layer_roundtrips
from tfvton.networks.discriminators import PatchDiscriminator


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_paper_size_shape_range_and_official_count():
    net = PatchDiscriminator(ndf=64, n_layers=3)
    y = np.asarray(net(_x((1, 256, 192, 56))))
    # 256x192 -> 128x96 -> 64x48 -> 32x24 -> 31x23 (k4 s1 p1) -> 30x22.
    assert y.shape == (1, 30, 22, 1)
    assert (y > 0).all() and (y < 1).all()
    assert net.count_params() == 2_819_009  # Define_D(56, 64, 'basic')


def test_tiny_and_n_layers():
    net = PatchDiscriminator(ndf=4, n_layers=2)
    assert net(_x((2, 32, 32, 56))).shape == (2, 6, 6, 1)  # 32 -> 16 -> 8 -> 7 -> 6


def test_rejects_bad_n_layers():
    with pytest.raises(ValueError, match="PatchDiscriminator: n_layers"):
        PatchDiscriminator(n_layers=0)


def test_roundtrips(tmp_path):
    run_layer_roundtrips(PatchDiscriminator(ndf=4), _x((1, 32, 32, 56)), tmp_path)
