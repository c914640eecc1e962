"""`train.mixed_precision: auto`: which policy each machine and stage gets, and why."""
from __future__ import annotations

import pytest

from tfvton.config import load_config
from tfvton.errors import ConfigError
from tfvton.training import precision

AVX512_BF16 = {"fpu", "avx2", "avx512f", "avx512_bf16"}
AVX2_ONLY = {"fpu", "avx2", "fma"}


@pytest.mark.parametrize("flags, expected, evidence", [
    (AVX512_BF16, "mixed_bfloat16", "avx512_bf16"),
    (AVX2_ONLY | {"amx_bf16"}, "mixed_bfloat16", "amx_bf16"),
    (AVX2_ONLY, "float32", "lacks"),
])
def test_auto_on_cpus(flags, expected, evidence):
    choice = precision.resolve("auto", flags=flags, gpus=())
    assert choice.policy == expected
    assert "auto" in choice.reason and evidence in choice.reason
    assert not choice.loss_scaled


@pytest.mark.parametrize("gpus, expected", [
    ([(8, 0)], "mixed_bfloat16"),
    ([(9, 0), (8, 6)], "mixed_bfloat16"),
    ([(7, 5)], "float32"),  # Turing: no bf16, even on a CPU that has it
    ([(8, 6), (7, 0)], "float32"),  # every replica must compute bf16 natively
])
def test_auto_on_gpus_ignores_the_cpu(gpus, expected):
    choice = precision.resolve("auto", flags=AVX512_BF16, gpus=gpus)
    assert choice.policy == expected
    assert "compute capability" in choice.reason


@pytest.mark.parametrize("requested, policy", [
    ("none", "float32"), ("float32", "float32"), ("mixed_bfloat16", "mixed_bfloat16"),
    ("mixed_float16", "mixed_float16"),
])
def test_explicit_policies_ignore_the_hardware(requested, policy):
    for flags in (AVX512_BF16, AVX2_ONLY):
        choice = precision.resolve(requested, "gmm", flags=flags, gpus=())
        assert choice.policy == policy and requested in choice.reason
    assert precision.resolve("mixed_float16").loss_scaled


def test_auto_keeps_the_gmm_in_float32():
    kept = precision.resolve("auto", "gmm", flags=AVX512_BF16, gpus=())
    assert kept.policy == "float32" and "gmm stage keeps float32" in kept.reason
    assert precision.resolve("auto", "parsing", flags=AVX512_BF16, gpus=()).policy == "mixed_bfloat16"
    # An explicit request is obeyed for every stage.
    assert precision.resolve("mixed_bfloat16", "gmm", flags=AVX512_BF16, gpus=()).policy == "mixed_bfloat16"


def test_auto_keeps_narrow_networks_in_float32_on_cpus():
    narrow = precision.AUTO_MIN_CPU_NGF // 2
    kept = precision.resolve("auto", "appearance", ngf=narrow, flags=AVX512_BF16, gpus=())
    assert kept.policy == "float32" and f"model.ngf={narrow}" in kept.reason
    wide = precision.resolve("auto", "appearance", ngf=precision.AUTO_MIN_CPU_NGF, flags=AVX512_BF16, gpus=())
    assert wide.policy == "mixed_bfloat16"
    # bf16 tensor cores pay at any width.
    assert precision.resolve("auto", "appearance", ngf=narrow, gpus=[(8, 0)]).policy == "mixed_bfloat16"


def test_cpu_flags_reads_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx512f avx512_bf16\n\n"
                       "processor\t: 1\nflags\t\t: fpu\n")
    assert precision.cpu_flags(str(cpuinfo)) == {"fpu", "avx512f", "avx512_bf16"}
    assert precision.cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_config_accepts_auto_and_float32_and_names_the_choices():
    assert load_config("smoke", ["train.mixed_precision=auto"]).train.mixed_precision == "auto"
    assert load_config("smoke", ["train.mixed_precision=float32"]).train.mixed_precision == "float32"
    assert load_config("paper").train.mixed_precision == "none"  # parity runs stay float32
    with pytest.raises(ConfigError, match=r"train.mixed_precision must be one of .*auto.*bf16"):
        load_config("smoke", ["train.mixed_precision=bf16"])
