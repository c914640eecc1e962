"""Learning-rate schedules of `optimizer.decay`, and the optimizers built from `OptimizerConfig`."""
from __future__ import annotations

import keras
from keras import ops

from tfvton.errors import ConfigError
from tfvton.training.algorithm import STAGES


@keras.saving.register_keras_serializable(package="tfvton")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linear to zero over the last `decay_steps` of `total_steps` (pix2pix style).

    lr(step) = initial_lr * clip((total_steps - step) / decay_steps, 0, 1)

    Args:
        initial_lr: the learning rate before the decay starts.
        total_steps: the stage's step budget.
        decay_steps: steps over which the rate falls to zero (0 or >= total_steps:
            decay over the whole stage).

    Example:
        >>> schedule = LinearDecay(2e-4, total_steps=1000, decay_steps=500)
        >>> float(schedule(750))  # 1e-4
    """

    def __init__(self, initial_lr: float, total_steps: int, decay_steps: int = 0):
        self.initial_lr = float(initial_lr)
        self.total_steps = int(total_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        span = self.decay_steps if 0 < self.decay_steps < self.total_steps else self.total_steps
        span = max(span, 1)
        remaining = ops.cast(self.total_steps, "float32") - ops.cast(step, "float32")
        return self.initial_lr * ops.clip(remaining / float(span), 0.0, 1.0)

    def get_config(self):
        return {"initial_lr": self.initial_lr, "total_steps": self.total_steps, "decay_steps": self.decay_steps}


def build_optimizer(optimizer_config, total_steps: int, name: str, loss_scale: bool = False,
                    discriminator: bool = False, stage: str = ""):
    """Adam with the config's rate, betas and decay, as the official (lr 2e-4, betas (0.5, 0.999)).

    Args:
        optimizer_config: `tfvton.config.OptimizerConfig`.
        total_steps: the stage's step budget (for `decay: linear`).
        name: optimizer name (shows in checkpoints and variable paths).
        loss_scale: wrap in a `LossScaleOptimizer` (mixed_float16).
        discriminator: the optimizer of a discriminator: its rate is scaled by
            `optimizer.d_lr_scale` (1 = official).
        stage: the stage it trains; `optimizer.stage_lr` may name a rate for it.
    Returns:
        A `keras.optimizers.Optimizer`.
    """
    stage_lr = dict(optimizer_config.stage_lr)
    unknown = sorted(set(stage_lr) - set(STAGES))
    if unknown:
        raise ConfigError(f"optimizer.stage_lr stage names must be some of {', '.join(STAGES)}. "
                          f"Received unknown stage(s): {', '.join(unknown)}")
    lr = float(stage_lr.get(stage, optimizer_config.lr))
    lr *= optimizer_config.d_lr_scale if discriminator else 1.0
    if optimizer_config.decay == "linear":
        rate = LinearDecay(lr, total_steps, optimizer_config.decay_steps)
    elif optimizer_config.decay == "none":
        rate = lr
    else:
        raise ConfigError(f"optimizer.decay must be 'none' or 'linear'. "
                          f"Received: optimizer.decay={optimizer_config.decay!r}")
    optimizer = keras.optimizers.Adam(learning_rate=rate, beta_1=optimizer_config.beta1,
                                      beta_2=optimizer_config.beta2, epsilon=1e-8, name=name)
    if loss_scale:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_loss_scale")
    return optimizer
