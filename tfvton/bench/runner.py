"""`tfvton bench`: every variant of every network and of the whole pipeline, timed in one process.

A run builds the four generators of a preset (seeded random weights, or a run
directory's), reads real-format inputs (MPV-layout files through
`MPVDataset`, else synthetic people), counts each network's FLOPs from its
traced graph, and times each requested variant per network and end to end,
probing the machine's fp32 matmul rate before and between variants. Every
latency is also a fraction of that rate: FLOPs / (time x rate).

Variants (a `+crop` suffix runs the face generator on a crop around the face,
`tfvton.layers.face_crop.FaceCrop`, a separate mode for models trained so; a
`+frozen` suffix on `function`, `xla` or `bf16` freezes the variables into
constants, which lets grappler fold the weight casts and the Tree-Block's
kernel products once):
- `keras`: eager Keras calls.
- `function`: `tf.function` with fixed input signatures (traced once).
- `xla`: the same with `jit_compile=True`.
- `savedmodel`: those functions saved with `tf.saved_model.save` and reloaded.
- `bf16`: the appearance and face generators (93% of the FLOPs) built under
  Keras' `mixed_bfloat16` policy (fp32 weights copied in, bf16 compute through
  oneDNN, float32 statistics in instance norm), as `tf.function`s. The GMM
  and the parsing U-Net stay fp32 by default (`bf16_networks`): the warp grid
  needs ~1e-6 precision, and the parsing's arg-max decides the face and cloth
  masks, so a bf16 rounding that flips a label moves whole pixels of the final
  image (measured with seeded random weights, whose parsing is nearly uniform:
  1% of labels flip and the final PSNR drops from ~48 dB to ~28 dB).
- `tflite-fp32`, `tflite-fp16`, `tflite-int8`: per network converted here, end
  to end through `tfvton.export.tflite` (skipped with a message when that
  module or the LiteRT runtime is missing); run with XNNPACK and
  `threads` threads. Converted inside `slice_concat_padding()` (reflection
  pads as slices + concatenations, which XNNPACK runs; MIRROR_PAD it does
  not), and int8 keeps instance norm in float (`INT8_FLOAT_OPS`): both
  measured in `tfvton.bench.int8_study`.

The report (`run_benchmark`) is a dict: one key per variant,
`{"end_to_end": {"median_s", "min_s", ...}, "networks": {name: {"median_s",
"min_s", "gflops", "fraction_of_machine", ...}}, "quality": {...}}`, plus
`machine` (`matmul_gflops`, CPU flags, threads) and `meta`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfvton.bench import flops as flops_lib
from tfvton.bench import memory, probe, quality, timing

VARIANTS = ("keras", "function", "xla", "savedmodel", "bf16", "tflite-fp32", "tflite-fp16", "tflite-int8")
DEFAULT_VARIANTS = ("function", "savedmodel", "bf16")
CROP_SUFFIX = "+crop"
# Variables frozen into constants (convert_variables_to_constants_v2): grappler then folds the weight
# casts and the Tree-Block's kernel products once instead of at every call.
FROZEN_SUFFIX = "+frozen"
FREEZABLE = ("function", "xla", "bf16")
NETWORKS = ("gmm", "parsing_generator", "appearance_generator", "face_generator")
SHORT_NAMES = {"gmm": "gmm", "parsing_generator": "parsing", "appearance_generator": "appearance",
               "face_generator": "face"}
# The official release on this machine type (issue 8): torch 2.13 CPU, 2 threads, batch 1, medians.
OFFICIAL_SECONDS = {"gmm": 0.074, "parsing_generator": 0.095, "appearance_generator": 1.20,
                    "face_generator": 1.19, "end_to_end": 2.60}
# TF's 2048^2 fp32 matmul rate on that machine when it was not shared (issue 8).
REFERENCE_MATMUL_GFLOPS = 213.0
# Instance norm's ops, kept float in int8 models: quantised MEAN / SQUARED_DIFFERENCE / RSQRT chains
# cost ~6 ms per norm at 64x48x256 against ~0.25 ms in float between a DEQUANTIZE and a QUANTIZE.
INT8_FLOAT_OPS = ("MEAN", "SQUARED_DIFFERENCE", "RSQRT", "SUB", "MUL", "ADD")
# Outputs compared with fp32: the final image, the try-on before face refinement, the parsing.
QUALITY_KEYS = ("final", "tryon", "parsing")
MODEL_INPUT_KEYS = ("source_image", "source_parse", "source_shape", "source_head", "target_pose",
                    "cloth_image", "cloth_mask")


@dataclasses.dataclass
class BenchOptions:
    """What `run_benchmark` measures.

    Attributes:
        variants: names from `VARIANTS`, each optionally with `+crop`.
        batch: examples per call.
        runs: timed calls per measurement (>= 10 for reported figures).
        warmup: untimed calls first.
        threads: intra-op threads (TF) / interpreter threads (LiteRT).
        networks: time each network on its own.
        end_to_end: time the whole pipeline.
        quality: PSNR / SSIM of each variant's final image against fp32.
        mpv_root: MPV-layout inputs (real samples); None -> synthetic people.
        run_dir: load the generators from a run directory instead of random weights.
        face_crop: crop side for `+crop` variants.
        bf16_networks: the generators the `bf16` variants run in bf16 (the others stay fp32).
        seed: weights and synthetic inputs.
        probe_runs: matmul probe runs at the start (and half of it between variants).
        workdir: where SavedModels and .tflite files go and stay (None: a temporary directory,
            removed at the end of the run).
        log: progress messages (None: silent).
    """

    variants: Sequence[str] = DEFAULT_VARIANTS
    batch: int = 1
    runs: int = 10
    warmup: int = 2
    threads: int = 2
    networks: bool = True
    end_to_end: bool = True
    quality: bool = True
    mpv_root: Optional[str] = None
    run_dir: Optional[str] = None
    face_crop: int = 64
    bf16_networks: Sequence[str] = ("appearance_generator", "face_generator")
    seed: int = 0
    probe_runs: int = 10
    workdir: Optional[str] = None
    log: Optional[Callable[[str], None]] = None


def parse_variant(name: str) -> Tuple[str, bool, bool]:
    """'bf16+frozen+crop' -> ('bf16', crop=True, frozen=True); raises on unknown names."""
    base, *suffixes = name.split("+")
    tags = ["+" + suffix for suffix in suffixes]
    if base not in VARIANTS or any(t not in (CROP_SUFFIX, FROZEN_SUFFIX) for t in tags) or len(set(tags)) < len(tags):
        raise ValueError(f"a bench variant must be one of {', '.join(VARIANTS)}, optionally with {CROP_SUFFIX} "
                         f"and/or {FROZEN_SUFFIX}. Received: unknown variant {name!r}")
    frozen = FROZEN_SUFFIX in tags
    if frozen and base not in FREEZABLE:
        raise ValueError(f"{FROZEN_SUFFIX} applies to {', '.join(FREEZABLE)}. Received: {base!r}")
    return base, CROP_SUFFIX in tags, frozen


def configure_threads(threads: int, inter_op: int = 1) -> None:
    """TF thread pools; call before TensorFlow runs its first op."""
    import tensorflow as tf

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


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def real_format_examples(config, mpv_root: Optional[str], count: int = 5, seed: int = 0
                         ) -> Tuple[List[Dict[str, np.ndarray]], str]:
    """Batch-1 model-tensor dicts from MPV-layout files (demo or test pairs), else synthetic people."""
    from tfvton.data import transforms

    data = config.data
    if mpv_root and Path(mpv_root).is_dir():
        from tfvton.data.mpv import MPVDataset

        mode = "demo" if (Path(mpv_root) / "demo.txt").exists() else "test"
        dataset = MPVDataset.from_config(mpv_root, None, mode, data, progress=False)
        examples = [dataset[i % len(dataset)] for i in range(min(count, len(dataset)))]
        source = f"{mpv_root} ({len(examples)} real {mode} pairs)"
        return [{k: np.asarray(e[k], np.float32)[None] for k in MODEL_INPUT_KEYS} for e in examples], source
    from tfvton.export.warmup import synthetic_raw_inputs

    raw = synthetic_raw_inputs(data.height, data.width, batch=count, seed=seed)
    raw.setdefault("source_pose_keypoints", np.zeros_like(raw["target_pose_keypoints"]))
    tensors = transforms.preprocess(raw, data.height, data.width, data.pose_radius, data.shape_downsample)
    examples = [{k: np.asarray(tensors[k])[i:i + 1].astype(np.float32) for k in MODEL_INPUT_KEYS}
                for i in range(count)]
    return examples, f"synthetic people ({count}, seed {seed})"


def stack_batch(examples: Sequence[Dict[str, np.ndarray]], batch: int) -> Dict[str, np.ndarray]:
    """A batch of `batch` examples, cycling through the given ones."""
    chosen = [examples[i % len(examples)] for i in range(batch)]
    return {k: np.concatenate([e[k] for e in chosen]) for k in MODEL_INPUT_KEYS}


@contextlib.contextmanager
def capture_network_inputs(pipeline):
    """Records the positional input of each generator while the pipeline runs (eagerly).

    Yields a dict name -> list of inputs (one per call); a `FaceCrop` face
    stage records the inner generator's (cropped) input.
    """
    import tensorflow as tf

    from tfvton.layers.face_crop import FaceCrop

    records: Dict[str, list] = {name: [] for name in NETWORKS}
    patched = []
    for name in NETWORKS:
        network = getattr(pipeline, name)
        if isinstance(network, FaceCrop):
            network = network.generator
        original = network.call

        def recorder(inputs, *args, _original=original, _name=name, **kwargs):
            if tf.executing_eagerly():  # not Keras' symbolic shape inference
                records[_name].append(inputs)
            return _original(inputs, *args, **kwargs)

        network.call = recorder
        patched.append((network, original))
    try:
        yield records
    finally:
        for network, original in patched:
            network.call = original


def network_arguments(captured) -> Tuple[np.ndarray, ...]:
    """A recorded input as a tuple of numpy arrays (the GMM takes two tensors)."""
    if isinstance(captured, (tuple, list)):
        return tuple(np.asarray(t, np.float32) for t in captured)
    return (np.asarray(captured, np.float32),)


# ---------------------------------------------------------------------------
# Networks in each precision
# ---------------------------------------------------------------------------

def build_generators(config, run_dir: Optional[str] = None, seed: int = 0, policy: Optional[str] = None,
                     like: Optional[Dict[str, object]] = None, names: Sequence[str] = NETWORKS):
    """The four generators, under a Keras dtype policy, with weights from a run, a seed or `like`."""
    import keras

    from tfvton.networks.factory import build_networks, load_run_networks

    previous = keras.config.dtype_policy()
    if policy:
        keras.config.set_dtype_policy(policy)
    try:
        if run_dir and like is None:
            networks = load_run_networks(run_dir, names, config)
        else:
            keras.utils.set_random_seed(seed)
            networks = build_networks(config, names)
    finally:
        keras.config.set_dtype_policy(previous)
    if like is not None:
        for name in names:
            networks[name].set_weights(like[name].get_weights())
    return networks


def make_pipeline(config, networks: Dict[str, object], crop: Optional[int] = None, float32_outputs=False):
    """A `TryOnPipeline` on these generators; `crop` runs the face stage on crops of that size."""
    from tfvton.networks.factory import build_pipeline

    networks = dict(networks)
    if float32_outputs:
        networks = {name: _float32_outputs(net) for name, net in networks.items()}
    model = dataclasses.replace(config.model, face_mode="crop" if crop else "full",
                                face_crop=crop or config.model.face_crop)
    return build_pipeline(config.replace(model=model), networks)


def _float32_outputs(network):
    """Casts a mixed-precision network's outputs to float32 (the pipeline mixes them with fp32 images)."""
    import keras
    import tensorflow as tf

    if network.compute_dtype == "float32":
        return network

    class Float32Outputs(keras.Model):
        def __init__(self, inner, **kwargs):
            super().__init__(name=inner.name, **kwargs)
            self.inner = inner

        def call(self, inputs, training=None):
            outputs = self.inner(inputs, training=training)
            return tf.nest.map_structure(lambda t: tf.cast(t, tf.float32), outputs)

        def warp(self, *args, **kwargs):  # the GMM's sampler, used by the pipeline
            return self.inner.warp(*args, **kwargs)

    wrapper = Float32Outputs(network)
    wrapper.inner_network = network
    return wrapper


# ---------------------------------------------------------------------------
# Callables per variant
# ---------------------------------------------------------------------------

class _Holder:
    """Not trackable: keeps Keras objects out of a SavedModel's object graph."""

    def __init__(self, obj):
        self.obj = obj


def _network_function(network, name: str, specs, jit_compile: bool = False):
    import tensorflow as tf

    holder = _Holder(network)
    if name == "gmm":
        body = lambda agnostic, cloth: holder.obj((agnostic, cloth), training=False)  # noqa: E731
    else:
        body = lambda x: holder.obj(x, training=False)  # noqa: E731
    return tf.function(body, input_signature=list(specs), jit_compile=jit_compile, autograph=False)


def _pipeline_function(pipeline, batch_inputs, jit_compile: bool = False):
    import tensorflow as tf

    holder = _Holder(pipeline)
    specs = {k: tf.TensorSpec(v.shape, tf.float32, name=k) for k, v in batch_inputs.items()}

    def body(inputs):
        outputs = holder.obj(inputs, training=False)
        return {"final": outputs["final"], "tryon": outputs["tryon"], "parsing": outputs["parsing"]}

    return tf.function(body, input_signature=[specs], jit_compile=jit_compile, autograph=False)


def _freeze(function):
    """The function with its variables turned into constants; same call signature and outputs."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = function.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    structure = concrete.structured_outputs

    def call(*args):
        tensors = [tf.convert_to_tensor(a) for a in tf.nest.flatten(args)]  # it binds tensors only
        return tf.nest.pack_sequence_as(structure, frozen(*tensors))

    call.concrete = frozen
    return call


def _specs(arrays):
    import tensorflow as tf

    return [tf.TensorSpec(a.shape, tf.float32) for a in arrays]


def _saved(function, variables, directory: str, keep_alive: list):
    """Saves one function (and the variables it reads) as a SavedModel and loads it back.

    The loaded object owns the restored variables; it goes into `keep_alive`,
    or its function would outlive them.
    """
    import tensorflow as tf

    module = tf.Module()
    module.model_variables = list(variables)
    module.run = function
    function.get_concrete_function()
    tf.saved_model.save(module, directory)
    loaded = tf.saved_model.load(directory)
    keep_alive.append(loaded)
    return loaded.run


def _plain_variables(model):
    # Plain tf.Variables, as tfvton.export.saved_model.tracked_variables saves them: the Keras
    # wrappers would be saved as Keras objects, which the TFLite converter cannot freeze.
    return [getattr(v, "value", v) for v in model.variables]


def _tflite_convert(function, variables, variant: str, representative=None) -> bytes:
    """One network's function -> TFLite bytes (`fp32`, `fp16` weights, or full `int8` with float I/O)."""
    import tensorflow as tf

    from tfvton.layers.reflection_pad import slice_concat_padding

    module = tf.Module()
    module.model_variables = list(variables)
    with slice_concat_padding():
        concrete = function.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
    if variant == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "int8":
        examples = list(representative)

        def dataset():
            return ([np.asarray(a, np.float32) for a in example] for example in examples)

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(INT8_FLOAT_OPS))
        debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=dataset,
                                                             debug_options=options)
        return bytes(debugger.get_nondebug_quantized_model())
    return bytes(converter.convert())


def _tflite_callable(model: bytes, arrays, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model, num_threads=threads)
    runner = interpreter.get_signature_runner()
    names = sorted(runner.get_input_details(), key=lambda n: runner.get_input_details()[n]["index"])
    feed = dict(zip(names, arrays))
    return lambda: runner(**feed)


def tflite_available() -> Optional[str]:
    """None when TFLite variants can run, else why not."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError as error:
        return f"ai_edge_litert is not installed ({error})"
    try:
        from tfvton.export import tflite  # noqa: F401
    except ImportError as error:
        return f"tfvton.export.tflite is not importable ({error})"
    return None


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

class _Run:
    def __init__(self, config, options: BenchOptions):
        self.config = config
        self.options = options
        self.log = options.log or (lambda message: None)
        self.probes: List[probe.MatmulProbe] = []
        self.workdir = options.workdir
        os.makedirs(self.workdir, exist_ok=True)
        self.networks32 = build_generators(config, options.run_dir, options.seed)
        self._bf16 = None
        self._pipelines: Dict[Tuple[str, bool], object] = {}
        self.examples, self.input_source = real_format_examples(config, options.mpv_root, seed=options.seed)
        self.batch_inputs = stack_batch(self.examples, options.batch)
        self.net_inputs: Dict[bool, Dict[str, Tuple[np.ndarray, ...]]] = {}
        self.calibration: Dict[bool, Dict[str, List[Tuple[np.ndarray, ...]]]] = {}
        self.reference_final: Dict[bool, List[Dict[str, np.ndarray]]] = {}
        self.sizes: Dict[str, int] = {}
        self.keep_alive: list = []
        self.frozen = False

    # --- models -----------------------------------------------------------
    def bf16_networks(self):
        if self._bf16 is None:
            names = [name for name in NETWORKS if name in self.options.bf16_networks]
            unknown = sorted(set(self.options.bf16_networks) - set(NETWORKS))
            if unknown:
                raise ValueError(f"bf16_networks must be some of {list(NETWORKS)}. "
                                 f"Received unknown names: {unknown}")
            networks = dict(self.networks32)
            networks.update(build_generators(self.config, policy="mixed_bfloat16", like=self.networks32,
                                             names=names))
            self._bf16 = networks
        return self._bf16

    def pipeline(self, precision: str, crop: bool):
        key = (precision, crop)
        if key not in self._pipelines:
            networks = self.bf16_networks() if precision == "bf16" else self.networks32
            self._pipelines[key] = make_pipeline(self.config, networks, self.options.face_crop if crop else None,
                                                 float32_outputs=precision == "bf16")
        return self._pipelines[key]

    def inputs_for(self, crop: bool):
        """Per-network inputs of the timed batch, and batch-1 calibration inputs of every example."""
        if crop not in self.net_inputs:
            pipeline = self.pipeline("fp32", crop)
            with capture_network_inputs(pipeline) as records:
                pipeline(self.batch_inputs, training=False)
            self.net_inputs[crop] = {name: network_arguments(records[name][0]) for name in NETWORKS}
            finals = []
            with capture_network_inputs(pipeline) as records:
                for example in self.examples:
                    outputs = pipeline(example, training=False)
                    finals.append({key: np.asarray(outputs[key]) for key in QUALITY_KEYS})
            self.calibration[crop] = {name: [network_arguments(r) for r in records[name]] for name in NETWORKS}
            self.reference_final[crop] = finals
        return self.net_inputs[crop]

    # --- measurements -----------------------------------------------------
    def measure_probe(self, runs: Optional[int] = None):
        runs = runs or self.options.probe_runs
        self.probes.append(probe.matmul_probe(runs=runs, warmup=1))

    def time(self, fn):
        return timing.time_callable(fn, runs=self.options.runs, warmup=self.options.warmup)

    def network_callables(self, base: str, crop: bool) -> Dict[str, Callable]:
        inputs = self.inputs_for(crop)
        callables = {}
        for name in NETWORKS:
            arrays = inputs[name]
            tensors = [np.asarray(a) for a in arrays]
            if base == "keras":
                network = self.networks32[name]
                if name == "gmm":
                    callables[name] = lambda n=network, t=tensors: n((t[0], t[1]), training=False)
                else:
                    callables[name] = lambda n=network, t=tensors: n(t[0], training=False)
                continue
            if base == "bf16":
                network = self.bf16_networks()[name]
            else:
                network = self.networks32[name]
            function = _network_function(network, name, _specs(arrays), jit_compile=base == "xla")
            if self.frozen:
                function = _freeze(function)
            if base == "savedmodel":
                directory = os.path.join(self.workdir, f"savedmodel_{name}{'_crop' if crop else ''}")
                function = _saved(function, _plain_variables(network), directory, self.keep_alive)
            if base.startswith("tflite-"):
                variant = base.split("-", 1)[1]
                model = _tflite_convert(function, _plain_variables(network), variant,
                                        self.calibration[crop][name] if variant == "int8" else None)
                path = os.path.join(self.workdir, f"{name}{'_crop' if crop else ''}_{variant}.tflite")
                Path(path).write_bytes(model)
                self.sizes.setdefault(name, os.path.getsize(path))
                callables[name] = _tflite_callable(model, tensors, self.options.threads)
                continue
            callables[name] = lambda f=function, t=tensors: f(*t)
        return callables

    def end_to_end_callable(self, base: str, crop: bool):
        """(callable on the timed batch, callable example -> final image, model size or None)."""
        if base.startswith("tflite-"):
            from tfvton.export import tflite as export_tflite

            variant = base.split("-", 1)[1]
            if self.options.batch != 1:
                raise NotImplementedError("the TFLite export is batch 1")
            from tfvton.layers.reflection_pad import slice_concat_padding

            pipeline = self.pipeline("fp32", crop)
            with slice_concat_padding():
                model = export_tflite.convert(pipeline, self.config, variant,
                                              representative=self.examples if variant == "int8" else None,
                                              keep_float_ops=INT8_FLOAT_OPS)
            path = os.path.join(self.workdir, f"tfvton{'_crop' if crop else ''}_{variant}.tflite")
            Path(path).write_bytes(model)
            runner = export_tflite.TFLiteRunner(model, self.config, num_threads=self.options.threads)
            batch = self.batch_inputs
            return (lambda: runner(batch)), (lambda example: runner(example)), os.path.getsize(path)
        precision = "bf16" if base == "bf16" else "fp32"
        pipeline = self.pipeline(precision, crop)
        if base == "keras":
            batch = self.batch_inputs
            return (lambda: pipeline(batch, training=False)), (
                lambda example: pipeline(example, training=False)), None
        function = _pipeline_function(pipeline, self.batch_inputs, jit_compile=base == "xla")
        if self.frozen:
            function = _freeze(function)
        if base == "savedmodel":
            directory = os.path.join(self.workdir, f"savedmodel_pipeline{'_crop' if crop else ''}")
            variables = [v for name in NETWORKS for v in _plain_variables(self.networks32[name])]
            function = _saved(function, variables, directory, self.keep_alive)
        batch = self.batch_inputs
        if self.options.batch == 1:
            final = lambda example: function(example)  # noqa: E731
        else:
            final = lambda example: {k: v[:1] for k, v in  # noqa: E731
                                     function(stack_batch([example], self.options.batch)).items()}
        return (lambda: function(batch)), final, None

    def flops(self, crop: bool) -> Dict[str, int]:
        inputs = self.inputs_for(crop)
        counts = {}
        for name in NETWORKS:
            function = _network_function(self.networks32[name], name, _specs(inputs[name]))
            counts[name] = flops_lib.concrete_flops(function.get_concrete_function())
        function = _pipeline_function(self.pipeline("fp32", crop), self.batch_inputs)
        counts["end_to_end"] = flops_lib.concrete_flops(function.get_concrete_function())
        return counts

    def run(self) -> Dict[str, object]:
        options = self.options
        report: Dict[str, object] = {}
        skipped: Dict[str, str] = {}
        flop_counts: Dict[bool, Dict[str, int]] = {}
        self.log(f"inputs: {self.input_source}; batch {options.batch}; {options.runs} runs; "
                 f"{options.threads} threads")
        self.measure_probe()
        for name in options.variants:
            base, crop, frozen = parse_variant(name)
            crop = crop or self.config.model.face_mode == "crop"
            self.frozen = frozen
            if base.startswith("tflite-"):
                reason = tflite_available()
                if reason:
                    skipped[name] = reason
                    self.log(f"{name}: skipped: {reason}")
                    continue
            if crop not in flop_counts:
                flop_counts[crop] = self.flops(crop)
            counts = flop_counts[crop]
            self.sizes = {}
            entry: Dict[str, object] = {"face_mode": "crop" if crop else "full"}
            started = time.perf_counter()
            try:
                if options.networks:
                    networks = {}
                    for net_name, fn in self.network_callables(base, crop).items():
                        measured = self.time(fn)
                        networks[SHORT_NAMES[net_name]] = {**measured.as_dict(),
                                                           "gflops": counts[net_name] / 1e9}
                        if net_name in self.sizes:
                            networks[SHORT_NAMES[net_name]]["size_mb"] = self.sizes[net_name] / 2 ** 20
                        self.log(f"{name:18s} {SHORT_NAMES[net_name]:10s} median {measured.median_s:.4f}s "
                                 f"min {measured.min_s:.4f}s")
                    entry["networks"] = networks
                if options.end_to_end:
                    fn, final_of, size = self.end_to_end_callable(base, crop)
                    # The first call traces / optimises (a frozen graph's constant folding peaks at GBs);
                    # the working memory of inference is what the later calls add.
                    first_peak = memory.peak_delta_bytes(lambda: timing.materialize(fn()))
                    holder = {}
                    peak = memory.peak_delta_bytes(lambda: holder.setdefault("t", self.time(fn)))
                    measured = holder["t"]
                    entry["end_to_end"] = {**measured.as_dict(), "gflops": counts["end_to_end"] / 1e9,
                                           "peak_memory_mb": peak / 2 ** 20,
                                           "first_call_peak_memory_mb": first_peak / 2 ** 20,
                                           # absolute high-water mark of the process during the timed runs
                                           "process_peak_rss_mb": memory.peak_rss_bytes() / 2 ** 20}
                    if size:
                        entry["end_to_end"]["size_mb"] = size / 2 ** 20
                    self.log(f"{name:18s} {'end-to-end':10s} median {measured.median_s:.4f}s "
                             f"min {measured.min_s:.4f}s")
                    if options.quality and base not in ("function", "keras", "savedmodel"):
                        outputs = [final_of(example) for example in self.examples]
                        references = self.reference_final[crop]
                        entry["quality"] = quality.image_quality([r["final"] for r in references],
                                                                 [np.asarray(o["final"]) for o in outputs])
                        tryon = quality.image_quality([r["tryon"] for r in references],
                                                      [np.asarray(o["tryon"]) for o in outputs])
                        entry["quality"]["tryon_psnr_db"] = tryon["psnr_db"]
                        entry["quality"]["parsing_argmax_agreement"] = float(np.mean(
                            [np.mean(np.argmax(r["parsing"], -1) == np.argmax(np.asarray(o["parsing"]), -1))
                             for r, o in zip(references, outputs)]))
                        self.log(f"{name:18s} quality vs fp32: PSNR {entry['quality']['psnr_db']:.2f} dB, "
                                 f"SSIM {entry['quality']['ssim']:.4f}")
            except Exception as error:  # one variant failing must not lose the others' figures
                skipped[name] = f"{type(error).__name__}: {error}"
                self.log(f"{name}: failed: {skipped[name][:300]}")
                continue
            entry["setup_and_timing_s"] = time.perf_counter() - started
            report[name] = entry
            self.measure_probe(max(options.probe_runs // 2, 3))
        pooled = probe.merge(self.probes)
        for entry in report.values():
            for measured in list(entry.get("networks", {}).values()) + (
                    [entry["end_to_end"]] if "end_to_end" in entry else []):
                add_machine_fractions(measured, pooled)
        report["machine"] = {**machine_info(options.threads), **pooled.as_dict(),
                             "reference_matmul_gflops": REFERENCE_MATMUL_GFLOPS}
        report["meta"] = {
            "preset": self.config.name, "height": self.config.data.height, "width": self.config.data.width,
            "ngf": self.config.model.ngf, "n_blocks": self.config.model.n_blocks,
            "batch": options.batch, "runs": options.runs, "warmup": options.warmup, "inputs": self.input_source,
            "weights": options.run_dir or f"seeded random (seed {options.seed})", "face_crop": options.face_crop,
            "bf16_networks": [SHORT_NAMES[n] for n in NETWORKS if n in options.bf16_networks],
            "gflops": {("crop" if crop else "full"): {SHORT_NAMES.get(k, k): v / 1e9 for k, v in c.items()}
                       for crop, c in flop_counts.items()},
            # The official figures are for the paper's geometry and widths only.
            "official_seconds": ({SHORT_NAMES.get(k, k): v for k, v in OFFICIAL_SECONDS.items()}
                                 if _is_paper_model(self.config) else {}),
            "python": sys.version.split()[0], "skipped": skipped,
        }
        return report


def _is_paper_model(config) -> bool:
    m, d = config.model, config.data
    return (d.height, d.width, m.ngf, m.gmm_ngf, m.n_blocks, m.block) == (256, 192, 64, 64, 6, "tree")


def add_machine_fractions(measured: Dict[str, float], pooled: probe.MatmulProbe) -> None:
    """Adds the measurement's share of the machine, from wall and from CPU time.

    - `fraction_of_machine`: FLOPs / (min wall time x the probe's best rate),
      both measured in this run under the same load.
    - `cpu_fraction_of_machine`: FLOPs / (min CPU time x the probe's FLOPs per
      CPU second): the same question asked of the work done, which other
      processes on shared cores barely disturb.
    - `est_unloaded_s`: the CPU time scaled by how long the probe's work takes
      on the unloaded machine (REFERENCE_MATMUL_GFLOPS) per CPU second it
      costs here; assumes the work spreads over the threads as well as a
      matmul does (memory-bound ops spread worse, so it is optimistic for
      them). This is the figure to compare with the official seconds.
    """
    measured["fraction_of_machine"] = measured["gflops"] / (measured["min_s"] * pooled.gflops)
    measured["cpu_fraction_of_machine"] = measured["gflops"] / (measured["cpu_min_s"] * pooled.cpu_gflops)
    unloaded_probe_s = pooled.flops / (REFERENCE_MATMUL_GFLOPS * 1e9)
    measured["est_unloaded_s"] = measured["cpu_min_s"] * unloaded_probe_s / pooled.timing.cpu_min_s


def run_benchmark(config, options: BenchOptions) -> Dict[str, object]:
    """Runs the benchmark described by `options` on the networks of `config`; returns the report dict."""
    for name in options.variants:
        parse_variant(name)
    if options.workdir:
        return _Run(config, options).run()
    # SavedModels and .tflite files only live as long as the run.
    with tempfile.TemporaryDirectory(prefix="tfvton_bench_") as workdir:
        return _Run(config, dataclasses.replace(options, workdir=workdir)).run()


# ---------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------

def format_table(report: Dict[str, object]) -> str:
    """A plain-text table: per variant, each network and end to end, with ratios."""
    machine = report["machine"]
    rate = machine["matmul_gflops"]
    variants = [k for k in report if k not in ("machine", "meta", "train", "ablation", "int8_study")]
    baseline = next((v for v in ("savedmodel", "function", "keras") if v in report), None)
    official = report["meta"]["official_seconds"]
    lines = [f"matmul probe (fp32, 2048^2, {machine['threads']} threads): {rate:.1f} GFLOP/s best wall, "
             f"{machine['matmul_gflops_median']:.1f} median, {machine['matmul_cpu_gflops']:.1f} per CPU second "
             f"(unloaded reference {REFERENCE_MATMUL_GFLOPS:.0f})",
             f"{'variant':18s} {'network':11s} {'GFLOPs':>8s} {'median s':>9s} {'min s':>8s} {'cpu min s':>9s} "
             f"{'machine':>7s} {'cpu-mach':>8s} {'speed-up':>8s} {'est. s':>7s} {'official':>8s} {'vs off.':>7s}"]
    for name in variants:
        entry = report[name]
        rows = list(entry.get("networks", {}).items())
        if "end_to_end" in entry:
            rows.append(("end-to-end", entry["end_to_end"]))
        ref_entry = report.get(baseline, {}) if baseline else {}
        for row_name, m in rows:
            ref = (ref_entry.get("end_to_end") if row_name == "end-to-end"
                   else ref_entry.get("networks", {}).get(row_name)) if ref_entry else None
            # CPU-time ratio: stable on shared cores (wall-time ratios are in the JSON).
            ratio = f"{ref['cpu_min_s'] / m['cpu_min_s']:.2f}x" if ref else "-"
            off = official.get("end_to_end" if row_name == "end-to-end" else row_name)
            versus = f"{off / m['est_unloaded_s']:.2f}x" if off else "-"
            lines.append(f"{name:18s} {row_name:11s} {m['gflops']:8.2f} {m['median_s']:9.4f} {m['min_s']:8.4f} "
                         f"{m['cpu_min_s']:9.4f} {m['fraction_of_machine']:7.2f} {m['cpu_fraction_of_machine']:8.2f} "
                         f"{ratio:>8s} {m['est_unloaded_s']:7.3f} {off if off is not None else '-':>8} {versus:>7s}")
        if "quality" in entry:
            q = entry["quality"]
            lines.append(f"{name:18s} quality vs fp32: PSNR {q['psnr_db']:.2f} dB (min {q['psnr_min_db']:.2f}), "
                         f"SSIM {q['ssim']:.4f} (min {q['ssim_min']:.4f}) over {q['images']} images; try-on "
                         f"before face refinement {q.get('tryon_psnr_db', float('nan')):.2f} dB; parsing arg-max "
                         f"agreement {q.get('parsing_argmax_agreement', float('nan')):.4f}")
    lines.append(f"speed-up: CPU-time ratio to {baseline}; est. s: CPU time scaled to the unloaded machine "
                 f"by the probe; vs off.: official seconds / est. s")
    skipped = report["meta"].get("skipped") or {}
    for name, reason in skipped.items():
        lines.append(f"{name}: skipped: {reason}")
    return "\n".join(lines)
