"""Scratch space at both ends of a command: stale scratch removed at the start, our own at the exit.

A command that fails or is interrupted (Ctrl-C, i.e. KeyboardInterrupt) leaves no
`.tmp-<pid>-*` file of its own and no partial output; a dead process's scratch in
the output folder is removed the first time a command writes there.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.conftest import single_tryon_argv
from tfvton import atomic_file
from tfvton.cli import main


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def _interrupt_mid_write(array, scratch):
    """A `write_png` stand-in: half a PNG is on disk when Ctrl-C arrives."""
    Path(scratch).write_bytes(b"\x89PNG\r\n\x1a\n half")
    raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["inference", "writing"])
def test_interrupted_single_tryon_leaves_nothing(root, smoke_run_dir, tmp_path, monkeypatch, capsys, where):
    from tfvton.inference import predictor, tryon

    out = tmp_path / "out"
    if where == "inference":
        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt
        monkeypatch.setattr(predictor.KerasPredictor, "predict", interrupted)
    else:
        monkeypatch.setattr(tryon, "write_png", _interrupt_mid_write)
    assert main(single_tryon_argv(root, smoke_run_dir, out / "me.png")) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []


def test_interrupted_mpv_tryon_keeps_finished_images_only(root, smoke_run_dir, tmp_path, monkeypatch, capsys):
    from tfvton.inference import grid

    out = tmp_path / "out"
    written = []
    real = grid.write_png

    def second_interrupted(array, path):
        if written:
            _interrupt_mid_write(array, path)
        real(array, path)
        written.append(path)

    monkeypatch.setattr(grid, "write_png", second_interrupted)
    argv = ["tryon", "--model", str(smoke_run_dir), "--data-root", str(root), "--out", str(out), "--quiet",
            "--batch-size", "1"]
    assert main(argv) == 130
    capsys.readouterr()
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 1 and not names[0].startswith(".tmp-")  # the first image, complete
    from PIL import Image

    with Image.open(out / names[0]) as image:
        image.load()


def test_failed_write_of_the_json_leaves_no_partial_file(root, smoke_run_dir, tmp_path, monkeypatch, capsys):
    from tfvton.commands import evaluate

    target = tmp_path / "out" / "metrics.json"
    real = Path.write_text

    def disk_full(self, text, *args, **kwargs):
        if self.name.startswith(".tmp-"):
            real(self, text[:10])
            raise OSError(28, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_full)
    argv = ["evaluate", "--run-dir", str(smoke_run_dir), "--data-root", str(root), "--json", str(target),
            "--no-inception", "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "--json" in err and "No space left" in err and "Traceback" not in err
    assert list(target.parent.iterdir()) == []
    assert evaluate  # imported: the command module the CLI ran


def test_cli_removes_its_own_scratch_however_the_command_ends(tmp_path, monkeypatch, capsys):
    """The safety net in `tfvton.cli.main`: a scratch file still open when a command ends is removed."""
    from tfvton.commands import preview

    target = tmp_path / "p.png"

    def run(args):
        atomic_file.AtomicFile(target).open()  # reserved, never committed nor discarded
        raise KeyboardInterrupt

    monkeypatch.setattr(preview, "run", run)
    assert main(["preview", "--data-root", str(tmp_path), "--out", str(target)]) == 130
    capsys.readouterr()
    assert list(tmp_path.iterdir()) == []


def test_stale_scratch_in_the_output_folder_is_removed_at_start(root, smoke_run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".tmp-{_dead_pid()}-me.png"
    stale.write_bytes(b"killed mid-write")
    running = out / f".tmp-{os.getppid()}-other.png"  # a running process's write: left alone
    running.write_bytes(b"busy")
    assert main(single_tryon_argv(root, smoke_run_dir, out / "me.png")) == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted(["me.png", running.name])
