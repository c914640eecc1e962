"""`tfvton export`: SavedModel for TF-Serving (versioned, warmed up) and TFLite/LiteRT models.

Writes
    OUT/<model name>/<version>/            SavedModel: signatures `serving_default`
                                           (uint8 arrays) and `predict_bytes` (JPEG/PNG
                                           strings), warm-up requests in assets.extra/
    OUT/tflite/<version>/<model name>_<variant>.tflite   with --tflite

and, with --tflite, prints each variant's size, CPU latency and accuracy
against the fp32 model on the calibration inputs.

Example:
    tfvton export --run-dir runs/official --out models --version 1 --tflite fp32,fp16,int8
"""
from __future__ import annotations

import argparse
import os

from tfvton.commands.common import (add_threads_argument, comma_list, configure_threads, int8_float_networks,
                                    positive_int)
from tfvton.errors import UsageError

HELP = "Export SavedModel (TF-Serving) and TFLite models."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", required=True,
                        help="run directory (config.yaml + weights/), e.g. from train or convert-official")
    parser.add_argument("--out", required=True, help="output root; TF-Serving's base_path is OUT/<model name>")
    parser.add_argument("--version", type=positive_int, required=True, help="model version (positive integer)")
    parser.add_argument("--model-name", default="tfvton", help="served model name (default: tfvton)")
    parser.add_argument("--intermediates", action="store_true",
                        help="also return warped_cloth, coarse, composition_mask, tryon, final (float32)")
    parser.add_argument("--tflite", default="", metavar="VARIANTS",
                        help="comma-separated TFLite variants to write: fp32,fp16,int8")
    parser.add_argument("--representative-data", metavar="MPV_ROOT",
                        help="MPV-layout folder for int8 calibration and the accuracy report: the run's training "
                             "data root (real MPV or `tfvton synth` output; its train pairs, else its demo list) "
                             "(default: synthetic people drawn at the model size)")
    parser.add_argument("--representative-count", type=positive_int, default=8,
                        help="calibration examples (default 8)")
    parser.add_argument("--int8-quantize-warp", action="store_true",
                        help="int8: quantise the warp too (default: the TPS grid, sampling coordinates and "
                             "bilinear gathers stay float, the main int8 error source otherwise)")
    parser.add_argument("--int8-quantize-norm", action="store_true",
                        help="int8: quantise instance norm too (default: kept float; quantised it costs as much as "
                             "the convolutions)")
    parser.add_argument("--int8-float-ops", default="", metavar="OPS",
                        help="int8: TFLite op names also kept in float, comma-separated (e.g. GATHER)")
    parser.add_argument("--int8-float-networks", default="", metavar="NETWORKS",
                        help="int8: sub-networks kept in float, comma-separated: a generator (e.g. gmm: its int8 "
                             "TPS offsets moved the garment on a trained mobile model, docs/benchmarks.md) or a "
                             "layer path in one (e.g. gmm/regression)")
    add_threads_argument(parser, default=2, what="CPU threads for the export and the TFLite latency report")
    parser.add_argument("--max-image-bytes", type=positive_int, default=None,
                        help="largest encoded image predict_bytes accepts (default 4 MiB)")
    parser.add_argument("--no-warmup", action="store_true", help="skip assets.extra/tf_serving_warmup_requests")
    parser.add_argument("--warmup-batch-sizes", default="1", metavar="SIZES",
                        help="batch sizes the warm-up requests cover, e.g. 1,2,4,8 to match the server's "
                             "allowed_batch_sizes (default: 1)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing version directory")
    parser.add_argument("--no-freeze", action="store_true",
                        help="save the networks' variables instead of the frozen graph (default: frozen; "
                             "faster to serve, the weights live in saved_model.pb)")


def run(args) -> int:
    variants = comma_list(args.tflite)
    float_networks = int8_float_networks(args.int8_float_networks)  # checked before the slow export
    from tfvton.export import tflite as tflite_lib

    unknown = [v for v in variants if v not in tflite_lib.VARIANTS]
    if unknown:
        raise UsageError(f"--tflite must list variants among {', '.join(tflite_lib.VARIANTS)}. "
                         f"Received: --tflite {args.tflite} (unknown: {', '.join(unknown)})")
    try:
        warmup_sizes = [int(v) for v in comma_list(args.warmup_batch_sizes)]
    except ValueError:
        warmup_sizes = []
    if not warmup_sizes or min(warmup_sizes) <= 0:
        raise UsageError(f"--warmup-batch-sizes must be comma-separated positive integers. "
                         f"Received: --warmup-batch-sizes {args.warmup_batch_sizes}")

    from tfvton.export import saved_model
    from tfvton.run_dir import RunDir

    configure_threads(args.threads)
    # A missing or unreadable run directory reaches tfvton.cli.main: one line on stderr, exit 1.
    run = RunDir(args.run_dir)
    config = run.load_config()
    pipeline = run.load_pipeline(config)

    kwargs = {}
    if args.max_image_bytes is not None:
        kwargs["max_image_bytes"] = args.max_image_bytes
    try:
        version_dir = saved_model.export_saved_model(
            pipeline, config, args.out, args.model_name, args.version, args.intermediates,
            warmup=not args.no_warmup, warmup_batch_sizes=warmup_sizes, overwrite=args.overwrite,
            freeze=not args.no_freeze, **kwargs)
    except FileExistsError as error:
        raise UsageError(f"{error} (--overwrite)") from None
    print(f"SavedModel: {version_dir}")
    print("  signatures: serving_default (uint8 arrays), predict_bytes (JPEG/PNG strings)")
    print(f"  networks:   {'variables (--no-freeze)' if args.no_freeze else 'frozen graph (weights as constants)'}")
    print(f"  serve it:   docker compose -f serving/docker-compose.yml up   (MODEL_DIR={os.path.abspath(args.out)})")

    if not variants:
        return 0
    raw = tflite_lib.representative_raw_inputs(config, args.representative_data, args.representative_count)
    out_dir = os.path.join(args.out, "tflite", str(args.version))
    keep_float = comma_list(args.int8_float_ops)
    try:
        paths = tflite_lib.export_tflite(pipeline, config, out_dir, variants, args.model_name, raw,
                                         not args.int8_quantize_warp, keep_float, log=print,
                                         keep_norm_float=not args.int8_quantize_norm,
                                         keep_float_networks=float_networks)
    except ValueError as error:  # e.g. an --int8-float-networks layer path the model does not have
        raise UsageError(str(error)) from None
    models = dict(paths)
    if "fp32" not in models:  # the reference for the accuracy report
        models = {"fp32": tflite_lib.convert(pipeline, config, "fp32"), **models}
    table = tflite_lib.measure_variants(models, config, raw, num_threads=args.threads)
    source = args.representative_data or "synthetic people"
    print(f"TFLite accuracy against fp32 on {args.representative_count} inputs from {source} "
          f"({config.data.height}x{config.data.width}, {args.threads} threads):")
    print(tflite_lib.format_table(table))
    return 0
