"""`tfvton` command line: one subcommand per module in `tfvton/commands/`.

Each command module defines `HELP` (one line), `add_arguments(parser)` and
`run(args) -> int`, and imports nothing heavy at the top (TensorFlow is imported
inside `run`). Only the module of the command that runs is imported; `tfvton
--help` imports every module for its `HELP` line, which stays cheap for that
reason (a test checks that TensorFlow is not loaded).

Exit codes, the same for every command:

    0  success
    1  a data, config or model error: one line on stderr naming the file or field
    2  a usage error: an unknown flag, a bad value or a flag combination that cannot work

Anything else is a bug and keeps its traceback. Ctrl-C exits 130. However a command
ends, the scratch files of its unfinished writes are removed (`tfvton.atomic_file`).
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys
from typing import Optional, Sequence, Tuple

from tfvton.atomic_file import remove_own_scratch
from tfvton.errors import TfvtonError

# Name on the command line -> module in tfvton.commands, in the order of `tfvton --help`.
COMMANDS = {
    "synth": "synth",
    "prepare": "prepare",
    "preview": "preview",
    "train": "train",
    "tryon": "tryon",
    "pose": "pose",
    "models": "models",
    "evaluate": "evaluate",
    "export": "export",
    "client": "client",
    "tflite-run": "tflite_run",
    "convert-official": "convert_official",
    "bench": "bench",
    "demo": "demo",
    "ablate": "ablate",
}

# A TensorFlow InvalidArgumentError means bad input only when an image failed to decode.
_DECODE_ERROR = re.compile(r"decod|jpeg|png|gif|bmp|image format|unknown image", re.IGNORECASE)


def _module(name: str):
    return importlib.import_module(f"tfvton.commands.{COMMANDS[name]}")


def build_parser(command: Optional[str] = None) -> argparse.ArgumentParser:
    """The `tfvton` parser.

    Args:
        command: when given, only this command's module is imported and only its
            subparser gets arguments; otherwise every module is imported for its
            `HELP` line (for `tfvton --help`).
    """
    parser = argparse.ArgumentParser(
        prog="tfvton",
        description="Multi-pose virtual try-on with detail carving (TensorFlow 2 / Keras 3).",
        epilog="Run `tfvton COMMAND --help` for the options of one command. Exit codes: 0 success, "
               "1 data/config/model error, 2 usage error.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if command is not None and name != command:
            subparsers.add_parser(name)  # known to the parser, never imported
            continue
        module = _module(name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in str(text).splitlines() if line.strip())


def user_error(error: BaseException) -> Optional[Tuple[int, str]]:
    """(exit code, one-line message) when `error` means bad input, else None (a bug).

    Libraries are looked up in `sys.modules`, so classifying an error never
    imports TensorFlow, OpenCV or PIL.
    """
    if isinstance(error, TfvtonError):
        return error.exit_code, str(error)
    yaml = sys.modules.get("yaml")
    if yaml is not None and isinstance(error, yaml.YAMLError):
        return 1, f"not valid YAML: {error}"
    pil_image = sys.modules.get("PIL.Image")
    if pil_image is not None and isinstance(error, pil_image.DecompressionBombError):
        return 1, str(error)
    cv2 = sys.modules.get("cv2")
    if cv2 is not None and isinstance(error, cv2.error):
        return 1, f"OpenCV could not process an input image: {getattr(error, 'err', None) or error}"
    tf_errors = sys.modules.get("tensorflow.python.framework.errors_impl")
    if tf_errors is not None and isinstance(error, tf_errors.InvalidArgumentError):
        message = getattr(error, "message", str(error))
        if _DECODE_ERROR.search(message):
            return 1, f"an input image could not be decoded: {message}"
        return None
    if isinstance(error, OSError):  # a user's file: missing, unreadable, not an image (PIL), disk full
        return 1, str(error)
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs one `tfvton` command and returns its exit code (argparse exits 0/2 itself on --help/bad flags)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"tfvton {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 -- bugs are re-raised below
        classified = user_error(error)
        if classified is None:
            raise
        code, message = classified
        print(f"tfvton {args.command}: {_one_line(message)}", file=sys.stderr)
        return code
    finally:
        # However the command ended: no half-written output of ours is left (atomic_file).
        remove_own_scratch()


if __name__ == "__main__":
    sys.exit(main())
