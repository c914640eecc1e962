"""`tfvton.bench.exported_quality`: variants compared with the reference on the same inputs."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.bench.exported_quality import compare_predictors


class _Predictor:
    """Output = the person image in [-1, 1] plus `noise`; labels = the parsing with `flip` pixels changed."""

    def __init__(self, noise: float = 0.0, flip: int = 0):
        self.noise, self.flip = noise, flip

    def predict(self, raws):
        raw = raws[0]
        image = raw["person_image"].astype(np.float32) / 127.5 - 1.0 + self.noise
        labels = raw["person_parsing"].copy()
        labels.reshape(-1)[:self.flip] += 1
        return {"output": image[None], "parsing_labels": labels[None]}


def _raws(n=3, h=32, w=24):
    rng = np.random.default_rng(0)
    return [{"person_image": rng.integers(0, 256, (h, w, 3), np.uint8),
             "person_parsing": rng.integers(0, 20, (h, w), np.uint8)} for _ in range(n)]


def test_a_variant_equal_to_the_reference_scores_the_cap_and_full_agreement():
    result = compare_predictors(_Predictor(), {"same": _Predictor()}, _raws())["same"]
    assert result["psnr_db"] == 100.0 and result["ssim"] == pytest.approx(1.0)
    assert result["parsing_agreement"] == 1.0 and result["images"] == 3


def test_a_shifted_variant_scores_the_hand_computed_psnr_and_agreement():
    # A constant offset of 0.02 on a range of 2: MSE 4e-4, PSNR = 10 log10(4 / 4e-4) = 40 dB.
    # 96 of 32 * 24 = 768 labels changed per image: agreement 1 - 96 / 768 = 0.875.
    result = compare_predictors(_Predictor(), {"shifted": _Predictor(noise=0.02, flip=96)}, _raws())["shifted"]
    assert result["psnr_db"] == pytest.approx(40.0, abs=1e-3)
    assert result["parsing_agreement"] == pytest.approx(0.875) and result["parsing_agreement_min"] == pytest.approx(0.875)


def test_no_inputs_is_an_error():
    with pytest.raises(ValueError, match="no inputs"):
        compare_predictors(_Predictor(), {"same": _Predictor()}, [])
