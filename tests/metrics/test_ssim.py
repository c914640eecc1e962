"""SSIM against scikit-image (an independent implementation) and mask-SSIM's background rule."""
import numpy as np
import pytest

from tests.testing import assert_close

skimage_metrics = pytest.importorskip("skimage.metrics")


def _skimage_ssim(x, y, data_range):
    return skimage_metrics.structural_similarity(
        x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range,
        channel_axis=-1)


def _image_pair(rng, shape=(40, 32, 3)):
    x = rng.integers(0, 256, size=shape).astype(np.float64)
    # A structured image plus noise, so SSIM is far from both 0 and 1.
    x = 0.5 * x + 0.5 * np.linspace(0, 255, shape[1])[None, :, None]
    y = np.clip(x + rng.normal(0, 25, size=shape), 0, 255)
    return np.round(x).astype(np.uint8), np.round(y).astype(np.uint8)


def test_ssim_matches_skimage_uint8():
    from tfvton.metrics import ssim
    rng = np.random.default_rng(0)
    xs, ys = zip(*[_image_pair(rng) for _ in range(3)])
    got = ssim(np.stack(xs), np.stack(ys), data_range=255).numpy()
    expected = [_skimage_ssim(x.astype(np.float64), y.astype(np.float64), 255) for x, y in zip(xs, ys)]
    assert 0.2 < min(expected) < max(expected) < 0.95  # a meaningful regime, not a trivial one
    assert_close(got, expected, atol=1e-3, what="SSIM vs skimage (uint8, L=255)")
    # float64 end to end: the agreement is in fact near machine precision.
    assert_close(got, expected, atol=1e-9, what="SSIM vs skimage, tight")


def test_ssim_matches_skimage_minus_one_one_range_and_single_image():
    from tfvton.metrics import ssim
    rng = np.random.default_rng(1)
    x, y = _image_pair(rng, (64, 48, 3))
    xf, yf = x / 127.5 - 1.0, y / 127.5 - 1.0
    got = float(ssim(xf.astype(np.float32), yf.astype(np.float32), data_range=2.0))
    assert_close(got, _skimage_ssim(xf, yf, 2.0), atol=1e-3, what="SSIM vs skimage ([-1, 1], L=2)")
    # SSIM is invariant to scaling ([0, 1] with L=1 equals [0, 255] with L=255) but NOT to the
    # shift to [-1, 1] (the luminance term sees the means): one convention must be fixed.
    assert_close(float(ssim(x / 255.0, y / 255.0, data_range=1.0)), float(ssim(x, y, data_range=255)),
                 atol=1e-9, what="SSIM scale invariance")
    assert abs(got - float(ssim(x, y, data_range=255))) > 1e-3


def test_ssim_per_channel_and_identity():
    from tfvton.metrics import ssim
    rng = np.random.default_rng(2)
    x, y = _image_pair(rng)
    per_channel = ssim(x, y, data_range=255, per_channel=True).numpy()
    expected = [skimage_metrics.structural_similarity(
        x[..., c].astype(np.float64), y[..., c].astype(np.float64), gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=255) for c in range(3)]
    assert_close(per_channel, expected, atol=1e-6, what="per-channel SSIM")
    assert_close(float(ssim(x, x, data_range=255)), 1.0, atol=1e-12, what="SSIM(x, x)")


def test_ssim_requires_data_range_and_window_sized_images():
    from tfvton.metrics import ssim
    x = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="data_range"):
        ssim(x, x, data_range=None)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(np.zeros((8, 16, 3)), np.zeros((8, 16, 3)), data_range=255)


def test_mask_ssim_ignores_background_changes():
    from tfvton.metrics import mask_ssim, ssim
    rng = np.random.default_rng(3)
    x, y = _image_pair(rng, (48, 40, 3))
    foreground = np.zeros((48, 40), np.uint8)
    foreground[10:38, 8:30] = 1
    y_noisy_bg = y.copy()
    y_noisy_bg[foreground == 0] = rng.integers(0, 256, size=(int((foreground == 0).sum()), 3))
    base = float(mask_ssim(x, y, foreground, data_range=255))
    changed = float(mask_ssim(x, y_noisy_bg, foreground, data_range=255))
    assert base == pytest.approx(changed, abs=1e-12)
    # ... while plain SSIM sees the change, and mask-SSIM still sees a foreground change.
    assert float(ssim(x, y_noisy_bg, data_range=255)) < float(ssim(x, y, data_range=255)) - 0.01
    y_fg = y.copy()
    y_fg[foreground == 1] = 255 - y_fg[foreground == 1]
    assert float(mask_ssim(x, y_fg, foreground, data_range=255)) < base - 0.05
    # Exact definition: SSIM of both images with a black (0) background.
    xb, yb = x.astype(np.float64), y.astype(np.float64)
    xb[foreground == 0] = 0
    yb[foreground == 0] = 0
    assert_close(base, _skimage_ssim(xb, yb, 255), atol=1e-9, what="mask-SSIM definition")
    # [-1, 1] images use -1 (black) for the background.
    x2, y2 = x / 127.5 - 1.0, y / 127.5 - 1.0
    x2b, y2b = x2.copy(), y2.copy()
    x2b[foreground == 0] = -1
    y2b[foreground == 0] = -1
    assert_close(float(mask_ssim(x2, y2, foreground[..., None], data_range=2.0)),
                 _skimage_ssim(x2b, y2b, 2.0), atol=1e-9, what="mask-SSIM in [-1, 1]")
