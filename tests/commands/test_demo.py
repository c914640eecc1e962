"""`tfvton demo` end to end on the smoke preset (slow: graph tracing of five stages dominates)."""
from __future__ import annotations

import json

import pytest

from tfvton.cli import main


@pytest.mark.slow
def test_demo_smoke_writes_report_metrics_grids_and_exports(tmp_path, mpv_root, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--minutes", "1", "--config", "smoke", "--mpv-root", str(mpv_root),
                 "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for method in ("model", "baseline_source", "baseline_paste"):
        assert {"ssim", "mask_ssim", "l1", "psnr"} <= set(metrics[method])
    assert {"parsing_miou", "parsing_iou", "warped_cloth_iou", "warped_cloth_iou_nonwhite"} <= set(metrics["model"])
    summary = json.loads((out / "summary.json").read_text())
    assert [r["stage"] for r in summary["training"]] == ["gmm", "parsing", "appearance", "face", "joint"]
    assert all(r["steps"] >= 2 for r in summary["training"])
    html = (out / "report.html").read_text()
    for name in ("test_pairs.png", "cross_garment.png", "mpv_samples.png", "loss_appearance.png", "metrics.json",
                 "parsing mIoU", "warped-cloth IoU (mask)", "upper_clothes"):
        assert name in html
    for grid in ("test_pairs", "cross_garment", "mpv_samples"):
        assert (out / "grids" / f"{grid}.png").is_file()
    assert len(list((out / "tryon" / "mpv").glob("*.png"))) == 5
    assert (out / "export" / "saved_model" / "tfvton" / "1" / "saved_model.pb").is_file()
    assert summary["exports"]["saved_model"]["max_abs_diff_vs_keras"] < 0.02  # uint8 output rounding
    assert summary["exports"]["tflite"]["max_abs_diff_vs_keras"] < 1e-3
    assert "tfvton demo summary" in capsys.readouterr().out


@pytest.mark.slow
def test_ablate_trains_and_tabulates_variants(tiny_synth, tmp_path, capsys):
    out = tmp_path / "ablation"
    assert main(["ablate", "--config", "smoke", "--data-root", str(tiny_synth), "--out", str(out), "--steps", "1",
                 "--variants", "no_joint,no_face_refinement", "--quiet"]) == 0
    table = json.loads((out / "ablation.json").read_text())
    assert table["no_joint"]["stages"] == ["gmm", "parsing", "appearance", "face"]
    assert table["no_face_refinement"]["metrics"]["meta"]["model_output"] == "tryon"
    assert not (out / "no_face_refinement" / "weights" / "face").exists()  # the face stage never ran
    assert "| no_joint |" in (out / "ablation.md").read_text()


def test_demo_stages_default_per_preset_and_validation():
    from tfvton.demo.run import STAGES, demo_stages

    # The small demo skips face and joint (docs/demo.md); smoke keeps all five to exercise them.
    assert demo_stages("small", None, face_refinement=False) == ["gmm", "parsing", "appearance"]
    assert demo_stages("smoke", None, face_refinement=True) == list(STAGES)
    # 'all' asks for every stage; the face stage drops out without face refinement.
    assert demo_stages("small", ["all"], face_refinement=False) == ["gmm", "parsing", "appearance", "joint"]
    # A user's order does not matter: Algorithm 1's does.
    assert demo_stages("small", ["appearance", "gmm"], face_refinement=True) == ["gmm", "appearance"]
    with pytest.raises(ValueError, match="unknown demo stage"):
        demo_stages("small", ["gmm", "warp"], face_refinement=True)


def test_post_training_reserve_follows_the_machine_speed():
    from tfvton.demo.run import SHIPPED_ALLOWANCE_SECONDS, post_training_reserve

    full = 900 * 0.16 + SHIPPED_ALLOWANCE_SECONDS
    # A slow machine (36 GFLOP/s, where those phases took ~150 s) keeps the whole reserve.
    assert post_training_reserve(900, 0.16, export=True, shipped=True, gflops=36) == pytest.approx(full)
    # Twice the full-reserve rate: half of it; a very fast machine: the floor (25 %).
    assert post_training_reserve(900, 0.16, True, True, gflops=120) == pytest.approx(full / 2)
    assert post_training_reserve(900, 0.16, True, True, gflops=343) == pytest.approx(full * 0.25)
    # Without export 60 % of the fraction; without the shipped model no allowance.
    assert post_training_reserve(900, 0.16, False, False, gflops=36) == pytest.approx(900 * 0.16 * 0.6)


def test_demo_test_identities_are_unseen_by_the_shipped_model():
    # SynthMPV identity i depends only on (seed, i), and the test split is the last identities. The
    # shipped model was trained on `tfvton synth --identities 200` (seed 0): identities 0-179. The demo's
    # test persons must lie in 180-199, or the comparison would score it on its own training persons.
    from tfvton.data.synth import DEFAULT_TEST_FRACTION, _split
    from tfvton.demo.run import DEFAULT_IDENTITIES, TEST_IDENTITIES, demo_test_fraction

    n_ids = DEFAULT_IDENTITIES["small"]
    demo_split = _split(n_ids, demo_test_fraction(n_ids))
    assert demo_split.count("test") == TEST_IDENTITIES
    demo_test = {i for i, s in enumerate(demo_split) if s == "test"}
    shipped_train = {i for i, s in enumerate(_split(200, DEFAULT_TEST_FRACTION)) if s == "train"}
    assert demo_test and not demo_test & shipped_train
    # Small datasets keep SynthMPV's 10 %.
    assert demo_test_fraction(80) == DEFAULT_TEST_FRACTION and demo_test_fraction(8) == DEFAULT_TEST_FRACTION


class _Trainer:
    """What `TimeDecay` reads of a stage trainer: its optimizers by name."""

    def __init__(self, **optimizers):
        self.optimizers = optimizers


def test_time_decay_holds_then_falls_linearly_to_zero():
    import time

    import keras

    from tfvton.demo.timed_training import TimeDecay

    trainer = _Trainer(generator=keras.optimizers.Adam(1e-3), discriminator=keras.optimizers.Adam(4e-4))
    now = time.perf_counter()
    decay = TimeDecay(seconds=100.0, start=now, fraction=0.5)
    decay.set_model(trainer)
    decay.on_train_begin()

    def rates_at(elapsed):
        decay.start = time.perf_counter() - elapsed
        decay.on_train_batch_begin(0)
        return {name: float(o.learning_rate) for name, o in trainer.optimizers.items()}

    assert rates_at(10.0) == pytest.approx({"generator": 1e-3, "discriminator": 4e-4})  # first half: constant
    assert rates_at(75.0) == pytest.approx({"generator": 5e-4, "discriminator": 2e-4}, rel=1e-2)
    assert rates_at(99.0) == pytest.approx({"generator": 2e-5, "discriminator": 8e-6}, rel=0.1)
    assert rates_at(150.0) == {"generator": 0.0, "discriminator": 0.0}  # past the slice: stopped


def test_time_decay_refuses_a_step_schedule():
    import keras

    from tfvton.demo.timed_training import TimeDecay
    from tfvton.training.schedules import LinearDecay

    decay = TimeDecay(seconds=10.0, start=0.0, fraction=0.5)
    decay.set_model(_Trainer(generator=keras.optimizers.Adam(LinearDecay(1e-3, 100, 50))))
    with pytest.raises(ValueError, match="generator optimizer follows a learning-rate schedule"):
        decay.on_train_begin()
    with pytest.raises(ValueError, match="fraction must be in"):
        TimeDecay(seconds=10.0, start=0.0, fraction=0.0)


def test_a_timed_stage_decays_its_rate_inside_fit(tiny_synth, tmp_path):
    # The demo's parsing stage without a discriminator (loss.parsing_gan=0) and with its rate
    # decaying over the slice's last half: it trains, logs no D terms, and ends near rate 0.
    from tests.training.training_helpers import tiny_config
    from tfvton.demo.timed_training import train_stage_for
    from tfvton.training.inputs import MPVSource

    config = tiny_config("train.batch_size=2", "loss.parsing_gan=0")
    data = MPVSource.from_config(str(tiny_synth), config)
    result = train_stage_for(config, "parsing", tmp_path / "run", data, seconds=12.0, max_steps=10_000,
                             verbose=0, decay_fraction=0.5)
    assert result["steps"] >= 2
    assert result["rate_scale"] < 0.3  # the last steps ran near the end of the slice
    assert "d_total" not in result["losses"] and "g_parsing" in result["losses"]
    saved = (tmp_path / "run" / "logs" / "parsing" / "train.csv").read_text()
    assert "d_total" not in saved.splitlines()[0]
