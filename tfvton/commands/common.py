"""Arguments several commands share."""
from __future__ import annotations

import argparse


def add_config_arguments(parser: argparse.ArgumentParser, default: str = "paper") -> None:
    parser.add_argument("--config", default=default,
                        help=f"preset name (paper, small, mobile, smoke) or YAML path (default: {default})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set train.batch_size=4 (repeatable)")


def load_config_from_args(args):
    from tfvton.config import load_config
    return load_config(args.config, args.overrides)

