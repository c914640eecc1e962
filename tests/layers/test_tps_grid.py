import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips
from tfvton.layers.tps_grid import TpsGrid


def _reference_tps_grid(theta, grid_size, height, width):
    """Independent float64 thin-plate spline from the paper / official formulas.

    Control point n sits at (x, y) = (a[n // G], a[n % G]) with a = linspace(-1, 1, G);
    theta[:N] offsets their x, theta[N:] their y. The spline through the targets
    solves [[K, P], [P^T, 0]] [w; c] = [Q; 0] with K_ij = U(|P_i - P_j|^2),
    U(r2) = r2 log r2 (0 at r2 = 0), P = [1, x, y], and is evaluated at every
    pixel of a linspace(-1, 1) grid.
    """
    axis = np.linspace(-1, 1, grid_size)
    n = grid_size * grid_size
    px = np.array([axis[i // grid_size] for i in range(n)])
    py = np.array([axis[i % grid_size] for i in range(n)])

    def u(r2):
        return np.where(r2 > 0, r2 * np.log(np.where(r2 > 0, r2, 1.0)), 0.0)

    k = u((px[:, None] - px[None]) ** 2 + (py[:, None] - py[None]) ** 2)
    p = np.stack([np.ones(n), px, py], axis=1)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n], system[:n, n:], system[n:, :n] = k, p, p.T
    xs = np.linspace(-1, 1, width)
    ys = np.linspace(-1, 1, height)
    out = np.zeros((theta.shape[0], height, width, 2))
    for b in range(theta.shape[0]):
        for axis_index, base in enumerate((px, py)):
            rhs = np.concatenate([base + theta[b, axis_index * n:(axis_index + 1) * n], np.zeros(3)])
            coef = np.linalg.solve(system, rhs)
            w, c = coef[:n], coef[n:]
            for i, y in enumerate(ys):
                r2 = (xs[:, None] - px[None]) ** 2 + (y - py[None]) ** 2
                out[b, i, :, axis_index] = c[0] + c[1] * xs + c[2] * y + u(r2) @ w
    return out


@pytest.mark.parametrize("grid_size,height,width", [(5, 32, 24), (3, 16, 20), (5, 64, 48)])
def test_matches_independent_numpy(grid_size, height, width):
    theta = np.random.default_rng(grid_size + height).uniform(-0.8, 0.8, (2, 2 * grid_size**2)).astype(np.float32)
    grid = TpsGrid(grid_size, height, width)(theta)
    assert tuple(grid.shape) == (2, height, width, 2)
    assert_close(grid, _reference_tps_grid(theta.astype(np.float64), grid_size, height, width), atol=1e-5)


def test_control_points_move_by_theta_official_order():
    # 9 x 5 pixels contain every control point of a 5 x 5 grid (x step 0.5, y step 0.25),
    # and a spline interpolates its targets, so grid[at P_n] = P_n + (theta[n], theta[N + n]).
    g, height, width = 5, 9, 5
    n = g * g
    theta = np.random.default_rng(3).uniform(-0.3, 0.3, (1, 2 * n)).astype(np.float32)
    grid = np.asarray(TpsGrid(g, height, width)(theta))[0]
    axis = np.linspace(-1, 1, g)
    for k in range(n):
        x, y = axis[k // g], axis[k % g]  # official order: x outer, y inner
        row, col = int(round((y + 1) / 2 * (height - 1))), int(round((x + 1) / 2 * (width - 1)))
        assert_close(grid[row, col], [x + theta[0, k], y + theta[0, n + k]], atol=1e-5, what=f"control point {k}")


def test_zero_theta_is_identity_grid():
    grid = np.asarray(TpsGrid(5, 16, 12)(np.zeros((3, 50), np.float32)))
    xs, ys = np.meshgrid(np.linspace(-1, 1, 12), np.linspace(-1, 1, 16))
    assert_close(grid, np.broadcast_to(np.stack([xs, ys], -1), (3, 16, 12, 2)), atol=1e-6)


def test_roundtrip(tmp_path):
    theta = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 18)).astype(np.float32)
    run_layer_roundtrips(TpsGrid(3, 16, 8), theta, tmp_path)
