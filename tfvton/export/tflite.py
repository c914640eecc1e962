"""TFLite / LiteRT export of the try-on pipeline core, its runner and its accuracy check.

What is converted: the four generators chained by `TryOnPipeline` in one graph,
batch 1, from the MODEL tensors (`source_image`, `source_parse`, `source_shape`,
`source_head`, `target_pose`, `cloth_image`, `cloth_mask`, float32 NHWC as
`tfvton.data.transforms.preprocess` makes them) to the images (`final`,
`tryon`, `warped_cloth`, `coarse`, `composition_mask`, `parsing`). The
preprocessing stays outside the TFLite graph: on a phone it is a handful of
array operations (one-hot, discs around 18 keypoints, a 16x blur of the body
mask) best done in the app's own code, and it would otherwise fix the image
size and the label/keypoint formats into the mobile graph. `TFLiteRunner.tryon`
runs `transforms.preprocess` (TensorFlow, eager) before the interpreter, which
is the reference a mobile re-implementation must match.

Variants:
- `fp32`: float model; matches Keras within float rounding.
- `fp16`: float16 weights (half the size), float16->float32 dequantised at load
  on CPU; activations stay float32.
- `int8`: full-integer quantisation calibrated on a representative dataset of
  real-format inputs (the training data: `representative_raw_inputs` reads a
  data root's `train` pairs), float32 model inputs/outputs (quantise/dequantise
  at the edges), per-channel weight scales (the converter's default for
  convolutions and fully connected layers). Ops with no int8 kernel stay
  float (reported by `float_ops`). Two regions are kept in float by default:
  the warp (TPS grid -> sampling coordinates -> bilinear gathers -> blend,
  `warp_tensor_names`): quantised, its coordinates were the largest error
  source by far (see `convert`); `keep_warp_float=False` quantises it too; and
  instance norm (`INT8_FLOAT_OPS`): its quantised MEAN / SQUARED_DIFFERENCE /
  RSQRT chains cost as much as the int8 convolutions they sit between
  (`tfvton.bench.int8_study`, docs/benchmarks.md). ONE_HOT (a wrong int8
  kernel) and SOFTMAX (no XNNPACK int8 kernel) always stay float
  (`INT8_ALWAYS_FLOAT_OPS`), and
  `keep_float_networks` keeps whole networks or layer paths float (`gmm`).

Every variant is traced with reflection pads as slices and concatenations
(`tfvton.layers.reflection_pad.slice_concat_padding`): LiteRT's XNNPACK
delegate runs those in fp32 and int8, but not MIRROR_PAD, which would fall back
to the reference kernel and split the delegated graph.

Run every variant with `ai_edge_litert.interpreter.Interpreter` (the LiteRT
runtime phones ship), never `tf.lite.Interpreter`.
"""
from __future__ import annotations

import os
import re
import time
from collections import Counter
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from tfvton.atomic_file import atomic_write
from tfvton.data import transforms
from tfvton.export import graph
from tfvton.layers.reflection_pad import slice_concat_padding
from tfvton.metrics import psnr, ssim
from tfvton.metrics.ssim import WINDOW_SIZE as SSIM_WINDOW
from tfvton.networks.pipeline import INPUT_KEYS as MODEL_INPUT_KEYS

VARIANTS = ("fp32", "fp16", "int8")
MODEL_INPUT_CHANNELS = graph.MODEL_INPUT_CHANNELS
# Instance norm's ops, kept float in int8 models: quantised MEAN / SQUARED_DIFFERENCE / RSQRT chains
# cost as much as the int8 convolutions around them; in float, between a DEQUANTIZE and a QUANTIZE,
# a norm costs little (tfvton.bench.int8_study). Denylisted by op type, so the element-wise
# SUB / MUL / ADD elsewhere (the compositing) stay float too.
INT8_FLOAT_OPS = ("MEAN", "SQUARED_DIFFERENCE", "RSQRT", "SUB", "MUL", "ADD")
# Ops every int8 model keeps in float. ONE_HOT: its int8 kernel is wrong: LiteRT writes its off value
# as 0.5 (the zero point is lost), so masks summed from a one-hot came out all ones (trained `mobile`:
# the face crop sat at the image centre, final image 24.7 dB vs fp32; tests/export/test_int8_masks.py).
# The pipeline's one-hot is now a gather (`forward.onehot_argmax`), exact in int8; ONE_HOT stays
# listed for graphs that still have one. SOFTMAX: XNNPACK has no int8 softmax, so quantised it runs on
# the reference kernel (the parsing's 256x192x20 softmax: 1 ms more end to end on `mobile`).
INT8_ALWAYS_FLOAT_OPS = ("ONE_HOT", "SOFTMAX")
CORE_OUTPUT_KEYS = ("final", "tryon", "warped_cloth", "coarse", "composition_mask", "parsing")
SIGNATURE_KEY = "serving_default"


def _core_module(pipeline, height: int, width: int):
    """A tf.Module holding the pipeline's variables and the batch-1 core function.

    The same core function the SavedModel serves (`graph.pipeline_core`), at
    batch 1; the converter freezes its variables (`tfvton.export.frozen`'s
    step) and folds the constant subgraphs at conversion time. Traced with
    reflection pads as slices (see the module docstring). Only the variables
    are tracked (the converter saves the module as a SavedModel, where a layer
    attribute that is not checkpointable would fail).
    """
    module = graph.variables_module(graph.plain_variables(pipeline))
    # The forward pass takes a bare `tf.argmax` (keras.ops.argmax's -0.0 fix-up has no TFLite kernel).
    function = graph.pipeline_core(pipeline, height, width, CORE_OUTPUT_KEYS, batch=1)
    with slice_concat_padding():
        concrete = function.get_concrete_function()
    module.core = function
    return module, concrete


def model_inputs_from_raw(raw: Mapping[str, np.ndarray], config) -> List[Dict[str, np.ndarray]]:
    """Raw client inputs (batched arrays) -> one dict of batch-1 model tensors per example."""
    raw = dict(raw)
    if "source_pose_keypoints" not in raw:  # never read by the pipeline at inference
        raw["source_pose_keypoints"] = np.zeros_like(np.asarray(raw["target_pose_keypoints"], np.float32))
    data = config.data
    tensors = transforms.preprocess(raw, data.height, data.width, data.pose_radius, data.shape_downsample)
    batch = int(np.asarray(raw["person_image"]).shape[0])
    return [{key: tensors[key].numpy()[i:i + 1].astype(np.float32) for key in MODEL_INPUT_KEYS}
            for i in range(batch)]


def _calibration_dataset(mpv_root: str, split: str, data_config):
    """The root's pairs of `split`; a root without usable ones falls back to its demo list, then `test`."""
    from tfvton.data.mpv import MPVDataset
    from tfvton.errors import DataError

    modes = [split] + [m for m in ("demo", "test") if m != split]
    error = None
    for mode in modes:
        if mode == "demo" and not os.path.exists(os.path.join(mpv_root, "demo.txt")):
            continue
        try:
            return MPVDataset.from_config(mpv_root, None, mode, data_config, progress=False)
        except DataError as failure:  # no pair list, or none of its pairs of this split is usable
            error = failure
    raise error


def representative_raw_inputs(config, mpv_root: Optional[str] = None, count: int = 8, seed: int = 0,
                              split: str = "train"):
    """Real-format calibration inputs: MPV-layout files when given, else synthetic people.

    Calibration should see what the model will see: the training data's pairs
    (`split="train"`, a `tfvton synth` or MPV root), spread over the whole
    list rather than its first lines.

    Args:
        config: the run's `Config`.
        mpv_root: an MPV-layout directory (real MPV, the five samples, or a
            `tfvton synth` output); its pairs are read with `tfvton.data.MPVDataset`.
        count: number of examples.
        seed: seed of the synthetic fallback.
        split: `train`, `test` or `demo`; a root without such pairs falls back
            to its demo list (the five samples), then to `test`.

    Returns:
        dict of batched raw arrays (`person_image`, `person_parsing`, ...).
    """
    if mpv_root:
        dataset = _calibration_dataset(mpv_root, split, config.data)
        picks = np.linspace(0, len(dataset) - 1, num=min(count, len(dataset))).round().astype(int)
        examples = [dataset.raw(int(i)) for i in picks]
        keys = ("person_image", "person_parsing", "cloth_image", "cloth_mask", "target_pose_keypoints")
        return {key: np.stack([e[key] for e in examples]) for key in keys}
    from tfvton.export.warmup import synthetic_raw_inputs

    return synthetic_raw_inputs(config.data.height, config.data.width, batch=count, seed=seed)


# Ops that end a float region: everything past them computes features, not coordinates.
_WARP_STOP_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "CONCATENATION",
                            "FULLY_CONNECTED", "BATCH_MATMUL"})


def warp_tensor_names(model) -> List[str]:
    """Output tensors of the warp ops in a float model: TPS grid -> coordinates -> gathers -> blend.

    Starts at the GMM's `tps_grid` layer (a stable layer name, see `tfvton.networks.gmm`) and follows
    the consumers of its outputs until a convolution, concatenation or matmul: the grid, the
    pixel-coordinate arithmetic of `grid_sample`, its gather of the four corners, their bilinear
    blend and the element-wise compositing that reuses the warped garment. These are the tensors an
    int8 model keeps in float; an op with several outputs (UNPACK, SPLIT) is quantised all the same,
    so the warp has none.
    """
    runtime = interpreter(model, num_threads=1)
    names = {t["index"]: t["name"] for t in runtime.get_tensor_details()}
    ops = runtime._get_ops_details()  # the LiteRT API has no public op listing
    consumers: Dict[int, list] = {}
    for op in ops:
        for index in op["inputs"]:
            consumers.setdefault(index, []).append(op)
    selected = {op["index"]: op for op in ops
                if any("tps_grid" in names.get(i, "") for i in op["outputs"])}
    frontier = [i for op in selected.values() for i in op["outputs"]]
    while frontier:
        for op in consumers.get(frontier.pop(), []):
            if op["index"] in selected or op["op_name"] in _WARP_STOP_OPS:
                continue
            selected[op["index"]] = op
            frontier.extend(op["outputs"])
    return sorted({names[i] for op in selected.values() for i in op["outputs"] if i in names})


def network_scope_pattern(network: str) -> re.Pattern:
    """Regex for the tensor names made inside `network`: a generator (`gmm`) or a layer path in it
    (`gmm/regression`). Keras scopes a sub-network's ops as `<pipeline>/<network>_<n>/<layer>_<n>/`,
    and LiteRT keeps those scopes in the tensor names."""
    parts = [re.escape(part) + r"(?:_\d+)?" for part in network.split("/")]
    return re.compile("/" + "/".join(parts) + "/")


def network_tensor_names(model, networks: Iterable[str]) -> List[str]:
    """Tensors of a float model produced inside the named sub-networks (`gmm`, or a layer path such as
    `gmm/regression`, see `network_scope_pattern`): kept float in int8.

    Raises:
        ValueError: a name that no tensor of the model is inside (a misspelt layer path).
    """
    networks = list(networks)
    if not networks:
        return []
    runtime = interpreter(model, num_threads=1)
    names = [t["name"] for t in runtime.get_tensor_details()]
    selected = set()
    for network in networks:
        pattern = network_scope_pattern(network)
        inside = [name for name in names if pattern.search(name)]
        if not inside:
            raise ValueError(f"no tensor of the model is inside {network!r}: expected a generator or a layer "
                             f"path in one, e.g. 'gmm' or 'gmm/regression'")
        selected.update(inside)
    return sorted(selected)


def convert(pipeline, config, variant: str = "fp32",
            representative: Optional[Sequence[Mapping[str, np.ndarray]]] = None,
            keep_warp_float: bool = True, keep_float_ops: Iterable[str] = (),
            float_model: Optional[bytes] = None, keep_norm_float: bool = True,
            keep_float_networks: Iterable[str] = ()) -> bytes:
    """Converts the pipeline core to a TFLite flatbuffer.

    Args:
        pipeline: a built `TryOnPipeline`.
        config: its `Config` (model size).
        variant: `fp32`, `fp16` or `int8`.
        representative: for `int8`, the calibration examples (dicts of batch-1
            model tensors, see `model_inputs_from_raw`).
        keep_warp_float: for `int8`, leave the warp in float (`warp_tensor_names`).
            Quantised, the calibrated scale of the normalised coordinates was
            0.27 on a [0, 1] range (one scale shared along the multiply chain),
            i.e. warp positions off by up to 9 px at 64 px: PSNR 12 dB on the
            warped garment against 40+ dB with the warp in float.
        keep_float_ops: for `int8`, TFLite op names to leave in float as well
            as `INT8_FLOAT_OPS` (e.g. `GATHER`).
        float_model: for `int8`, the fp32 conversion if already at hand (the
            warp's tensor names are read from it).
        keep_norm_float: for `int8`, leave instance norm in float (`INT8_FLOAT_OPS`).
        keep_float_networks: for `int8`, sub-networks left in float as a whole (`gmm`: on a
            trained `mobile` model the int8 GMM's TPS offsets moved the whole garment, warped
            cloth 14.5 dB vs fp32; in float 50.7 dB, docs/benchmarks.md).

    Returns:
        The model bytes, with one signature `serving_default`.
    """
    if variant not in VARIANTS:
        raise ValueError(f"tflite variant must be one of {VARIANTS}, got {variant!r}")
    module, concrete = _core_module(pipeline, config.data.height, config.data.width)
    dataset, keep_nodes = None, []
    if variant == "int8":
        if not representative:
            raise ValueError("int8 conversion needs a representative dataset (model_inputs_from_raw)")
        examples = [dict(example) for example in representative]

        def dataset():
            # One signature: a dict of its input names is what the calibrator feeds.
            for example in examples:
                yield {key: example[key] for key in MODEL_INPUT_KEYS}

        keep_float_networks = list(keep_float_networks)
        if keep_warp_float or keep_float_networks:
            float_model = float_model or convert(pipeline, config, "fp32")
        if keep_warp_float:
            keep_nodes = warp_tensor_names(float_model)
        keep_nodes = sorted(set(keep_nodes) | set(network_tensor_names(float_model, keep_float_networks)))
        keep_float_ops = sorted(set(keep_float_ops) | set(INT8_ALWAYS_FLOAT_OPS)
                                | (set(INT8_FLOAT_OPS) if keep_norm_float else set()))
    return graph.convert_concrete(concrete, module, variant, dataset, keep_float_ops=keep_float_ops,
                                  keep_float_tensors=keep_nodes)


def interpreter(model, num_threads: int = 2):
    """An `ai_edge_litert` interpreter on a path or model bytes."""
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(model, (bytes, bytearray)):
        return Interpreter(model_content=bytes(model), num_threads=num_threads)
    try:
        return Interpreter(model_path=os.fspath(model), num_threads=num_threads)
    except ValueError as error:  # LiteRT's message ("not a valid Flatbuffer buffer") names no file
        raise ValueError(f"{os.fspath(model)}: not a readable TFLite model ({error}); give a .tflite file "
                         f"written by `tfvton export --tflite`") from None


def float_ops(model) -> Counter:
    """Op names that still compute in float in a converted model, with counts.

    `supported_ops=[TFLITE_BUILTINS_INT8]` alone does not promise an integer
    graph; this reads the graph back (what `tf.lite.experimental.Analyzer`
    prints) and counts ops with a float32/float16 output other than the
    QUANTIZE/DEQUANTIZE at the edges.
    """
    runtime = interpreter(model, num_threads=1)
    tensors = {t["index"]: t for t in runtime.get_tensor_details()}
    counts = Counter()
    for op in runtime._get_ops_details():  # the LiteRT API has no public op listing
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE"):
            continue
        outputs = [tensors[i] for i in op["outputs"] if i in tensors]
        if any(np.dtype(t["dtype"]) in (np.float32, np.float16) for t in outputs):
            counts[op["op_name"]] += 1
    return counts


class TFLiteRunner:
    """Runs a converted pipeline core with LiteRT's signature runner.

    Args:
        model: path of a `.tflite` file or its bytes.
        config: the `Config` the model was exported with (for `tryon`'s preprocessing).
        num_threads: CPU threads of the interpreter.

    Example:
        >>> runner = TFLiteRunner("tfvton_fp16.tflite", config)
        >>> outputs = runner.tryon(raw)  # raw client arrays, batch 1
        >>> outputs["tryon_image"].shape
        (1, 256, 192, 3)
    """

    def __init__(self, model, config=None, num_threads: int = 2):
        self.config = config
        self.num_threads = num_threads
        self._interpreter = interpreter(model, num_threads)
        self._runner = self._interpreter.get_signature_runner(SIGNATURE_KEY)

    def __call__(self, model_inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Model tensors (batch 1, float32) -> dict of float32 outputs (`CORE_OUTPUT_KEYS`)."""
        feed = {key: np.asarray(model_inputs[key], np.float32) for key in MODEL_INPUT_KEYS}
        return {key: np.asarray(value) for key, value in self._runner(**feed).items()}

    def tryon(self, raw: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Raw client arrays (batched) -> outputs per example, stacked, plus uint8 images.

        Returns:
            the float outputs and `tryon_image` uint8 (B,H,W,3), `parsing_labels`
            uint8 (B,H,W), converted as the SavedModel converts them.
        """
        if self.config is None:
            raise ValueError("TFLiteRunner.tryon needs the config the model was exported with")
        results = [self(example) for example in model_inputs_from_raw(raw, self.config)]
        stacked = {key: np.concatenate([r[key] for r in results]) for key in results[0]}
        final = stacked["final"].astype(np.float32)
        stacked["tryon_image"] = np.clip((final * 0.5 + 0.5) * 255.0, 0.0, 255.0).astype(np.uint8)
        stacked["parsing_labels"] = np.argmax(stacked["parsing"], axis=-1).astype(np.uint8)
        return stacked


def compare_outputs(reference: Mapping[str, np.ndarray], test: Mapping[str, np.ndarray],
                    keys: Sequence[str] = ("final", "warped_cloth")) -> Dict[str, Dict[str, float]]:
    """Accuracy of `test` against `reference` outputs per key.

    The PSNR and SSIM are `tfvton.metrics`' (those `tfvton evaluate` reports),
    per image in [-1, 1] and averaged; identical images count as 100 dB.

    Returns:
        key -> `max_abs`, `psnr` (dB), `ssim` (3-channel images of at least
        11x11); `parsing` -> `label_agreement` (arg-max labels that agree).
    """
    report = {}
    for key in keys:
        ref, got = np.asarray(reference[key], np.float32), np.asarray(test[key], np.float32)
        entry = {"max_abs": float(np.max(np.abs(ref.astype(np.float64) - got))),
                 "psnr": float(np.mean(psnr(ref, got, data_range=2.0)))}
        if ref.shape[-1] == 3 and min(ref.shape[1:3]) >= SSIM_WINDOW:
            entry["ssim"] = float(np.mean(ssim(ref, got, data_range=2.0)))
        report[key] = entry
    if "parsing" in reference and "parsing" in test:
        agree = np.argmax(reference["parsing"], -1) == np.argmax(test["parsing"], -1)
        report["parsing"] = {"label_agreement": float(np.mean(agree))}
    return report


def measure_variants(models: Mapping[str, object], config, raw: Mapping[str, np.ndarray], num_threads: int = 2,
                     timing_runs: int = 3) -> Dict[str, Dict[str, object]]:
    """Runs each variant on the same raw inputs; size, latency and accuracy against fp32.

    Args:
        models: variant name -> path or bytes; must include `fp32` (the reference).
        config: the export config.
        raw: raw client arrays (batched); each example is one try-on.
        num_threads: interpreter threads (latency is per try-on at this setting).
        timing_runs: timed invocations per example after one untimed warm-up run.

    Returns:
        variant -> {"bytes", "latency_ms", "accuracy": compare_outputs(...)}.
    """
    if "fp32" not in models:
        raise ValueError("measure_variants needs the fp32 model as the reference")
    examples = model_inputs_from_raw(raw, config)
    outputs, table = {}, {}
    for name, model in models.items():
        runner = TFLiteRunner(model, config, num_threads)
        results, times = [], []
        for example in examples:
            results.append(runner(example))
            for _ in range(timing_runs):
                start = time.perf_counter()
                runner(example)
                times.append(time.perf_counter() - start)
        outputs[name] = {key: np.concatenate([r[key] for r in results]) for key in results[0]}
        size = len(model) if isinstance(model, (bytes, bytearray)) else os.path.getsize(model)
        table[name] = {"bytes": size, "latency_ms": 1000.0 * float(np.median(times))}
    for name in models:
        table[name]["accuracy"] = compare_outputs(outputs["fp32"], outputs[name])
    return table


def format_table(table: Mapping[str, Mapping[str, object]]) -> str:
    """A plain-text table of `measure_variants` results (what `tfvton export` prints)."""
    lines = [f"{'variant':8} {'size MB':>8} {'ms/try-on':>10} {'final PSNR':>11} {'final SSIM':>11} "
             f"{'final max|d|':>13} {'warp PSNR':>10} {'parse agree':>12}"]
    for name, row in table.items():
        acc = row["accuracy"]
        final, warp = acc["final"], acc.get("warped_cloth", {})
        lines.append(f"{name:8} {row['bytes'] / 1e6:8.2f} {row['latency_ms']:10.1f} {final['psnr']:11.2f} "
                     f"{final.get('ssim', float('nan')):11.4f} {final['max_abs']:13.5f} "
                     f"{warp.get('psnr', float('nan')):10.2f} "
                     f"{acc.get('parsing', {}).get('label_agreement', float('nan')):12.4f}")
    return "\n".join(lines)


def export_tflite(pipeline, config, out_dir: str, variants: Iterable[str] = VARIANTS, name: str = "tfvton",
                  representative_raw: Optional[Mapping[str, np.ndarray]] = None, keep_warp_float: bool = True,
                  keep_float_ops: Iterable[str] = (), log: Callable[[str], None] = lambda _: None,
                  keep_norm_float: bool = True, keep_float_networks: Iterable[str] = ()) -> Dict[str, str]:
    """Writes `out_dir/<name>_<variant>.tflite` for each variant.

    Args:
        pipeline: a built `TryOnPipeline`.
        config: its `Config`.
        out_dir: output directory (created).
        variants: any of `fp32`, `fp16`, `int8`.
        name: file name prefix.
        representative_raw: raw calibration inputs for int8 (default: synthetic
            people from `representative_raw_inputs`).
        keep_warp_float: int8 keeps the warp in float (see `convert`).
        keep_float_ops: int8 op names also kept in float.
        keep_norm_float: int8 keeps instance norm in float (`INT8_FLOAT_OPS`).
        keep_float_networks: int8 keeps these sub-networks in float (see `convert`).
        log: progress messages (the CLI passes `print`).

    Returns:
        variant -> written path.
    """
    variants = list(variants)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"--tflite: unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    os.makedirs(out_dir, exist_ok=True)
    representative = None
    if "int8" in variants:
        if representative_raw is None:
            representative_raw = representative_raw_inputs(config)
        representative = model_inputs_from_raw(representative_raw, config)
    paths, float_model = {}, None
    for variant in sorted(variants, key=VARIANTS.index):  # fp32 first: int8 reads the warp from it
        start = time.perf_counter()
        model = convert(pipeline, config, variant, representative, keep_warp_float, keep_float_ops, float_model,
                        keep_norm_float, keep_float_networks)
        if variant == "fp32":
            float_model = model
        path = os.path.join(out_dir, f"{name}_{variant}.tflite")
        atomic_write(path, lambda scratch: scratch.write_bytes(model), "TFLite model")
        paths[variant] = path
        note = ""
        if variant == "int8":
            floats = float_ops(model)
            note = "; ops left in float: " + (", ".join(f"{k} x{v}" for k, v in sorted(floats.items())) or "none")
        log(f"tflite {variant}: {path} ({len(model) / 1e6:.2f} MB, {time.perf_counter() - start:.0f} s){note}")
    return paths
