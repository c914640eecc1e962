"""Arguments several commands share, so every command spells them the same way.

    --config NAME|YAML, --set KEY=VALUE   wherever a config is read
    --run-dir DIR                         a run directory (written by train / convert-official)
    --model PATH                          anything loadable: run directory, SavedModel, .tflite
    --batch-size N                        examples per forward pass
    --threads N                           wherever a model runs
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from tfvton.errors import UsageError


def comma_list(text: str) -> List[str]:
    """`"a, b,,c"` -> `["a", "b", "c"]`: a comma-separated flag value, items stripped, empties dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def int_at_least(minimum: int):
    """argparse type: an integer >= `minimum` (a bad value is a usage error, exit code 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer. Received: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}. Received: {text}")
        return value

    parse.__name__ = f"integer >= {minimum}"  # argparse names the type in some messages
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


class _DeprecatedAlias(argparse.Action):
    """A hidden old spelling of a flag: stores into the new flag's dest and says so on stderr."""

    def __init__(self, option_strings, dest, new_flag: str = "", **kwargs):
        self.new_flag = new_flag
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"tfvton: {option_string} is deprecated; use {self.new_flag}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_deprecated_alias(parser, old: str, new: str, dest: str, type=None) -> None:
    """Accepts `old` as a hidden, deprecated spelling of `new`."""
    parser.add_argument(old, dest=dest, type=type, action=_DeprecatedAlias, new_flag=new, help=argparse.SUPPRESS)


def add_config_arguments(parser: argparse.ArgumentParser, default: str = "paper") -> None:
    parser.add_argument("--config", default=default,
                        help=f"preset name (paper, small, mobile, smoke) or YAML path (default: {default})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set train.batch_size=4 (repeatable)")


def load_config_from_args(args):
    from tfvton.config import load_config
    return load_config(args.config, args.overrides)


def add_model_argument(parser: argparse.ArgumentParser, required: bool = True,
                       help: str = "a run directory (trained or converted official checkpoint), an exported "
                                   "SavedModel directory, a .tflite file, or the name of a model shipped "
                                   "in the repository's models/ (e.g. synthmpv-small)") -> None:
    """`--model PATH`; the old `--run-dir` spelling of these commands stays as a hidden, deprecated alias."""
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--model", help=help)
    group.add_argument("--run-dir", dest="model", action=_DeprecatedAlias, new_flag="--model", help=argparse.SUPPRESS)


def add_batch_size_argument(parser: argparse.ArgumentParser, default: int, what: str = "pairs") -> None:
    parser.add_argument("--batch-size", type=positive_int, default=default,
                        help=f"{what} per forward pass (default {default})")


def add_threads_argument(parser: argparse.ArgumentParser, default: Optional[int] = None,
                         what: str = "CPU threads the model runs with") -> None:
    """`--threads N`; None keeps TensorFlow's default (all cores; a TFLite interpreter then takes 2)."""
    shown = "all cores for TensorFlow, 2 for a TFLite interpreter" if default is None else default
    parser.add_argument("--threads", type=positive_int, default=default, help=f"{what} (default: {shown})")


def configure_threads(threads: Optional[int]) -> None:
    """TensorFlow's intra-op pool to `threads` (inter-op 1), None: TensorFlow's default.

    Call before TensorFlow runs its first op.
    """
    if threads is None:
        return
    from tfvton.bench.machine import configure_threads as set_tf_threads  # imports TensorFlow

    set_tf_threads(threads)


def int8_float_networks(text: str) -> list:
    """`--int8-float-networks` (export, bench) -> names: generators, or layer paths in one (`gmm/regression`)."""
    from tfvton.networks.factory import GENERATOR_NAMES

    names = comma_list(text)
    unknown = [name for name in names if name.split("/")[0] not in GENERATOR_NAMES or "" in name.split("/")]
    if unknown:
        raise UsageError(f"--int8-float-networks: unknown network(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(GENERATOR_NAMES)}, or a layer path in one (gmm/regression)")
    return names
