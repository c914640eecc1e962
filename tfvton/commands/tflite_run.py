"""`tfvton tflite-run`: try-on with an exported `.tflite` file through LiteRT (`ai_edge_litert`).

The same inputs and outputs as `tfvton tryon`; the model must be a `.tflite` file written by
`tfvton export --tflite ...` (its config is read from beside it), and `--threads` sets the
interpreter's (XNNPACK) thread count.
"""
from __future__ import annotations

import argparse
import sys

from tfvton.commands import tryon

HELP = "Run an exported .tflite try-on model with LiteRT (same inputs as tryon)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    tryon.add_arguments(parser)
    parser.add_argument("--threads", type=int, default=2, help="interpreter threads (default 2)")


def run(args) -> int:
    if not str(args.model).endswith(".tflite"):
        print(f"tfvton tflite-run: {args.model}: expected a .tflite file (use `tfvton tryon` for run "
              "directories and SavedModels)", file=sys.stderr)
        return 2
    if args.threads < 1:
        print(f"tfvton tflite-run: --threads must be >= 1, got {args.threads}", file=sys.stderr)
        return 2
    return tryon.run(args)
