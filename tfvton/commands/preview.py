"""`tfvton preview` (issue 2): placeholder until that issue lands."""
from tfvton.commands.common import not_yet


def add_arguments(parser):
    parser.add_argument("--out", help="output location")


def run(args):
    return not_yet("preview", 2)
