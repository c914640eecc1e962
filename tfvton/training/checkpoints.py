"""Crash-safe checkpoints of a stage: every network, optimizer slot and the step counter.

Layout of a stage's checkpoint directory:

    checkpoints/<stage>/
        checkpoint              TF's state file (so `tf.train.latest_checkpoint` works)
        ckpt-00000500/ckpt.index, ckpt.data-00000-of-00001
        ckpt-00001000/...

`AtomicCheckpointManager.save` writes a `tf.train.Checkpoint` into a hidden
temporary directory and renames it to `ckpt-<step>` only when the write has
finished; the state file is then replaced atomically. A process killed (SIGKILL)
at any point therefore leaves the previous checkpoint intact and pointed to: the
half-written temporary directory is an orphan that the next start removes. Old
checkpoints beyond `max_to_keep` are renamed to a temporary name before deletion
for the same reason. `keras.callbacks.BackupAndRestore` is not used: it replays
batches and can leave an unreadable file when killed mid-save.

`tf.train.CheckpointManager` writes straight to the final prefix, so this class
keeps its `keep N` and `latest_checkpoint` behaviour but owns the directory layout.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import List, Optional, Tuple

import tensorflow as tf

from tfvton.errors import ConfigError

_STEP_DIR = re.compile(r"^ckpt-(\d+)$")
_TMP_PREFIX = ".tmp-"
PREFIX_NAME = "ckpt"


def _fsync_tree(path: Path) -> None:
    # A rename is atomic but not durable without fsync; cheap next to the write itself.
    for child in path.iterdir():
        if child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some filesystems do not allow opening directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicCheckpointManager:
    """Keeps the last `max_to_keep` checkpoints of one `tf.train.Checkpoint`, saved atomically.

    Args:
        checkpoint: the `tf.train.Checkpoint` (networks, optimizers, `step`).
        directory: where the `ckpt-<step>` directories live.
        max_to_keep: checkpoints kept (older ones are deleted after a save).
        is_chief: in a multi-worker job only the chief keeps what it writes; the
            other workers still write (variable reads may need collectives) into a
            private temporary directory, removed right after each save.

    Example:
        >>> manager = AtomicCheckpointManager(tf.train.Checkpoint(gmm=gmm, step=step), "run/checkpoints/gmm")
        >>> manager.restore_latest()   # None on a fresh run
        >>> manager.save(500)
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, directory, max_to_keep: int = 3,
                 is_chief: bool = True):
        if max_to_keep < 1:
            raise ConfigError(f"train.keep_checkpoints must be >= 1. Received: train.keep_checkpoints={max_to_keep}")
        self.checkpoint = checkpoint
        self.max_to_keep = max_to_keep
        self.is_chief = is_chief
        self.directory = Path(directory)
        if is_chief:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.clean_orphans()
            self._write_root = self.directory
        else:
            # Restores read the chief's (shared) directory; saves go to private scratch space.
            self._write_root = Path(tempfile.mkdtemp(prefix="tfvton-worker-ckpt-"))

    # === Discovery ===
    def clean_orphans(self) -> List[Path]:
        """Removes temporary directories left by a killed save or prune; returns what it removed."""
        removed = []
        for child in self.directory.iterdir():
            if child.name.startswith(_TMP_PREFIX) and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
                removed.append(child)
        return removed

    @property
    def checkpoints(self) -> List[Tuple[int, str]]:
        """Complete checkpoints, oldest first, as (step, prefix)."""
        found = []
        if not self.directory.is_dir():
            return found
        for child in self.directory.iterdir():
            match = _STEP_DIR.match(child.name)
            if match and child.is_dir() and (child / f"{PREFIX_NAME}.index").exists():
                found.append((int(match.group(1)), str(child / PREFIX_NAME)))
        return sorted(found)

    @property
    def latest_checkpoint(self) -> Optional[str]:
        """Prefix of the newest complete checkpoint, or None."""
        checkpoints = self.checkpoints
        return checkpoints[-1][1] if checkpoints else None

    @property
    def latest_step(self) -> int:
        """Step of the newest complete checkpoint (0 when there is none)."""
        checkpoints = self.checkpoints
        return checkpoints[-1][0] if checkpoints else 0

    # === Save / restore ===
    def save(self, step: int) -> Optional[str]:
        """Writes a checkpoint for `step`; returns its prefix (None on non-chief workers).

        Saving the same step twice is a no-op.
        """
        step = int(step)
        final = self.directory / f"ckpt-{step:08d}"
        if self.is_chief and final.exists():
            return str(final / PREFIX_NAME)
        scratch = self._write_root / f"{_TMP_PREFIX}ckpt-{step:08d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:  # a save that fails or is interrupted (Ctrl-C) leaves no folder behind
            scratch.mkdir(parents=True)
            self.checkpoint.write(str(scratch / PREFIX_NAME))
            if not self.is_chief:
                shutil.rmtree(scratch, ignore_errors=True)
                return None
            _fsync_tree(scratch)
            os.rename(scratch, final)  # the commit point
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        self._write_state()
        self._prune()
        return str(final / PREFIX_NAME)

    def restore_latest(self, expect_partial: bool = False) -> Optional[str]:
        """Restores the newest complete checkpoint into the tracked objects.

        Args:
            expect_partial: allow checkpoint values without a matching object.
        Returns:
            The restored prefix, or None when the directory holds no checkpoint.
        Raises:
            ValueError: the checkpoint lacks a value for an existing network or
                optimizer variable (e.g. the config changed a network's width).
        """
        prefix = self.latest_checkpoint
        if prefix is None:
            return None
        status = self.checkpoint.read(prefix)
        try:
            status.assert_existing_objects_matched()
        except AssertionError as err:
            raise ValueError(
                f"{prefix}: the checkpoint does not match the networks/optimizers being trained (did the "
                f"config change since it was written?): {err}") from None
        if expect_partial:
            status.expect_partial()
        return prefix

    # === Bookkeeping ===
    def _write_state(self) -> None:
        # TF's text-proto state file, replaced atomically; keeps `tf.train.latest_checkpoint(dir)` working.
        paths = [os.path.relpath(prefix, self.directory) for _, prefix in self.checkpoints]
        if not paths:
            return
        lines = [f'model_checkpoint_path: "{paths[-1]}"'] + [f'all_model_checkpoint_paths: "{p}"' for p in paths]
        scratch = self.directory / f"{_TMP_PREFIX}state-{os.getpid()}"
        scratch.write_text("\n".join(lines) + "\n")
        os.replace(scratch, self.directory / "checkpoint")

    def _prune(self) -> None:
        checkpoints = self.checkpoints
        for step, prefix in checkpoints[: max(0, len(checkpoints) - self.max_to_keep)]:
            old = Path(prefix).parent
            doomed = self.directory / f"{_TMP_PREFIX}delete-{old.name}-{uuid.uuid4().hex[:8]}"
            os.rename(old, doomed)  # out of the listing first, so a kill mid-delete leaves an orphan only
            shutil.rmtree(doomed, ignore_errors=True)
        if len(checkpoints) > self.max_to_keep:
            self._write_state()
