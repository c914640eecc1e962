import numpy as np
import pytest

from tests.testing import run_layer_roundtrips
from tfvton.networks.discriminators import ResnetDiscriminator


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_paper_size_official_head():
    net = ResnetDiscriminator(ndf=64, n_blocks=3)
    y = np.asarray(net(_x((1, 256, 192, 6))))
    assert y.shape == (1, 64, 48, 256)  # the sigmoid of the 256-channel feature map
    assert (y > 0).all() and (y < 1).all()
    assert net.count_params() == 3_928_384  # Define_D(6, 64, 'resnet_blocks', n_blocks=3)
    assert all(net.get_layer(f"block_{i}").dropout == 0.0 for i in range(3))


def test_conv1_head():
    net = ResnetDiscriminator(ndf=4, n_blocks=1, head="conv1")
    y = np.asarray(net(_x((2, 32, 24, 6))))
    assert y.shape == (2, 8, 6, 1) and (y > 0).all() and (y < 1).all()
    official = ResnetDiscriminator(ndf=4, n_blocks=1)
    official(_x((1, 8, 8, 6)))
    assert net.count_params() == official.count_params() + 9 * 16 + 1


def test_rejects_unknown_head():
    with pytest.raises(ValueError, match="ResnetDiscriminator: head"):
        ResnetDiscriminator(head="linear")


@pytest.mark.parametrize("head", ["official", "conv1"])
def test_roundtrips(tmp_path, head):
    run_layer_roundtrips(ResnetDiscriminator(ndf=4, n_blocks=2, head=head), _x((1, 16, 16, 6)), tmp_path)
