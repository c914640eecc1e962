"""`tfvton client`: one try-on request to a TF-Serving server (gRPC or REST).

Example:
    tfvton client --grpc localhost:8500 --person person.jpg --parsing person.png \\
        --target-pose pose_keypoints.json --cloth cloth.jpg --cloth-mask cloth_mask.png --out tryon.png
    tfvton client --rest http://localhost:8501 ...   (same files; sent as base64 to predict_bytes)

Writes OUT (the try-on, uint8 RGB) and OUT's stem + `_parsing.png` (the
predicted CIHP label ids, mode L).
"""
from __future__ import annotations

import argparse
import os

from tfvton.commands.common import non_negative_int
from tfvton.commands.tryon import add_format_arguments
from tfvton.errors import DataError, TfvtonError, UsageError

HELP = "Send a try-on request to a TF-Serving server (gRPC or REST)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    server = parser.add_mutually_exclusive_group(required=True)
    server.add_argument("--grpc", metavar="HOST:PORT", help="TF-Serving gRPC endpoint (port 8500)")
    server.add_argument("--rest", metavar="URL", help="TF-Serving REST endpoint, e.g. http://localhost:8501")
    parser.add_argument("--person", required=True, help="person photo (JPEG/PNG)")
    parser.add_argument("--parsing", required=True, help="human parsing of the person (PNG: CIHP/LIP/ATR ids or "
                                                         "a colour rendering; see docs/inputs.md)")
    parser.add_argument("--target-pose", required=True, help="keypoint JSON of the target pose (OpenPose "
                                                             "COCO-18/BODY_25, COCO-17, MediaPipe)")
    parser.add_argument("--cloth", required=True, help="in-shop garment photo (JPEG/PNG)")
    parser.add_argument("--cloth-mask", help="garment mask PNG (0/255); computed with GrabCut when omitted")
    add_format_arguments(parser)
    parser.add_argument("--out", required=True, help="output image path (PNG)")
    parser.add_argument("--model-name", default="tfvton", help="served model name (default: tfvton)")
    parser.add_argument("--version", type=non_negative_int, default=None,
                        help="model version (default: the latest served)")
    parser.add_argument("--signature", choices=("serving_default", "predict_bytes"), default=None,
                        help="default: serving_default over gRPC, predict_bytes over REST")
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline per attempt in seconds (default 30)")
    parser.add_argument("--retries", type=non_negative_int, default=3,
                        help="retries when the server is unavailable (default 3)")


def run(args) -> int:
    for name in ("person", "parsing", "target_pose", "cloth", "cloth_mask"):
        path = getattr(args, name)
        if path is not None and not os.path.isfile(path):
            raise DataError(path, f"no such file (--{name.replace('_', '-')})")
    from tfvton.serving.inputs import build_request, save_image
    from tfvton.serving.replies import ReplyError, check_reply

    # Server errors become one line naming the endpoint; input-file errors reach tfvton.cli.main.
    signature = args.signature or ("serving_default" if args.grpc else "predict_bytes")
    # Read (and check) the files before connecting, with the same reader as `tfvton tryon`;
    # a bad file reaches tfvton.cli.main as one line naming it.
    request = build_request(args.person, args.parsing, args.target_pose, args.cloth, args.cloth_mask,
                            signature, parsing_format=args.parsing_format, pose_format=args.pose_format,
                            log=print)
    try:
        if args.grpc:
            import grpc

            from tfvton.serving.grpc_client import GrpcClient

            with GrpcClient(args.grpc, args.model_name, args.signature or "serving_default", args.version,
                            timeout=args.timeout, retries=args.retries) as client:
                try:
                    outputs = check_reply(client.predict(request, signature), args.grpc)
                except grpc.RpcError as error:
                    raise TfvtonError(f"{args.grpc}: {error.code().name}: {error.details()}") from None
        else:
            from tfvton.serving.rest_client import RestClient, RestError

            client = RestClient(args.rest, args.model_name, args.signature or "predict_bytes", args.version,
                                timeout=args.timeout, retries=args.retries)
            try:
                outputs = check_reply(client.predict(request, signature), args.rest)
            except RestError as error:
                raise TfvtonError(f"{args.rest}: {error}") from None
    except ReplyError:  # a 200 reply that is not a try-on: nothing is saved (exit 1)
        raise
    except ValueError as error:  # a bad endpoint or client setting
        raise UsageError(str(error)) from None
    save_image(outputs["tryon_image"][0], args.out)
    stem, _ = os.path.splitext(args.out)
    print(f"wrote {args.out}")
    if "parsing_labels" in outputs:
        save_image(outputs["parsing_labels"][0], stem + "_parsing.png")
        print(f"wrote {stem}_parsing.png")
    return 0
