"""L1 and PSNR against hand-derived values."""
import numpy as np

from tests.testing import assert_close


def test_l1_and_psnr_hand_values():
    from tfvton.metrics import l1, psnr
    x = np.zeros((2, 4, 4, 3), np.uint8)
    y = x.copy()
    y[0] = 10  # every pixel off by 10
    assert_close(l1(x, y, 255).numpy(), [10 / 255, 0.0], atol=1e-12, what="L1")
    # MSE 100 -> 10 log10(255^2 / 100) = 28.1308...
    assert_close(psnr(x, y, 255).numpy(), [10 * np.log10(255 ** 2 / 100), 100.0], atol=1e-9, what="PSNR")
    # [-1, 1] images, L = 2: same numbers.
    xf, yf = x / 127.5 - 1, y / 127.5 - 1
    assert_close(l1(xf, yf, 2.0).numpy(), [10 / 255, 0.0], atol=1e-9, what="L1 [-1, 1]")
    assert_close(float(psnr(xf[0], yf[0], 2.0)), 10 * np.log10(255 ** 2 / 100), atol=1e-6, what="PSNR [-1, 1]")
