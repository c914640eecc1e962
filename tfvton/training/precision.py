"""Which Keras dtype policy a stage trains under (config `train.mixed_precision`).

`train.mixed_precision`:
    `none` / `float32`  float32 everywhere (the default; the `paper` preset and
                        every parity test keep it).
    `mixed_float16`     float16 compute, float32 weights, loss-scaled optimizers.
    `mixed_bfloat16`    bfloat16 compute, float32 weights (no loss scaling: bf16
                        has float32's exponent range).
    `auto`              `mixed_bfloat16` where the hardware computes bf16 natively,
                        float32 elsewhere: on GPUs when every visible GPU has
                        compute capability >= 8.0 (Ampere and later); without
                        GPUs when the CPU has AVX-512 BF16 or AMX-BF16 (read
                        from /proc/cpuinfo) AND the generators are wide enough
                        for bf16 to pay (`model.ngf >= AUTO_MIN_CPU_NGF`: with
                        narrow layers the casts cost more than the bf16 convs
                        save). Emulated bf16 is slower than float32, so `auto`
                        never picks it. Stages whose bf16 step is not faster
                        keep float32 under `auto` (`AUTO_FLOAT32_STAGES`).
                        The measurements behind both rules: docs/training.md, "Speed".

Under a mixed policy the pieces where precision matters stay float32 whatever
the policy (each at its own home): the TPS grid and the grid sampling
(`tfvton.networks.gmm`, `tfvton.networks.forward.warp_cloth`), instance-norm
statistics (`tfvton.layers.instance_norm`), the parsing softmax
(`tfvton.networks.forward.generate_parsing`), and every loss
(`tfvton.losses`: inputs cast to float32 before any reduction).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Optional, Sequence, Tuple

import keras
import tensorflow as tf

from tfvton.config.validation import PRECISIONS

# Keras policy of each explicit `train.mixed_precision` value.
KERAS_POLICY = {"none": "float32", "float32": "float32", "mixed_float16": "mixed_float16",
                "mixed_bfloat16": "mixed_bfloat16"}
# CPU flags (Linux /proc/cpuinfo) of native bf16 arithmetic: AVX-512 BF16 (dot products) and AMX.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# GPUs with bf16 tensor cores: compute capability 8.0 (Ampere) and later.
BF16_MIN_COMPUTE_CAPABILITY = (8, 0)
# Stages that keep float32 under `auto`: the GMM's bf16 step is not faster (its TPS grid and warp are
# float32 anyway) and its loss strays most from float32's (docs/training.md, "Speed").
AUTO_FLOAT32_STAGES: frozenset = frozenset({"gmm"})
# On CPUs, `auto` picks bf16 only from this generator width (`model.ngf`) up: narrower layers train
# slower in bf16 than in float32 (docs/training.md, "Speed").
AUTO_MIN_CPU_NGF = 64


@dataclasses.dataclass(frozen=True)
class PrecisionChoice:
    """The policy a stage trains under and why.

    Attributes:
        policy: the Keras policy name (`float32`, `mixed_float16`, `mixed_bfloat16`).
        reason: one line for the log ("train.mixed_precision=auto: ...").
    """

    policy: str
    reason: str

    @property
    def loss_scaled(self) -> bool:
        """Whether the optimizers need a `LossScaleOptimizer` (float16 only)."""
        return self.policy == "mixed_float16"


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset:
    """The CPU feature flags of the first processor listed in `path` (empty when unreadable)."""
    try:
        with open(path) as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def gpu_compute_capabilities() -> Tuple[Tuple[int, int], ...]:
    """(major, minor) of every visible GPU; (0, 0) for one whose details TensorFlow does not report."""
    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability") or (0, 0)))
    return tuple(capabilities)


def native_bf16(flags: Optional[Iterable[str]] = None,
                gpus: Optional[Sequence[Tuple[int, int]]] = None) -> Tuple[bool, str]:
    """Whether the device that trains computes bf16 natively, and the evidence.

    Args:
        flags: CPU flags (default: this machine's, `cpu_flags()`).
        gpus: compute capabilities of the visible GPUs (default: `gpu_compute_capabilities()`).
    Returns:
        (supported, why): e.g. (True, "CPU has avx512_bf16").
    """
    gpus = gpu_compute_capabilities() if gpus is None else tuple(tuple(g) for g in gpus)
    if gpus:
        shown = ", ".join(f"{major}.{minor}" for major, minor in gpus)
        needed = ".".join(map(str, BF16_MIN_COMPUTE_CAPABILITY))
        if all(gpu >= BF16_MIN_COMPUTE_CAPABILITY for gpu in gpus):
            return True, f"GPU compute capability {shown} >= {needed}"
        return False, f"GPU compute capability {shown}, bf16 needs >= {needed}"
    flags = cpu_flags() if flags is None else frozenset(flags)
    found = [flag for flag in BF16_CPU_FLAGS if flag in flags]
    if found:
        return True, f"CPU has {' and '.join(found)}"
    return False, f"CPU lacks {' and '.join(BF16_CPU_FLAGS)} (bf16 would be emulated)"


def resolve(requested: str, stage: Optional[str] = None, ngf: Optional[int] = None,
            flags: Optional[Iterable[str]] = None, gpus: Optional[Sequence[Tuple[int, int]]] = None) -> PrecisionChoice:
    """The policy for `train.mixed_precision=requested` (and for `stage` under `auto`).

    Args:
        requested: a `train.mixed_precision` value.
        stage: the stage about to train (None: the run as a whole).
        ngf: the generators' base width (`model.ngf`; None: wide enough).
        flags: CPU flags to decide from (tests; default this machine's).
        gpus: GPU compute capabilities to decide from (tests; default the visible GPUs).
    Returns:
        A `PrecisionChoice`.
    Raises:
        ValueError: `requested` is not one of `PRECISIONS`.
    """
    if requested not in PRECISIONS:
        raise ValueError(f"train.mixed_precision must be one of {', '.join(PRECISIONS)}. "
                         f"Received: train.mixed_precision={requested!r}")
    if requested != "auto":
        return PrecisionChoice(KERAS_POLICY[requested], f"train.mixed_precision={requested}")
    gpus = gpu_compute_capabilities() if gpus is None else tuple(gpus)
    supported, why = native_bf16(flags, gpus)
    if not supported:
        return PrecisionChoice("float32", f"train.mixed_precision=auto: {why}")
    if not gpus and ngf is not None and ngf < AUTO_MIN_CPU_NGF:
        return PrecisionChoice("float32", f"train.mixed_precision=auto: {why}, but model.ngf={ngf} < "
                                          f"{AUTO_MIN_CPU_NGF}: narrow layers train slower in bf16 on a CPU")
    if stage in AUTO_FLOAT32_STAGES:
        return PrecisionChoice("float32", f"train.mixed_precision=auto: {why}, but the {stage} stage keeps "
                                          f"float32 (its bf16 step is not faster)")
    return PrecisionChoice("mixed_bfloat16", f"train.mixed_precision=auto: {why}")


def apply(choice: PrecisionChoice) -> str:
    """Makes `choice.policy` the global Keras dtype policy (call before building networks); returns it."""
    keras.config.set_dtype_policy(choice.policy)
    return choice.policy
