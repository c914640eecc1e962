"""`tfvton preview`: write a PNG grid of dataset samples to check the data by eye."""
from __future__ import annotations

import sys

from tfvton.commands.common import add_config_arguments, positive_int

HELP = "Write a PNG grid of dataset samples to check the data by eye."


def add_arguments(parser):
    parser.add_argument("--data-root", required=True, help="dataset root, MPV or VITON-HD layout (detected from its folders)")
    parser.add_argument("--pairs", default=None,
                        help="pair list (default: demo.txt when present, else data_pair.txt)")
    parser.add_argument("--mode", choices=("train", "test", "demo"), default=None,
                        help="default: demo when the list's 2nd column is a pose JSON, else train")
    parser.add_argument("--n", type=positive_int, default=8, help="number of examples (rows), default 8")
    parser.add_argument("--out", default="preview.png", help="output PNG (default: preview.png)")
    add_config_arguments(parser)


def run(args) -> int:
    import logging

    from tfvton.commands.common import load_config_from_args

    # Config and data errors reach tfvton.cli.main: one line on stderr, exit 1. The config
    # first: a bad one is reported before TensorFlow loads.
    config = load_config_from_args(args)
    from tfvton.data.counting import SkipLog
    from tfvton.data.layouts import choose_pairs_and_mode, open_dataset
    from tfvton.data.preview import write_preview

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    pairs, mode = choose_pairs_and_mode(args.data_root, args.pairs, args.mode, prefer="demo.txt")
    dataset = open_dataset(args.data_root, pairs, mode, config.data)
    skips = SkipLog(dataset.on_bad_sample, label="preview")
    out = write_preview(dataset, args.out, n=args.n, skips=skips)
    shown = min(args.n, len(dataset) - len(skips))
    # The up-front check's drops and the decoding failures, each named.
    skipped = [(error.path, error.problem) for _, error in dataset.bad_samples]
    skipped += [(item.file, item.reason) for item in skips.skipped]
    for path, problem in skipped:
        print(f"tfvton preview: skipped {path}: {problem}", file=sys.stderr)
    note = f"; {len(skipped)} pair(s) skipped" if skipped else ""
    print(f"wrote {out} ({shown} {mode} examples from {dataset.pairs_file}{note})")
    return 0
