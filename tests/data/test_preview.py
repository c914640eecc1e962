"""Preview grid: size, colour map, the command."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mpv_helpers import H, W, write_flat_dataset
from tfvton.data import MPVDataset
from tfvton.data.preview import (LABEL_COLOURS, PAD, TITLE_HEIGHT, colorize_parsing, columns_for, grid_size,
                                 write_preview)


def test_preview_writes_a_png_of_the_expected_size(tmp_path):
    root = write_flat_dataset(tmp_path / "mpv", persons=4)
    ds = MPVDataset(root, mode="train", height=H, width=W, progress=False)
    out = write_preview(ds, tmp_path / "grid.png", n=8, progress=False)
    image = np.asarray(Image.open(out))
    assert len(columns_for(True)) == 6
    assert image.shape == (TITLE_HEIGHT + 2 * H + 3 * PAD, 6 * W + 7 * PAD, 3) == grid_size(2, 6, H, W) + (3,)
    # The first tile is the person photo as the model sees it.
    person = np.round((ds[0]["source_image"] + 1) * 127.5).astype(np.uint8)
    np.testing.assert_array_equal(image[TITLE_HEIGHT + PAD:TITLE_HEIGHT + PAD + H, PAD:PAD + W], person)


def test_parsing_uses_the_official_colour_map():
    assert LABEL_COLOURS.shape == (20, 3)
    labels = np.array([[0, 2, 5, 13]])
    np.testing.assert_array_equal(colorize_parsing(labels)[0], [(0, 0, 0), (255, 0, 0), (255, 85, 0), (0, 0, 255)])


def test_preview_command(tmp_path, mpv_root):
    from tfvton.cli import main

    out = tmp_path / "real.png"
    assert main(["preview", "--data-root", str(mpv_root), "--n", "2", "--out", str(out)]) == 0
    assert Image.open(out).size == (5 * 192 + 6 * PAD, TITLE_HEIGHT + 2 * 256 + 3 * PAD)
