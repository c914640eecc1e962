import numpy as np

from tests.testing import assert_close, run_layer_roundtrips, torch_or_skip
from tfvton.layers.correlation import Correlation


def _features(seed, shape=(2, 4, 3, 5)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape).astype(np.float32), rng.normal(size=shape).astype(np.float32)


def test_index_order_hand_derived():
    # h=4, w=3: output channel k = xA * h + yA; spatial position = B's.
    a, b = _features(0)
    out = np.asarray(Correlation()([a, b]))
    assert out.shape == (2, 4, 3, 12)
    for y_a, x_a, y_b, x_b in [(0, 0, 0, 0), (1, 0, 2, 1), (3, 2, 0, 2), (2, 1, 3, 0)]:
        expected = np.dot(a[1, y_a, x_a], b[1, y_b, x_b])
        assert np.isclose(out[1, y_b, x_b, x_a * 4 + y_a], expected, atol=1e-5)


def test_matches_torch_official_op_sequence():
    torch = torch_or_skip()
    a, b = _features(1, (2, 6, 5, 7))
    ta = torch.from_numpy(a.transpose(0, 3, 1, 2))
    tb = torch.from_numpy(b.transpose(0, 3, 1, 2))
    n, c, h, w = ta.shape
    # The official sequence: A's H/W swapped before flattening, bmm(B^T, A), then the view/transposes.
    flat_a = ta.transpose(2, 3).contiguous().view(n, c, h * w)
    flat_b = tb.view(n, c, h * w).transpose(1, 2)
    expected = torch.bmm(flat_b, flat_a).view(n, h, w, h * w).transpose(2, 3).transpose(1, 2)
    assert_close(Correlation()([a, b]), expected.numpy().transpose(0, 2, 3, 1), atol=1e-5)


def test_roundtrip(tmp_path):
    a, b = _features(2)
    layer = Correlation()
    expected = np.asarray(layer([a, b]))
    reloaded = run_layer_roundtrips(layer, [a, b], tmp_path, compare_outputs=False)
    assert_close(reloaded.layers[0]([a, b]), expected, atol=1e-6)
