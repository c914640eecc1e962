"""`tfvton pose IMAGE... --out DIR [--render]`: OpenPose COCO-18 keypoints from photos.

Runs BlazePose (MediaPipe's `.tflite` models with LiteRT; fetch them once with
`tfvton models fetch pose`) and writes `DIR/<stem>_keypoints.json` in
OpenPose's format (`people[0].pose_keypoints_2d`, 18 joints x (x, y,
confidence); neck = the shoulders' midpoint; unseen joints 0, 0, 0), and with
`--render` the skeleton over the photo, `DIR/<stem>_rendered.png`. With
`--reference REF_DIR` the keypoints are compared with `REF_DIR/<stem>_keypoints.json`
(e.g. OpenPose's) and the accuracy is printed (`tfvton.pose.accuracy`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tfvton.errors import DataError, UsageError

HELP = "Compute OpenPose COCO-18 keypoints from photos (BlazePose)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="person photos (JPEG / PNG)")
    parser.add_argument("--out", required=True, help="output folder for <stem>_keypoints.json")
    parser.add_argument("--render", action="store_true", help="also write <stem>_rendered.png (skeleton on photo)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="visibility below which a joint is written 0,0,0 (default 0.5)")
    parser.add_argument("--reference", default=None, metavar="REF_DIR",
                        help="compare with REF_DIR/<stem>_keypoints.json (joints both mark visible) and print "
                             "the median distance and the shares within 5 %% / 10 %% of the image height")


def run(args) -> int:
    from tfvton.data.mpv import load_keypoints
    from tfvton.pose.accuracy import joint_distances, summarize
    from tfvton.data.raw_io import read_photo
    from tfvton.pose.coco18 import VISIBILITY_THRESHOLD
    from tfvton.pose.estimate import default_estimator
    from tfvton.pose.openpose_json import render_skeleton, write_openpose_json

    threshold = VISIBILITY_THRESHOLD if args.threshold is None else args.threshold
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold must be in [0, 1]. Received: --threshold {threshold}")
    missing = [path for path in args.images if not Path(path).is_file()]
    if len(missing) == len(args.images):  # nothing to do: say so before loading the models
        raise DataError(missing[0], "no such file (IMAGE)" + (f" (and {len(missing) - 1} more)" if len(missing) > 1
                                                             else ""))
    # Models not fetched (cache.ModelsNotFetched) reach tfvton.cli.main: one line with the fix, exit 1.
    estimator = default_estimator()
    out = Path(args.out)
    failed, distances, missed = 0, [], 0
    for image_path in args.images:
        try:
            image = read_photo(image_path, "photo")
            keypoints = estimator.keypoints(image, threshold, name=image_path)
        except DataError as e:
            print(f"tfvton pose: {e}", file=sys.stderr)
            failed += 1
            continue
        stem = Path(image_path).stem
        written = [str(write_openpose_json(out / f"{stem}_keypoints.json", keypoints))]
        if args.render:
            written.append(str(render_skeleton(out / f"{stem}_rendered.png", image, keypoints)))
        print(f"{'  '.join(written)}  ({int((keypoints[:, 2] > 0).sum())}/18 joints seen)")
        if args.reference:
            try:
                reference = load_keypoints(Path(args.reference) / f"{stem}_keypoints.json")
            except DataError as e:
                print(f"tfvton pose: {e}", file=sys.stderr)
                failed += 1
                continue
            image_distances, image_missed = joint_distances(keypoints, reference, image.shape[0])
            distances.append(image_distances)
            missed += image_missed
    if distances:
        print(f"against {args.reference}: {summarize(distances, missed)}")
    if failed:
        print(f"tfvton pose: {failed} of {len(args.images)} photo(s) failed", file=sys.stderr)
        return 1
    return 0
