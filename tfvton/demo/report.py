"""The demo's `report.html`: metrics table, loss curves, image grids, timings and every artifact's path."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from tfvton.data.transforms import LABEL_NAMES
from tfvton.inference.grid import save_png
from tfvton.metrics.evaluation import METHODS, STRUCTURE_COLUMNS
from tfvton.reporting.html import Report
from tfvton.reporting.plots import line_chart, read_training_csv

__all__ = ["loss_curves", "write_report", "metrics_rows", "metrics_header", "structure_rows", "class_iou_rows"]

_METHOD_NAMES = {"model": "model (this run)", "baseline_source": "baseline: return the source image",
                 "baseline_paste": "baseline: paste the unwarped cloth"}


def loss_curves(run_dir, out_dir) -> Dict[str, str]:
    """One PNG per stage with its CSV-logged loss terms against the step; stage -> path."""
    written = {}
    for csv_path in sorted(Path(run_dir).glob("logs/*/train.csv")):
        stage = csv_path.parent.name
        columns = read_training_csv(csv_path)
        steps = columns.pop("step", None)
        if not columns:
            continue
        x = steps if steps else list(range(1, len(next(iter(columns.values()))) + 1))
        series = {name: (x[:len(values)], values) for name, values in sorted(columns.items())}
        path = Path(out_dir) / f"loss_{stage}.png"
        save_png(line_chart(series, title=f"{stage} stage: loss terms (CSV log, mean over each log interval)"),
                 path)
        written[stage] = str(path)
    return written


def metrics_header(metrics: Dict) -> List[str]:
    """Columns of the image-metrics table (IS, FID, KID only when computed)."""
    header = ["method", "SSIM", "mask-SSIM", "L1", "PSNR (dB)"]
    if "is" in metrics.get("model", {}):
        header += ["IS", "mask-IS"]
    if "fid" in metrics.get("model", {}):
        header += ["FID", "KID"]
    return header


def metrics_rows(metrics: Dict) -> List[List[str]]:
    """One row per method of the image-metrics table, matching `metrics_header`."""
    rows = []
    for method in METHODS:
        m = metrics.get(method)
        if not m:
            continue
        row = [_METHOD_NAMES.get(method, method), f"{m['ssim']:.4f}", f"{m['mask_ssim']:.4f}", f"{m['l1']:.4f}",
               f"{m['psnr']:.2f}"]
        if "is" in m:
            row += [f"{m['is']:.3f} ± {m['is_std']:.3f}", f"{m['mask_is']:.3f} ± {m['mask_is_std']:.3f}"]
        if "fid" in metrics.get("model", {}):
            row += [f"{m['fid']:.2f}", f"{m['kid']:.4f} ± {m['kid_std']:.4f}"] if "fid" in m else ["–", "–"]
        rows.append(row)
    return rows


_STRUCTURE_TITLES = {"parsing_pixel_accuracy": "parsing pixel accuracy", "parsing_miou": "parsing mIoU",
                     "parsing_classes_present": "classes in the targets", "warped_cloth_iou": "warped-cloth IoU (mask)",
                     "warped_cloth_iou_nonwhite": "warped-cloth IoU (non-white)"}


def structure_rows(metrics: Dict):
    """(header, rows) of the structure table: one row per method, `–` where a method has no such output."""
    header = ["method"] + [_STRUCTURE_TITLES[key] for key, _, _ in STRUCTURE_COLUMNS]
    rows = []
    for method in METHODS:
        m = metrics.get(method)
        if not m:
            continue
        rows.append([_METHOD_NAMES.get(method, method)] + [
            fmt.format(m[key]) if key in m else "–" for key, _, fmt in STRUCTURE_COLUMNS])
    return header, rows


def class_iou_rows(metrics: Dict):
    """(header, rows) of the per-class IoU table: CIHP id and name, then the model and the source baseline."""
    methods = [m for m in ("model", "baseline_source") if metrics.get(m, {}).get("parsing_iou")]
    names = list(dict.fromkeys(n for m in methods for n in metrics[m]["parsing_iou"]))
    header = ["CIHP label", "class"] + [_METHOD_NAMES.get(m, m) for m in methods]
    rows = []
    for name in names:
        values = [metrics[m]["parsing_iou"].get(name) for m in methods]
        rows.append([LABEL_NAMES.index(name) if name in LABEL_NAMES else "", name] +
                    ["–" if v is None else f"{v:.4f}" for v in values])
    return header, rows


def write_report(out, summary: Dict, clock) -> Path:
    """Writes OUT/report.html (and the loss-curve PNGs) from the demo summary."""
    out = Path(out)
    report = Report(out, "tfvton demo: multi-pose virtual try-on, end to end")
    metrics = summary["metrics"]
    model_ssim = metrics["model"]["ssim"]
    beaten = [m for m in ("baseline_source", "baseline_paste") if model_ssim > metrics[m]["ssim"]]
    report.paragraph(
        f"Budget {summary['budget_minutes']:g} min on {summary['machine']['cpus']} CPU(s); "
        f"preset <code>{summary['preset']}</code> at {summary['size'][0]}x{summary['size'][1]} with "
        f"<code>{' '.join(summary['overrides']) or 'no overrides'}</code>; SynthMPV with "
        f"{summary['identities']} identities ({summary['dataset']}).", raw=True)

    report.heading("Metrics on the SynthMPV test split")
    report.table(metrics_header(metrics), metrics_rows(metrics), highlight=0)
    verdict = ("ok", f"The model's SSIM ({model_ssim:.4f}) beats both baselines.") if len(beaten) == 2 else \
        ("bad", f"The model's SSIM ({model_ssim:.4f}) does not beat every baseline "
                f"(beaten: {', '.join(beaten) or 'none'}): the training budget was too short.")
    report.paragraph(verdict[1], css=verdict[0])
    report.paragraph(
        "All images are quantised to 8 bits as saved PNGs; SSIM uses an 11x11 Gaussian window (sigma 1.5), "
        "data range 255, K1 0.01, K2 0.03, the valid region, per channel then averaged; mask-SSIM sets the "
        "background (target parsing label 0) to black in both images first. Baselines: the source photo "
        "unchanged, and the source photo with the in-shop cloth pasted unwarped over the target's cloth "
        "region. Definitions: docs/metrics.md. IS / mask-IS / FID / KID need InceptionV3 ImageNet weights and "
        "are skipped when none are available locally.", css="note")

    report.heading("Structure: predicted parsing and warped cloth")
    header, rows = structure_rows(metrics)
    report.table(header, rows, highlight=0)
    header, rows = class_iou_rows(metrics)
    if rows:
        report.table(header, rows)
    report.paragraph(
        "Parsing: the arg-max of the generated parsing against the target parsing, counted in one confusion "
        "matrix over the whole split; mIoU is the mean IoU over the CIHP classes present in the targets "
        "(background included). The source baseline's parsing is the source person's own parsing. "
        "Warped-cloth IoU: the garment's pixels after warping (the cloth mask warped with the GMM grid; or "
        "the warped photo's non-white pixels) against the target's cloth region (labels 5, 6, 7), pooled over "
        "the split; the paste baseline uses the unwarped cloth.", css="note")

    shipped = summary.get("shipped_model")
    if shipped:
        size = f"{shipped['size'][0]}x{shipped['size'][1]}"
        report.heading(f"The shipped reference model ({shipped['name']}, {size})")
        report.paragraph(
            f"Trained once for longer (docs/training.md, reference training) and shipped in models/; evaluated "
            f"here on the same SynthMPV identities rendered at {size} ({shipped['metrics_path']}). "
            f"Use it with <code>tfvton tryon --model {shipped['name']} ...</code>.", raw=True)
        report.table(metrics_header(shipped["metrics"]), metrics_rows(shipped["metrics"]), highlight=0)
        header, rows = structure_rows(shipped["metrics"])
        report.table(header, rows, highlight=0)

    report.heading("Try-on grids")
    for caption, path in summary["grids"].items():
        report.image(path, caption)

    report.heading("Training")
    rows = [[r["stage"], r["steps"], f"{r['seconds']:.0f}", f"{r['build_seconds']:.1f}",
             f"{r['first_step_seconds']:.1f}", f"{r['step_seconds']:.2f}"] for r in summary["training"]]
    report.table(["stage", "steps", "seconds", "build s", "first step s (tracing)", "s / step"], rows)
    curves = loss_curves(summary["run_dir"], out / "plots")
    for stage, path in curves.items():
        report.image(path, f"{stage}: loss terms")

    report.heading("Export")
    export_rows = []
    for kind, info in summary.get("exports", {}).items():
        if "error" in info:
            export_rows.append([kind, "failed", info["error"], ""])
        else:
            export_rows.append([kind, info["path"], f"{info['max_abs_diff_vs_keras']:.5f}", info.get("megabytes", "")])
    if export_rows:
        report.table(["format", "path", "max |diff| vs Keras ([-1, 1])", "MB"], export_rows)
    else:
        report.paragraph("Export skipped.")

    report.heading("Timings")
    report.table(["phase", "seconds", "note"], [[p["phase"], p["seconds"], p["note"]] for p in clock.phases])
    if "total_seconds" in summary:
        report.paragraph(f"Total wall time: {summary['total_seconds']:.0f} s "
                         f"({summary['total_seconds'] / 60:.1f} min).")

    report.heading("Artifacts")
    items = [("metrics", str(out / "metrics.json")), ("summary", str(out / "summary.json")),
             ("dataset (MPV layout)", summary["data_dir"]), ("run directory", summary["run_dir"]),
             ("run config", str(Path(summary["run_dir"]) / "config.yaml"))]
    items += [(f"loss curve {stage}", path) for stage, path in curves.items()]
    items += [(f"grid: {caption}", path) for caption, path in summary["grids"].items()]
    items += [(f"training CSV {stage}", str(Path(summary["run_dir"]) / "logs" / stage / "train.csv"))
              for stage in curves]
    for kind, info in summary.get("exports", {}).items():
        if "path" in info:
            items.append((f"export {kind}", info["path"]))
    report.links(items)
    report.paragraph("Re-run pieces by hand: <code>tfvton evaluate --model RUN --data-root DATA</code>, "
                     "<code>tfvton tryon --model RUN --data-root DATA --grid</code>.", raw=True)
    return report.write()
