"""The plain-text table `tfvton bench` prints from its report."""
from __future__ import annotations

from typing import Dict

# Report keys that are not variants.
NOT_VARIANTS = ("machine", "meta", "train", "ablation", "int8_study", "serving")


def format_table(report: Dict[str, object]) -> str:
    """Per variant, each network and end to end: FLOPs, times, share of the machine, speed-up.

    The official release's seconds (`meta.reference`, present for the paper
    geometry only) are printed as a separate column with the machine and date
    they were measured on; they are not rescaled to this machine. When the
    official release was timed in the same run (key `official`), a column
    `vs official` gives its wall median over each row's.
    """
    machine = report["machine"]
    rate = machine["matmul_gflops"]
    variants = [k for k in report if k not in NOT_VARIANTS]
    baseline = next((v for v in ("savedmodel", "function", "keras") if v in report), None)
    reference = report["meta"].get("reference") or {}
    reference_seconds = reference.get("inference_seconds", {})
    same_run = report.get("official")
    lines = [f"matmul probe (fp32, 2048^2, {machine['threads']} threads): {rate:.1f} GFLOP/s best wall, "
             f"{machine['matmul_gflops_median']:.1f} median, {machine['matmul_cpu_gflops']:.1f} per CPU second",
             f"{'variant':18s} {'network':11s} {'GFLOPs':>8s} {'median s':>9s} {'min s':>8s} {'cpu min s':>9s} "
             f"{'machine':>7s} {'cpu-mach':>8s} {'speed-up':>8s} {'ref. s':>7s}"
             + (f" {'vs official':>11s}" if same_run else "")]
    for name in variants:
        entry = report[name]
        rows = list(entry.get("networks", {}).items())
        if "end_to_end" in entry:
            rows.append(("end-to-end", entry["end_to_end"]))
        ref_entry = report.get(baseline, {}) if baseline else {}
        for row_name, m in rows:
            ref = (ref_entry.get("end_to_end") if row_name == "end-to-end"
                   else ref_entry.get("networks", {}).get(row_name)) if ref_entry else None
            # CPU-time ratio: stable on shared cores (wall-time ratios are in the JSON).
            ratio = f"{ref['cpu_min_s'] / m['cpu_min_s']:.2f}x" if ref else "-"
            official = reference_seconds.get("end_to_end" if row_name == "end-to-end" else row_name)
            line = (f"{name:18s} {row_name:11s} {m['gflops']:8.2f} {m['median_s']:9.4f} {m['min_s']:8.4f} "
                    f"{m['cpu_min_s']:9.4f} {m['fraction_of_machine']:7.2f} {m['cpu_fraction_of_machine']:8.2f} "
                    f"{ratio:>8s} {official if official is not None else '-':>7}")
            if same_run:
                theirs = (same_run.get("end_to_end") if row_name == "end-to-end"
                          else same_run.get("networks", {}).get(row_name))
                line += f" {theirs['median_s'] / m['median_s']:10.2f}x" if theirs else f" {'-':>11s}"
            lines.append(line)
        if "quality" in entry:
            q = entry["quality"]
            lines.append(f"{name:18s} quality vs fp32: PSNR {q['psnr_db']:.2f} dB (min {q['psnr_min_db']:.2f}), "
                         f"SSIM {q['ssim']:.4f} (min {q['ssim_min']:.4f}) over {q['images']} images; try-on "
                         f"before face refinement {q.get('tryon_psnr_db', float('nan')):.2f} dB; parsing arg-max "
                         f"agreement {q.get('parsing_argmax_agreement', float('nan')):.4f}")
    lines.append(f"speed-up: CPU-time ratio to {baseline}")
    if same_run:
        lines.append(f"vs official: wall-median ratio to the official release timed in this run: {same_run['what']} "
                     f"(commit {same_run.get('commit', 'unknown')})")
    if reference_seconds:
        lines.append(f"ref. s: {reference['what']}; reference measured on {reference['machine']}, "
                     f"{reference['measured']} (matmul probe there: {reference['matmul_gflops']:.0f} GFLOP/s); "
                     f"not measured on this machine")
    skipped = report["meta"].get("skipped") or {}
    for name, reason in skipped.items():
        lines.append(f"{name}: skipped: {reason}")
    return "\n".join(lines)
