"""matplotlib line charts and the CSV reader behind the demo's loss curves."""
from __future__ import annotations

import numpy as np

from tfvton.reporting.plots import COLOURS, line_chart, read_training_csv


def _pixels_of(chart, colour, tolerance=12):
    return (np.abs(chart.astype(int) - np.array(colour)).max(axis=-1) <= tolerance).sum()


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
        assert _pixels_of(chart, colour) > 50  # a drawn line, not just a legend swatch
    assert _pixels_of(chart, COLOURS[2]) == 0  # no third series


def test_line_chart_handles_empty_and_single_points():
    empty = line_chart({}, size=(200, 120))
    assert empty.shape == (120, 200, 3)
    assert _pixels_of(empty, COLOURS[0]) == 0
    single = line_chart({"a": ([5], [1e-4])}, size=(200, 120))
    assert single.shape == (120, 200, 3) and _pixels_of(single, COLOURS[0]) > 0


def test_log_axis_chosen_when_values_span_more_than_two_decades():
    decades = {"a": ([0, 1, 2], [1e-3, 1e-2, 1.0])}
    log, linear = line_chart(decades, log_y=True), line_chart(decades, log_y=False)
    assert not np.array_equal(log, linear)
    np.testing.assert_array_equal(line_chart(decades), log)
    narrow = {"a": ([0, 1, 2], [1e-2, 1e-1, 1.0])}  # exactly two decades: linear
    np.testing.assert_array_equal(line_chart(narrow), line_chart(narrow, log_y=False))
