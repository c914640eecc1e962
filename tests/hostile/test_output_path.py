"""`tryon --output`: written straight to its target in one rename, wherever the working directory is."""
from __future__ import annotations

import os

from PIL import Image

from tests.hostile.conftest import single_tryon_argv
from tfvton.cli import main


def test_output_goes_straight_to_its_target(root, smoke_run_dir, tmp_path, monkeypatch, capsys):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    target = tmp_path / "elsewhere" / "me.png"
    target.parent.mkdir()
    target.write_bytes(b"previous")  # replaced, not appended to
    argv = single_tryon_argv(root, smoke_run_dir, target)
    assert main(argv) == 0, capsys.readouterr().err
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == (64, 64)
    assert os.listdir(cwd) == []  # no ./tryon_out, nothing moved from there
    assert sorted(os.listdir(target.parent)) == ["me.png"]  # no scratch file left
    assert str(target) in capsys.readouterr().out
