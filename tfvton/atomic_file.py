"""Files written in one step: a scratch file in the target's folder, renamed over the target.

The scratch file lives next to the target (same filesystem, so `os.replace` is
an atomic rename) and is named `.tmp-<pid>-<target name>`. Scratch space is
cleaned at both ends of a command:

- at the start: the first time a process writes into a folder, `.tmp-<pid>-*`
  files there whose process is gone (killed mid-write) are deleted
  (`remove_stale_scratch`);
- at the exit: every scratch path this process still holds (a write that failed,
  or a run interrupted with Ctrl-C) is deleted by `remove_own_scratch`, which
  `tfvton.cli.main` calls however the command ends.

Example:
    >>> with AtomicFile("out/result.png") as target:   # fails here if out/ is not writable
    ...     image = run_model()                          # the slow part, after the check
    ...     target.commit(lambda scratch: save_png(image, scratch))
    >>> atomic_write("out/metrics.json", lambda scratch: scratch.write_text(text))
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path
from typing import Callable, List, Set, Union

SCRATCH_PREFIX = ".tmp-"
_SCRATCH = re.compile(r"^\.tmp-(\d+)-")

PathLike = Union[str, os.PathLike]

# Scratch paths (files or folders) this process is writing; removed at exit if still there.
_OWN_SCRATCH: Set[Path] = set()
# Folders already cleaned of dead processes' scratch (once per process: a folder may hold many outputs).
_CLEANED: Set[Path] = set()
_LOCK = threading.Lock()


class OutputPathError(OSError):
    """The output path cannot be written (names the path, the reason and what to do)."""


def scratch_path(path: PathLike) -> Path:
    """`<folder>/.tmp-<pid>-<name>` for the target `<folder>/<name>`."""
    path = Path(path)
    return path.with_name(f"{SCRATCH_PREFIX}{os.getpid()}-{path.name}")


def _pid_alive(pid: int, own_alive: bool = False) -> bool:
    if pid == os.getpid():
        return own_alive  # our own: leftovers of an earlier failure, unless another writer of ours may be busy
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def remove_stale_scratch(folder: PathLike, recursive: bool = False, keep_own: bool = False) -> List[Path]:
    """Deletes `.tmp-<pid>-*` files in `folder` whose process no longer runs; returns them.

    `keep_own` also keeps this process's own scratch files (another writer in this
    process may be busy with them).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in (folder.rglob(f"{SCRATCH_PREFIX}*") if recursive else folder.glob(f"{SCRATCH_PREFIX}*")):
        match = _SCRATCH.match(path.name)
        if match and path.is_file() and not _pid_alive(int(match.group(1)), keep_own):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def track_scratch(path: PathLike) -> Path:
    """Registers a scratch path of this process, removed by `remove_own_scratch` unless untracked first."""
    path = Path(path)
    with _LOCK:
        _OWN_SCRATCH.add(path)
    return path


def untrack_scratch(path: PathLike) -> None:
    """Forgets a scratch path (renamed into place, or removed)."""
    with _LOCK:
        _OWN_SCRATCH.discard(Path(path))


def remove_own_scratch() -> List[Path]:
    """Deletes every scratch file or folder this process still holds; returns what it removed.

    Called when a command ends (`tfvton.cli.main`), after an error or Ctrl-C too:
    a write that never finished leaves nothing behind.
    """
    with _LOCK:
        paths = sorted(_OWN_SCRATCH)
        _OWN_SCRATCH.clear()
    removed = []
    for path in paths:
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
        except OSError:
            pass
    return removed


def clean_folder_once(folder: PathLike) -> List[Path]:
    """`remove_stale_scratch(folder)` the first time this process writes into `folder`."""
    folder = Path(folder).absolute()
    with _LOCK:
        if folder in _CLEANED:
            return []
        _CLEANED.add(folder)
    return remove_stale_scratch(folder, keep_own=True)


def atomic_write(path: PathLike, write: Callable[[Path], object], what: str = "output") -> Path:
    """Calls `write(scratch_path)`, then renames the scratch file over `path` (folders created).

    The scratch file keeps the final suffix, which writers such as PIL's `save`
    or Keras' `save_weights` read. On failure it is removed.

    Returns:
        `path` as a `Path`.
    """
    return AtomicFile(path, what=what).commit(write)


class AtomicFile:
    """One output file, checked before the work and written in one rename after it.

    `open()` (or entering the context) creates the target's folder and the
    scratch file, so an unwritable target fails before any work is done; `commit`
    writes the scratch file and renames it over the target; leaving the context
    without a commit (or with an exception) removes the scratch file.

    Args:
        path: the target file.
        what: how error messages call the target (e.g. "--output").
    """

    def __init__(self, path: PathLike, what: str = "output"):
        self.path = Path(path)
        self.what = what
        self.scratch = scratch_path(self.path)
        self._open = False

    def _fail(self, problem: str) -> OutputPathError:
        return OutputPathError(f"{self.what} {str(self.path)!r}: {problem}")

    def open(self) -> "AtomicFile":
        if self.path.is_dir():
            raise self._fail("is a directory; give a file path such as result.png")
        if not self.path.name:
            raise self._fail("has no file name")
        blocking = next((p for p in [self.path.parent, *self.path.parent.parents] if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise self._fail(f"{str(blocking)!r} is a file, not a folder; choose a writable folder")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            clean_folder_once(self.path.parent)
            # Mode 0o666 & ~umask, as any new file (mkstemp would make it 0600).
            track_scratch(self.scratch)
            fd = os.open(self.scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            os.close(fd)
        except OSError as e:
            untrack_scratch(self.scratch)
            raise self._fail(f"cannot write there ({e.strerror or e}); choose a writable folder") from None
        self._open = True
        return self

    def commit(self, write: Callable[[Path], None]) -> Path:
        """Calls `write(scratch_path)`, then renames the scratch file over the target."""
        if not self._open:
            self.open()
        try:
            write(self.scratch)
            os.replace(self.scratch, self.path)
            untrack_scratch(self.scratch)
        except OSError as e:
            self.discard()
            raise self._fail(f"writing failed ({e.strerror or e})") from None
        except BaseException:
            self.discard()
            raise
        self._open = False
        return self.path

    def discard(self) -> None:
        """Removes the scratch file (nothing happens when there is none)."""
        if self._open:
            try:
                self.scratch.unlink()
            except OSError:
                pass
            untrack_scratch(self.scratch)
        self._open = False

    def __enter__(self) -> "AtomicFile":
        return self.open()

    def __exit__(self, *exc) -> None:
        if self._open:
            self.discard()
