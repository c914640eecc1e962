"""What each fp32 optimisation of the Tree-Block generator buys, measured in one process.

`tree_generator_forward` recomputes a `TreeGenerator` (tree blocks, no fusion
activation) from ITS variables with every optimisation switchable, so the
unoptimised computation (the layers as first written) and each single
change are timed against each other and against the matmul probe in the same
run. `run_ablation` returns seconds per variant; `tfvton bench --ablation`
prints them.
"""
from __future__ import annotations

from typing import Dict, Mapping

import tensorflow as tf

from tfvton.layers.instance_norm import _fused_instance_norm
from tfvton.layers.reflection_pad import reflect_pad
from tfvton.layers.torch_conv import conv2d_by_rows

BASELINE = {"fused_norm": False, "concat_pad": False, "merged_pad": False, "folded_joint": False,
            "row_head": False}
OPTIMISED = {**{key: True for key in BASELINE}, "concat_pad": False}  # what the layers do now


def _norm(x, fused: bool):
    if fused and x.shape[0] == 1:
        return _fused_instance_norm(x, 1e-5)
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + 1e-5)


def _concat_reflect_pad(x, p: int):
    # Reflection pad from reversed slices and two concats (measured slower than MirrorPad).
    if p == 0:
        return x
    x = tf.concat([x[:, p:0:-1], x, x[:, -2:-p - 2:-1]], axis=1)
    return tf.concat([x[:, :, p:0:-1], x, x[:, :, -2:-p - 2:-1]], axis=2)


def _pad(x, p: int, concat: bool):
    return _concat_reflect_pad(x, p) if concat else reflect_pad(x, p)


def _conv(layer, x, stride=1, dilation=1):
    y = tf.nn.convolution(x, layer.kernel, strides=stride, padding="VALID", dilations=dilation)
    return y + layer.bias


def _tree_block(block, x, opts):
    pads = {}
    if opts["merged_pad"]:
        x4 = _pad(x, 4, opts["concat_pad"])
        for d in (1, 2, 3, 4):
            c = 4 - d
            pads[d] = x4[:, c:-c, c:-c] if c else x4
    else:
        pads = {d: _pad(x, d, opts["concat_pad"]) for d in (1, 2, 3, 4)}
    branches = []
    for d in (1, 2, 3, 4):
        y = tf.nn.relu(_norm(_conv(getattr(block, f"conv_block{d}_a"), pads[d], dilation=d), opts["fused_norm"]))
        y = _norm(_conv(getattr(block, f"conv_block{d}_b"), _pad(y, d, opts["concat_pad"]), dilation=d),
                  opts["fused_norm"])
        branches.append(y)
    if opts["folded_joint"]:
        return x + block._folded_fusion(branches)
    node1 = _conv(block.joint1, tf.concat(branches[:2], -1))
    node2 = _conv(block.joint1, tf.concat(branches[2:], -1))
    return x + _conv(block.joint2, tf.concat([node1, node2], -1))


def tree_generator_forward(model, x, opts: Mapping[str, bool] = BASELINE):
    """The generator's inference output, computed with the switches in `opts` (see `BASELINE`)."""
    opts = {**BASELINE, **dict(opts)}
    h = tf.nn.relu(_norm(_conv(model.stem_conv, _pad(x, 3, opts["concat_pad"])), opts["fused_norm"]))
    for conv in (model.down1_conv, model.down2_conv):
        h = tf.nn.relu(_norm(_conv(conv, tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]]), stride=2),
                             opts["fused_norm"]))
    for i in range(model.n_blocks):
        h = _tree_block(getattr(model, f"block_{i}"), h, opts)
    for deconv in (model.up1_deconv, model.up2_deconv):
        h = tf.nn.relu(_norm(deconv(h)[:, 1:, 1:, :], opts["fused_norm"]))
    padded = _pad(h, 3, opts["concat_pad"])
    h = conv2d_by_rows(model.head_conv, padded) if opts["row_head"] else _conv(model.head_conv, padded)
    return tf.tanh(h) if model.with_tanh else h


def ablation_variants() -> Dict[str, Dict[str, bool]]:
    """Baseline, each optimisation alone, and all of them."""
    variants = {"baseline": dict(BASELINE)}
    for key in BASELINE:
        variants[f"+{key}"] = {**BASELINE, key: True}
    variants["all"] = dict(OPTIMISED)
    return variants


def run_ablation(config, runs: int = 10, log=None) -> Dict[str, Dict[str, float]]:
    """Times `ablation_variants` on the config's appearance generator (random weights, batch 1).

    CPU seconds (all threads) are the figure to compare: they measure work and
    stay stable on shared cores; wall seconds are reported too.
    """
    import numpy as np

    from tfvton.bench.probe import matmul_probe
    from tfvton.bench.timing import time_callable
    from tfvton.networks.factory import build_networks

    log = log or (lambda message: None)
    model = build_networks(config, ["appearance_generator"])["appearance_generator"]
    if model.block != "tree" or model.fusion_activation != "none":
        raise ValueError(f"run_ablation: the ablation covers Tree-Blocks without fusion activation. "
                         f"Received: model.block={model.block!r}, "
                         f"model.fusion_activation={model.fusion_activation!r}")
    height, width = config.data.height, config.data.width
    x = tf.constant(np.random.default_rng(0).normal(size=(1, height, width, 26)).astype(np.float32))
    spec = [tf.TensorSpec(x.shape, tf.float32)]
    functions = {"layers (now)": tf.function(lambda t: model(t, training=False), input_signature=spec)}
    for name, opts in ablation_variants().items():
        functions[name] = tf.function(lambda t, o=opts: tree_generator_forward(model, t, o), input_signature=spec)
    reference = functions["baseline"](x).numpy()
    report = {}
    timings = {name: time_callable(lambda f=f: f(x), runs=1, warmup=1) for name, f in functions.items()}
    for _ in range(max(runs - 1, 0)):  # interleaved, so load changes hit every variant alike
        for name, f in functions.items():
            extra = time_callable(lambda f=f: f(x), runs=1, warmup=0)
            timings[name].wall_s += extra.wall_s
            timings[name].cpu_s += extra.cpu_s
    base = timings["baseline"]
    for name, f in functions.items():
        t = timings[name]
        report[name] = {**t.as_dict(), "cpu_ratio": t.cpu_min_s / base.cpu_min_s,
                        "wall_ratio": t.min_s / base.min_s,
                        "max_abs_diff": float(np.abs(f(x).numpy() - reference).max())}
        log(f"ablation {name:18s} cpu min {t.cpu_min_s:.3f}s ({report[name]['cpu_ratio']:.3f}x) "
            f"wall min {t.min_s:.3f}s")
    report["matmul_gflops"] = {"value": matmul_probe(runs=5).gflops}
    return report


def format_table(report) -> str:
    lines = ["Tree generator fp32 ablation (appearance generator, batch 1): CPU-time ratio to the baseline"]
    for name, m in report.items():
        if name == "matmul_gflops":
            continue
        lines.append(f"{name:18s} cpu min {m['cpu_min_s']:.3f} s  x{m['cpu_ratio']:.3f}   wall min "
                     f"{m['min_s']:.3f} s  x{m['wall_ratio']:.3f}   max |diff| {m['max_abs_diff']:.2e}")
    return "\n".join(lines)
