"""Serving throughput: try-ons per second of the exported SavedModel by batch size and concurrent batches.

`tfvton bench --serving` exports the pipeline as `tfvton export` does, loads
it back and calls its `serving_default` signature on raw client arrays (the
real-format examples, cycled to the batch size) the way TF-Serving's batching
runs it: `concurrency` Python threads each send one batch after another, as
`num_batch_threads` batch threads would, sharing one intra-op thread pool.
For each (batch size, concurrency) it reports try-ons per second over the
whole timed window and the median latency of one call. These figures choose
`serving/batching_parameters.txt` (serving/README.md).
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfvton.bench.inputs import stack_raw
from tfvton.export import saved_model


def _measure(serve, request, concurrency: int, calls_per_thread: int, warmup: int) -> Dict[str, float]:
    for _ in range(warmup):
        serve(**request)["tryon_image"].numpy()
    latencies = [[] for _ in range(concurrency)]
    start_line = threading.Barrier(concurrency + 1)

    def worker(index):
        start_line.wait()
        for _ in range(calls_per_thread):
            began = time.perf_counter()
            serve(**request)["tryon_image"].numpy()
            latencies[index].append(time.perf_counter() - began)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began, cpu_began = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    batch = int(request["person_image"].shape[0])
    tryons = batch * concurrency * calls_per_thread
    flat = [t for per_thread in latencies for t in per_thread]
    return {"batch": batch, "concurrency": concurrency, "calls": len(flat), "tryons": tryons, "wall_s": wall,
            "cpu_s": cpu, "tryons_per_s": tryons / wall, "tryons_per_cpu_s": tryons / cpu,
            "latency_median_s": float(np.median(flat)), "latency_max_s": float(np.max(flat))}


def run_serving_benchmark(config, pipeline, raw: Dict[str, np.ndarray], workdir: str,
                          batch_sizes: Sequence[int] = (1, 4, 8), concurrency: Sequence[int] = (1, 2),
                          calls: int = 3, warmup: int = 1, freeze: bool = True,
                          log: Optional[Callable[[str], None]] = None) -> Dict[str, object]:
    """Exports `pipeline`, reloads it and measures its throughput per batch size and concurrency.

    Args:
        config: the pipeline's `Config` (model size).
        pipeline: a built `TryOnPipeline`.
        raw: raw client arrays (batched) to cycle through.
        workdir: where the SavedModel is written.
        batch_sizes: request batch sizes (padded batch shapes the server would run).
        concurrency: numbers of batches in flight at once (`num_batch_threads`).
        calls: timed calls per thread.
        warmup: untimed calls per batch size first.
        freeze: the export's `freeze` (the default export is frozen).
        log: progress messages.

    Returns:
        `{"rows": [...], "export": {...}}`, one row per (batch, concurrency).
    """
    log = log or (lambda message: None)
    started = time.perf_counter()
    version_dir = saved_model.export_saved_model(pipeline, config, os.path.join(workdir, "serving"), "tfvton", 1,
                                                 warmup=False, overwrite=True, freeze=freeze)
    export_s = time.perf_counter() - started
    loaded = tf.saved_model.load(version_dir)
    serve = loaded.signatures["serving_default"]
    rows = []
    for batch in batch_sizes:
        request = {key: tf.constant(value) for key, value in stack_raw(raw, batch).items()}
        for threads in concurrency:
            row = _measure(serve, request, threads, calls, warmup if threads == concurrency[0] else 0)
            rows.append(row)
            log(f"serving batch {batch} x {threads} in flight: {row['tryons_per_s']:.3f} try-ons/s, "
                f"latency median {row['latency_median_s']:.2f} s")
    size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(version_dir) for f in files)
    return {"rows": rows, "export": {"frozen": freeze, "export_s": export_s, "size_mb": size / 2 ** 20,
                                     "preset": config.name, "height": config.data.height,
                                     "width": config.data.width}}


def format_table(report: Dict[str, object]) -> str:
    """The throughput table `tfvton bench --serving` prints."""
    export = report["export"]
    single = next((r for r in report["rows"] if r["batch"] == 1 and r["concurrency"] == 1), None)
    lines = [f"serving: SavedModel ({'frozen' if export['frozen'] else 'variables'}, {export['size_mb']:.0f} MB, "
             f"{export['preset']} {export['height']}x{export['width']}), serving_default on raw arrays",
             f"{'batch':>5s} {'in flight':>9s} {'try-ons/s':>10s} {'vs batch 1':>10s} {'latency median s':>17s} "
             f"{'latency max s':>14s} {'try-ons/CPU s':>14s}"]
    for row in report["rows"]:
        gain = f"{row['tryons_per_s'] / single['tryons_per_s']:.2f}x" if single else "-"
        lines.append(f"{row['batch']:5d} {row['concurrency']:9d} {row['tryons_per_s']:10.3f} {gain:>10s} "
                     f"{row['latency_median_s']:17.3f} {row['latency_max_s']:14.3f} {row['tryons_per_cpu_s']:14.3f}")
    return "\n".join(lines)
