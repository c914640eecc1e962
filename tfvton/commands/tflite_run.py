"""`tfvton tflite-run`: try-on with an exported `.tflite` file through LiteRT (`ai_edge_litert`).

The same inputs, outputs and flags as `tfvton tryon`; the model must be a `.tflite` file written by
`tfvton export --tflite ...` (its config is read from beside it), and `--threads` sets the
interpreter's (XNNPACK) thread count.
"""
from __future__ import annotations

import argparse

from tfvton.commands import tryon
from tfvton.errors import UsageError

HELP = "Run an exported .tflite try-on model with LiteRT (same inputs as tryon)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    tryon.add_arguments(parser)


def run(args) -> int:
    if not str(args.model).endswith(".tflite"):
        raise UsageError(f"--model must be a .tflite file (use `tfvton tryon` for run directories and "
                         f"SavedModels). Received: --model {args.model}")
    return tryon.run(args)
