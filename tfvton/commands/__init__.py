"""One module per CLI subcommand: `HELP`, `add_arguments(parser)`, `run(args)`.

Command modules keep TensorFlow imports inside `run` so `tfvton --help` is fast.
"""
