"""The project's error classes, in one place.

Every error that means "the user gave us something we cannot use" derives from
`TfvtonError`; the command line (`tfvton.cli.main`) turns those into one line on
stderr and exit code 1 (`UsageError`: exit code 2), while any other exception is
a bug and keeps its traceback.

    TfvtonError
      UsageError    a bad flag or flag combination (exit code 2)
      DataError     a data file or pair-list line (file + problem)
      ConfigError   a config file, preset or override (also a ValueError)
      ModelError    a model that cannot be found, read or used (also a ValueError)

This module imports nothing heavy, so the CLI can catch these classes without
loading TensorFlow.
"""
from __future__ import annotations

# Where the input contract (what every reader accepts) is written down.
INPUT_RULES_DOC = "docs/inputs.md"


class TfvtonError(Exception):
    """Base class of the errors a user can fix (bad input), as opposed to bugs."""

    exit_code = 1


class UsageError(TfvtonError):
    """A command-line flag, or a combination of flags, that cannot work."""

    exit_code = 2


class DataError(TfvtonError):
    """A data file (or pair-list line) that cannot be used.

    Attributes:
        path: the file (or `pairs_file:line`) at fault.
        problem: what is wrong with it and, where it helps, what was expected.
    """

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem} (input rules: {INPUT_RULES_DOC})")

    def __reduce__(self):
        return DataError, (self.path, self.problem)


class ConfigError(TfvtonError, ValueError):
    """A config file, preset or `--set` override that does not fit the schema."""


class ModelError(TfvtonError, ValueError):
    """A model (run directory, SavedModel, `.tflite`, checkpoint) that cannot be found, read or used."""
