"""`tfvton convert-official` (issue 4): placeholder until that issue lands."""
from tfvton.commands.common import not_yet


def add_arguments(parser):
    parser.add_argument("--run-dir", help="output location")


def run(args):
    return not_yet("convert-official", 4)
