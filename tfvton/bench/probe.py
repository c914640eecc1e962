"""The machine's fp32 limit, measured in the same process: a 2048 x 2048 matmul's GFLOP/s.

Every latency in a benchmark is also reported as a fraction of this rate
(FLOPs / (time x rate)), which stays meaningful when the cores are shared:
the probe runs under the same thread settings and, interleaved with the
variants, under the same load.
"""
from __future__ import annotations

import dataclasses

from tfvton.bench.timing import Timing, time_callable


@dataclasses.dataclass
class MatmulProbe:
    """A probe's timing and size (n x n by n x n, 2 n^3 FLOPs per run)."""

    n: int
    timing: Timing

    @property
    def flops(self) -> float:
        return 2.0 * self.n ** 3

    @property
    def gflops(self) -> float:
        """Rate of the fastest run (the least disturbed), in GFLOP/s."""
        return self.flops / self.timing.min_s / 1e9

    @property
    def gflops_median(self) -> float:
        return self.flops / self.timing.median_s / 1e9

    @property
    def cpu_gflops(self) -> float:
        """FLOPs per CPU second of the process (all threads): the per-core rate times ~1."""
        return self.flops / self.timing.cpu_min_s / 1e9

    def as_dict(self) -> dict:
        return {"matmul_gflops": self.gflops, "matmul_gflops_median": self.gflops_median,
                "matmul_cpu_gflops": self.cpu_gflops, "matmul_n": self.n}


def matmul_probe(n: int = 2048, runs: int = 10, warmup: int = 2, dtype: str = "float32") -> MatmulProbe:
    """Times `a @ b` for random n x n matrices in a `tf.function` (oneDNN on x86)."""
    import tensorflow as tf

    a = tf.random.stateless_normal([n, n], seed=[1, 2], dtype=tf.float32)
    b = tf.random.stateless_normal([n, n], seed=[3, 4], dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))
    return MatmulProbe(n, time_callable(lambda: matmul(a, b), runs=runs, warmup=warmup))


def merge(probes) -> MatmulProbe:
    """One probe from several taken during a run (their runs pooled)."""
    probes = list(probes)
    wall = [t for p in probes for t in p.timing.wall_s]
    cpu = [t for p in probes for t in p.timing.cpu_s]
    return MatmulProbe(probes[0].n, Timing(wall, cpu))
