"""`tfvton train`: train the networks by stages (Algorithm 1) in a run directory.

    tfvton train --config paper --data-root /data/MPV --run-dir runs/paper --stage all
    tfvton train --config smoke --data-root /tmp/synth --run-dir runs/smoke --stage gmm --set train.steps=50

Re-running the same command resumes: finished stages are skipped, an unfinished
stage continues from its newest checkpoint. Loss curves and sample grids go to
TensorBoard: `tensorboard --logdir RUN_DIR/logs` (the command prints it). Multi-worker: set `TF_CONFIG` on every
worker and pass `--strategy multiworker` (see `tfvton.training.strategy`).
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tfvton.commands.common import (add_config_arguments, add_threads_argument, configure_threads,
                                    load_config_from_args)
# Neither module imports TensorFlow, so `tfvton --help` stays fast.
from tfvton.training.algorithm import STAGE_CHOICES
from tfvton.training.strategy import STRATEGIES as STRATEGY_CHOICES

HELP = "Train the networks by stages (Algorithm 1) in a run directory."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument("--data-root", required=True,
                        help="dataset root: MPV or VITON-HD layout (detected), or a SynthMPV directory")
    parser.add_argument("--run-dir", required=True,
                        help="run directory: config, checkpoints, weights, logs, sample grids (resumed if present)")
    parser.add_argument("--stage", choices=STAGE_CHOICES, default="all",
                        help="stage of Algorithm 1 to train, or all of them in order (default: all)")
    parser.add_argument("--pairs", default=None,
                        help="pair list relative to --data-root (default: train.pairs_file, data_pair.txt)")
    parser.add_argument("--strategy", choices=STRATEGY_CHOICES, default=None,
                        help="distribution strategy (default: train.strategy); multiworker reads TF_CONFIG")
    parser.add_argument("--init-from", default=None, metavar="RUN_DIR",
                        help="take start weights from another run directory (e.g. `tfvton convert-official` output)")
    parser.add_argument("--loop", choices=("auto", "fit", "custom"), default="auto",
                        help="keras fit() or the hand-written distributed loop (default: auto = fit, custom "
                             "under multiworker)")
    parser.add_argument("--deterministic", action="store_true",
                        help="op determinism for bitwise-reproducible runs and resumes (sets train.deterministic=true)")
    add_threads_argument(parser, what="CPU threads TensorFlow uses")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    # Config, data and model errors reach tfvton.cli.main: one line on stderr, exit 1 (a non-finite
    # loss too: NonFiniteLossError names the stage, step and term).
    config = load_config_from_args(args)
    if args.strategy:
        config = _with_strategy(config, args.strategy)

    import dataclasses

    import tensorflow as tf

    configure_threads(args.threads)

    from tfvton.training import runner, strategy as strategy_lib
    from tfvton.training.inputs import MPVSource

    if args.deterministic:
        config = config.replace(train=dataclasses.replace(config.train, deterministic=True))
    if config.train.deterministic:
        # Before the strategy: op determinism must be on before the first op runs.
        tf.config.experimental.enable_op_determinism()
    # The strategy first: MultiWorkerMirroredStrategy must exist before other TF work.
    strategy = strategy_lib.select_strategy(config.train.strategy)
    data = MPVSource.from_config(args.data_root, config, args.pairs, mode="train")
    if len(data.skips):  # each skipped pair was logged with its file; the count once more at the end
        print(f"tfvton train: {data.summary()}", file=sys.stderr, flush=True)
    print(f"tfvton train: TensorBoard (loss curves, sample grids): "
          f"tensorboard --logdir {shlex.quote(str(Path(args.run_dir) / 'logs'))}", flush=True)
    results = runner.train(config, args.run_dir, data, stage=args.stage, strategy=strategy,
                           init_from=args.init_from, verbose=0 if args.quiet else 1, loop=args.loop)
    for result in results:
        state = "skipped (complete)" if result["skipped"] else f"trained {result['start_step']} -> {result['steps']}"
        print(f"tfvton train: {result['stage']}: {state}")
    return 0


def _with_strategy(config, strategy: str):
    import dataclasses

    return config.replace(train=dataclasses.replace(config.train, strategy=strategy))
