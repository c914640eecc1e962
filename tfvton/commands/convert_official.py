"""`tfvton convert-official`: the official PyTorch checkpoints -> a tfvton run directory.

Example:
    tfvton convert-official --gmm pretrained_checkpoint/step_009000.pth \\
        --parsing pretrained_checkpoint/parsing.tar --appearance pretrained_checkpoint/app.tar \\
        --face pretrained_checkpoint/face.tar --run-dir runs/official
    tfvton tryon --model runs/official ...
"""
from __future__ import annotations

from tfvton.commands.common import positive_int
from tfvton.errors import TfvtonError

HELP = "Convert the official PyTorch checkpoints to Keras."


def add_arguments(parser):
    parser.add_argument("--gmm", required=True, metavar="PATH",
                        help="official GMM checkpoint (step_009000.pth)")
    parser.add_argument("--parsing", required=True, metavar="PATH",
                        help="official parsing generator (parsing.tar)")
    parser.add_argument("--appearance", required=True, metavar="PATH",
                        help="official appearance generator (app.tar)")
    parser.add_argument("--face", required=True, metavar="PATH",
                        help="official face generator (face.tar)")
    parser.add_argument("--ngf", type=positive_int, default=64,
                        help="generator base width of the checkpoints (default: 64)")
    parser.add_argument("--height", type=positive_int, default=256, help="input height (default: 256)")
    parser.add_argument("--width", type=positive_int, default=192, help="input width (default: 192)")
    parser.add_argument("--run-dir", required=True, metavar="DIR",
                        help="output run directory (config.yaml + weights/*.weights.h5)")


def run(args) -> int:
    from tfvton.convert.official import convert_official

    paths = {"gmm": args.gmm, "parsing": args.parsing, "appearance": args.appearance, "face": args.face}
    # OfficialCheckpointError (a ModelError) and ConfigError reach tfvton.cli.main: one line, exit 1.
    try:
        run_dir = convert_official(paths, args.run_dir, ngf=args.ngf, height=args.height, width=args.width)
    except ImportError as err:  # PyTorch, an optional extra, is missing
        raise TfvtonError(str(err)) from None
    print(f"tfvton convert-official: wrote {run_dir} (config.yaml, weights/*.weights.h5); "
          "load it with tfvton.run_dir.RunDir(...).load_pipeline()")
    return 0
