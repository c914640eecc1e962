"""`tfvton tryon`: dress a person in a garment, in a target pose.

Model: a run directory (`tfvton train`), a converted official checkpoint
(`tfvton convert-official`), an exported SavedModel or a `.tflite` file
(`tfvton export`).

Inputs, either
- an MPV-layout root and a pair list: `--data-root D [--pairs demo.txt]`
  (demo lists: `person target_pose.json cloth split`; train/test lists work too), or
- single files: `--person IMG --parsing PNG --pose JSON --target-pose JSON
  --cloth IMG [--cloth-mask PNG]` (the mask is computed with GrabCut when absent).

Writes `OUT/<person>__<cloth>.png` (the try-on at the model size) and with
`--grid` the official-style strip `OUT/<person>__<cloth>_grid.png`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Run the try-on pipeline on an MPV root or on single files."

SINGLE = ("person", "parsing", "pose", "target_pose", "cloth")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", "--run-dir", dest="model", required=True,
                        help="a run directory (trained or converted official checkpoint), an exported "
                             "SavedModel directory or a .tflite file")
    parser.add_argument("--out", default=None,
                        help="output folder (default: tryon_out; with --output, the folder of --output)")
    parser.add_argument("--grid", action="store_true",
                        help="also write the official-style strip: source, cloth, target pose, warped cloth, "
                             "source parsing, predicted parsing, coarse, final")
    group = parser.add_argument_group("MPV-layout input")
    group.add_argument("--data-root", help="dataset root (images/, parse_cihp/, pose_coco/, cloth_image/, ...)")
    group.add_argument("--pairs", help="pair list (default: DATA_ROOT/demo.txt, else data_pair.txt)")
    group.add_argument("--split", choices=("test", "train", "demo"), default=None,
                       help="mode for the pair list (default: detected; a demo list has pose JSONs in column 2)")
    group.add_argument("--limit", type=int, default=None, help="first N pairs only")
    group.add_argument("--skip-bad", action="store_true",
                       help="skip pairs with missing or unreadable files instead of stopping")
    single = parser.add_argument_group("single-file input")
    single.add_argument("--person", help="person photo (JPEG/PNG)")
    single.add_argument("--parsing", help="CIHP label map of the person (PNG, ids 0-19)")
    single.add_argument("--pose", help="OpenPose COCO-18 JSON of the person")
    single.add_argument("--target-pose", help="OpenPose COCO-18 JSON of the target pose (person photo frame)")
    single.add_argument("--cloth", help="in-shop garment photo")
    single.add_argument("--cloth-mask", help="garment mask PNG (0/255); computed with GrabCut when omitted")
    single.add_argument("--output", help="output PNG path (single-file mode; default OUT/<person>__<cloth>.png), "
                                         "written in one step; checked for writability before inference")
    parser.add_argument("--batch-size", type=int, default=4, help="pairs per forward pass (default 4)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _check_mode(args) -> str:
    given = [name for name in SINGLE if getattr(args, name)]
    if args.data_root and (given or args.cloth_mask):
        raise ValueError("give either --data-root (MPV layout) or the single files, not both")
    if args.data_root:
        return "mpv"
    if not given:
        raise ValueError("no input: give --data-root D [--pairs F], or --person --parsing --pose --target-pose "
                         "--cloth [--cloth-mask]")
    missing = ["--" + name.replace("_", "-") for name in SINGLE if not getattr(args, name)]
    if missing:
        raise ValueError(f"single-file mode needs {', '.join(missing)} as well")
    return "single"


def _check_counts(args) -> None:
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"`--limit` must be a positive number of pairs. Received: --limit {args.limit}")
    if args.batch_size < 1:
        raise ValueError(f"`--batch-size` must be at least 1. Received: --batch-size {args.batch_size}")
    if args.output and args.data_root:
        raise ValueError("`--output` names one image (single-file mode); with --data-root use --out FOLDER")


def run(args) -> int:
    from tfvton.atomic_file import AtomicFile, OutputPathError
    from tfvton.data import DataError

    try:
        mode = _check_mode(args)
        _check_counts(args)
    except ValueError as e:
        print(f"tfvton tryon: {e}", file=sys.stderr)
        return 2
    target = AtomicFile(args.output, what="--output") if args.output else None
    skips = None
    try:
        # Inputs and the output path first: a bad file or an unwritable target is
        # reported before minutes of model loading and inference.
        if target is not None:
            target.open()
        if mode == "single":
            from tfvton.inference.inputs import read_single
            from tfvton.inference.tryon import output_stem

            # With --output, side products (GrabCut mask, --grid strip) go next to it.
            out_dir = Path(args.out) if args.out else (Path(args.output).parent if args.output else
                                                       Path("tryon_out"))
            stem = output_stem(args.person, args.cloth)
            mask_out = None if args.cloth_mask else out_dir / f"{Path(args.cloth).stem}_mask.png"
            raw = read_single(args.person, args.parsing, args.pose, args.target_pose, args.cloth,
                              args.cloth_mask, mask_out=mask_out)
            if mask_out is not None:
                print(f"cloth mask computed with GrabCut: {mask_out}")
        else:
            from tfvton.data.counting import SkipLog
            from tfvton.data.mpv import MPVDataset, choose_pairs_and_mode
            from tfvton.inference.predictor import read_source_config
            from tfvton.inference.tryon import resize_notes_collapsed

            pairs, split = choose_pairs_and_mode(args.data_root, args.pairs, args.split, prefer="demo.txt")
            d = read_source_config(args.model).data  # files are checked against the model's geometry
            with resize_notes_collapsed():
                dataset = MPVDataset(args.data_root, pairs, split, height=d.height, width=d.width,
                                     radius=d.pose_radius, shape_downsample=d.shape_downsample,
                                     on_bad_sample="skip" if args.skip_bad else "stop", progress=not args.quiet)
            # Pairs the up-front check dropped, among those asked for (--limit: the first N).
            last_line = dataset.samples[min(args.limit, len(dataset)) - 1].line if args.limit else None
            skips = SkipLog.from_dataset(dataset, last_line, label="tryon")
        from tfvton.inference.predictor import load_predictor

        predictor = load_predictor(args.model, num_threads=getattr(args, "threads", 2))
        if mode == "single":
            from tfvton.inference.tryon import tryon_raws

            written = tryon_raws(predictor, [raw], [stem], out_dir, grid=args.grid, target=target)
        else:
            from tfvton.inference.tryon import tryon_dataset

            written = tryon_dataset(predictor, dataset, args.out or "tryon_out", grid=args.grid, limit=args.limit,
                                    batch_size=args.batch_size, progress=not args.quiet, skips=skips)
    except (DataError, FileNotFoundError, ValueError, OutputPathError) as e:
        print(f"tfvton tryon: {e}", file=sys.stderr)
        return 1
    finally:
        if target is not None:  # nothing stray at the target's folder after a failure
            target.discard()
    for paths in written:
        print("  ".join(paths[k] for k in ("image", "grid") if k in paths))
    if skips is not None and len(skips):
        print(f"tfvton tryon: {skips.summary(len(written))}", file=sys.stderr)
    print(f"{len(written)} try-on image(s) at {predictor.height}x{predictor.width} written to "
          f"{Path(written[0]['image']).parent} (model: {predictor.source}, {predictor.kind})")
    return 0
