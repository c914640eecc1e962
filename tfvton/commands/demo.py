"""`tfvton demo` (what `make demo` runs): the whole system end to end in minutes on a CPU.

Generates SynthMPV, trains every stage of Algorithm 1 on a wall-clock budget
(step times are measured as it goes), evaluates the model against two baselines
on the test split, draws try-on grids (test pairs, cross-garment pairs and the
real MPV samples when available), exports SavedModel + TFLite and writes
OUT/report.html with OUT/metrics.json beside it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from tfvton.commands.common import add_config_arguments, add_threads_argument, configure_threads, positive_int
from tfvton.errors import DataError

HELP = "Run the whole system end to end on generated data (report in OUT/report.html)."


def _default_mpv_root():
    # The five real samples shipped next to the checkout (../shared/data/mpv_samples), if present.
    repo = Path(__file__).resolve().parents[2]
    for candidate in (repo.parent / "shared" / "data" / "mpv_samples",
                      Path.cwd().parent / "shared" / "data" / "mpv_samples"):
        if (candidate / "demo.txt").is_file():
            return candidate
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    parser.add_argument("--minutes", type=float, default=15.0,
                        help="wall-clock budget of the whole demo (default: 15)")
    parser.add_argument("--mpv-root", default=None,
                        help="real MPV samples (demo.txt layout); default ../shared/data/mpv_samples if present")
    add_config_arguments(parser, default="small")
    parser.add_argument("--identities", type=positive_int, default=None,
                        help="SynthMPV identities (default per preset)")
    parser.add_argument("--max-steps", type=positive_int, default=5000, help="step cap per stage (default 5000)")
    parser.add_argument("--stages", default=None, type=lambda text: [t for t in text.split(",") if t],
                        help="comma-separated stages to train, or 'all' (default: gmm,parsing,appearance for "
                             "the small preset, whose demo runs without face refinement; all five for smoke)")
    parser.add_argument("--no-export", action="store_true", help="skip the SavedModel / TFLite export")
    parser.add_argument("--no-shipped", action="store_true",
                        help="skip the comparison with the shipped reference model (models/synthmpv-small)")
    parser.add_argument("--seed", type=int, default=0, help="dataset and training seed")
    add_threads_argument(parser, what="CPU threads TensorFlow uses")
    parser.add_argument("--quiet", action="store_true", help="no Keras progress bars during training")


def _summary_table(summary) -> str:
    from tfvton.metrics.evaluation import format_structure_tables, format_table

    lines = ["", "=" * 72, "tfvton demo summary", "=" * 72, format_table(summary["metrics"]), "",
             format_structure_tables(summary["metrics"]), ""]
    lines.append(f"{'phase':<24}{'seconds':>10}  note")
    for p in summary["timings"]:
        lines.append(f"{p['phase']:<24}{p['seconds']:>10.1f}  {p['note']}")
    lines.append(f"{'total':<24}{summary['total_seconds']:>10.1f}  ({summary['total_seconds'] / 60:.1f} min)")
    lines.append("")
    lines.append(f"report:  {summary['report']}")
    lines.append(f"metrics: {Path(summary['report']).parent / 'metrics.json'}")
    lines.append(f"run:     {summary['run_dir']}")
    for kind, info in summary["exports"].items():
        lines.append(f"{kind + ':':<9}{info.get('path', info.get('error'))}")
    return "\n".join(lines)


def run(args) -> int:
    from tfvton.demo.run import run_demo

    mpv_root = args.mpv_root or _default_mpv_root()
    if args.mpv_root and not (Path(args.mpv_root) / "demo.txt").is_file():
        raise DataError(args.mpv_root, "no demo.txt (expected the MPV demo layout: --mpv-root)")
    configure_threads(args.threads)
    summary = run_demo(args.out, minutes=args.minutes, mpv_root=mpv_root, preset=args.config,
                       overrides=args.overrides, identities=args.identities, export=not args.no_export,
                       compare_shipped=not args.no_shipped, stages=args.stages,
                       seed=args.seed, max_steps=args.max_steps, verbose=0 if args.quiet else 1)
    print(_summary_table(summary))
    metrics = summary["metrics"]
    if not all(metrics["model"]["ssim"] > metrics[b]["ssim"] for b in ("baseline_source", "baseline_paste")):
        print("note: the model's SSIM does not beat both baselines with this budget (see the report)")
    return 0
