"""The machine a benchmark runs on: thread pools, CPU flags, each figure's share of the machine."""
from __future__ import annotations

import os
import platform
from typing import Dict

import tensorflow as tf

from tfvton.bench import probe


def configure_threads(threads: int, inter_op: int = 1) -> None:
    """TF thread pools; call before TensorFlow runs its first op."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:  # already initialised (e.g. inside a test session): keep what is set
        pass


def machine_info(threads: int) -> Dict[str, object]:
    """CPU model and the flags that decide the cheap-precision paths."""
    flags, model = set(), platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
                elif line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "threads": threads,
            "avx512f": "avx512f" in flags, "avx512_bf16": "avx512_bf16" in flags,
            "avx512_vnni": "avx512_vnni" in flags, "amx_bf16": "amx_bf16" in flags,
            "onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 Linux)")}


def add_machine_fractions(measured: Dict[str, float], pooled: probe.MatmulProbe) -> None:
    """Adds the measurement's share of the machine, from wall and from CPU time.

    - `fraction_of_machine`: FLOPs / (min wall time x the probe's best rate),
      both measured in this run under the same load.
    - `cpu_fraction_of_machine`: FLOPs / (min CPU time x the probe's FLOPs per
      CPU second): the same question asked of the work done, which other
      processes on shared cores barely disturb.
    """
    measured["fraction_of_machine"] = measured["gflops"] / (measured["min_s"] * pooled.gflops)
    measured["cpu_fraction_of_machine"] = measured["gflops"] / (measured["cpu_min_s"] * pooled.cpu_gflops)
