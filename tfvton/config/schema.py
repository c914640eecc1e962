"""Frozen dataclasses that describe a tfvton run.

Defaults are the paper's settings (the official release's `config.py`); the
presets in `configs/*.yaml` override them. Sections may grow fields, but every
field needs a default so older YAML files keep loading.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Tuple


@dataclass(frozen=True)
class DataConfig:
    """Input geometry and preprocessing.

    Attributes:
        height: image height in pixels, a multiple of 32.
        width: image width in pixels, a multiple of 32.
        pose_radius: radius of the binary disc drawn per keypoint (official: 6).
        shape_downsample: body-shape blur factor (official: 1/16 then back up).
        on_bad_sample: `skip` (count and log a bad pair) or `stop` (raise).
        shuffle_buffer: examples held by the `tf.data` shuffle buffer.
        seed: seed for shuffling and any augmentation.
    """

    height: int = 256
    width: int = 192
    pose_radius: int = 6
    shape_downsample: int = 16
    on_bad_sample: str = "skip"
    shuffle_buffer: int = 512
    seed: int = 0

    def __post_init__(self):
        for name in ("height", "width"):
            value = getattr(self, name)
            if value <= 0 or value % 32:
                raise ValueError(f"data.{name} must be a positive multiple of 32. Received: data.{name}={value!r}")
        if self.on_bad_sample not in ("skip", "stop"):
            raise ValueError(f"data.on_bad_sample must be 'skip' or 'stop'. "
                             f"Received: data.on_bad_sample={self.on_bad_sample!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Network widths and the switches between official and paper-faithful variants.

    Attributes:
        ngf: generator base width (the official demo passes `ndf`=64 here).
        ndf: discriminator base width.
        gmm_ngf: base width of the GMM feature extractors (CP-VTON: 64).
        gmm_downsamplings: stride-2 convs in each GMM feature extractor
            (official: 4, a 16x12 correlation at 256x192; 3 keeps that
            correlation size at 128x96).
        gmm_condition: what the GMM's person representation holds: `official`
            (blurred source body shape, head, target pose: 22 channels; the
            target's shape is not given) or `target_cloth` (those plus the target
            parsing's cloth region, labels 5/6/7: the ground truth while the GMM
            trains alone, the parsing network's arg-max in every later stage and
            at inference). A different model from the official one.
        clip_warp_to_parsing: cut the warped cloth to the predicted parsing's
            cloth region (white outside) before the appearance generator sees
            it, so no garment lands off the body. False: the official chaining.
        grid_size: thin-plate-spline control points per side (5).
        n_blocks: Tree-Blocks (or ResNet blocks) in the appearance/face generators.
        block: `tree` (the paper) or `resnet` (the SRB-VTON baseline).
        fusion_activation: activation in the Tree-Block fusions; `none` as in the
            official code, `relu` for the paper's Eq. 2 sigma.
        dropout: dropout rate inside generator blocks (official: 0.5, active in training).
        parsing_downsamplings: U-Net depth; 0 derives it from the resolution
            (6 at 256x192, the official `unet_256`).
        d_head: `official` (sigmoid on the ResNet discriminator's feature map)
            or `conv1` (an extra 1-channel head).
        d_blocks: residual blocks in the ResNet discriminator (3).
        d_layers: layers of the PatchGAN discriminator (3).
        face_refinement: run the face generator (the paper's full model); false
            is the "w/o face refinement" ablation: the output is the composed
            try-on before face refinement (`tryon`), and the face stage is not
            needed.
        face_mode: `full` (official: the face generator runs on the whole frame)
            or `crop` (it runs on a `face_crop` x `face_crop` square around
            the face and its output is pasted back; `tfvton.layers.FaceCrop`).
            `crop` is a different model (instance-norm statistics over the crop),
            for face generators trained that way, never for official weights.
        face_crop: side of the face crop in pixels (multiple of 4, >= 20,
            at most the image height and width).
        parsing_output: the parsing U-Net's output activation: `tanh` (official)
            or `linear` (raw scores, so the cross-entropy on them can reach
            confident predictions; for models trained from scratch). Not a
            weight: official checkpoints load either way.
        gmm_init: start of the GMM's TPS regression: `official` (PyTorch's
            default init of the last Linear) or `identity` (zero weights and
            bias: theta = 0, the identity grid, so training starts from the
            unwarped cloth).
        face_residual: the face generator refines instead of replacing: its
            output is added to the face it is given, from a zero-initialised
            head, so an untrained or briefly trained face generator returns the
            face unchanged (`TreeGenerator(residual=True)`). A different model
            from the official one (false), for face generators trained so.
    """

    ngf: int = 64
    ndf: int = 64
    gmm_ngf: int = 64
    gmm_downsamplings: int = 4
    gmm_condition: str = "official"
    clip_warp_to_parsing: bool = False
    grid_size: int = 5
    n_blocks: int = 6
    block: str = "tree"
    fusion_activation: str = "none"
    dropout: float = 0.5
    parsing_downsamplings: int = 0
    d_head: str = "official"
    d_blocks: int = 3
    d_layers: int = 3
    face_refinement: bool = True
    face_mode: str = "full"
    face_crop: int = 64
    parsing_output: str = "tanh"
    gmm_init: str = "official"
    face_residual: bool = False

    def __post_init__(self):
        if self.parsing_output not in ("tanh", "linear"):
            raise ValueError(f"model.parsing_output must be 'tanh' or 'linear', got {self.parsing_output!r}")
        if not 1 <= self.gmm_downsamplings <= 4:
            raise ValueError(f"model.gmm_downsamplings must be 1..4. "
                             f"Received: model.gmm_downsamplings={self.gmm_downsamplings!r}")
        if self.gmm_condition not in ("official", "target_cloth"):
            raise ValueError(f"model.gmm_condition must be 'official' or 'target_cloth'. "
                             f"Received: model.gmm_condition={self.gmm_condition!r}")
        if self.gmm_init not in ("official", "identity"):
            raise ValueError(f"model.gmm_init must be 'official' or 'identity', got {self.gmm_init!r}")
        if self.face_mode not in ("full", "crop"):
            raise ValueError(f"model.face_mode must be 'full' or 'crop'. "
                             f"Received: model.face_mode={self.face_mode!r}")
        if self.face_crop < 20 or self.face_crop % 4:
            raise ValueError(f"model.face_crop must be a multiple of 4 and >= 20. "
                             f"Received: model.face_crop={self.face_crop!r}")
        if self.block not in ("tree", "resnet"):
            raise ValueError(f"model.block must be 'tree' or 'resnet'. Received: model.block={self.block!r}")
        if self.fusion_activation not in ("none", "relu"):
            raise ValueError(f"model.fusion_activation must be 'none' or 'relu'. "
                             f"Received: model.fusion_activation={self.fusion_activation!r}")
        if self.d_head not in ("official", "conv1"):
            raise ValueError(f"model.d_head must be 'official' or 'conv1'. Received: model.d_head={self.d_head!r}")


@dataclass(frozen=True)
class LossConfig:
    """Loss weights (official `config.py` names in the comments).

    The training-recipe switches below default to the official behaviour (off);
    docs/training.md has the ablation that chose the `small`/`mobile` values:
    `gmm_smoothness` (CP-VTON+ grid regulariser weight), `gan_warmup` (steps over
    which every generator GAN weight ramps linearly from 0 to its value),
    `real_label` (one-sided label smoothing: the discriminators' target for real
    pairs).
    """

    l1: float = 1.0  # lambda_L1
    gan: float = 1.0  # G_GAN
    vgg: float = 1.0  # G_VGG
    mask: float = 1.0  # mask (attention loss)
    mask_tv: float = 0.0  # mask_tvloss off by default in the official release
    face_vgg: float = 1.0
    face_l1: float = 10.0
    face_img_l1: float = 1.0
    face_gan: float = 3.0
    gmm_l1: float = 1.0
    gmm_smoothness: float = 0.0  # CP-VTON+ grid smoothness (their lambda 40); 0 = official CP-VTON
    gmm_mask: float = 0.0  # L1(warped cloth mask, target cloth mask): a silhouette term; 0 = official
    joint_parsing: float = 1.0  # joint_G_parsing
    parsing: float = 1.0  # parsing stage: weight of the parsing CE (official: lambda_L1)
    parsing_gan: float = 1.0  # parsing stage: weight of the GAN term (official: unweighted)
    parsing_ce: str = "official"  # official (CE on softmax outputs) | logits
    gan_mode: str = "lsgan"  # gan_mode: lsgan (MSE to 1/0) | vanilla (BCE with logits)
    gan_warmup: int = 0  # steps of linear GAN-weight warm-up in every GAN stage; 0 = official
    real_label: float = 1.0  # D target for real pairs; < 1 = one-sided label smoothing
    # relu1_1 ... relu5_1; the official VGGLoss reverses [1/32, 1/16, 1/8, 1/4, 1] before use.
    vgg_layers: Tuple[str, ...] = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
    vgg_layer_weights: Tuple[float, ...] = (1.0, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32)
    # Gram (style) term on the same layers; the official appearance loss adds it with the
    # perceptual term's weight (G_VGG), comparing Gram matrices with L1.
    style: float = 1.0
    style_criterion: str = "l1"  # l1 (official) | mse
    face_vgg_layers: Tuple[str, ...] = ("block1_conv1",)  # official face loss: relu1_1 only
    vgg_input: str = "official"  # official ([-1, 1] straight in) | imagenet
    vgg_weights: str = "random"  # random | imagenet (download allowed) | path to .h5 / .pth

    def __post_init__(self):
        if self.parsing_ce not in ("official", "logits"):
            raise ValueError(f"loss.parsing_ce must be 'official' or 'logits'. "
                             f"Received: loss.parsing_ce={self.parsing_ce!r}")
        if self.gan_mode not in ("lsgan", "vanilla"):
            raise ValueError(f"loss.gan_mode must be 'lsgan' or 'vanilla'. Received: loss.gan_mode={self.gan_mode!r}")
        if self.gan_warmup < 0:
            raise ValueError(f"loss.gan_warmup must be >= 0 steps. Received: loss.gan_warmup={self.gan_warmup}")
        if not 0.5 <= self.real_label <= 1.0:
            raise ValueError(f"loss.real_label must be in [0.5, 1]. Received: loss.real_label={self.real_label}")
        if self.gmm_mask < 0:
            raise ValueError(f"loss.gmm_mask must be >= 0. Received: loss.gmm_mask={self.gmm_mask}")
        if self.gmm_smoothness < 0:
            raise ValueError(f"loss.gmm_smoothness must be >= 0. Received: loss.gmm_smoothness={self.gmm_smoothness}")
        if self.style_criterion not in ("l1", "mse"):
            raise ValueError(f"loss.style_criterion must be 'l1' or 'mse'. "
                             f"Received: loss.style_criterion={self.style_criterion!r}")
        if self.vgg_input not in ("official", "imagenet"):
            raise ValueError(f"loss.vgg_input must be 'official' or 'imagenet'. "
                             f"Received: loss.vgg_input={self.vgg_input!r}")
        if len(self.vgg_layers) != len(self.vgg_layer_weights):
            raise ValueError(f"loss.vgg_layers and loss.vgg_layer_weights must have the same length. Received: "
                             f"{len(self.vgg_layers)} layers and {len(self.vgg_layer_weights)} weights")


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam as in the paper: lr 2e-4, betas (0.5, 0.999).

    `stage_lr` overrides `lr` for named stages (e.g. `[[parsing, 0.001]]`);
    `d_lr_scale` multiplies the discriminators' rate (1 = official).
    """

    lr: float = 2e-4
    stage_lr: Tuple[Tuple[str, float], ...] = ()
    d_lr_scale: float = 1.0
    beta1: float = 0.5
    beta2: float = 0.999
    decay: str = "none"  # none | linear (to zero over the last `decay_steps`)
    decay_steps: int = 0


@dataclass(frozen=True)
class TrainConfig:
    """Budgets and runtime switches for `tfvton train`."""

    batch_size: int = 8
    steps: int = 10000  # per stage unless a stage overrides it
    stage_steps: Tuple[Tuple[str, int], ...] = ()
    strategy: str = "auto"  # auto | none | mirrored | multiworker
    mixed_precision: str = "none"  # none (= float32) | mixed_float16 | mixed_bfloat16 | auto (tfvton.training.precision)
    jit_compile: bool = False
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    log_every: int = 50
    image_every: int = 500
    seed: int = 0
    # Op determinism (`tf.config.experimental.enable_op_determinism`): the same
    # results from ops whose default kernels may reorder float reductions.
    deterministic: bool = False
    # Budgets: a stage runs `stage_steps[stage]`, else `epochs` passes over the data
    # when > 0, else `steps`.
    epochs: int = 0
    stage_epochs: Tuple[Tuple[str, int], ...] = ()
    # The pair list the trainer reads (relative to --data-root; its `train` lines).
    pairs_file: str = "data_pair.txt"


@dataclass(frozen=True)
class Config:
    """A whole run: data, model, losses, optimizer and training."""

    name: str = "paper"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)
