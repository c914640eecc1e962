"""Range checks of a whole `Config`, run when a config is loaded (before any data or network).

Every count is checked against its smallest meaningful value (0 where 0 means "off"
or "derive it"), every weight against 0, every rate against its interval, and each
error names the config key: "train.batch_size must be >= 1. Received: train.batch_size=0".
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Tuple

from tfvton.errors import ConfigError

STRATEGIES = ("auto", "none", "mirrored", "multiworker")
# `none` and `float32` are the same policy; `auto` is resolved per machine and stage (tfvton.training.precision).
PRECISIONS = ("none", "float32", "mixed_float16", "mixed_bfloat16", "auto")
DECAYS = ("none", "linear")

# key -> smallest allowed integer. A 0 minimum means 0 is allowed and has a meaning (see schema.py).
MINIMUM: Dict[str, int] = {
    "data.pose_radius": 0,
    "data.shape_downsample": 1,
    "data.shuffle_buffer": 0,  # 0: the whole dataset
    "data.seed": 0,
    "model.ngf": 1,
    "model.ndf": 1,
    "model.gmm_ngf": 1,
    "model.grid_size": 2,
    "model.n_blocks": 0,
    "model.parsing_downsamplings": 0,  # 0: derived from the resolution
    "model.d_blocks": 0,
    "model.d_layers": 1,
    "optimizer.decay_steps": 0,  # 0: the whole run
    "train.batch_size": 1,
    "train.steps": 1,
    "train.checkpoint_every": 0,  # 0: only at the end of a stage
    "train.keep_checkpoints": 1,
    "train.log_every": 1,
    "train.image_every": 0,  # 0: no sample grids
    "train.seed": 0,
    "train.epochs": 0,  # 0: budget in steps
}
# key -> minimum of the second item of each (stage, count) pair.
STAGE_MINIMUM: Dict[str, int] = {"train.stage_steps": 1, "train.stage_epochs": 0}
# key -> (low, high, high included): floats in an interval.
INTERVAL: Dict[str, Tuple[float, float, bool]] = {
    "model.dropout": (0.0, 1.0, False),
    "optimizer.beta1": (0.0, 1.0, False),
    "optimizer.beta2": (0.0, 1.0, False),
}
CHOICES: Dict[str, Tuple[str, ...]] = {
    "train.strategy": STRATEGIES,
    "train.mixed_precision": PRECISIONS,
    "optimizer.decay": DECAYS,
}


def _get(config, key: str):
    value = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _received(key: str, value) -> str:
    return f"Received: {key}={value!r}"


def validate(config) -> None:
    """Raises `ConfigError` naming the first key whose value is out of range.

    Args:
        config: a `Config` (its sections' own `__post_init__` checks have run).
    """
    for key, minimum in MINIMUM.items():
        value = _get(config, key)
        if value < minimum:
            raise ConfigError(f"{key} must be >= {minimum}. {_received(key, value)}")
    for key, minimum in STAGE_MINIMUM.items():
        for stage, value in _get(config, key):
            if value < minimum:
                raise ConfigError(f"{key} must give each stage >= {minimum}. "
                                  f"{_received(key, _get(config, key))} (stage {stage!r})")
    for key, (low, high, closed) in INTERVAL.items():
        value = _get(config, key)
        if not (low <= value <= high if closed else low <= value < high):
            raise ConfigError(f"{key} must be in [{low}, {high}{']' if closed else ')'}. {_received(key, value)}")
    for key, allowed in CHOICES.items():
        value = _get(config, key)
        if value not in allowed:
            raise ConfigError(f"{key} must be one of {', '.join(allowed)}. {_received(key, value)}")
    lr = config.optimizer.lr
    if not (math.isfinite(lr) and lr > 0):
        raise ConfigError(f"optimizer.lr must be a finite number > 0. {_received('optimizer.lr', lr)}")
    if config.model.parsing_downsamplings == 1:
        raise ConfigError("model.parsing_downsamplings must be 0 (derived from the resolution) or >= 2. "
                          + _received("model.parsing_downsamplings", 1))
    for field in dataclasses.fields(config.loss):
        value = getattr(config.loss, field.name)
        if isinstance(value, float) and not (math.isfinite(value) and value >= 0):
            key = f"loss.{field.name}"
            raise ConfigError(f"{key} must be a finite number >= 0. {_received(key, value)}")
    weights = config.loss.vgg_layer_weights
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        raise ConfigError(f"loss.vgg_layer_weights must be finite numbers >= 0. "
                          f"{_received('loss.vgg_layer_weights', list(weights))}")
