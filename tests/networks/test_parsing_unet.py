import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips
from tfvton.networks.parsing_unet import ParsingUNet, derive_unet_downsamplings


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("height,width,expected", [
    (256, 192, 6),  # the official unet_256: 256x192 -> 4x3
    (512, 384, 6),  # capped at the official depth
    (64, 64, 6),
    (96, 64, 5),  # 96 = 32 * 3
    (32, 32, 5),
    (12, 8, 2),
])
def test_derive_downsamplings(height, width, expected):
    assert derive_unet_downsamplings(height, width) == expected


def test_derive_downsamplings_rejects_odd_sizes():
    with pytest.raises(ValueError, match="Received: data.height=6"):
        derive_unet_downsamplings(6, 8)


def test_paper_size_shapes_and_official_parameter_count():
    net = ParsingUNet(output_channels=20, ngf=64, downsamplings=6)
    y = np.asarray(net(_x((1, 256, 192, 36)), training=False))
    assert y.shape == (1, 256, 192, 20)
    assert np.abs(y).max() < 1.0  # tanh output
    # Define_G(36, 20, 64, 'unet_256') has 29,310,356 parameters.
    assert net.count_params() == 29_310_356
    assert tuple(net.down5_conv.kernel.shape) == (4, 4, 512, 512)
    assert tuple(net.up0_deconv.kernel.shape) == (4, 4, 20, 128)  # (kh, kw, out, in): skip + up


def test_deeper_unet_matches_official_unet_128_count():
    # Define_G(36, 20, 4, 'unet_128') (7 downsamplings) has 168,492 parameters.
    net = ParsingUNet(output_channels=20, ngf=4, downsamplings=7)
    assert net(_x((1, 128, 128, 36))).shape == (1, 128, 128, 20)
    assert net.count_params() == 168_492


def test_tiny_derived_depth():
    net = ParsingUNet(output_channels=20, ngf=4, downsamplings=derive_unet_downsamplings(32, 64))
    assert net(_x((2, 32, 64, 36))).shape == (2, 32, 64, 20)
    assert net.downsamplings == 5


def test_dropout_levels_and_behaviour():
    assert [lvl for lvl in range(6) if ParsingUNet(ngf=2, downsamplings=6).has_dropout(lvl)] == [4]
    assert [lvl for lvl in range(8) if ParsingUNet(ngf=2, downsamplings=8).has_dropout(lvl)] == [4, 5, 6]
    assert not ParsingUNet(ngf=2, downsamplings=6, dropout=0.0).has_dropout(4)
    net, x = ParsingUNet(ngf=4, downsamplings=6), _x((1, 64, 64, 36))
    assert_close(net(x, training=False), net(x, training=False), atol=0)
    assert np.abs(np.asarray(net(x, training=True)) - np.asarray(net(x, training=False))).max() > 1e-4


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="ParsingUNet: downsamplings"):
        ParsingUNet(downsamplings=1)
    with pytest.raises(ValueError, match="ParsingUNet: dropout"):
        ParsingUNet(dropout=1.5)


def test_roundtrips(tmp_path):
    net = ParsingUNet(output_channels=20, ngf=4, downsamplings=5, dropout=0.5)
    reloaded = run_layer_roundtrips(net, _x((1, 32, 32, 36)), tmp_path)
    assert reloaded.get_config()["downsamplings"] == 5
