"""`tfvton tryon`: dress a person in a garment, in a target pose.

Model: a run directory (`tfvton train`), a converted official checkpoint
(`tfvton convert-official`), an exported SavedModel or a `.tflite` file
(`tfvton export`).

Inputs, either
- an MPV-layout root and a pair list: `--data-root D [--pairs demo.txt]`
  (demo lists: `person target_pose.json cloth split`; train/test lists work too), or
- single files: `--person IMG --parsing PNG [--pose JSON] --target-pose JSON|IMG
  --cloth IMG [--cloth-mask PNG]` (the mask is computed with GrabCut when absent;
  the pose is computed from the person photo when absent, and a target-pose
  photo's pose is computed and mapped into the person's frame: `tfvton.pose`).

Writes `OUT/<person>__<cloth>.png` (the try-on at the model size) and with
`--grid` the official-style strip `OUT/<person>__<cloth>_grid.png`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfvton.commands.common import (add_batch_size_argument, add_model_argument, add_threads_argument,
                                    configure_threads, positive_int)
from tfvton.atomic_file import AtomicFile
from tfvton.errors import UsageError

HELP = "Run the try-on pipeline on an MPV root or on single files."

SINGLE = ("person", "parsing", "pose", "target_pose", "cloth")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_argument(parser)
    parser.add_argument("--out", default=None,
                        help="output folder (default: tryon_out; with --output, the folder of --output)")
    parser.add_argument("--grid", action="store_true",
                        help="also write the official-style strip: source, cloth, target pose, warped cloth, "
                             "source parsing, predicted parsing, coarse, final")
    group = parser.add_argument_group("MPV-layout input")
    group.add_argument("--data-root", help="dataset root, MPV or VITON-HD layout (detected from its folders)")
    group.add_argument("--pairs", help="pair list (default: DATA_ROOT/demo.txt, else data_pair.txt)")
    group.add_argument("--split", choices=("test", "train", "demo"), default=None,
                       help="mode for the pair list (default: detected; a demo list has pose JSONs in column 2)")
    group.add_argument("--limit", type=positive_int, default=None, help="first N pairs only")
    group.add_argument("--skip-bad", action="store_true",
                       help="skip pairs with missing or unreadable files instead of stopping")
    single = parser.add_argument_group("single-file input")
    single.add_argument("--person", help="person photo (JPEG/PNG)")
    single.add_argument("--parsing", help="human parsing of the person (PNG: CIHP/LIP/ATR ids or a colour "
                                          "rendering; see docs/inputs.md)")
    single.add_argument("--pose", help="keypoint JSON of the person (OpenPose COCO-18/BODY_25, COCO-17, MediaPipe; "
                                       "default: computed from the photo with BlazePose)")
    single.add_argument("--target-pose", help="keypoint JSON of the target pose (person photo frame), or a photo of "
                                              "someone in that pose (.jpg/.png: pose computed and mapped)")
    single.add_argument("--cloth", help="in-shop garment photo")
    single.add_argument("--cloth-mask", help="garment mask PNG (0/255); computed with GrabCut when omitted")
    add_format_arguments(single)
    single.add_argument("--output", help="output PNG path (single-file mode; default OUT/<person>__<cloth>.png), "
                                         "written in one step; checked for writability before inference")
    add_batch_size_argument(parser, default=4)
    add_threads_argument(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_format_arguments(parser) -> None:
    """`--parsing-format` / `--pose-format`, shared with `tfvton client`."""
    from tfvton.data.formats import PARSING_FORMATS, POSE_FORMATS

    parser.add_argument("--parsing-format", choices=("auto",) + PARSING_FORMATS, default="auto",
                        help="label set of --parsing: cihp, lip, atr ids, or vis (a colour rendering in the "
                             "CIHP/LIP palette); default auto (ids as CIHP, colours as the palette)")
    parser.add_argument("--pose-format", choices=("auto",) + POSE_FORMATS, default="auto",
                        help="keypoint layout of the pose JSONs; default auto (by joint count)")


def _check_mode(args) -> str:
    given = [name for name in SINGLE if getattr(args, name)]
    if args.data_root and (given or args.cloth_mask):
        raise UsageError("give either --data-root (MPV layout) or the single files, not both")
    if args.data_root:
        return "mpv"
    if not given:
        raise UsageError("no input: give --data-root D [--pairs F], or --person --parsing [--pose] --target-pose "
                         "--cloth [--cloth-mask]")
    missing = ["--" + name.replace("_", "-") for name in SINGLE if not getattr(args, name) and name != "pose"]
    if missing:
        raise UsageError(f"single-file mode needs {', '.join(missing)} as well")
    return "single"


def run(args) -> int:
    mode = _check_mode(args)  # input errors reach tfvton.cli.main: one line on stderr, exit 1
    if args.output and args.data_root:
        raise UsageError("`--output` names one image (single-file mode); with --data-root use --out FOLDER")
    configure_threads(args.threads)  # before TensorFlow runs its first op
    target = AtomicFile(args.output, what="--output") if args.output else None
    skips = None
    try:
        # Inputs and the output path first: a bad file or an unwritable target is
        # reported before minutes of model loading and inference.
        if target is not None:
            target.open()
        if mode == "single":
            from tfvton.data.tryon_inputs import read_single
            from tfvton.inference.tryon import output_stem
            from tfvton.pose.segmentation import parsing_mismatch_warning
            from tfvton.pose.tryon_inputs import resolve_poses

            # With --output, side products (GrabCut mask, --grid strip, computed poses) go next to it.
            out_dir = Path(args.out) if args.out else (Path(args.output).parent if args.output else
                                                       Path("tryon_out"))
            stem = output_stem(args.person, args.cloth)
            mask_out = None if args.cloth_mask else out_dir / f"{Path(args.cloth).stem}_mask.png"
            # A missing --pose, or a photo as --target-pose, is computed with BlazePose.
            pose, target_pose = resolve_poses(args.person, args.pose, args.target_pose, out_dir)
            raw = read_single(args.person, args.parsing, pose, target_pose, args.cloth,
                              args.cloth_mask, mask_out=mask_out, parsing_format=args.parsing_format,
                              pose_format=args.pose_format, log=print)
            warning = parsing_mismatch_warning(raw["person_image"], raw["person_parsing"], args.person,
                                               args.parsing)
            if warning:
                print(warning, file=sys.stderr)
            if mask_out is not None:
                print(f"cloth mask computed with GrabCut: {mask_out}")
        else:
            from tfvton.data.counting import SkipLog
            from tfvton.data.layouts import choose_pairs_and_mode, open_dataset
            from tfvton.inference.predictor import read_source_config
            from tfvton.inference.tryon import resize_notes_collapsed

            pairs, split = choose_pairs_and_mode(args.data_root, args.pairs, args.split, prefer="demo.txt")
            d = read_source_config(args.model).data  # files are checked against the model's geometry
            with resize_notes_collapsed():
                dataset = open_dataset(args.data_root, pairs, split, height=d.height, width=d.width,
                                       radius=d.pose_radius, shape_downsample=d.shape_downsample,
                                       on_bad_sample="skip" if args.skip_bad else "stop", progress=not args.quiet)
            # Pairs the up-front check dropped, among those asked for (--limit: the first N).
            last_line = dataset.samples[min(args.limit, len(dataset)) - 1].line if args.limit else None
            skips = SkipLog.from_dataset(dataset, last_line, label="tryon")
        from tfvton.inference.predictor import load_predictor

        predictor = load_predictor(args.model, num_threads=args.threads or 2)
        if mode == "single":
            from tfvton.inference.tryon import tryon_raws

            written = tryon_raws(predictor, [raw], [stem], out_dir, grid=args.grid, target=target)
        else:
            from tfvton.inference.tryon import tryon_dataset

            written = tryon_dataset(predictor, dataset, args.out or "tryon_out", grid=args.grid, limit=args.limit,
                                    batch_size=args.batch_size, progress=not args.quiet, skips=skips)
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
