"""`tfvton prepare`: write sharded TFRecords of the raw inputs of an MPV-layout dataset."""
from __future__ import annotations

from tfvton.commands.common import positive_int

HELP = "Write sharded TFRecords from an MPV-layout dataset."


def add_arguments(parser):
    parser.add_argument("--data-root", required=True, help="dataset root, MPV or VITON-HD layout (detected from its folders)")
    parser.add_argument("--pairs", default=None,
                        help="pair list (default: data_pair.txt, or demo.txt in demo mode); looked up under "
                             "the root when not found as given")
    parser.add_argument("--mode", choices=("train", "test", "demo"), default=None,
                        help="split to write (default: demo when the list's 2nd column is a pose JSON, else train)")
    parser.add_argument("--out", required=True, help="output folder for the .tfrecord shards and records.json")
    parser.add_argument("--shards", type=positive_int, default=8, help="number of TFRecord files (default: 8)")
    parser.add_argument("--validate", choices=("headers", "full"), default="full",
                        help="full (default) decodes every file first, so the records hold no bad pair")
    parser.add_argument("--on-bad-sample", choices=("skip", "stop"), default="skip",
                        help="skip (count and log) or stop at the first bad pair (default: skip)")


def run(args) -> int:
    import logging

    from tfvton.data.layouts import choose_pairs_and_mode, open_dataset
    from tfvton.data.tfrecords import write_tfrecords

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Data errors reach tfvton.cli.main: one line on stderr, exit 1.
    pairs, mode = choose_pairs_and_mode(args.data_root, args.pairs, args.mode, prefer="data_pair.txt")
    dataset = open_dataset(args.data_root, pairs, mode, on_bad_sample=args.on_bad_sample, validate=args.validate)
    meta = write_tfrecords(dataset, args.out, shards=args.shards)
    print(f"wrote {meta['examples']} {mode} examples from {dataset.pairs_file} to {len(meta['shards'])} shard(s) in "
          f"{args.out} ({meta['skipped']} bad pair(s) skipped)")
    return 0
