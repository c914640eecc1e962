"""Honest counting: every pair a run did not use, named by file, under one skip/stop rule.

A pair can fail in two places: when the dataset is built (the up-front check:
missing file, unreadable header, bad pose JSON) or only when it is decoded (a
JPEG cut after a valid header, a parsing with label 25). Both go through the
same rule, `on_bad_sample`: `stop` raises the `DataError` naming the file,
`skip` counts it here and logs it. `decoded_batches` finds the pairs the
`tf.data` pipeline dropped (it carries each pair's index) and decodes them again
eagerly, which names the file at fault.

Example:
    >>> skips = SkipLog.from_dataset(dataset)
    >>> for indices, batch in decoded_batches(dataset, len(dataset), 8, skips):
    ...     ...
    >>> skips.counts(len(dataset))
    {'n_requested': 5, 'n_evaluated': 4, 'skipped': [{'file': '.../a.jpg', 'reason': '...', 'line': 3}]}
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from tfvton.data.mpv import ON_BAD_SAMPLE, PAIR_INDEX, DataError

logger = logging.getLogger(__name__)

__all__ = ["SkippedPair", "SkipLog", "decoded_batches"]


@dataclasses.dataclass(frozen=True)
class SkippedPair:
    """One pair a run did not use.

    Attributes:
        file: the file at fault (or `pairs_file:line` for a malformed line).
        reason: what is wrong with it.
        line: the pair's line in the pair list, when known.
    """

    file: str
    reason: str
    line: Optional[int] = None

    def as_dict(self) -> Dict[str, object]:
        out: Dict[str, object] = {"file": self.file, "reason": self.reason}
        if self.line is not None:
            out["line"] = self.line
        return out


class SkipLog:
    """The skip/stop rule and the record of skipped pairs.

    Args:
        on_bad_sample: `skip` (record and log) or `stop` (raise the `DataError`).
        label: prefix of the log lines (e.g. the command name).
    """

    def __init__(self, on_bad_sample: str = "skip", label: str = "tfvton"):
        if on_bad_sample not in ON_BAD_SAMPLE:
            raise ValueError(f"`on_bad_sample` must be one of {ON_BAD_SAMPLE}. Received: "
                             f"on_bad_sample={on_bad_sample!r}")
        self.on_bad_sample = on_bad_sample
        self.label = label
        self.skipped: List[SkippedPair] = []

    @classmethod
    def from_dataset(cls, dataset, last_line: Optional[int] = None, label: str = "tfvton") -> "SkipLog":
        """A log holding the pairs `dataset` dropped when it was built (already logged by it).

        Args:
            dataset: an `MPVDataset`.
            last_line: keep only the pairs listed up to this line (a run that
                reads the first N pairs only); None keeps all.
            label: prefix of the log lines.
        """
        log = cls(dataset.on_bad_sample, label)
        for line, error in dataset.bad_samples:
            if last_line is None or line <= last_line:
                log.skipped.append(SkippedPair(error.path, error.problem, line))
        return log

    def add(self, error: DataError, line: Optional[int] = None) -> None:
        """Applies the rule to one failed pair: raises under `stop`, records and logs under `skip`."""
        if self.on_bad_sample == "stop":
            raise error
        self.skipped.append(SkippedPair(error.path, error.problem, line))
        where = f" (pair list line {line})" if line is not None else ""
        logger.warning("%s: skipping pair%s: %s", self.label, where, error)

    def __len__(self) -> int:
        return len(self.skipped)

    def as_json(self) -> List[Dict[str, object]]:
        """`[{file, reason, line}]`, in the order the pairs failed."""
        return [s.as_dict() for s in self.skipped]

    def counts(self, n_used: int) -> Dict[str, object]:
        """`n_requested` (used + skipped), `n_evaluated` (= `n_used`) and `skipped` for `metrics.json`."""
        return {"n_requested": int(n_used) + len(self.skipped), "n_evaluated": int(n_used),
                "skipped": self.as_json()}

    def summary(self, n_used: int, what: str = "pairs") -> str:
        """One line: how many were used and how many skipped, naming the first skipped files."""
        text = f"{n_used} of {n_used + len(self.skipped)} {what} used"
        if self.skipped:
            names = ", ".join(s.file for s in self.skipped[:3]) + (", ..." if len(self.skipped) > 3 else "")
            text += f"; {len(self.skipped)} skipped ({names})"
        return text


def decoded_batches(dataset, n: int, batch_size: int, skips: SkipLog) -> Iterator[Tuple[List[int], Dict]]:
    """Batches of the first `n` pairs through the `tf.data` pipeline, every decoding failure accounted for.

    The pipeline skips elements that fail to decode; each missing pair index is
    decoded again eagerly (`MPVDataset.decode_error`) to name the file, then goes
    through `skips` (raising under `stop`, before any later batch is yielded).

    Args:
        dataset: an `MPVDataset`.
        n: how many pairs, from the first.
        batch_size: pairs per batch (the last batches may be smaller).
        skips: the `SkipLog` applying the rule.
    Yields:
        (pair indices, batch dict of numpy arrays) without the index key.
    """
    expected = 0

    def account(upto: int, present):
        for index in range(expected, upto):
            if index not in present:
                skips.add(dataset.decode_error(index), dataset.samples[index].line)

    for batch in dataset.as_tf_dataset(batch_size=batch_size, limit=n, with_index=True, on_bad_sample="skip"):
        batch = {key: np.asarray(value) for key, value in batch.items()}
        indices = [int(i) for i in batch.pop(PAIR_INDEX)]
        account(indices[-1] + 1, set(indices))
        expected = indices[-1] + 1
        yield indices, batch
    account(n, set())
