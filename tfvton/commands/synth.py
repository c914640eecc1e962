"""`tfvton synth`: write a SynthMPV dataset in the MPV or VITON-HD layout (numpy/OpenCV/PIL only, no TensorFlow)."""
from __future__ import annotations

import argparse
import re

from tfvton.commands.common import int_at_least, non_negative_int

HELP = "Generate a SynthMPV dataset in the MPV (or VITON-HD) layout."


def _size(text: str):
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"--size must look like HxW (e.g. 256x192), got {text!r}")
    height, width = int(match.group(1)), int(match.group(2))
    if height < 32 or width < 32:
        raise argparse.ArgumentTypeError(f"--size must be at least 32x32, got {text!r}")
    return height, width


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1). Received: {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="dataset root to write (created if missing)")
    parser.add_argument("--identities", type=int_at_least(2), default=200, help="number of identities (default: 200)")
    parser.add_argument("--poses-per-identity", type=int_at_least(2), default=3,
                        help="renderings per identity, each in another pose (default: 3)")
    parser.add_argument("--size", type=_size, default=(256, 192), metavar="HxW",
                        help="image size; multiples of 32 for the networks (default: 256x192)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="the same seed gives byte-identical files (default: 0)")
    parser.add_argument("--workers", type=non_negative_int, default=0,
                        help="processes; 0 = one per core (default: 0); the output does not depend on it")
    parser.add_argument("--test-fraction", type=_fraction, default=0.1,
                        help="share of identities held out as the unseen test split (default: 0.1)")
    parser.add_argument("--layout", choices=("mpv", "viton-hd"), default="mpv",
                        help="folder layout to write: MPV's (default) or the public VITON-HD release's")
    parser.add_argument("--no-vis", action="store_true", help="skip the parse_cihp/*_vis.png colour renderings")
    parser.add_argument("--sheet", metavar="PNG", help="also write a contact sheet of the first identities here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tfvton.data.synth import generate

    meta = generate(args.out, identities=args.identities, poses_per_identity=args.poses_per_identity,
                    size=args.size, seed=args.seed, workers=args.workers, test_fraction=args.test_fraction,
                    vis=not args.no_vis, progress=not args.quiet, layout=args.layout)
    counts = meta["counts"]
    seconds = meta["seconds"]
    print(f"tfvton synth: wrote {meta['persons']} persons of {meta['identities']} identities "
          f"({meta['height']}x{meta['width']}) to {args.out} in {seconds:.1f} s "
          f"({meta['persons'] / max(seconds, 1e-9):.0f} persons/s); "
          f"{counts['train_pairs']} train pairs, {counts['test_pairs']} test pairs, {counts['demo']} demo triplets"
          + (" (VITON-HD layout)" if args.layout == "viton-hd" else ""))
    if args.sheet and args.layout == "viton-hd":
        print("tfvton synth: --sheet reads the MPV layout; no contact sheet written", file=sys.stderr)
    elif args.sheet:
        from tfvton.data.synth.sheet import save_contact_sheet

        print(f"tfvton synth: contact sheet {save_contact_sheet(args.out, args.sheet)}")
    return 0
