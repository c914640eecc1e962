"""The stage trainers by name, and building one for a stage of Algorithm 1."""
from __future__ import annotations

from typing import Dict

from tfvton.training.algorithm import Stage
from tfvton.training.appearance_trainer import AppearanceTrainer
from tfvton.training.face_trainer import FaceTrainer
from tfvton.training.gmm_trainer import GMMTrainer
from tfvton.training.joint_trainer import JointTrainer
from tfvton.training.parsing_trainer import ParsingTrainer

TRAINERS = {cls.__name__: cls for cls in (GMMTrainer, ParsingTrainer, AppearanceTrainer, FaceTrainer,
                                          JointTrainer)}


def build_trainer(stage: Stage, networks: Dict[str, object], config, global_batch_size: int, vgg=None):
    """Instantiates the stage's trainer on already built networks.

    Args:
        stage: an `algorithm.Stage`.
        networks: factory name -> network; must hold `stage.networks`.
        config: the run's `Config` (its `loss` section, and `model.face_mode` /
            `model.face_crop` for the stages that train the face generator).
        global_batch_size: B over all replicas and workers.
        vgg: optional shared `VGG19Features` for the stages with VGG losses.
    Returns:
        The `StageTrainer` (not compiled).
    """
    cls = TRAINERS[stage.trainer]
    missing = [name for name in stage.networks if name not in networks]
    if missing:
        raise ValueError(f"build_trainer: stage {stage.name!r} needs networks {missing}. "
                         f"Received: {sorted(networks)}")
    kwargs = {name: networks[name] for name in stage.networks}
    if "vgg" in getattr(cls, "EXTRA", ()):
        kwargs["vgg"] = vgg
    if "face_generator" in cls.TRAINED:
        # A crop-mode face generator is trained on the crops the pipeline will feed it.
        kwargs.update(face_mode=config.model.face_mode, face_crop=config.model.face_crop)
    return cls(**kwargs, loss_config=config.loss, global_batch_size=global_batch_size,
               name=f"{stage.name}_trainer")
