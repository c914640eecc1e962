"""Running stages of Algorithm 1 in a run directory: build, resume, fit, checkpoint, export.

The run directory's layout is `tfvton.run_dir.RunDir`'s: the resolved config,
the latest and per-stage weights with a `stage.json` marker per finished stage,
checkpoints, logs (`train.csv` every `train.log_every` steps, TensorBoard
events) and sample grids (every `train.image_every` steps).

A stage whose `stage.json` records its full budget is skipped, so re-running
`--stage all` after a crash continues where it stopped; an unfinished stage
resumes from its newest checkpoint (same batches, same weights as a run that was
never interrupted, given op determinism).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Dict, Optional

import keras
import tensorflow as tf

from tfvton.networks import factory
from tfvton.run_dir import RunDir
from tfvton.training import algorithm, callbacks as cbs, custom_loop, precision, strategy as strategy_lib
from tfvton.training.checkpoints import AtomicCheckpointManager
from tfvton.training.schedules import build_optimizer
from tfvton.training.stages import build_trainer



def _log(message: str, verbose: int = 1) -> None:
    if verbose:
        print(f"[tfvton train] {message}", flush=True)


def find_start_weights(stage: algorithm.Stage, run_dir, init_from=None) -> Dict[str, Optional[Path]]:
    """Where each network of `stage` starts from (None: its initializer).

    Looks for `weights/<start stage>/<network>.weights.h5` in the run directory,
    then `weights/<network>.weights.h5` in `init_from` (another run directory, e.g.
    one written by `tfvton convert-official`), then in the run directory itself.
    """
    run_dir = RunDir(run_dir)
    init_from = RunDir(init_from) if init_from else None
    found = {}
    for network in stage.networks:
        source = stage.start_stage(network)
        candidates = []
        if source:
            candidates.append(run_dir.stage_weights_path(source, network))
        if init_from:
            candidates += [init_from.stage_weights_path(source, network)] if source else []
            candidates.append(init_from.weights_path(network))
        if source:
            candidates.append(run_dir.weights_path(network))
        found[network] = next((path for path in candidates if path.is_file()), None)
    return found


def export_stage(trainer, stage: algorithm.Stage, run_dir, steps: int) -> Dict[str, Path]:
    """Writes each trained network's `.weights.h5` (stage copy and latest) and the stage marker."""
    return RunDir(run_dir).save_stage(stage.name, trainer.trained_networks(), steps)


def _synchronize_gmm(networks, stage: algorithm.Stage, strategy) -> None:
    # A trained GMM's BatchNorm statistics must span the global batch, not one
    # replica's share. The rebuilt GMM takes the original's initial weights, so a
    # run's initialisation does not depend on the number of replicas.
    gmm = networks.get("gmm")
    if gmm is None or "gmm" not in stage.trains or strategy.num_replicas_in_sync == 1 or gmm.synchronized:
        return
    synchronized = type(gmm).from_config({**gmm.get_config(), "synchronized": True})
    synchronized.set_weights(gmm.get_weights())
    networks["gmm"] = synchronized


def build_stage_trainer(config, stage: algorithm.Stage, strategy, total_steps: int, sample, run_dir=None,
                        init_from=None, verbose: int = 1):
    """Builds networks, trainer, optimizers and state inside `strategy.scope()`.

    Args:
        config: the run's `Config`.
        stage: the `algorithm.Stage`.
        strategy: a `tf.distribute.Strategy`.
        total_steps: the stage's budget (for the learning-rate decay).
        sample: a batch dict for the dummy forward pass.
        run_dir: where start weights are looked up (None: all from initializers).
        init_from: optional fallback run directory for start weights.
    Returns:
        The compiled, built trainer.
    """
    keras.utils.set_random_seed(config.train.seed)
    with strategy.scope():
        networks = factory.build_networks(config, stage.networks)
        _synchronize_gmm(networks, stage, strategy)
        if run_dir is not None:
            starts = find_start_weights(stage, run_dir, init_from)
            for name, path in starts.items():
                if path is not None:
                    networks[name].load_weights(path)
                    _log(f"{stage.name}: {name} starts from {path}", verbose)
                elif name in stage.freezes:
                    looked = RunDir(run_dir).stage_weights_path(stage.start_stage(name) or "?", name)
                    raise FileNotFoundError(
                        f"stage {stage.name!r} keeps {name} frozen but found no weights "
                        f"for it (looked for {looked} "
                        f"and weights/{name}.weights.h5 in --init-from); run the "
                        f"{stage.start_stage(name)!r} stage first or pass --init-from RUN_DIR")
                elif stage.start_stage(name):  # a trained network can start afresh; say so even when quiet
                    print(f"[tfvton train] WARNING {stage.name}: no {stage.start_stage(name)!r} stage weights for "
                          f"{name}; it starts from its initializer", file=sys.stderr, flush=True)
        trainer = build_trainer(stage, networks, config, config.train.batch_size)
        # The policy in force (set by the caller, e.g. `use_stage_precision`), not the config's request.
        loss_scale = keras.config.dtype_policy().name == "mixed_float16"
        optimizers = {name: build_optimizer(config.optimizer, total_steps, f"{name}_adam", loss_scale,
                                            discriminator=name in factory.DISCRIMINATOR_NAMES, stage=stage.name)
                      for name in stage.trains}
        trainer.compile(optimizers, jit_compile=config.train.jit_compile)
        trainer.build_for_training(sample)
    return trainer


def use_stage_precision(config, stage_name: str, verbose: int = 1) -> precision.PrecisionChoice:
    """Sets the global dtype policy `train.mixed_precision` asks for `stage_name` and logs why.

    Call before `build_stage_trainer` (networks take the policy in force when built).
    """
    choice = precision.resolve(config.train.mixed_precision, stage_name, ngf=config.model.ngf)
    precision.apply(choice)
    _log(f"{stage_name}: precision {choice.policy} ({choice.reason})", verbose)
    return choice


def train_stage(config, stage: algorithm.Stage, run_dir, data, strategy, init_from=None, verbose: int = 1,
                loop: str = "auto", callbacks=()) -> Dict[str, object]:
    """Trains one stage to its budget, resuming from the stage's newest checkpoint.

    Args:
        config: the run's `Config`.
        stage: the `algorithm.Stage`.
        run_dir: the run directory.
        data: a `tfvton.training.inputs` data source (`num_examples`,
            `dataset(batch_size, start_step)`, `sample_batch(n)`).
        strategy: a `tf.distribute.Strategy`.
        init_from: optional run directory to take start weights from.
        verbose: 0 silent, 1 progress bar and messages.
        loop: `auto` (fit, or the custom loop under multi-worker), `fit` or `custom`.
        callbacks: extra Keras callbacks (run after the built-in ones).
    Returns:
        dict: `stage`, `steps`, `start_step`, `skipped`, `history` (last logs), `trainer`.
    """
    run_dir = RunDir(run_dir)
    train = config.train
    chief = strategy_lib.is_chief(strategy)
    budget = algorithm.stage_budget(train, stage.name,
                                    algorithm.steps_per_epoch(data.num_examples, train.batch_size))
    if run_dir.stage_is_complete(stage.name, budget):
        _log(f"{stage.name}: already complete ({budget} steps), skipped", verbose)
        return {"stage": stage.name, "steps": budget, "start_step": budget, "skipped": True, "history": {},
                "trainer": None}

    sample = data.sample_batch(4)
    trainer = build_stage_trainer(config, stage, strategy, budget, sample, run_dir, init_from, verbose)
    checkpoint = tf.train.Checkpoint(**trainer.checkpoint_objects())
    manager = AtomicCheckpointManager(checkpoint, run_dir.checkpoints_dir(stage.name), train.keep_checkpoints,
                                      is_chief=chief)
    restored = manager.restore_latest()
    start = int(trainer.step.numpy())
    if restored:
        _log(f"{stage.name}: resumed from {restored} (step {start})", verbose)
    _log(f"{stage.name}: {stage.description}; steps {start} -> {budget}, batch {train.batch_size}, "
         f"{strategy.num_replicas_in_sync} replica(s)", verbose)

    history = {}
    if start < budget:
        log_dir = run_dir.logs_dir(stage.name)
        extra = list(callbacks)
        callbacks = [cbs.NanGuard(stage.name), cbs.StopAtStep(budget), cbs.CheckpointEvery(manager, train.checkpoint_every)]
        if chief:
            log_dir.mkdir(parents=True, exist_ok=True)
            scalars = cbs.ScalarSummaries(log_dir, train.log_every)
            callbacks += [cbs.StepInLogs(), cbs.DurableCSVLogger(str(log_dir / "train.csv"), append=True),
                          scalars, cbs.ImageGrids(sample, run_dir.samples_dir(stage.name), train.image_every,
                                                  writer=scalars.writer, final=True)]
        callbacks += extra
        dataset = data.dataset(train.batch_size, start)
        steps_per_epoch = max(1, min(train.log_every, budget))
        use_custom = loop == "custom" or (loop == "auto" and strategy_lib.is_multi_worker(strategy))
        if use_custom:
            history = custom_loop.fit(trainer, dataset, strategy, start, budget, callbacks, steps_per_epoch,
                                      jit_compile=train.jit_compile, verbose=verbose)
        else:
            result = trainer.fit(dataset, epochs=math.ceil(budget / steps_per_epoch),
                                 initial_epoch=start // steps_per_epoch, steps_per_epoch=steps_per_epoch,
                                 callbacks=callbacks, verbose=verbose, shuffle=False)
            history = {key: values[-1] for key, values in result.history.items() if values}
    else:
        manager.save(start)
    steps = int(trainer.step.numpy())
    if chief:
        export_stage(trainer, stage, run_dir, steps)
        _log(f"{stage.name}: done at step {steps}; weights in {run_dir.stage_dir(stage.name)}",
             verbose)
    return {"stage": stage.name, "steps": steps, "start_step": start, "skipped": False, "history": history,
            "trainer": trainer}


def train(config, run_dir, data, stage: str = "all", strategy=None, init_from=None, verbose: int = 1,
          loop: str = "auto", callbacks=()):
    """Runs `stage` (or every stage with `all`) in `run_dir`; returns one result dict per stage.

    Sets op determinism (`train.deterministic`) and each stage's precision policy, picks
    the strategy (`train.strategy`) unless one is given, and writes the resolved
    config into the run directory. Each stage seeds Python, NumPy, TensorFlow
    and Keras with `train.seed` before it builds its networks, so the same seed
    and config give bitwise-equal weights on CPU (docs/training.md).
    """
    run_dir = RunDir(run_dir)
    if config.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    if strategy is None:
        strategy = strategy_lib.select_strategy(config.train.strategy)
    if strategy_lib.is_chief(strategy):
        run_dir.save_config(config)
    results = []
    for each in algorithm.resolve_stages(stage):
        use_stage_precision(config, each.name, verbose)
        results.append(train_stage(config, each, run_dir, data, strategy, init_from, verbose, loop, callbacks))
    return results
