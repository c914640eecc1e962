"""`tfvton` command line: one subcommand per module in `tfvton/commands/`.

Each command module defines `HELP` (one line), `add_arguments(parser)` and
`run(args) -> int`. Modules are imported only when their command runs, so
`tfvton --help` stays fast and a command's heavy imports (TensorFlow) are paid
only by the commands that need them.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

# name on the command line -> module in tfvton.commands, one-line help.
COMMANDS = {
    "synth": ("synth", "Generate a SynthMPV dataset in the MPV layout."),
    "prepare": ("prepare", "Write sharded TFRecords from an MPV-layout dataset."),
    "preview": ("preview", "Write a PNG grid of dataset samples to check the data by eye."),
    "train": ("train", "Train the networks by stages (Algorithm 1)."),
    "tryon": ("tryon", "Run the try-on pipeline on an MPV root or on single files."),
    "pose": ("pose", "Compute OpenPose COCO-18 keypoints from photos (BlazePose)."),
    "models": ("models", "Fetch the pose models (BlazePose, selfie segmentation) into the cache."),
    "evaluate": ("evaluate", "Compute SSIM / IS on a test split."),
    "export": ("export", "Export SavedModel (TF-Serving) and TFLite models."),
    "client": ("client", "Send a try-on request to a TF-Serving server (gRPC or REST)."),
    "tflite-run": ("tflite_run", "Run an exported .tflite try-on model with LiteRT (same inputs as tryon)."),
    "convert-official": ("convert_official", "Convert the official PyTorch checkpoints to Keras."),
    "bench": ("bench", "Benchmark latency, memory and FLOPs of every network."),
    "demo": ("demo", "Run the whole system end to end on embedded synthetic data."),
    "ablate": ("ablate", "Train and evaluate the paper's ablations (SRB-VTON, no attention loss, no face, no joint)."),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfvton",
        description="Multi-pose virtual try-on with detail carving (TensorFlow 2 / Keras 3).",
        epilog="Run `tfvton COMMAND --help` for the options of one command.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(f"tfvton.commands.{module_name}")
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args._module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
