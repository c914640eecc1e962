"""Staged GAN training (Algorithm 1): stage trainers, stages as data, runtime.

    from tfvton.training import train, ALGORITHM_1
    results = train(load_config("smoke"), "runs/smoke", MPVSource.from_config(root, config), stage="all")

Modules: `algorithm` (stages as data), `stage_trainer` and one `*_trainer` per
stage, `forward` (shared forward pieces), `strategy` (distribution, precision),
`checkpoints` (atomic checkpoints), `callbacks`, `grids`, `schedules`, `inputs`,
`custom_loop` (multi-worker), `runner` (run directories).
Attributes load lazily so `import tfvton.training.algorithm` needs no TensorFlow.
"""
from __future__ import annotations

import importlib

_ATTRIBUTES = {
    "ALGORITHM_1": "tfvton.training.algorithm",
    "Stage": "tfvton.training.algorithm",
    "resolve_stages": "tfvton.training.algorithm",
    "StageTrainer": "tfvton.training.stage_trainer",
    "GMMTrainer": "tfvton.training.gmm_trainer",
    "ParsingTrainer": "tfvton.training.parsing_trainer",
    "AppearanceTrainer": "tfvton.training.appearance_trainer",
    "FaceTrainer": "tfvton.training.face_trainer",
    "JointTrainer": "tfvton.training.joint_trainer",
    "AtomicCheckpointManager": "tfvton.training.checkpoints",
    "MPVSource": "tfvton.training.inputs",
    "TensorSource": "tfvton.training.inputs",
    "train": "tfvton.training.runner",
    "train_stage": "tfvton.training.runner",
    "select_strategy": "tfvton.training.strategy",
    "NonFiniteLossError": "tfvton.training.callbacks",
}

__all__ = sorted(_ATTRIBUTES)


def __getattr__(name):
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'tfvton.training' has no attribute {name!r}")
