"""`tfvton bench`: every variant of every network and of the whole pipeline, timed in one process.

A run builds the four generators of a preset (seeded random weights, or a run
directory's), reads real-format inputs (MPV-layout files through
`MPVDataset`, else synthetic people), counts each network's FLOPs from its
traced graph, and times each requested variant per network and end to end,
probing the machine's fp32 matmul rate before and between variants. Every
latency is also a fraction of that rate: FLOPs / (time x rate).

Variants (names and the `+crop` / `+frozen` suffixes: `tfvton.bench.variants`):
- `keras`: eager Keras calls.
- `function`: `tf.function` with fixed input signatures (traced once).
- `xla`: the same with `jit_compile=True`.
- `savedmodel`: what `tfvton export` writes, reloaded: per network, its
  function frozen (`tfvton.export.frozen`) and saved; end to end,
  the exported SavedModel's `serving_default` signature on the raw uint8
  client arrays of the same examples (in-graph preprocessing and input checks
  included), i.e. what TF-Serving runs.
- `savedmodel-unfrozen`: the same saved from variables (`tfvton export --no-freeze`).
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
  measured in `tfvton.bench.int8_study`, both the exporter's defaults. End to
  end, int8 is calibrated on `calibration_root`'s training pairs when given
  (the run's data), else on the timed examples.

With `official_repo`, the official PyTorch release's four networks and
`demo.py`'s forward are timed in the same run (`tfvton.bench.official`),
under the key `official`; the table prints each variant's speed-up over it.

The report (`run_benchmark`) is a dict: one key per variant,
`{"end_to_end": {"median_s", "min_s", ...}, "networks": {name: {"median_s",
"min_s", "gflops", "fraction_of_machine", ...}}, "quality": {...}}`, plus
`machine` (`matmul_gflops`, CPU flags, threads) and `meta` (with
`reference`: the official release's timings and the machine and date they
were measured on, `tfvton.bench.reference`, for the paper geometry only).

The pieces: `inputs` (real-format model tensors, each generator's input),
`precisions` (the generators in fp32 / bf16, the pipeline on them),
`callables` (traced, frozen, saved or TFLite callables), `machine` (threads,
CPU flags, shares of the machine), `table` (the printed table); this module
runs the loop.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import tensorflow as tf

from tfvton.bench import callables as fns
from tfvton.bench import flops as flops_lib
from tfvton.bench import memory, official, probe, quality, timing
from tfvton.bench.inputs import (capture_network_inputs, network_arguments, real_format_examples, real_format_raw,
                                 stack_batch, stack_raw)
from tfvton.bench.machine import add_machine_fractions, configure_threads, machine_info
from tfvton.bench.precisions import build_generators, make_pipeline
from tfvton.bench.reference import OFFICIAL_RELEASE
from tfvton.bench.table import format_table
from tfvton.bench.variants import (DEFAULT_VARIANTS, NETWORKS, QUALITY_KEYS, SAVEDMODEL_VARIANTS, SHORT_NAMES,
                                   VARIANTS, parse_variant)
from tfvton.export import graph, saved_model, tflite as export_tflite

# Used by `tfvton bench` (commands/bench.py) through this module.
__all__ = ["BenchOptions", "DEFAULT_VARIANTS", "VARIANTS", "configure_threads", "format_table", "parse_variant",
           "real_format_examples", "run_benchmark"]


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
        int8_float_networks: sub-networks `tflite-int8` end to end keeps in float (as `tfvton export
            --int8-float-networks`: a generator or a layer path in one).
        seed: weights and synthetic inputs.
        probe_runs: matmul probe runs at the start (and half of it between variants).
        workdir: where SavedModels and .tflite files go and stay (None: a temporary directory,
            removed at the end of the run).
        official_repo: a local clone of the official release to time in the same run (None: not timed).
        calibration_root: an MPV-layout data root whose train pairs calibrate int8 end to end
            (None: the timed examples).
        calibration_count: calibration examples drawn from `calibration_root`.
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
    int8_float_networks: Sequence[str] = ()
    seed: int = 0
    probe_runs: int = 10
    workdir: Optional[str] = None
    official_repo: Optional[str] = None
    calibration_root: Optional[str] = None
    calibration_count: int = 16
    log: Optional[Callable[[str], None]] = None


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
        self._raw_batch = None
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

    def raw_batch(self):
        """The timed batch as raw client arrays (what an exported SavedModel takes)."""
        if self._raw_batch is None:
            raw = real_format_raw(self.config, self.options.mpv_root, count=len(self.examples),
                                  seed=self.options.seed)
            self._raw_batch = stack_raw(raw, self.options.batch)
        return self._raw_batch

    def calibration_examples(self):
        """int8 calibration inputs: the training data's pairs when given, else the timed examples."""
        if not self.options.calibration_root:
            return self.examples
        raw = export_tflite.representative_raw_inputs(self.config, self.options.calibration_root,
                                                      self.options.calibration_count, split="train")
        return export_tflite.model_inputs_from_raw(raw, self.config)

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
            function = fns.network_function(network, name, fns.specs(arrays), jit_compile=base == "xla")
            if self.frozen:
                function = fns.freeze(function)
            if base in SAVEDMODEL_VARIANTS:
                directory = os.path.join(self.workdir, f"{base}_{name}{'_crop' if crop else ''}")
                if base == "savedmodel":  # as `tfvton export` saves it: frozen, no variables
                    function = fns.saved(fns.exported_form(function), [], directory, self.keep_alive)
                else:
                    function = fns.saved(function, graph.plain_variables(network), directory, self.keep_alive)
            if base.startswith("tflite-"):
                variant = base.split("-", 1)[1]
                model = fns.tflite_convert(function, graph.plain_variables(network), variant,
                                        self.calibration[crop][name] if variant == "int8" else None)
                path = os.path.join(self.workdir, f"{name}{'_crop' if crop else ''}_{variant}.tflite")
                Path(path).write_bytes(model)
                self.sizes.setdefault(name, os.path.getsize(path))
                callables[name] = fns.tflite_callable(model, tensors, self.options.threads)
                continue
            callables[name] = lambda f=function, t=tensors: f(*t)
        return callables

    def end_to_end_callable(self, base: str, crop: bool):
        """(callable on the timed batch, callable example -> final image, model size or None)."""
        if base.startswith("tflite-"):
            variant = base.split("-", 1)[1]
            if self.options.batch != 1:
                raise NotImplementedError("the TFLite export is batch 1")
            pipeline = self.pipeline("fp32", crop)
            # The exporter's own choices: slice padding, instance norm and the warp float in int8.
            int8 = variant == "int8"
            model = export_tflite.convert(pipeline, self.config, variant,
                                          representative=self.calibration_examples() if int8 else None,
                                          keep_float_networks=self.options.int8_float_networks if int8 else ())
            path = os.path.join(self.workdir, f"tfvton{'_crop' if crop else ''}_{variant}.tflite")
            Path(path).write_bytes(model)
            runner = export_tflite.TFLiteRunner(model, self.config, num_threads=self.options.threads)
            batch = self.batch_inputs
            return (lambda: runner(batch)), (lambda example: runner(example)), os.path.getsize(path)
        if base in SAVEDMODEL_VARIANTS:
            return self.exported_callable(base, crop)
        precision = "bf16" if base == "bf16" else "fp32"
        pipeline = self.pipeline(precision, crop)
        if base == "keras":
            batch = self.batch_inputs
            return (lambda: pipeline(batch, training=False)), (
                lambda example: pipeline(example, training=False)), None
        function = fns.pipeline_function(pipeline, self.batch_inputs, jit_compile=base == "xla")
        if self.frozen:
            function = fns.freeze(function)
        batch = self.batch_inputs
        if self.options.batch == 1:
            final = lambda example: function(example)  # noqa: E731
        else:
            final = lambda example: {k: v[:1] for k, v in  # noqa: E731
                                     function(stack_batch([example], self.options.batch)).items()}
        return (lambda: function(batch)), final, None

    def exported_callable(self, base: str, crop: bool):
        """`tfvton export`'s SavedModel of the pipeline, reloaded: its `serving_default` on the raw batch."""
        directory = os.path.join(self.workdir, f"export{'_crop' if crop else ''}_{base}")
        version_dir = saved_model.export_saved_model(self.pipeline("fp32", crop), self.config, directory, "tfvton",
                                                     1, warmup=False, overwrite=True, freeze=base == "savedmodel")
        loaded = tf.saved_model.load(version_dir)
        self.keep_alive.append(loaded)
        serve = loaded.signatures["serving_default"]
        raw = {key: tf.constant(value) for key, value in self.raw_batch().items()}
        size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(version_dir) for f in files)
        return (lambda: serve(**raw)), None, size

    def flops(self, crop: bool) -> Dict[str, int]:
        inputs = self.inputs_for(crop)
        counts = {}
        for name in NETWORKS:
            function = fns.network_function(self.networks32[name], name, fns.specs(inputs[name]))
            counts[name] = flops_lib.concrete_flops(function.get_concrete_function())
        function = fns.pipeline_function(self.pipeline("fp32", crop), self.batch_inputs)
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
        if options.official_repo:
            flop_counts[False] = self.flops(False)
            entry = official.time_official(options.official_repo, self.config, self.batch_inputs, options.threads,
                                           options.runs, options.warmup, options.networks, options.end_to_end,
                                           options.seed, self.log)
            # FLOPs of tfvton's graph: the release computes the Tree-Block fusions unfolded (~7% more there).
            for key, measured in entry.get("networks", {}).items():
                measured["gflops"] = flop_counts[False][{v: k for k, v in SHORT_NAMES.items()}[key]] / 1e9
            if "end_to_end" in entry:
                entry["end_to_end"]["gflops"] = flop_counts[False]["end_to_end"] / 1e9
            report["official"] = entry
            self.measure_probe(max(options.probe_runs // 2, 3))
        for name in options.variants:
            base, crop, frozen = parse_variant(name)
            crop = crop or self.config.model.face_mode == "crop"
            self.frozen = frozen
            if base.startswith("tflite-"):
                reason = fns.tflite_available()
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
                    if options.quality and base not in ("function", "keras") + SAVEDMODEL_VARIANTS:
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
        report["machine"] = {**machine_info(options.threads), **pooled.as_dict()}
        report["meta"] = {
            "preset": self.config.name, "height": self.config.data.height, "width": self.config.data.width,
            "ngf": self.config.model.ngf, "n_blocks": self.config.model.n_blocks,
            "batch": options.batch, "runs": options.runs, "warmup": options.warmup, "inputs": self.input_source,
            "weights": options.run_dir or f"seeded random (seed {options.seed})", "face_crop": options.face_crop,
            "bf16_networks": [SHORT_NAMES[n] for n in NETWORKS if n in options.bf16_networks],
            "gflops": {("crop" if crop else "full"): {SHORT_NAMES.get(k, k): v / 1e9 for k, v in c.items()}
                       for crop, c in flop_counts.items()},
            # The official release's timings, measured once on one machine, for the paper geometry only.
            "reference": OFFICIAL_RELEASE.as_dict() if OFFICIAL_RELEASE.applies_to(self.config) else {},
            "python": sys.version.split()[0], "skipped": skipped,
        }
        return report


def run_benchmark(config, options: BenchOptions) -> Dict[str, object]:
    """Runs the benchmark described by `options` on the networks of `config`; returns the report dict."""
    for name in options.variants:
        parse_variant(name)
    if options.workdir:
        return _Run(config, options).run()
    # SavedModels and .tflite files only live as long as the run.
    with tempfile.TemporaryDirectory(prefix="tfvton_bench_") as workdir:
        return _Run(config, dataclasses.replace(options, workdir=workdir)).run()
