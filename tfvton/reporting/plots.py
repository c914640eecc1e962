"""Line charts with matplotlib (Agg backend): loss curves for the demo report.

`line_chart` draws one or more (x, y) series on shared axes and returns the
rendered image as an array, so callers save it like any other image;
`read_training_csv` reads the `logs/<stage>/train.csv` files the trainer's
CSVLogger writes (one row per `train.log_every` steps). The figure is built
with matplotlib's object API on an Agg canvas (no pyplot state, no display),
so the usual matplotlib styling (`matplotlib.rcParams`, style sheets) applies.
"""
from __future__ import annotations

import csv
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Distinguishable colours (Okabe-Ito, then a few more), as 0-255 RGB.
COLOURS = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0),
           (240, 228, 66), (0, 0, 0), (128, 128, 128), (150, 75, 0))
DPI = 100

__all__ = ["COLOURS", "read_training_csv", "line_chart"]


def read_training_csv(path) -> Dict[str, List[float]]:
    """Columns of a Keras CSVLogger file as float lists (`NA` and text cells dropped per column).

    Validation columns (`val_*`, always NA here) and `epoch` are left out; the
    `step` column, when present, is the x axis.
    """
    columns: Dict[str, List[float]] = {}
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key, value in row.items():
            if key is None or key.startswith("val_") or key == "epoch":
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                columns.setdefault(key, []).append(number)
    return columns


def line_chart(series: Mapping[str, Tuple[Sequence[float], Sequence[float]]], title: str = "",
               x_label: str = "step", size: Tuple[int, int] = (520, 300), log_y: Optional[bool] = None) -> np.ndarray:
    """Draws series on shared axes; returns uint8 RGB (H, W, 3).

    Args:
        series: name -> (x values, y values); series with no points, or with x
            and y of different lengths, are left out.
        title: drawn above the plot.
        x_label: x axis caption.
        size: (width, height) in pixels.
        log_y: log y axis; default: when every value is positive and they
            span more than two decades.
    """
    width, height = size
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=8, loc="left")
    axes.set_xlabel(x_label, fontsize=8)
    axes.tick_params(labelsize=7)
    axes.grid(True, color="#e6e6e6", linewidth=0.8)
    usable = {name: (np.asarray(x, np.float64), np.asarray(y, np.float64)) for name, (x, y) in series.items()
              if len(x) and len(x) == len(y)}
    if not usable:
        axes.text(0.5, 0.5, "no data", transform=axes.transAxes, ha="center", va="center", color="grey")
    else:
        all_y = np.concatenate([y for _, y in usable.values()])
        if log_y is None:
            log_y = bool((all_y > 0).all() and all_y.max() / max(all_y.min(), 1e-30) > 100)
        for i, (name, (x, y)) in enumerate(usable.items()):
            colour = tuple(c / 255.0 for c in COLOURS[i % len(COLOURS)])
            axes.plot(x, y, color=colour, linewidth=2, marker="o" if len(x) == 1 else None, markersize=3,
                      label=name)
        if log_y:
            axes.set_yscale("log")
        axes.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    figure.tight_layout(pad=0.4)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
