"""SHA-256 of a file, read in blocks (the pose-model cache and the shipped models check theirs)."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Union

__all__ = ["sha256_of"]


def sha256_of(path: Union[str, Path]) -> str:
    """Hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
