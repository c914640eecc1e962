"""Reference timings of the official PyTorch release, as measured once on one machine.

These figures are data, not estimates: they were measured on the machine
named in `OFFICIAL_RELEASE`, on the date it gives, and are printed next to
this machine's figures only as "reference measured on …". They are not
rescaled to the machine `tfvton bench` runs on (no per-machine model of the
official release's speed exists). Re-measure them with the official code
(`demo.py` forward, and one appearance training step) when comparing on
other hardware. docs/benchmarks.md has the tables they were compared with.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Mapping, Tuple


@dataclasses.dataclass(frozen=True)
class ReferenceTimings:
    """Timings of one implementation on one machine.

    Attributes:
        what: the implementation and how it was run.
        machine: the CPU, cores and load it was measured on.
        measured: when (ISO date or month).
        inference_seconds: median seconds per try-on, batch 1, per network
            (`gmm`, `parsing`, `appearance`, `face`) and `end_to_end`.
        training_step_seconds: (low, high) seconds of one appearance-stage
            training step (generator and discriminator), batch 1.
        matmul_gflops: TensorFlow's 2048^2 fp32 matmul rate on that machine,
            unloaded (the `tfvton.bench.probe` measure), to tell how fast the
            machine was.
        geometry: (height, width, ngf, gmm_ngf, n_blocks, block) of the model timed.
    """

    what: str
    machine: str
    measured: str
    inference_seconds: Mapping[str, float]
    training_step_seconds: Tuple[float, float]
    matmul_gflops: float
    geometry: Tuple[int, int, int, int, int, str]

    def describe(self) -> str:
        """One line: what, where, when."""
        return f"{self.what}; reference measured on {self.machine}, {self.measured}"

    def applies_to(self, config) -> bool:
        """True when `config` has the geometry and widths the reference was timed at."""
        m, d = config.model, config.data
        return (d.height, d.width, m.ngf, m.gmm_ngf, m.n_blocks, m.block) == self.geometry

    def as_dict(self) -> Dict[str, object]:
        return dataclasses.asdict(self)


OFFICIAL_RELEASE = ReferenceTimings(
    what="official PyTorch release (PyTorch 2.13 CPU, 2 threads, batch 1, medians)",
    machine="2 vCPU AMD EPYC (avx512f, avx512_bf16, avx512_vnni; no AMX), unloaded",
    measured="2026-11",
    inference_seconds={"gmm": 0.074, "parsing": 0.095, "appearance": 1.20, "face": 1.19, "end_to_end": 2.60},
    training_step_seconds=(8.2, 8.8),
    matmul_gflops=213.0,
    geometry=(256, 192, 64, 64, 6, "tree"),
)
