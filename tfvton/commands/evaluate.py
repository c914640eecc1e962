"""`tfvton evaluate`: image and structure metrics of a model and two baselines.

Image metrics: SSIM, mask-SSIM, L1, PSNR (and IS, mask-IS, FID, KID with
InceptionV3 weights); structure metrics: parsing pixel accuracy, mIoU,
per-class IoU, warped-cloth IoU. Definitions in docs/metrics.md. Writes a JSON
file `{"model": {...}, "baseline_source": {...}, "baseline_paste": {...}, "meta": {...},
"n_requested": N, "n_evaluated": M, "skipped": [{"file", "reason", "line"}]}` and prints the
tables. A pair whose file fails the up-front check or only fails when decoded (a JPEG cut
after a valid header, a parsing with label 25) is skipped and listed under `skipped` when
the run's `data.on_bad_sample` is `skip` (the default), and stops the run naming the file
(exit 1) when it is `stop`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tfvton.commands.common import (add_batch_size_argument, add_model_argument, add_threads_argument,
                                    configure_threads, positive_int)

HELP = ("Compute SSIM / mask-SSIM / L1 / PSNR (and IS / FID / KID), parsing mIoU / per-class IoU and "
        "warped-cloth IoU of a model and two baselines on a split.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--data-root", required=True, help="dataset root (MPV or VITON-HD layout, detected)")
    parser.add_argument("--pairs", default=None,
                        help="pair list (source target cloth split); default DATA_ROOT/data_pair.txt")
    parser.add_argument("--split", default="test", choices=("test", "train"),
                        help="which split of the pair list to evaluate (test also takes `val`)")
    parser.add_argument("--json", default=None,
                        help="output JSON (default: MODEL/metrics.json when MODEL is a directory)")
    parser.add_argument("--limit", type=positive_int, default=None, help="evaluate the first N pairs only")
    add_batch_size_argument(parser, default=8)
    add_threads_argument(parser)
    parser.add_argument("--inception-weights", default=None,
                        help="Keras InceptionV3 weights file (with the classifier) for IS / mask-IS / FID / KID; default: "
                             "Keras' cache if present")
    parser.add_argument("--allow-download", action="store_true",
                        help="let Keras download the ImageNet InceptionV3 weights when no local file exists")
    parser.add_argument("--no-inception", action="store_true", help="skip IS / mask-IS / FID / KID")
    parser.add_argument("--splits", type=positive_int, default=10, help="IS splits (default 10)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def make_scorer(args):
    """The InceptionScorer the arguments ask for, or None (with a note on stderr)."""
    if args.no_inception:
        return None
    from tfvton.metrics.inception_score import InceptionScorer, resolve_weights

    weights = resolve_weights(args.inception_weights, args.allow_download)
    if weights is None:
        print("evaluate: IS / mask-IS / FID / KID skipped: no InceptionV3 weights (pass --inception-weights FILE, or "
              "--allow-download to let Keras fetch them)", file=sys.stderr)
        return None
    return InceptionScorer(weights)


def run(args) -> int:
    from tfvton.data import DataError
    from tfvton.data.layouts import open_dataset
    from tfvton.inference.predictor import load_predictor, read_source_config
    from tfvton.metrics.evaluation import evaluate_predictor, format_structure_tables, format_table

    configure_threads(args.threads)  # before TensorFlow runs its first op
    # Data first: a bad pair list or file is reported before the model is loaded. Input errors reach
    # tfvton.cli.main: one line on stderr, exit 1.
    config = read_source_config(args.model)
    dataset = open_dataset(args.data_root, args.pairs, args.split, config.data, progress=not args.quiet)
    if not dataset.has_target:
        raise DataError(dataset.pairs_file, "a demo list (pose JSONs, no target photos) cannot be evaluated; "
                                            "give a list in `source target cloth split` form")
    predictor = load_predictor(args.model, num_threads=args.threads or 2)
    scorer = make_scorer(args)
    results = evaluate_predictor(predictor, dataset, limit=args.limit, batch_size=args.batch_size,
                                 scorer=scorer, splits=args.splits, progress=not args.quiet)
    out = args.json
    if out is None and Path(args.model).is_dir():
        out = str(Path(args.model) / "metrics.json")
    if out:
        from tfvton.atomic_file import atomic_write

        text = json.dumps(results, indent=2) + "\n"
        atomic_write(out, lambda scratch: scratch.write_text(text), "--json")
    print(format_table(results))
    print()
    print(format_structure_tables(results))
    if results["skipped"]:
        print(f"tfvton evaluate: {len(results['skipped'])} of {results['n_requested']} pairs skipped (listed "
              f"under `skipped` in the JSON):", file=sys.stderr)
        for item in results["skipped"]:
            print(f"  {item['file']}: {item['reason']}", file=sys.stderr)
    print(f"{results['n_evaluated']} of {results['n_requested']} pairs of {dataset.pairs_file} ({args.split}); "
          f"model: {predictor.source} ({predictor.kind})" + (f"; written to {out}" if out else ""))
    return 0
