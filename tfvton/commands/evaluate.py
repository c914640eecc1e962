"""`tfvton evaluate`: SSIM, mask-SSIM, L1, PSNR (and IS, mask-IS) of a model and two baselines.

Definitions in docs/metrics.md. Writes a JSON file
`{"model": {...}, "baseline_source": {...}, "baseline_paste": {...}, "meta": {...},
"n_requested": N, "n_evaluated": M, "skipped": [{"file", "reason", "line"}]}` and prints a
table. A pair whose file fails the up-front check or only fails when decoded (a JPEG cut
after a valid header, a parsing with label 25) is skipped and listed under `skipped` when
the run's `data.on_bad_sample` is `skip` (the default), and stops the run naming the file
(exit 1) when it is `stop`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Compute SSIM / mask-SSIM / L1 / PSNR (and IS / mask-IS) of a model and two baselines on a split."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", required=True,
                        help="model: a run directory (trained or converted official), an exported SavedModel "
                             "directory or a .tflite file")
    parser.add_argument("--data-root", required=True, help="MPV-layout dataset root")
    parser.add_argument("--pairs", default=None,
                        help="pair list (source target cloth split); default DATA_ROOT/data_pair.txt")
    parser.add_argument("--split", default="test", choices=("test", "train"),
                        help="which split of the pair list to evaluate (test also takes `val`)")
    parser.add_argument("--json", default=None,
                        help="output JSON (default: RUN_DIR/metrics.json when RUN_DIR is a directory)")
    parser.add_argument("--limit", type=int, default=None, help="evaluate the first N pairs only")
    parser.add_argument("--batch-size", type=int, default=8, help="pairs per forward pass (default 8)")
    parser.add_argument("--inception-weights", default=None,
                        help="Keras InceptionV3 weights file (with the classifier) for IS / mask-IS; default: "
                             "Keras' cache if present")
    parser.add_argument("--allow-download", action="store_true",
                        help="let Keras download the ImageNet InceptionV3 weights when no local file exists")
    parser.add_argument("--no-inception", action="store_true", help="skip IS / mask-IS")
    parser.add_argument("--splits", type=int, default=10, help="IS splits (default 10)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def make_scorer(args):
    """The InceptionScorer the arguments ask for, or None (with a note on stderr)."""
    if args.no_inception:
        return None
    from tfvton.metrics.inception_score import InceptionScorer, resolve_weights

    weights = resolve_weights(args.inception_weights, args.allow_download)
    if weights is None:
        print("evaluate: IS / mask-IS skipped: no InceptionV3 weights (pass --inception-weights FILE, or "
              "--allow-download to let Keras fetch them)", file=sys.stderr)
        return None
    return InceptionScorer(weights)


def run(args) -> int:
    from tfvton.data import DataError, MPVDataset
    from tfvton.inference.predictor import load_predictor, read_source_config
    from tfvton.metrics.evaluation import evaluate_predictor, format_table

    try:
        # Data first: a bad pair list or file is reported before the model is loaded.
        config = read_source_config(args.run_dir)
        dataset = MPVDataset.from_config(args.data_root, args.pairs, args.split, config.data,
                                         progress=not args.quiet)
        if not dataset.has_target:
            raise ValueError(f"{dataset.pairs_file}: a demo list (pose JSONs, no target photos) cannot be "
                             f"evaluated; give a list in `source target cloth split` form")
        predictor = load_predictor(args.run_dir)
        scorer = make_scorer(args)
        results = evaluate_predictor(predictor, dataset, limit=args.limit, batch_size=args.batch_size,
                                     scorer=scorer, splits=args.splits, progress=not args.quiet)
    except (DataError, FileNotFoundError, ValueError) as e:
        print(f"tfvton evaluate: {e}", file=sys.stderr)
        return 1
    out = args.json
    if out is None and Path(args.run_dir).is_dir():
        out = str(Path(args.run_dir) / "metrics.json")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(results, indent=2) + "\n")
    print(format_table(results))
    if results["skipped"]:
        print(f"tfvton evaluate: {len(results['skipped'])} of {results['n_requested']} pairs skipped (listed "
              f"under `skipped` in the JSON):", file=sys.stderr)
        for item in results["skipped"]:
            print(f"  {item['file']}: {item['reason']}", file=sys.stderr)
    print(f"{results['n_evaluated']} of {results['n_requested']} pairs of {dataset.pairs_file} ({args.split}); "
          f"model: {predictor.source} ({predictor.kind})" + (f"; written to {out}" if out else ""))
    return 0
