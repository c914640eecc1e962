"""Algorithm 1 of the paper as data: the stages, what each trains, freezes and starts from.

    gmm         clothing alignment: the GMM alone (L1 to the target's cloth)
    parsing     the parsing U-Net and its PatchGAN (CE + LSGAN)
    appearance  the appearance generator and its discriminator; GMM and parsing frozen
    face        the face generator and its discriminator; GMM, parsing, appearance frozen
    joint       parsing, appearance and face generators jointly (+ the appearance
                discriminator); GMM frozen (official --joint_all --joint_parse_loss)

`--stage all` runs them in this order; each stage loads the weights that the
stages it `starts_from` exported (`weights/<stage>/<network>.weights.h5` in the
run directory), so `all` chains them. Budgets: `train.stage_steps` for the
stage, else `train.stage_epochs` / `train.epochs` passes over the data when > 0,
else `train.steps`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, Optional, Tuple

from tfvton.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of Algorithm 1.

    Attributes:
        name: `gmm`, `parsing`, `appearance`, `face` or `joint`.
        trainer: class name in `tfvton.training.stages.TRAINERS`.
        trains: networks updated (factory names), generators first.
        freezes: networks run in inference mode, not updated.
        starts_from: (network, stage) pairs: the network starts from the weights
            that stage exported. Networks not listed start from their initializers.
        description: one line for logs and `--help`.
    """

    name: str
    trainer: str
    trains: Tuple[str, ...]
    freezes: Tuple[str, ...] = ()
    starts_from: Tuple[Tuple[str, str], ...] = ()
    description: str = ""

    @property
    def networks(self) -> Tuple[str, ...]:
        """Every network the stage needs (trained, then frozen)."""
        return self.trains + self.freezes

    def start_stage(self, network: str) -> Optional[str]:
        """The stage whose export `network` starts from, or None."""
        return dict(self.starts_from).get(network)


ALGORITHM_1: Tuple[Stage, ...] = (
    Stage("gmm", "GMMTrainer", trains=("gmm",),
          description="clothing alignment: GMM, L1(warped cloth, target cloth)"),
    Stage("parsing", "ParsingTrainer", trains=("parsing_generator", "parsing_discriminator"),
          description="target parsing: U-Net, weighted CE + LSGAN"),
    Stage("appearance", "AppearanceTrainer", trains=("appearance_generator", "appearance_discriminator"),
          freezes=("gmm", "parsing_generator"),
          starts_from=(("gmm", "gmm"), ("parsing_generator", "parsing")),
          description="appearance: Tree-Block generator, smooth-L1 + VGG + mask + LSGAN"),
    Stage("face", "FaceTrainer", trains=("face_generator", "face_discriminator"),
          freezes=("gmm", "parsing_generator", "appearance_generator"),
          starts_from=(("gmm", "gmm"), ("parsing_generator", "parsing"), ("appearance_generator", "appearance")),
          description="face refinement: Tree-Block generator, VGG + L1 + LSGAN + image L1"),
    Stage("joint", "JointTrainer",
          trains=("parsing_generator", "appearance_generator", "face_generator", "appearance_discriminator"),
          freezes=("gmm",),
          starts_from=(("gmm", "gmm"), ("parsing_generator", "parsing"), ("appearance_generator", "appearance"),
                       ("appearance_discriminator", "appearance"), ("face_generator", "face")),
          description="joint: parsing + appearance + face generators, appearance objective + parsing CE"),
)

STAGES: Dict[str, Stage] = {stage.name: stage for stage in ALGORITHM_1}
STAGE_CHOICES = tuple(STAGES) + ("all",)


def resolve_stages(name: str) -> Tuple[Stage, ...]:
    """`all` -> every stage in order; a stage name -> that stage alone."""
    if name == "all":
        return ALGORITHM_1
    if name not in STAGES:
        raise ConfigError(f"stage must be one of {', '.join(STAGE_CHOICES)}. Received: stage={name!r}")
    return (STAGES[name],)


def stage_budget(train_config, stage: str, steps_per_epoch: Optional[int] = None) -> int:
    """Optimisation steps for `stage`.

    Args:
        train_config: `TrainConfig` (`stage_steps`, `stage_epochs`, `epochs`, `steps`).
        stage: stage name.
        steps_per_epoch: batches per pass over the data (needed for epoch budgets).
    Returns:
        The step budget (>= 1).
    """
    stage_steps = dict(train_config.stage_steps)
    unknown = sorted((set(stage_steps) | set(dict(train_config.stage_epochs))) - set(STAGES))
    if unknown:
        raise ConfigError(f"train.stage_steps and train.stage_epochs must name stages among "
                          f"{', '.join(STAGES)}. Received unknown stage(s): {', '.join(unknown)}")
    if stage in stage_steps:
        steps = int(stage_steps[stage])
    else:
        epochs = int(dict(train_config.stage_epochs).get(stage, train_config.epochs))
        if epochs > 0:
            if not steps_per_epoch:
                raise ValueError("stage_budget: an epoch budget (train.epochs, train.stage_epochs) needs "
                                 "steps_per_epoch. Received: steps_per_epoch=None")
            steps = epochs * int(steps_per_epoch)
        else:
            steps = int(train_config.steps)
    if steps < 1:
        raise ConfigError(f"the step budget of stage {stage!r} (train.steps, train.stage_steps, train.epochs) "
                          f"must be >= 1. Received: {steps} steps")
    return steps


def steps_per_epoch(num_examples: int, global_batch_size: int) -> int:
    """Full batches per pass over `num_examples` (at least 1)."""
    return max(1, math.floor(num_examples / global_batch_size))
