"""`tfvton ablate`: the paper's baselines as config switches, trained and evaluated on one dataset.

Variants (Table 1 / Table 2 of the paper):

    full                 the paper's model (the given config)
    srb_vton             model.block=resnet: standard ResNet blocks instead of Tree-Blocks (SRB-VTON)
    no_attention_loss    loss.mask=0: no attention (composition-mask) loss
    no_face_refinement   model.face_refinement=false: no face stage; the output is the try-on before
                         face refinement
    no_joint             Algorithm 1 without the joint stage

Each variant trains in OUT/<variant>/ with `tfvton.training.runner.train` (the
`tfvton train` code path, so re-running resumes), is evaluated on the test split
like `tfvton evaluate`, and the table is written to OUT/ablation.json and
OUT/ablation.md. Budgets come from the config (`train.steps`, `train.stage_steps`),
`--steps` sets `train.steps` for every stage.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tfvton.commands.common import (add_config_arguments, add_threads_argument, comma_list, configure_threads,
                                    positive_int)
from tfvton.errors import UsageError

HELP = "Train and evaluate the paper's ablations (SRB-VTON, no attention loss, no face refinement, no joint)."

ALL_STAGES = ("gmm", "parsing", "appearance", "face", "joint")
VARIANTS = {
    "full": ((), ALL_STAGES),
    "srb_vton": (("model.block=resnet",), ALL_STAGES),
    "no_attention_loss": (("loss.mask=0",), ALL_STAGES),
    # The joint stage still updates the face generator; its output is simply not used.
    "no_face_refinement": (("model.face_refinement=false",), ("gmm", "parsing", "appearance", "joint")),
    "no_joint": ((), ("gmm", "parsing", "appearance", "face")),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, default="small")
    parser.add_argument("--data-root", required=True, help="MPV-layout dataset (train and test splits)")
    parser.add_argument("--out", default="runs/ablation", help="output folder (default: runs/ablation)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated subset of {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--steps", type=positive_int, default=None, help="steps per stage (sets train.steps)")
    parser.add_argument("--pairs", default=None, help="pair list (default: DATA_ROOT/data_pair.txt)")
    parser.add_argument("--limit", type=positive_int, default=None, help="evaluate the first N test pairs only")
    add_threads_argument(parser, what="CPU threads TensorFlow uses")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _table(results) -> str:
    lines = ["| variant | stages | SSIM | mask-SSIM | L1 | PSNR |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        m = r["metrics"]["model"]
        lines.append(f"| {name} | {', '.join(r['stages'])} | {m['ssim']:.4f} | {m['mask_ssim']:.4f} | "
                     f"{m['l1']:.4f} | {m['psnr']:.2f} |")
    any_row = next(iter(results.values()))["metrics"]
    for baseline in ("baseline_source", "baseline_paste"):
        m = any_row[baseline]
        lines.append(f"| {baseline} | - | {m['ssim']:.4f} | {m['mask_ssim']:.4f} | {m['l1']:.4f} | "
                     f"{m['psnr']:.2f} |")
    return "\n".join(lines)


def run(args) -> int:
    from tfvton.config import load_config

    names = comma_list(args.variants)
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        raise UsageError(f"--variants must list some of {', '.join(VARIANTS)}. Received: --variants {args.variants}")
    base = list(args.overrides) + ([f"train.steps={args.steps}"] if args.steps else [])
    configs = {name: load_config(args.config, base + list(VARIANTS[name][0])) for name in names}

    configure_threads(args.threads)
    from tfvton.data.layouts import open_dataset
    from tfvton.inference.predictor import KerasPredictor
    from tfvton.metrics.evaluation import evaluate_predictor
    from tfvton.training import runner
    from tfvton.training.inputs import MPVSource

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    # Data and config errors reach tfvton.cli.main: one line on stderr, exit 1.
    for name in names:
        config, stages = configs[name], VARIANTS[name][1]
        run_dir = out / name
        start = time.perf_counter()
        print(f"[ablate] {name}: stages {', '.join(stages)}; overrides {list(VARIANTS[name][0]) or 'none'}")
        data = MPVSource.from_config(args.data_root, config, args.pairs, mode="train")
        for stage in stages:
            runner.train(config, run_dir, data, stage=stage, verbose=0 if args.quiet else 1)
        train_seconds = time.perf_counter() - start
        predictor = KerasPredictor.from_run_dir(run_dir)
        test = open_dataset(args.data_root, args.pairs, "test", config.data, progress=False)
        metrics = evaluate_predictor(predictor, test, limit=args.limit, progress=not args.quiet)
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        results[name] = {"stages": list(stages), "overrides": list(VARIANTS[name][0]), "metrics": metrics,
                         "train_seconds": round(train_seconds, 1), "run_dir": str(run_dir)}
        print(f"[ablate] {name}: SSIM {metrics['model']['ssim']:.4f} "
              f"(trained in {train_seconds:.0f} s)")
    (out / "ablation.json").write_text(json.dumps(results, indent=2) + "\n")
    table = _table(results)
    (out / "ablation.md").write_text(table + "\n")
    print(table)
    print(f"written: {out / 'ablation.json'}, {out / 'ablation.md'}")
    return 0
