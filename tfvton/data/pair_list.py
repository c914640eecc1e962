"""MPV pair lists: reading them, choosing list and mode, and finding each listed file.

Names in a pair list may carry a sub folder (`TW421D05Y/TW421D05Y-C11@9=person_whole_front.jpg`
in MPV's `data_pair.txt`). Each file is looked up (`find_file`), first hit wins, as
`<folder>/<name>`, `<folder>/<basename>`, `<folder>/<split dir>/<name>` and
`<folder>/<split dir>/<basename>`, where the split dir is `train` for the train split and
`val` or `test` for the test split. That covers the official `RegularDataset`, which reads
`images/<train|val>/<sub>/<name>` and `cloth_mask/<train|val>/<sub>/<stem>_mask.png` but
`parse_cihp/<train|val>/<basename>.png` and `pose_coco/<train|val>/<basename>_keypoints.json`,
as well as flat folders.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

from tfvton.errors import DataError

PathLike = Union[str, os.PathLike]

# The splits a pair list's fourth column may name (the official lists: train, test; val folders).
KNOWN_SPLITS = ("train", "test", "val")
# Sub folders the official release uses per split (`RegularDataset`: train / val).
_SPLIT_DIRS = {"train": ("train",), "test": ("val", "test"), "val": ("val", "test")}


@dataclasses.dataclass(frozen=True)
class PairFiles:
    """One usable line of a pair list, with every file resolved.

    Attributes:
        line: 1-based line number in the pair list.
        source, target, cloth, split: the columns as written.
        person_image, person_parsing, source_pose, cloth_image, cloth_mask, target_pose:
            resolved paths.
        target_image, target_parsing: resolved paths in train/test mode, else None.
    """

    line: int
    source: str
    target: str
    cloth: str
    split: str
    person_image: str
    person_parsing: str
    source_pose: str
    cloth_image: str
    cloth_mask: str
    target_pose: str
    target_image: Optional[str] = None
    target_parsing: Optional[str] = None


def read_pair_list(path: PathLike) -> List[Tuple[int, List[str]]]:
    """Reads a pair list: (line number, columns) per non-empty, non-comment line.

    Columns are tab-separated when the line has a tab, else separated by spaces
    (the official code tries tabs, then spaces).
    """
    rows = []
    with open(path, "r", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            columns = [c.strip() for c in line.split("\t")] if "\t" in line else line.split()
            rows.append((number, [c for c in columns if c]))
    return rows


def detect_mode(pairs_file: PathLike) -> str:
    """`demo` when the first line's second column is a pose JSON, else `train`."""
    for _, columns in read_pair_list(pairs_file):
        if len(columns) >= 2 and columns[1].lower().endswith(".json"):
            return "demo"
        return "train"
    return "train"


def choose_pairs_and_mode(root: PathLike, pairs_file: Optional[PathLike] = None, mode: Optional[str] = None,
                          prefer: str = "data_pair.txt") -> Tuple[Path, str]:
    """Fills in a missing pair list and / or mode (used by the CLI commands).

    Without a pair list: `demo.txt` in demo mode, `data_pair.txt` in train/test
    mode, else `prefer` when it exists, else the other one. Without a mode:
    `detect_mode` on the list.
    """
    root = Path(root)
    if pairs_file is None:
        if mode == "demo":
            path = root / "demo.txt"
        elif mode in ("train", "test"):
            path = root / "data_pair.txt"
        else:
            other = "demo.txt" if prefer == "data_pair.txt" else "data_pair.txt"
            path = root / prefer if (root / prefer).exists() else root / other
    else:
        path = Path(pairs_file)
        if not path.is_absolute() and not path.exists() and (root / path).exists():
            path = root / path
    if mode is None:
        mode = detect_mode(path) if path.is_file() else "train"
    return path, mode


def find_file(root: Path, folder: str, names: Sequence[str], split: str) -> str:
    """The first existing `root/folder/...` candidate for `names` (module docstring), as a string.

    Raises:
        DataError: none exists; names the first candidate and a few others.
    """
    candidates = []
    for name in names:
        base = os.path.basename(name)
        candidates += [f"{folder}/{name}", f"{folder}/{base}"]
        for sub in _SPLIT_DIRS.get(split, ()):
            candidates += [f"{folder}/{sub}/{name}", f"{folder}/{sub}/{base}"]
    seen = []
    for c in candidates:
        if c not in seen:
            seen.append(c)
            if (root / c).is_file():
                return str(root / c)
    others = ", ".join(seen[1:4]) + (", ..." if len(seen) > 4 else "")
    raise DataError(root / seen[0], f"missing file (also looked for {others})" if others
                    else "missing file")


class FromDataConfig:
    """`from_config` for the pair-list datasets (`MPVDataset`, `VitonHDDataset`): same constructor shape."""

    @classmethod
    def from_config(cls, root: PathLike, pairs_file: Optional[PathLike], mode: str, data_config, **kwargs):
        """Builds a dataset with the geometry and bad-sample policy of a `DataConfig`."""
        return cls(root, pairs_file, mode, height=data_config.height, width=data_config.width,
                   radius=data_config.pose_radius, shape_downsample=data_config.shape_downsample,
                   on_bad_sample=data_config.on_bad_sample, **kwargs)


def resolve_rows(rows, resolve: Callable, pairs_file: Path, on_bad_sample: str, progress: bool, logger,
                 max_logged: int = 10) -> Tuple[list, List[Tuple[int, DataError]]]:
    """Resolves pair-list rows with `resolve(number, columns)`; a bad row is skipped or stops the run.

    The first `max_logged` bad rows are logged one by one; the caller logs the summary.

    Returns:
        (samples, bad_samples): the resolved rows, and (line number, DataError) for each bad one
        (`on_bad_sample='skip'`; with `'stop'` the first DataError is raised).
    """
    if progress and len(rows) > 500:
        from tqdm import tqdm
        rows = tqdm(rows, desc=f"checking {pairs_file.name}", unit="pair", leave=False)
    samples, bad = [], []
    for number, columns in rows:
        try:
            samples.append(resolve(number, columns))
        except DataError as e:
            if on_bad_sample == "stop":
                raise
            bad.append((number, e))
            if len(bad) <= max_logged:
                where = "" if e.path.startswith(f"{pairs_file}:") else f"{pairs_file}:{number}: "
                logger.warning("skipping pair at %s%s", where, e)
    return samples, bad
