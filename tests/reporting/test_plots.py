"""PIL line charts and the CSV reader behind the demo's loss curves."""
from __future__ import annotations

import numpy as np

from tfvton.reporting.plots import COLOURS, line_chart, nice_ticks, read_training_csv


def test_read_training_csv_drops_validation_and_na(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("epoch,g_l1,g_total,step,val_g_l1\n0,0.5,1.5,5,NA\n1,0.25,nan,10,NA\n")
    columns = read_training_csv(path)
    assert columns == {"g_l1": [0.5, 0.25], "g_total": [1.5], "step": [5.0, 10.0]}


def test_line_chart_draws_each_series_in_its_colour():
    chart = line_chart({"a": ([0, 10, 20], [3.0, 2.0, 1.0]), "b": ([0, 10, 20], [0.5, 0.6, 0.7])},
                       title="t", size=(400, 240))
    assert chart.shape == (240, 400, 3) and chart.dtype == np.uint8
    for colour in COLOURS[:2]:
        assert (chart == np.array(colour, np.uint8)).all(axis=-1).sum() > 50  # a drawn line, not just a legend


def test_line_chart_handles_empty_and_single_points():
    assert line_chart({}, size=(200, 120)).shape == (120, 200, 3)
    assert line_chart({"a": ([5], [1e-4])}, size=(200, 120)).shape == (120, 200, 3)


def test_nice_ticks_cover_the_range():
    ticks = nice_ticks(0.13, 0.87)
    assert ticks[0] <= 0.13 and ticks[-1] >= 0.87 and len(ticks) <= 8
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
