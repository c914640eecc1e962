"""Latency of a callable: warm-up, then wall and CPU time of each run, reported as min and median.

On a shared machine the wall-clock minimum is the least disturbed run and
the median shows the typical one; CPU time (`time.process_time`, all threads
of the process) measures the work done whatever the scheduler does, so its
ratios between variants are stable even when other processes steal the
cores. Results are forced to host memory inside each timed run, so an
asynchronous runtime cannot hide work.
"""
from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any, Callable, List

import numpy as np


def materialize(value: Any) -> Any:
    """Forces tensors (nested in dicts / lists / tuples) to numpy, which waits for them."""
    if isinstance(value, dict):
        return {key: materialize(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(materialize(v) for v in value)
    if hasattr(value, "numpy"):
        return value.numpy()
    return np.asarray(value) if value is not None else None


@dataclasses.dataclass
class Timing:
    """Per-run wall and CPU seconds, with their summaries."""

    wall_s: List[float]
    cpu_s: List[float]

    @property
    def runs(self) -> int:
        return len(self.wall_s)

    @property
    def min_s(self) -> float:
        return min(self.wall_s)

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def cpu_min_s(self) -> float:
        return min(self.cpu_s)

    @property
    def cpu_median_s(self) -> float:
        return statistics.median(self.cpu_s)

    def as_dict(self) -> dict:
        return {"median_s": self.median_s, "min_s": self.min_s, "cpu_median_s": self.cpu_median_s,
                "cpu_min_s": self.cpu_min_s, "runs": self.runs}


def time_callable(fn: Callable[[], Any], runs: int = 10, warmup: int = 2,
                  clock: Callable[[], float] = time.perf_counter,
                  cpu_clock: Callable[[], float] = time.process_time) -> Timing:
    """Calls `fn()` `warmup` times untimed, then `runs` times timed.

    Args:
        fn: the work; its result is materialised (see `materialize`) inside the timing.
        runs: timed calls (>= 1; use >= 10 for reported figures).
        warmup: untimed calls first (tracing, oneDNN primitive caches, allocator).
        clock, cpu_clock: injectable for tests.

    Returns:
        a `Timing`.
    """
    if runs < 1:
        raise ValueError(f"time_callable: runs must be >= 1. Received: runs={runs}")
    for _ in range(max(warmup, 0)):
        materialize(fn())
    wall, cpu = [], []
    for _ in range(runs):
        start, cpu_start = clock(), cpu_clock()
        materialize(fn())
        wall.append(clock() - start)
        cpu.append(cpu_clock() - cpu_start)
    return Timing(wall, cpu)
