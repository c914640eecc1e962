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
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from tfvton.data.mpv import ON_BAD_SAMPLE, PAIR_INDEX, DataError

logger = logging.getLogger(__name__)

__all__ = ["SkippedPair", "SkipLog", "decode_error", "decoded_batches", "usable_pairs"]


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


def decode_error(dataset, index: int) -> DataError:
    """Why pair `index` fails to decode, as a `DataError` naming the file at fault.

    Used after a `tf.data` pipeline dropped the pair (its errors name no file):
    the pair is decoded again eagerly (`dataset[index]`), file by file.
    """
    try:
        dataset[index]
    except DataError as e:
        return e
    except Exception as e:  # noqa: BLE001 - any decoding failure is reported against the pair's files
        problem = getattr(e, "message", None) or str(e)
        return DataError(dataset.samples[index].person_image, f"pair failed while decoding "
                                                              f"({type(e).__name__}: {problem.strip()})")
    files = ", ".join(dataset.files(index).values())
    return DataError(dataset.samples[index].person_image,
                     f"pair failed in the tf.data pipeline but decodes on its own (files: {files})")


def decoded_batches(dataset, n: int, batch_size: int, skips: SkipLog,
                    indices: Optional[Sequence[int]] = None) -> Iterator[Tuple[List[int], Dict]]:
    """Batches of pairs through the `tf.data` pipeline, every decoding failure accounted for.

    The pipeline skips elements that fail to decode; each missing pair index is
    decoded again eagerly (`decode_error`) to name the file, then goes through
    `skips` (raising under `stop`, before any later batch is yielded).

    Args:
        dataset: an `MPVDataset` or `VitonHDDataset`.
        n: how many pairs, from the first.
        batch_size: pairs per batch (the last batches may be smaller).
        skips: the `SkipLog` applying the rule.
        indices: the pairs to decode instead of the first `n` (then `n` is ignored).
    Yields:
        (pair indices, batch dict of numpy arrays) without the index key.
    """
    from tfvton.data.pipeline_tail import indexed_examples

    wanted = list(range(n)) if indices is None else [int(i) for i in indices]
    position = 0  # into `wanted`: every pair before it arrived or was accounted for

    def account(upto: int, present) -> None:
        nonlocal position
        for index in wanted[position:upto]:
            if index not in present:
                skips.add(decode_error(dataset, index), dataset.samples[index].line)
        position = upto

    if not wanted:
        return
    for batch in indexed_examples(dataset, wanted, batch_size):
        batch = {key: np.asarray(value) for key, value in batch.items()}
        arrived = [int(i) for i in batch.pop(PAIR_INDEX)]
        # The order is kept, so the last index that arrived closes a stretch of `wanted`.
        account(wanted.index(arrived[-1], position) + 1, set(arrived))
        yield arrived, batch
    account(len(wanted), set())


def usable_pairs(dataset, skips: SkipLog, batch_size: int = 16) -> List[int]:
    """The indices of the pairs that decode, each one that does not through `skips`.

    One decoding pass over the whole dataset, before training starts: a pair that
    fails only when decoded (a JPEG cut after a valid header, a label 25) is then
    skipped and named, or stops the run, by the same rule as the up-front check,
    and the training pipeline never has to drop anything silently.
    """
    return [i for indices, _ in decoded_batches(dataset, len(dataset), batch_size, skips) for i in indices]
