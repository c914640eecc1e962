"""The demo's comparison with the shipped reference model (`models/synthmpv-small`).

The 15-minute model is trained at the demo's size, the shipped model at the size its config
records (128x96, like the `small` demo). The demo renders the same SynthMPV identities (same seed)
at the shipped model's size, evaluates it on that test split, and draws its test-pair grid beside
the demo model's.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Dict, Optional

SHIPPED_NAME = "synthmpv-small"

__all__ = ["SHIPPED_NAME", "evaluate_shipped_model"]


def evaluate_shipped_model(out: Path, identities: int, seed: int, log: Callable[[str], None],
                           name: str = SHIPPED_NAME, test_fraction: Optional[float] = None
                           ) -> Optional[Dict[str, object]]:
    """Evaluates the shipped model on SynthMPV at its size; None when it is not shipped here.

    Args:
        out: the demo's output folder (data under `out/data/`, grid under `out/grids/`).
        identities: SynthMPV identities (the demo's, so the test persons are the same).
        seed: SynthMPV seed (the demo's).
        log: progress lines.
        test_fraction: SynthMPV's held-out share (the demo's; None: SynthMPV's default).
    Returns:
        `{"name", "size", "metrics", "metrics_path", "grid", "seconds"}`.
    """
    from tfvton.shipped_models import shipped_model_names

    if name not in shipped_model_names():
        log(f"[demo] no shipped model {name!r} in this installation: comparison skipped")
        return None
    from tfvton.data import MPVDataset
    from tfvton.data.synth import generate
    from tfvton.demo.pair_grid import pair_grid_image, row_collector
    from tfvton.inference.grid import save_png
    from tfvton.inference.predictor import load_predictor, read_source_config
    from tfvton.metrics.evaluation import evaluate_predictor, format_structure_tables, format_table

    t = time.perf_counter()
    config = read_source_config(name)
    height, width = config.data.height, config.data.width
    data_dir = out / "data" / f"synthmpv_{height}x{width}"
    split = {} if test_fraction is None else {"test_fraction": test_fraction}
    generate(data_dir, identities=identities, poses_per_identity=3, size=(height, width), seed=seed,
             workers=0, progress=False, **split)
    predictor = load_predictor(name)
    test = MPVDataset.from_config(str(data_dir), None, "test", config.data, progress=False)
    rows = []
    metrics = evaluate_predictor(predictor, test, batch_size=4, on_batch=row_collector(rows), progress=True)
    metrics_path = out / f"metrics_{name}.json"
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    grid = out / "grids" / f"test_pairs_{name}.png"
    save_png(pair_grid_image(test, rows, predictor), grid)
    log(f"\n[demo] shipped model {name} ({height}x{width}) on the same identities:\n" + format_table(metrics) +
        "\n\n" + format_structure_tables(metrics))
    return {"name": name, "size": [height, width], "metrics": metrics, "metrics_path": str(metrics_path),
            "grid": str(grid), "seconds": round(time.perf_counter() - t, 1)}
