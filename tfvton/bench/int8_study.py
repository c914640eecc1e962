"""Why TFLite int8 does not buy what VNNI could: the Tree-Block's pieces converted one by one.

Each probe model is one Tree-Block branch-like stack at the paper's bottleneck
(64 x 48 x 256, batch 1), built up a piece at a time: 3x3 convolutions alone
(zero 'same' padding), then with reflection padding (MirrorPad), then with
instance norm, then with the ReLU. Each is converted to TFLite fp32 and full
int8 (float I/O) and timed with LiteRT's XNNPACK delegate; the differences
between consecutive rows are what each piece costs in each precision. The op
list of each int8 model shows the float islands (DEQUANTIZE / QUANTIZE pairs)
and the ops XNNPACK cannot take.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Dict, Optional

import numpy as np

from tfvton.bench.timing import time_callable

PIECES = ("conv", "conv+mirror_pad", "conv+mirror_pad+instance_norm", "conv+mirror_pad+instance_norm+relu")


def _model(piece: str, channels: int, depth: int, seed: int = 0):
    import tensorflow as tf

    from tfvton.layers.instance_norm import InstanceNorm
    from tfvton.layers.reflection_pad import reflect_pad

    rng = np.random.default_rng(seed)
    kernels = [tf.constant(rng.normal(scale=(2.0 / (9 * channels)) ** 0.5, size=(3, 3, channels, channels))
                           .astype(np.float32)) for _ in range(depth)]
    norm = InstanceNorm()

    def body(x):
        for kernel in kernels:
            if "mirror_pad" in piece:
                x = tf.nn.conv2d(reflect_pad(x, 1), kernel, 1, "VALID")
            else:
                x = tf.nn.conv2d(x, kernel, 1, "SAME")
            if "instance_norm" in piece:
                x = norm(x)
            if "relu" in piece:
                x = tf.nn.relu(x)
        return x

    return body


def _convert(body, shape, variant: str, seed: int = 0) -> bytes:
    import tensorflow as tf

    function = tf.function(body, input_signature=[tf.TensorSpec(shape, tf.float32)], autograph=False)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], tf.Module())
    if variant == "int8":
        rng = np.random.default_rng(seed)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([rng.normal(size=shape).astype(np.float32)] for _ in range(4))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    return bytes(converter.convert())


def op_counts(model: bytes) -> Counter:
    """TFLite op names of a model, with counts."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model, num_threads=1)
    return Counter(op["op_name"] for op in interpreter._get_ops_details())  # no public op listing


def run_int8_study(threads: int = 2, runs: int = 10, channels: int = 256, height: int = 64, width: int = 48,
                   depth: int = 4, log: Optional[Callable[[str], None]] = None) -> Dict[str, object]:
    """Times each piece in fp32 and int8; returns seconds, ratios and op lists."""
    from ai_edge_litert.interpreter import Interpreter

    log = log or (lambda message: None)
    shape = (1, height, width, channels)
    x = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    gflops = 2 * depth * height * width * 9 * channels * channels / 1e9
    report: Dict[str, object] = {"shape": list(shape), "depth": depth, "gflops": gflops, "threads": threads}
    for piece in PIECES:
        body = _model(piece, channels, depth)
        entry = {}
        for variant in ("fp32", "int8"):
            model = _convert(body, shape, variant)
            interpreter = Interpreter(model_content=model, num_threads=threads)
            runner = interpreter.get_signature_runner()
            name = next(iter(runner.get_input_details()))
            measured = time_callable(lambda: runner(**{name: x}), runs=runs, warmup=2)
            entry[variant] = {**measured.as_dict(), "ops": dict(op_counts(model))}
            log(f"int8 study {piece:36s} {variant}: min {measured.min_s * 1e3:7.1f} ms, "
                f"cpu min {measured.cpu_min_s * 1e3:7.1f} ms")
        entry["int8_speedup_cpu"] = entry["fp32"]["cpu_min_s"] / entry["int8"]["cpu_min_s"]
        report[piece] = entry
    return report


def format_table(report: Dict[str, object]) -> str:
    lines = [f"int8 study: {report['depth']} x conv3x3 {report['shape'][3]}ch at {report['shape'][1]}x"
             f"{report['shape'][2]} ({report['gflops']:.1f} GFLOPs), {report['threads']} threads, "
             "CPU ms (min); piece cost = difference to the row above"]
    previous = None
    for piece in PIECES:
        entry = report[piece]
        fp32, int8 = entry["fp32"]["cpu_min_s"] * 1e3, entry["int8"]["cpu_min_s"] * 1e3
        extra = (f"  (+{fp32 - previous[0]:.1f} fp32, +{int8 - previous[1]:.1f} int8)" if previous else "")
        int8_ops = ", ".join(f"{k} x{v}" for k, v in sorted(entry["int8"]["ops"].items()))
        lines.append(f"{piece:36s} fp32 {fp32:7.1f}  int8 {int8:7.1f}  int8 speed-up {fp32 / int8:4.2f}x{extra}")
        lines.append(f"{'':36s} int8 ops: {int8_ops}")
        previous = (fp32, int8)
    return "\n".join(lines)
