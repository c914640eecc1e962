"""`tfvton bench`: latency, FLOPs, memory and quality of every variant of every network.

Example:
    tfvton bench --config paper --variants savedmodel,bf16,bf16+crop,tflite-int8 --json bench.json
"""
from __future__ import annotations

import argparse
import json

from tfvton.commands.common import (add_batch_size_argument, add_config_arguments, add_deprecated_alias,
                                    add_threads_argument, configure_threads, int8_float_networks, non_negative_int,
                                    positive_int)
from tfvton.errors import UsageError

HELP = "Benchmark latency, memory and FLOPs of every network."


def _csv(text: str):
    return tuple(part.strip() for part in text.split(",") if part.strip() and part.strip() != "none")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    add_deprecated_alias(parser, "--preset", "--config", dest="config")
    parser.add_argument("--variants", type=_csv, default=None,
                        help="comma-separated: keras, function, xla, savedmodel (what `tfvton export` writes), "
                             "savedmodel-unfrozen (export --no-freeze), bf16, tflite-fp32, tflite-fp16, tflite-int8, "
                             "each optionally +crop (face refinement on a crop); none for only --train / "
                             "--ablation / --serving (default: function,savedmodel,bf16)")
    add_batch_size_argument(parser, default=1, what="examples")
    add_deprecated_alias(parser, "--batch", "--batch-size", dest="batch_size", type=positive_int)
    parser.add_argument("--runs", type=positive_int, default=10, help="timed runs per measurement (default 10)")
    parser.add_argument("--warmup", type=non_negative_int, default=2, help="untimed runs first (default 2)")
    add_threads_argument(parser, default=2, what="intra-op / interpreter threads")
    parser.add_argument("--mpv-root", default=None,
                        help="MPV-layout inputs (default: the five real samples when present, else synthetic)")
    parser.add_argument("--synthetic", action="store_true", help="use synthetic people even when samples exist")
    parser.add_argument("--run-dir", default=None,
                        help="load the generators from this run directory (default: seeded random weights)")
    add_deprecated_alias(parser, "--run", "--run-dir", dest="run_dir")
    parser.add_argument("--face-crop", type=positive_int, default=None,
                        help="crop side for +crop variants (default: model.face_crop of the preset)")
    parser.add_argument("--bf16-networks", type=_csv, default=("appearance_generator", "face_generator"),
                        help="generators the bf16 variants run in bf16, the others stay fp32 (default: "
                             "appearance_generator,face_generator; the GMM's grid and the parsing's arg-max are "
                             "precision-sensitive)")
    parser.add_argument("--int8-float-networks", default="", metavar="NETWORKS",
                        help="tflite-int8 end to end: sub-networks kept in float, as `tfvton export "
                             "--int8-float-networks` (e.g. gmm or gmm/regression)")
    parser.add_argument("--no-networks", action="store_true", help="only time the whole pipeline")
    parser.add_argument("--no-end-to-end", action="store_true", help="only time the networks one by one")
    parser.add_argument("--no-quality", action="store_true", help="skip PSNR/SSIM against fp32")
    parser.add_argument("--train", action="store_true",
                        help="also time one training step per stage (see tfvton.bench.train)")
    parser.add_argument("--train-stages", type=_csv, default=("appearance",),
                        help="stages timed by --train (default: appearance; any of gmm, parsing, appearance, "
                             "face, joint)")
    parser.add_argument("--ablation", action="store_true",
                        help="also time the Tree generator's fp32 optimisations one by one")
    parser.add_argument("--serving", action="store_true",
                        help="also measure try-ons per second of the exported SavedModel by batch size and batches "
                             "in flight (tfvton.bench.serving)")
    parser.add_argument("--serving-batch-sizes", type=_csv, default=("1", "4", "8"),
                        help="batch sizes for --serving (default 1,4,8)")
    parser.add_argument("--serving-concurrency", type=_csv, default=("1", "2"),
                        help="batches in flight for --serving (default 1,2)")
    parser.add_argument("--int8-study", action="store_true",
                        help="also time a Tree-Block branch piece by piece in TFLite fp32 / int8 "
                             "(tfvton.bench.int8_study)")
    parser.add_argument("--official-repo", default=None, metavar="PATH",
                        help="a local clone of the official PyTorch release: time its four networks and demo.py's "
                             "forward with torch in this run, and print each variant's speed-up over it "
                             "(paper geometry only)")
    parser.add_argument("--calibration-data", default=None, metavar="MPV_ROOT",
                        help="int8 variants end to end: calibrate on this data root's train pairs (the run's "
                             "training data) instead of the timed examples")
    parser.add_argument("--seed", type=int, default=0, help="weights and synthetic inputs (default 0)")
    parser.add_argument("--workdir", default=None, help="keep SavedModels / .tflite files here")
    parser.add_argument("--json", default=None, help="write the report as JSON to this path")


def run(args) -> int:
    import os
    import sys
    from pathlib import Path

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tfvton.commands.common import load_config_from_args

    config = load_config_from_args(args)  # a config error is reported before TensorFlow loads
    configure_threads(args.threads)  # before TensorFlow runs anything
    from tfvton.bench import runner

    if args.official_repo:
        from tfvton.bench import official

        official.check_geometry(config)
    for variant in () if args.variants is None else args.variants:
        try:
            runner.parse_variant(variant)
        except ValueError as error:
            raise UsageError(f"--variants: {error}") from None
    mpv_root = None if args.synthetic else args.mpv_root
    if mpv_root is None and not args.synthetic:
        default = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mpv_samples"
        mpv_root = str(default) if (default / "demo.txt").exists() else None
    face_crop = args.face_crop or config.model.face_crop
    options = runner.BenchOptions(
        variants=runner.DEFAULT_VARIANTS if args.variants is None else args.variants, batch=args.batch_size,
        runs=args.runs, warmup=args.warmup, threads=args.threads, networks=not args.no_networks,
        end_to_end=not args.no_end_to_end, quality=not args.no_quality, mpv_root=mpv_root,
        run_dir=args.run_dir, face_crop=face_crop, bf16_networks=args.bf16_networks,
        int8_float_networks=int8_float_networks(args.int8_float_networks), seed=args.seed,
        workdir=args.workdir, official_repo=args.official_repo, calibration_root=args.calibration_data,
        log=lambda message: print(message, file=sys.stderr, flush=True))
    report = runner.run_benchmark(config, options)
    if args.train:
        from tfvton.bench import train as train_bench

        examples, _ = runner.real_format_examples(config, mpv_root)
        report["train"] = train_bench.run_train_benchmark(config, examples, stages=args.train_stages,
                                                          batch=args.batch_size, runs=args.runs, warmup=args.warmup,
                                                          log=options.log)
    if args.ablation:
        from tfvton.bench import ablation

        report["ablation"] = ablation.run_ablation(config, runs=args.runs, log=options.log)
    if args.serving:
        import tempfile

        from tfvton.bench import serving
        from tfvton.bench.inputs import real_format_raw
        from tfvton.bench.precisions import build_generators, make_pipeline

        try:
            batch_sizes = [int(v) for v in args.serving_batch_sizes]
            concurrency = [int(v) for v in args.serving_concurrency]
        except ValueError:
            batch_sizes = concurrency = []
        if not batch_sizes or not concurrency or min(batch_sizes + concurrency) <= 0:
            raise UsageError("--serving-batch-sizes and --serving-concurrency must be comma-separated positive "
                             f"integers. Received: {','.join(args.serving_batch_sizes)} and "
                             f"{','.join(args.serving_concurrency)}")
        pipeline = make_pipeline(config, build_generators(config, args.run_dir, args.seed),
                                 face_crop if config.model.face_mode == "crop" else None)
        raw = real_format_raw(config, mpv_root, count=max(batch_sizes), seed=args.seed)
        with tempfile.TemporaryDirectory(prefix="tfvton_serving_", dir=args.workdir) as workdir:
            report["serving"] = serving.run_serving_benchmark(
                config, pipeline, raw, workdir, batch_sizes, concurrency, calls=max(args.runs // 3, 1),
                warmup=min(args.warmup, 1), log=options.log)
    if args.int8_study:
        from tfvton.bench import int8_study

        report["int8_study"] = int8_study.run_int8_study(threads=args.threads, runs=args.runs, log=options.log)
    print(runner.format_table(report))
    if "train" in report:
        print(train_bench.format_table(report["train"]))
    if "ablation" in report:
        print(ablation.format_table(report["ablation"]))
    if "int8_study" in report:
        print(int8_study.format_table(report["int8_study"]))
    if "serving" in report:
        print(serving.format_table(report["serving"]))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2, sort_keys=False))
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
