"""`evaluate` and `tryon` on a VITON-HD-layout root (detected from its folders)."""
from __future__ import annotations

import json

import pytest

from tfvton.cli import main


@pytest.fixture(scope="module")
def vitonhd_root(tmp_path_factory):
    from tfvton.data.synth import generate

    root = tmp_path_factory.mktemp("vitonhd")
    generate(root, identities=3, poses_per_identity=2, size=(64, 64), seed=0, layout="viton-hd")
    return root


@pytest.mark.slow  # loads the model twice; the reader itself is tested fast in tests/data
def test_evaluate_and_tryon_read_the_vitonhd_layout(vitonhd_root, smoke_run_dir, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    assert main(["evaluate", "--run-dir", str(smoke_run_dir), "--data-root", str(vitonhd_root), "--json", str(out),
                 "--no-inception", "--quiet"]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["meta"]["pairs"] == 2  # test_pairs.txt, paired: each test person in its own garment
    # Same-pose pairs: the source photo IS the target, so the source baseline is exact.
    assert metrics["baseline_source"]["ssim"] == pytest.approx(1.0) and metrics["baseline_source"]["l1"] == 0.0
    assert "test_pairs.txt (test)" in capsys.readouterr().out

    # The try-on commands default to the unpaired list: each person in the garment the list names.
    assert main(["tryon", "--model", str(smoke_run_dir), "--data-root", str(vitonhd_root),
                 "--out", str(tmp_path / "tryon"), "--quiet"]) == 0
    lines = [line.split() for line in (vitonhd_root / "test_pairs.txt").read_text().splitlines()]
    written = sorted(p.name for p in (tmp_path / "tryon").glob("*.png"))
    assert written == sorted(f"{p[:-4]}__{c[:-4]}.png" for p, c in lines)
