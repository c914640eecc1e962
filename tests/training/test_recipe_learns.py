"""The `small` preset's training recipe must keep learning: a recipe that stops learning fails here.

The parsing stage trains with the `small` recipe (its switches carried onto the
`smoke` sizes, `tfvton.training.recipe_study.recipe_overrides`) for a fixed
number of steps on a tiny SynthMPV, seeded; the arg-max parsing of the training
pairs must then reach a mIoU floor (over the classes present in the targets).
The official recipe (double softmax on tanh scores) stays far below it at the
same budget: its cross-entropy cannot fall below ~2.77 nats, so it has almost no
gradient (`test_recipe_switches.test_official_cross_entropy_has_a_floor_...`).
"""
from __future__ import annotations

import pytest

from tests.training.training_helpers import make_synth, tiny_config

STEPS = 120
# Measured (seed 0): the small recipe 0.164, the official recipe 0.081 after the same 120 steps.
MIOU_FLOOR = 0.12


@pytest.fixture(scope="module")
def learn_root(tmp_path_factory):
    return make_synth(tmp_path_factory.mktemp("synth_learn"), identities=4, poses=2, seed=3)


def test_parsing_stage_learns_with_the_small_recipe(learn_root, tmp_path):
    from tfvton.config import load_config
    from tfvton.training.recipe_study import recipe_overrides, run_lever

    config = tiny_config(*recipe_overrides(load_config("small")), "train.batch_size=4", "train.seed=0")
    result = run_lever(config, "parsing", learn_root, STEPS, tmp_path / "run", split="train")
    assert result["steps"] == STEPS
    assert result["miou"] >= MIOU_FLOOR, result
