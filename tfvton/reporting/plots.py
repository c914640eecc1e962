"""Line charts drawn with PIL (no matplotlib): loss curves for the demo report.

`line_chart` draws one or more (x, y) series on shared axes with tick labels
and a legend; `read_training_csv` reads the `logs/<stage>/train.csv` files the
trainer's CSVLogger writes (one row per `train.log_every` steps).
"""
from __future__ import annotations

import csv
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

# Distinguishable colours (Okabe-Ito, then a few more).
COLOURS = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0),
           (240, 228, 66), (0, 0, 0), (128, 128, 128), (150, 75, 0))

__all__ = ["read_training_csv", "line_chart", "nice_ticks"]


def read_training_csv(path) -> Dict[str, List[float]]:
    """Columns of a Keras CSVLogger file as float lists (`NA` and text cells dropped per column).

    Validation columns (`val_*`, always NA here) and `epoch` are left out; the
    `step` column, when present, is the x axis.
    """
    columns: Dict[str, List[float]] = {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
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


def nice_ticks(lo: float, hi: float, count: int = 5) -> List[float]:
    """Round tick values covering [lo, hi]."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(lo / step) * step
    ticks = []
    value = start
    while len(ticks) < 20:
        ticks.append(round(value, 10))
        if value >= hi - step * 1e-9:  # the first tick at or above `hi` closes the range
            break
        value += step
    return ticks


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.01:
        return f"{value:.0e}"
    return f"{value:.3g}"


def line_chart(series: Mapping[str, Tuple[Sequence[float], Sequence[float]]], title: str = "",
               x_label: str = "step", size: Tuple[int, int] = (520, 300), log_y: Optional[bool] = None) -> np.ndarray:
    """Draws series on shared axes; returns uint8 RGB (H, W, 3).

    Args:
        series: name -> (x values, y values).
        title: drawn above the plot.
        x_label: x axis caption.
        size: (width, height) in pixels.
        log_y: log10 y axis; default: when every value is positive and they
            span more than two decades.
    """
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 58, 12, 22, 34
    legend_rows = math.ceil(len(series) / 3)
    bottom += 12 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    draw.text((left, 4), title, fill=(0, 0, 0))

    usable = {name: (np.asarray(x, np.float64), np.asarray(y, np.float64)) for name, (x, y) in series.items()
              if len(x) and len(x) == len(y)}
    if not usable:
        draw.text((left + 10, top + plot_h // 2), "no data", fill=(120, 120, 120))
        return np.asarray(image)
    all_y = np.concatenate([y for _, y in usable.values()])
    all_x = np.concatenate([x for x, _ in usable.values()])
    if log_y is None:
        log_y = bool((all_y > 0).all() and all_y.max() / max(all_y.min(), 1e-30) > 100)
    if log_y:
        all_y = np.log10(np.maximum(all_y, 1e-12))
    y_lo, y_hi = float(all_y.min()), float(all_y.max())
    if log_y:
        y_lo, y_hi = math.floor(y_lo), math.ceil(y_hi)
        if y_hi == y_lo:
            y_hi += 1
        ticks = list(range(int(y_lo), int(y_hi) + 1))
    else:
        ticks = nice_ticks(y_lo, y_hi)
        y_lo, y_hi = min(ticks[0], y_lo), max(ticks[-1], y_hi)
    if y_hi == y_lo:
        y_hi = y_lo + 1.0
    x_lo, x_hi = float(all_x.min()), float(all_x.max())
    if x_hi == x_lo:
        x_hi = x_lo + 1.0

    def px(x, y):
        return (left + (x - x_lo) / (x_hi - x_lo) * plot_w, top + (1.0 - (y - y_lo) / (y_hi - y_lo)) * plot_h)

    # Axes, grid and tick labels.
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline=(80, 80, 80))
    for t in ticks:
        _, y = px(x_lo, t)
        if top - 1 <= y <= top + plot_h + 1:
            draw.line([left, y, left + plot_w, y], fill=(230, 230, 230))
            label = f"1e{int(t)}" if log_y else _fmt(t)
            draw.text((4, y - 6), label, fill=(60, 60, 60))
    for t in nice_ticks(x_lo, x_hi, 6):
        x, _ = px(t, y_lo)
        if left - 1 <= x <= left + plot_w + 1:
            draw.line([x, top + plot_h, x, top + plot_h + 4], fill=(80, 80, 80))
            draw.text((x - 8, top + plot_h + 6), _fmt(t), fill=(60, 60, 60))
    draw.text((left + plot_w - 30, top + plot_h + 6 + 10 * 0), "", fill=(0, 0, 0))
    draw.text((left + plot_w // 2 - 10, top + plot_h + 18), x_label, fill=(60, 60, 60))

    # Series and legend.
    for i, (name, (x, y)) in enumerate(usable.items()):
        colour = COLOURS[i % len(COLOURS)]
        if log_y:
            y = np.log10(np.maximum(y, 1e-12))
        points = [px(a, b) for a, b in zip(x, y)]
        if len(points) == 1:
            cx, cy = points[0]
            draw.ellipse([cx - 2, cy - 2, cx + 2, cy + 2], fill=colour)
        else:
            draw.line(points, fill=colour, width=2)
        lx = left + (i % 3) * (plot_w // 3)
        ly = height - 12 * (legend_rows - i // 3) - 2
        draw.rectangle([lx, ly + 3, lx + 10, ly + 8], fill=colour)
        draw.text((lx + 14, ly), name, fill=(0, 0, 0))
    return np.asarray(image)
