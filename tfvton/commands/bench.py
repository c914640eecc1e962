"""`tfvton bench` (issue 8): placeholder until that issue lands."""
from tfvton.commands.common import not_yet


def add_arguments(parser):
    parser.add_argument("--json", help="output location")


def run(args):
    return not_yet("bench", 8)
