"""The timing helper, the matmul probe's arithmetic and the peak-memory helper."""
import itertools

import numpy as np
import pytest

from tfvton.bench import memory, probe
from tfvton.bench.timing import Timing, materialize, time_callable


def _ticking(step):
    counter = itertools.count()
    return lambda: next(counter) * step


def test_warmup_runs_are_not_timed_and_every_run_is_recorded():
    calls = []
    timing = time_callable(lambda: calls.append(1), runs=4, warmup=3, clock=_ticking(0.5), cpu_clock=_ticking(0.25))
    assert len(calls) == 7
    # each timed run reads the clock twice: consecutive ticks -> one step per run
    assert timing.wall_s == [0.5] * 4 and timing.cpu_s == [0.25] * 4
    assert (timing.min_s, timing.median_s, timing.cpu_min_s, timing.runs) == (0.5, 0.5, 0.25, 4)


def test_median_and_min_of_uneven_runs():
    t = Timing(wall_s=[3.0, 1.0, 2.0, 10.0], cpu_s=[1.0, 1.0, 1.0, 1.0])
    assert t.min_s == 1.0 and t.median_s == 2.5
    assert t.as_dict() == {"median_s": 2.5, "min_s": 1.0, "cpu_median_s": 1.0, "cpu_min_s": 1.0, "runs": 4}


def test_results_are_materialised_inside_the_timing():
    import tensorflow as tf

    seen = []

    class Lazy:
        def numpy(self):
            seen.append("forced")
            return np.zeros(2)

    time_callable(lambda: {"a": [Lazy(), (Lazy(),)]}, runs=2, warmup=1)
    assert seen == ["forced"] * 6
    out = materialize({"x": tf.ones([2]), "y": (tf.zeros([1]), None)})
    assert isinstance(out["x"], np.ndarray) and isinstance(out["y"][0], np.ndarray) and out["y"][1] is None


def test_rejects_zero_runs():
    with pytest.raises(ValueError, match="time_callable: runs"):
        time_callable(lambda: None, runs=0)


def test_probe_rate_arithmetic_and_merge():
    a = probe.MatmulProbe(100, Timing([2e-3, 1e-3], [4e-3, 2e-3]))
    assert a.flops == 2e6
    assert a.gflops == pytest.approx(2.0)  # 2e6 FLOPs in the fastest 1 ms
    assert a.gflops_median == pytest.approx(2e6 / 1.5e-3 / 1e9)
    assert a.cpu_gflops == pytest.approx(1.0)
    b = probe.MatmulProbe(100, Timing([0.5e-3], [1e-3]))
    assert probe.merge([a, b]).gflops == pytest.approx(4.0)


def test_probe_runs_a_real_matmul():
    measured = probe.matmul_probe(n=64, runs=2, warmup=1)
    assert measured.timing.runs == 2 and measured.gflops > 0


def test_peak_memory_sees_an_allocation_outside_python_objects():
    size = 64 * 2 ** 20

    def allocate():
        block = np.ones(size // 8)  # 64 MiB touched
        return float(block[-1])

    assert memory.peak_delta_bytes(allocate) >= 0.8 * size
    assert memory.rss_bytes() > 0 and memory.peak_rss_bytes() >= memory.rss_bytes() * 0.5
