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
import sys

HELP = "Send a try-on request to a TF-Serving server (gRPC or REST)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    server = parser.add_mutually_exclusive_group(required=True)
    server.add_argument("--grpc", metavar="HOST:PORT", help="TF-Serving gRPC endpoint (port 8500)")
    server.add_argument("--rest", metavar="URL", help="TF-Serving REST endpoint, e.g. http://localhost:8501")
    parser.add_argument("--person", required=True, help="person photo (JPEG/PNG)")
    parser.add_argument("--parsing", required=True, help="CIHP label map of the person (PNG, ids 0-19)")
    parser.add_argument("--target-pose", required=True, help="OpenPose COCO-18 JSON of the target pose")
    parser.add_argument("--cloth", required=True, help="in-shop garment photo (JPEG/PNG)")
    parser.add_argument("--cloth-mask", help="garment mask PNG (0/255); computed with GrabCut when omitted")
    parser.add_argument("--out", required=True, help="output image path (PNG)")
    parser.add_argument("--model-name", default="tfvton", help="served model name (default: tfvton)")
    parser.add_argument("--version", type=int, default=None, help="model version (default: the latest served)")
    parser.add_argument("--signature", choices=("serving_default", "predict_bytes"), default=None,
                        help="default: serving_default over gRPC, predict_bytes over REST")
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline per attempt in seconds (default 30)")
    parser.add_argument("--retries", type=int, default=3, help="retries when the server is unavailable (default 3)")


def run(args) -> int:
    for name in ("person", "parsing", "target_pose", "cloth", "cloth_mask"):
        path = getattr(args, name)
        if path is not None and not os.path.isfile(path):
            print(f"tfvton client: --{name.replace('_', '-')}: no such file {path}", file=sys.stderr)
            return 2
    from tfvton.serving.inputs import save_image
    from tfvton.serving.replies import ReplyError

    try:
        if args.grpc:
            import grpc

            from tfvton.serving.grpc_client import GrpcClient

            with GrpcClient(args.grpc, args.model_name, args.signature or "serving_default", args.version,
                            timeout=args.timeout, retries=args.retries) as client:
                try:
                    outputs = client.tryon(args.person, args.parsing, args.target_pose, args.cloth,
                                           args.cloth_mask)
                except grpc.RpcError as error:
                    print(f"tfvton client: {args.grpc}: {error.code().name}: {error.details()}", file=sys.stderr)
                    return 1
        else:
            from tfvton.serving.rest_client import RestClient, RestError

            client = RestClient(args.rest, args.model_name, args.signature or "predict_bytes", args.version,
                                timeout=args.timeout, retries=args.retries)
            try:
                outputs = client.tryon(args.person, args.parsing, args.target_pose, args.cloth, args.cloth_mask)
            except RestError as error:
                print(f"tfvton client: {args.rest}: {error}", file=sys.stderr)
                return 1
    except ReplyError as error:  # a 200 reply that is not a try-on: nothing is saved
        print(f"tfvton client: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # an input file in the wrong format, a bad endpoint or setting
        print(f"tfvton client: {error}", file=sys.stderr)
        return 2
    save_image(outputs["tryon_image"][0], args.out)
    stem, _ = os.path.splitext(args.out)
    print(f"wrote {args.out}")
    if "parsing_labels" in outputs:
        save_image(outputs["parsing_labels"][0], stem + "_parsing.png")
        print(f"wrote {stem}_parsing.png")
    return 0
