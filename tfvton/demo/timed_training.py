"""Stages of Algorithm 1 trained on a wall-clock budget (for `tfvton demo`).

`tfvton train` runs each stage to a fixed step budget. A demo must instead
finish in a given time on whatever machine it runs on, so each stage here gets
a time slice: the trainer runs until the slice is used up (or a step cap is
reached) and then exports its networks exactly as `tfvton train` does
(`tfvton.training.runner.export_stage`), so the run directory is an ordinary
one: `RunDir.load_pipeline`, `tfvton evaluate`, `tfvton export` all read it.

Step times are measured as the stage runs: the first step (graph tracing) and
the median of the following ones are reported, and the slice of each later
stage is sized from the time actually left (a stage that finishes early hands
its time on).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import keras
import numpy as np

# Share of the training time each stage gets (re-normalised over the stages trained and left).
# The parsing U-Net decides the limbs and needs its ~1,300 steps for every class to pass IoU 0.2;
# the 128x96 GMM's warped-cloth IoU flattens after ~600-1,000 steps (0.657 after 1,650), so
# the appearance stage, whose steps still raise SSIM, takes the rest (docs/demo.md). Face and
# joint keep a token share when they run: a 15-minute demo gives them too few steps to change
# the picture.
DEFAULT_SHARES = {"gmm": 0.15, "parsing": 0.27, "appearance": 0.58, "face": 0.04, "joint": 0.06}
# Stages whose learning rates fall linearly to zero over the last part of their slice: the
# time-based form of `optimizer.decay: linear`, since a slice's step count is known only at its
# end. Rate to zero over the last half (docs/training.md, "Batch size and a decaying rate"): the
# parsing U-Net, 1,700 steps: mIoU 0.663 vs 0.650 at a constant rate; the GMM, 1,400 steps:
# warped-cloth IoU cut to the predicted region 0.804 vs 0.777. The appearance stage: no change.
DEFAULT_DECAY = {"gmm": 0.5, "parsing": 0.5}

__all__ = ["DEFAULT_DECAY", "DEFAULT_SHARES", "TimeBudget", "TimeDecay", "TimeProgress", "train_stage_for",
           "train_all_for"]


class TimeBudget(keras.callbacks.Callback):
    """Stops `fit` once `seconds` have passed since `start` (after at least `min_steps` steps)
    or at `max_steps`; records the duration of every step."""

    def __init__(self, seconds: float, start: float, min_steps: int = 2, max_steps: Optional[int] = None):
        super().__init__()
        self.seconds = float(seconds)
        self.start = float(start)
        self.min_steps = int(min_steps)
        self.max_steps = max_steps
        self.step_times: List[float] = []
        self._t = None

    def on_train_batch_begin(self, batch, logs=None):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.step_times.append(now - self._t)
        done = len(self.step_times)
        if self.max_steps is not None and done >= self.max_steps:
            self.model.stop_training = True
        elif done >= self.min_steps:
            # Stop when one more step would overrun the slice.
            typical = float(np.median(self.step_times[1:])) if done > 1 else self.step_times[0]
            if now - self.start + typical > self.seconds:
                self.model.stop_training = True


class TimeDecay(keras.callbacks.Callback):
    """Constant rates, then linear to zero over the last `fraction` of a time slice.

    Before every step each of the trainer's optimizers (`trainer.optimizers`,
    generator and discriminator alike, as `optimizer.decay` does) gets its
    starting rate times clip((1 - elapsed / seconds) / fraction, 0, 1), elapsed
    counted from `start`. The optimizers must hold a constant rate, not a schedule.
    """

    def __init__(self, seconds: float, start: float, fraction: float):
        super().__init__()
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"TimeDecay: fraction must be in (0, 1]. Received: fraction={fraction!r}")
        self.seconds, self.start, self.fraction = max(float(seconds), 1e-9), float(start), float(fraction)
        self.initial: Dict[str, float] = {}
        self.factor = 1.0

    def on_train_begin(self, logs=None):
        for name, optimizer in self.model.optimizers.items():
            inner = getattr(optimizer, "inner_optimizer", optimizer)  # through a LossScaleOptimizer
            if isinstance(inner._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
                raise ValueError(f"TimeDecay: the {name} optimizer follows a learning-rate schedule "
                                 f"(optimizer.decay); a time decay needs a constant rate")
            self.initial[name] = float(optimizer.learning_rate)

    def on_train_batch_begin(self, batch, logs=None):
        elapsed = (time.perf_counter() - self.start) / self.seconds
        factor = min(1.0, max(0.0, (1.0 - elapsed) / self.fraction))
        if factor == self.factor:
            return
        self.factor = factor
        for name, optimizer in self.model.optimizers.items():
            optimizer.learning_rate = self.initial[name] * factor


class TimeProgress(keras.callbacks.Callback):
    """A tqdm bar over the stage's time slice, with the step count and the main losses as postfix.

    Keras' own bar counts epochs, which mean nothing on a time budget.
    """

    def __init__(self, stage: str, seconds: float, start: float):
        super().__init__()
        self.stage, self.seconds, self.start = stage, float(seconds), float(start)
        self.bar = None
        self.steps = 0

    def on_train_begin(self, logs=None):
        from tqdm import tqdm

        self.bar = tqdm(total=max(1, int(round(self.seconds))), desc=f"train {self.stage}", unit="s",
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total} s [{postfix}]")
        self.bar.update(min(self.bar.total, int(time.perf_counter() - self.start)))

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        elapsed = min(self.bar.total, int(time.perf_counter() - self.start))
        if elapsed > self.bar.n:
            self.bar.update(elapsed - self.bar.n)
        shown = {k: f"{float(v):.3f}" for k, v in (logs or {}).items() if k in ("g_total", "d_total", "g_l1")}
        self.bar.set_postfix(step=self.steps, **shown, refresh=False)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()


def train_stage_for(config, stage_name: str, run_dir, data, seconds: float, max_steps: int,
                    min_steps: int = 2, verbose: int = 1, sample=None, dataset=None,
                    decay_fraction: float = 0.0) -> Dict[str, object]:
    """Trains one stage for about `seconds` (building included) and exports it.

    Args:
        config: the run's `Config`.
        stage_name: `gmm`, `parsing`, `appearance`, `face` or `joint`.
        run_dir: the run directory (start weights are read from the earlier stages' exports).
        data: a `tfvton.training.inputs` source (`MPVSource`).
        seconds: the stage's time slice.
        max_steps: step cap.
        min_steps: steps run even when the slice is already used up by building and tracing.
        verbose: a progress bar over the time slice (1) or silent (0).
        sample: the batch the trainer is built on (default: `data.sample_batch(4)`).
        dataset: the training `tf.data.Dataset` from step 0 (default: `data.dataset(batch size)`).
            Building a pipeline traces the whole preprocessing graph (seconds), so `train_all_for`
            builds both once and hands them to every stage. Each `fit` starts a new iterator, which
            draws the next seeded shuffle: a later stage sees another order than a fresh pipeline
            would give it, the same one in every run.
        decay_fraction: the rates fall linearly to zero over this last share of the slice
            (`TimeDecay`); 0 keeps them constant.
    Returns:
        dict: `stage`, `steps`, `seconds`, `precision` (the Keras policy it trained under),
        `rate_scale` (the factor on the learning rates at the last step: 1 without decay),
        `build_seconds`, `first_step_seconds`
        (graph tracing included), `step_seconds` (median of the others), `losses` (last logs).
    """
    import tensorflow as tf

    from tfvton.run_dir import RunDir
    from tfvton.training import algorithm, callbacks as cbs, runner

    start = time.perf_counter()
    stage = algorithm.STAGES[stage_name]
    run_dir = Path(run_dir)
    strategy = tf.distribute.get_strategy()
    choice = runner.use_stage_precision(config, stage.name, verbose=0)
    sample = data.sample_batch(4) if sample is None else sample
    trainer = runner.build_stage_trainer(config, stage, strategy, max_steps, sample, run_dir, verbose=0)
    build_seconds = time.perf_counter() - start
    log_dir = RunDir(run_dir).logs_dir(stage.name)
    log_dir.mkdir(parents=True, exist_ok=True)
    budget = TimeBudget(seconds, start, min_steps=min_steps, max_steps=max_steps)
    every = max(1, min(config.train.log_every, max_steps))
    callbacks = [cbs.NanGuard(stage.name), budget, cbs.StepInLogs(),
                 keras.callbacks.CSVLogger(str(log_dir / "train.csv"), append=False)]
    decay = TimeDecay(seconds, start, decay_fraction) if decay_fraction > 0 else None
    if decay is not None:
        callbacks.append(decay)
    if verbose:
        callbacks.append(TimeProgress(stage.name, seconds, start))
    # No ImageGrids: tracing the trainer's `visuals` costs seconds per stage; the demo draws its own grids.
    dataset = data.dataset(config.train.batch_size, 0) if dataset is None else dataset
    history = trainer.fit(dataset, epochs=-(-max_steps // every),
                          steps_per_epoch=every, callbacks=callbacks, verbose=0)
    steps = int(trainer.step.numpy())
    runner.export_stage(trainer, stage, run_dir, steps)
    times = budget.step_times
    return {
        "stage": stage.name, "steps": steps, "seconds": time.perf_counter() - start, "precision": choice.policy,
        "rate_scale": 1.0 if decay is None else decay.factor,
        "build_seconds": build_seconds, "first_step_seconds": times[0] if times else float("nan"),
        "step_seconds": float(np.median(times[1:])) if len(times) > 1 else float("nan"),
        "losses": {k: float(v[-1]) for k, v in history.history.items() if v and not k.startswith("val_")},
    }


def train_all_for(config, run_dir, data, seconds: float, stages: Sequence[str], max_steps: int,
                  shares: Mapping[str, float] = None, verbose: int = 1, log=print,
                  decay: Mapping[str, float] = None) -> List[Dict[str, object]]:
    """Runs `stages` in order within `seconds` in total (see module docstring).

    `decay` ({stage: fraction}, default `DEFAULT_DECAY`) names the stages whose rates fall to
    zero over the last `fraction` of their slice; not applied when the config already decays
    by steps (`optimizer.decay: linear`).

    Returns:
        one `train_stage_for` result per stage.
    """
    from tfvton.run_dir import RunDir
    from tfvton.training import precision

    shares = dict(shares or DEFAULT_SHARES)
    decay = dict(DEFAULT_DECAY if decay is None else decay)
    if config.optimizer.decay != "none":  # the config already decays by steps
        decay = {}
    run_dir = Path(run_dir)
    RunDir(run_dir).save_config(config)
    choices = {name: precision.resolve(config.train.mixed_precision, name, ngf=config.model.ngf) for name in stages}
    reasons = "; ".join(dict.fromkeys(choice.reason for choice in choices.values()))
    log("[demo] precision: " + ", ".join(f"{name} {choice.policy}" for name, choice in choices.items())
        + f" ({reasons})")
    deadline = time.perf_counter() + seconds
    # One build batch and one training pipeline for every stage: each new pipeline traces the
    # preprocessing graph again (seconds per stage).
    sample = data.sample_batch(4)
    dataset = data.dataset(config.train.batch_size, 0)
    results = []
    for i, name in enumerate(stages):
        left = [s for s in stages[i:]]
        weight = shares.get(name, 0.1) / sum(shares.get(s, 0.1) for s in left)
        slice_seconds = max(0.0, deadline - time.perf_counter()) * weight
        fraction = decay.get(name, 0.0)
        log(f"[demo] stage {name}: {slice_seconds:.0f} s slice (max {max_steps} steps"
            + (f"; rate to zero over its last {fraction:.0%})" if fraction else ")"))
        result = train_stage_for(config, name, run_dir, data, slice_seconds, max_steps, verbose=verbose,
                                 sample=sample, dataset=dataset, decay_fraction=fraction)
        log(f"[demo] stage {name}: {result['steps']} steps in {result['seconds']:.0f} s, {result['precision']} "
            f"(first step {result['first_step_seconds']:.1f} s, then {result['step_seconds']:.2f} s/step)")
        results.append(result)
    return results
