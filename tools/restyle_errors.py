"""One-off: error messages without source-path prefixes, in keras-hub form (issue 13.4).

Each message says what was wrong, the value received and what is allowed, and names the
class, argument or config key instead of our own source file. Re-runnable: a replacement
whose old text is gone (already applied, or the code moved) is reported, not forced.

    python tools/restyle_errors.py            # from the repository root
"""
import re
import sys
from pathlib import Path

R = []  # (file, old, new)


def r(path, old, new):
    R.append((path, old, new))


# --- networks -------------------------------------------------------------------------------
r("tfvton/networks/patch_discriminator.py",
  'f"tfvton/networks/patch_discriminator.py: n_layers must be >= 1, got {n_layers}"',
  'f"PatchDiscriminator: n_layers must be >= 1. Received: n_layers={n_layers}"')
r("tfvton/networks/factory.py",
  '''f"tfvton/networks/factory.py: unknown network name(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(NETWORK_NAMES)}"''',
  '''f"build_networks: names must be some of {', '.join(NETWORK_NAMES)}. "
                         f"Received unknown name(s): {', '.join(unknown)}"''')
r("tfvton/networks/factory.py",
  '''f"tfvton/networks/factory.py: cannot save unknown network name(s) "
                         f"{', '.join(unknown)}; expected some of {', '.join(NETWORK_NAMES)}"''',
  '''f"save_run: network names must be some of {', '.join(NETWORK_NAMES)}. "
                         f"Received unknown name(s): {', '.join(unknown)}"''')
r("tfvton/networks/parsing_unet.py",
  '''f"tfvton/networks/parsing_unet.py: data.height={height} and data.width={width} "
                         "must both be divisible by 4 for a U-Net (2 downsamplings at least)"''',
  '''f"data.height and data.width must both be divisible by 4 for the parsing U-Net (2 "
                         f"downsamplings at least). Received: data.height={height}, data.width={width}"''')
r("tfvton/networks/parsing_unet.py",
  'f"tfvton/networks/parsing_unet.py: downsamplings must be >= 2, got {downsamplings}"',
  'f"ParsingUNet: downsamplings must be >= 2. Received: downsamplings={downsamplings}"')
r("tfvton/networks/parsing_unet.py",
  'f"tfvton/networks/parsing_unet.py: dropout must be in [0, 1), got {dropout!r}"',
  'f"ParsingUNet: dropout must be in [0, 1). Received: dropout={dropout!r}"')
r("tfvton/networks/tree_generator.py",
  'f"tfvton/networks/tree_generator.py: block must be one of {BLOCKS}, got {block!r}"',
  'f"TreeGenerator: block must be one of {BLOCKS}. Received: block={block!r}"')
r("tfvton/networks/tree_generator.py",
  '''f"tfvton/networks/tree_generator.py: fusion_activation must be one of "
                             f"{FUSION_ACTIVATIONS}, got {fusion_activation!r}"''',
  '''f"TreeGenerator: fusion_activation must be one of {FUSION_ACTIVATIONS}. "
                             f"Received: fusion_activation={fusion_activation!r}"''')
r("tfvton/networks/tree_generator.py",
  'f"tfvton/networks/tree_generator.py: n_blocks must be >= 0, got {n_blocks}"',
  'f"TreeGenerator: n_blocks must be >= 0. Received: n_blocks={n_blocks}"')
r("tfvton/networks/resnet_discriminator.py",
  'f"tfvton/networks/resnet_discriminator.py: head must be one of {HEADS}, got {head!r}"',
  'f"ResnetDiscriminator: head must be one of {HEADS}. Received: head={head!r}"')
r("tfvton/networks/vgg.py",
  '''f"tfvton/networks/vgg.py: layer {name!r} is not a VGG19 layer; expected one of "
            f"{', '.join(VGG19_LAYER_NAMES)} (or aliases relu<i>_<j>, conv<i>_<j>, pool<i>)"''',
  '''f"VGG19 layer names must be one of {', '.join(VGG19_LAYER_NAMES)} (or aliases relu<i>_<j>, "
            f"conv<i>_<j>, pool<i>). Received: {name!r}"''')
r("tfvton/networks/vgg.py",
  '"tfvton/networks/vgg.py: VGG19Features.layers must name at least one layer"',
  '"VGG19Features: layers must name at least one layer. Received: layers=()"')
r("tfvton/networks/vgg.py",
  '''f"tfvton/networks/vgg.py: VGG19Features.input_mode must be one of {INPUT_MODES}, "
                f"got {input_mode!r}"''',
  '''f"VGG19Features: input_mode must be one of {INPUT_MODES}. "
                f"Received: input_mode={input_mode!r}"''')
r("tfvton/networks/vgg.py",
  '''        raise ValueError(
            f"tfvton/networks/vgg.py: loss.vgg_input must be 'official' or 'imagenet', got {vgg_input!r}")''',
  '''        raise ConfigError(
            f"loss.vgg_input must be 'official' or 'imagenet'. Received: loss.vgg_input={vgg_input!r}")''')
r("tfvton/networks/vgg.py",
  '''f"tfvton/networks/vgg.py: loss.vgg_weights {path!r} does not exist; expected 'random', "
            "'imagenet', or a path to torchvision's vgg19-dcbb9e9d.pth or a Keras VGG19 .h5"''',
  '''f"{path}: no such file (loss.vgg_weights must be 'random', 'imagenet', or a path to "
            f"torchvision's vgg19-dcbb9e9d.pth or a Keras VGG19 .h5). Received: loss.vgg_weights={path!r}"''')
r("tfvton/networks/vgg.py",
  '''        raise ValueError(
            f"tfvton/networks/vgg.py: loss.vgg_weights {path!r} has an unknown extension; "
            "expected .pth (torchvision) or .h5 (Keras)")''',
  '''        raise ConfigError(
            f"loss.vgg_weights must be 'random', 'imagenet', a .pth (torchvision) or a .h5 (Keras) file. "
            f"Received: loss.vgg_weights={path!r}")''')
r("tfvton/networks/vgg.py",
  '''f"tfvton/networks/vgg.py: reading {path!r} needs torch (pip install 'tfvton[convert]')"''',
  '''f"{path}: reading a .pth VGG19 checkpoint (loss.vgg_weights) needs torch "
            f"(pip install 'tfvton[convert]')"''')
r("tfvton/networks/vgg.py",
  '''f"tfvton/networks/vgg.py: {path!r} has no features.{index}.weight/bias for {layer.name}; "
                "expected torchvision's vgg19 state_dict"''',
  '''f"{path}: expected torchvision's vgg19 state_dict with features.{index}.weight/bias "
                f"(for {layer.name}). Received: no such key"''')
r("tfvton/networks/vgg.py",
  '''f"tfvton/networks/vgg.py: {path!r} features.{TORCHVISION_CONV_INDEX[layer.name]}.weight "
                f"converts to {kernel.shape}, expected {expected} for {layer.name}"''',
  '''f"{path}: features.{TORCHVISION_CONV_INDEX[layer.name]}.weight must convert to {expected} "
                f"for {layer.name}. Received: shape {kernel.shape}"''')

# --- layers ---------------------------------------------------------------------------------
r("tfvton/layers/reflection_pad.py",
  '''f"tfvton/layers/reflection_pad.py: paddings must be less than the dimension size: "
                         f"padding {p} on axis {axis} of size {size}"''',
  '''f"reflect_pad: padding must be less than the dimension size. "
                         f"Received: padding={p} on axis {axis} of size {size}"''')
r("tfvton/layers/reflection_pad.py",
  'f"tfvton/layers/reflection_pad.py: padding must be a non-negative int, got {padding!r}"',
  'f"ReflectionPad2D: padding must be a non-negative int. Received: padding={padding!r}"')
r("tfvton/layers/resnet_block.py",
  'f"tfvton/layers/resnet_block.py: dropout must be in [0, 1), got {dropout!r}"',
  'f"ResnetBlock: dropout must be in [0, 1). Received: dropout={dropout!r}"')
r("tfvton/layers/resnet_block.py",
  '"tfvton/layers/resnet_block.py: the channel axis of the input must be known"',
  'f"ResnetBlock: the channel axis of the input must be known. "\n'
  '                             f"Received: input_shape={input_shape}"')
r("tfvton/layers/face_crop.py",
  '''f"tfvton/layers/face_crop.py: crop {crop_height}x{crop_width} is larger than "
                         f"the image {height}x{width}"''',
  '''f"box_offsets: the crop must fit in the image ({height}x{width}). "
                         f"Received: crop {crop_height}x{crop_width}"''')
r("tfvton/layers/face_crop.py",
  '''f"tfvton/layers/face_crop.py: crop_size must be a multiple of 4 and >= 20, "
                             f"got {crop_size!r}"''',
  '''f"FaceCrop: crop_size must be a multiple of 4 and >= 20. "
                             f"Received: crop_size={crop_size!r}"''')
r("tfvton/layers/tree_block.py",
  '''f"tfvton/layers/tree_block.py: fusion_activation must be one of "
                             f"{FUSION_ACTIVATIONS}, got {fusion_activation!r}"''',
  '''f"TreeBlock: fusion_activation must be one of {FUSION_ACTIVATIONS}. "
                             f"Received: fusion_activation={fusion_activation!r}"''')
r("tfvton/layers/tree_block.py",
  'f"tfvton/layers/tree_block.py: dropout must be in [0, 1), got {dropout!r}"',
  'f"TreeBlock: dropout must be in [0, 1). Received: dropout={dropout!r}"')
r("tfvton/layers/tree_block.py",
  '"tfvton/layers/tree_block.py: the channel axis of the input must be known"',
  'f"TreeBlock: the channel axis of the input must be known. "\n'
  '                             f"Received: input_shape={input_shape}"')

# --- losses ---------------------------------------------------------------------------------
r("tfvton/losses/perceptual.py",
  '''f"tfvton/losses/perceptual.py: {len(layers)} VGG layers but {len(layer_weights)} layer weights "
            "(loss.vgg_layers / loss.vgg_layer_weights must have the same length)"''',
  '''f"loss.vgg_layers and loss.vgg_layer_weights must have the same length. "
            f"Received: {len(layers)} layers and {len(layer_weights)} weights"''')
r("tfvton/losses/perceptual.py",
  'f"tfvton/losses/perceptual.py: criterion must be one of {CRITERIA}, got {criterion!r}"',
  'f"VGGLoss: criterion must be one of {CRITERIA}. Received: criterion={criterion!r}"')
r("tfvton/losses/perceptual.py",
  '''f"tfvton/losses/perceptual.py: VGGLoss layers {missing} are not outputs of the VGG19Features "
                f"(it returns {list(vgg.layers_requested)})"''',
  '''f"VGGLoss: layers must be outputs of the VGG19Features ({list(vgg.layers_requested)}). "
                f"Received: {missing}, which are not"''')
r("tfvton/losses/parsing.py",
  '''f"tfvton/losses/parsing.py: loss.parsing_ce must be one of {PARSING_CE_MODES}, got {mode!r}"''',
  '''f"loss.parsing_ce must be one of {PARSING_CE_MODES}. Received: loss.parsing_ce={mode!r}"''')
r("tfvton/losses/parsing.py",
  'f"tfvton/losses/parsing.py: reduction must be one of {REDUCTIONS}, got {reduction!r}"',
  'f"parsing_cross_entropy: reduction must be one of {REDUCTIONS}. "\n'
  '                         f"Received: reduction={reduction!r}"')
r("tfvton/losses/parsing.py",
  '''f"tfvton/losses/parsing.py: {len(class_weights)} class weights for {num_classes} parsing classes"''',
  '''f"parsing_cross_entropy: class_weights must hold one weight per parsing class ({num_classes}). "
            f"Received: {len(class_weights)} weights"''')
r("tfvton/losses/adversarial.py",
  'f"tfvton/losses/adversarial.py: loss.gan_mode must be one of {GAN_MODES}, got {mode!r}"',
  'f"loss.gan_mode must be one of {GAN_MODES}. Received: loss.gan_mode={mode!r}"')
r("tfvton/losses/scaling.py",
  '''f"tfvton/losses/scaling.py: scale_for_replicas expects per-sample losses of shape (B,), "
            f"got shape {per_sample.shape}"''',
  '''f"scale_for_replicas: per_sample must be per-sample losses of shape (B,). "
            f"Received: shape {per_sample.shape}"''')

# --- training -------------------------------------------------------------------------------
r("tfvton/training/stages.py",
  'f"tfvton/training/stages.py: stage {stage.name!r} needs networks {missing}"',
  'f"build_trainer: stage {stage.name!r} needs networks {missing}. "\n'
  '                         f"Received: {sorted(networks)}"')
r("tfvton/training/algorithm.py",
  '''raise ValueError(f"tfvton/training/algorithm.py: unknown stage {name!r}; expected one of "
                         f"{', '.join(STAGE_CHOICES)}")''',
  '''raise ConfigError(f"stage must be one of {', '.join(STAGE_CHOICES)}. Received: stage={name!r}")''')
r("tfvton/training/algorithm.py",
  '''raise ValueError(f"tfvton/training/algorithm.py: train.stage_steps/stage_epochs name unknown stage(s) "
                         f"{', '.join(unknown)}; expected some of {', '.join(STAGES)}")''',
  '''raise ConfigError(f"train.stage_steps and train.stage_epochs must name stages among "
                          f"{', '.join(STAGES)}. Received unknown stage(s): {', '.join(unknown)}")''')
r("tfvton/training/algorithm.py",
  '''raise ValueError("tfvton/training/algorithm.py: an epoch budget needs the dataset size "
                                 "(steps_per_epoch)")''',
  '''raise ValueError("stage_budget: an epoch budget (train.epochs, train.stage_epochs) needs "
                                 "steps_per_epoch. Received: steps_per_epoch=None")''')
r("tfvton/training/algorithm.py",
  '''raise ValueError(f"tfvton/training/algorithm.py: stage {stage!r} has a budget of {steps} steps; expected >= 1")''',
  '''raise ConfigError(f"the step budget of stage {stage!r} (train.steps, train.stage_steps, train.epochs) "
                          f"must be >= 1. Received: {steps} steps")''')
r("tfvton/training/inputs.py",
  'f"tfvton/training/inputs.py: {dataset!r} has no usable pairs"',
  'f"training_dataset: the dataset must hold at least one usable pair. Received: {dataset!r}"')
r("tfvton/training/stage_trainer.py",
  '''f"tfvton/training/stage_trainer.py: global_batch_size must be >= 1, "
                             f"got {global_batch_size}"''',
  '''f"{type(self).__name__}: global_batch_size must be >= 1. "
                             f"Received: global_batch_size={global_batch_size}"''')
r("tfvton/training/stage_trainer.py",
  '''f"tfvton/training/stage_trainer.py: {type(self).__name__}.compile needs one optimizer "
                             f"per trained network {list(self.TRAINED)}; missing {missing}, unexpected {extra}"''',
  '''f"{type(self).__name__}.compile: optimizers must hold one optimizer per trained network "
                             f"{list(self.TRAINED)}. Received: missing {missing}, unexpected {extra}"''')
r("tfvton/training/strategy.py",
  'raise ValueError(f"tfvton/training/strategy.py: TF_CONFIG is not valid JSON: {err}") from None',
  'raise ConfigError(f"the TF_CONFIG environment variable must be JSON. Received: {err}") from None')
r("tfvton/training/strategy.py",
  '''raise ValueError("tfvton/training/strategy.py: TF_CONFIG.cluster must list `worker` addresses, "
                         f"got {cluster!r}")''',
  '''raise ConfigError(f"TF_CONFIG.cluster must list `worker` addresses. Received: {cluster!r}")''')
r("tfvton/training/strategy.py",
  '''raise ValueError("tfvton/training/strategy.py: TF_CONFIG.task must be "
                         f'{{"type": "worker"|"chief", "index": <int>}}, got {task!r}')''',
  '''raise ConfigError('TF_CONFIG.task must be {"type": "worker"|"chief", "index": <int>}. '
                          f"Received: {task!r}")''')
r("tfvton/training/strategy.py",
  'raise ValueError(f"tfvton/training/strategy.py: train.strategy must be one of {STRATEGIES}, got {name!r}")',
  'raise ConfigError(f"train.strategy must be one of {STRATEGIES}. Received: train.strategy={name!r}")')
r("tfvton/training/strategy.py",
  '''raise ValueError("tfvton/training/strategy.py: train.strategy=multiworker needs the TF_CONFIG "
                         "environment variable (the cluster's worker addresses and this task's index)")''',
  '''raise ConfigError("train.strategy=multiworker needs the TF_CONFIG environment variable (the "
                          "cluster's worker addresses and this task's index). Received: TF_CONFIG unset")''')
r("tfvton/training/strategy.py",
  '''f"tfvton/training/strategy.py: train.mixed_precision must be one of {PRECISIONS}, got {policy!r}")''',
  '''f"train.mixed_precision must be one of {PRECISIONS}. Received: train.mixed_precision={policy!r}")''')
r("tfvton/training/runner.py",
  '''f"tfvton/training/runner.py: stage {stage.name!r} keeps {name} frozen but found no weights "''',
  '''f"stage {stage.name!r} keeps {name} frozen but found no weights "''')
r("tfvton/training/grids.py",
  'f"tfvton/training/grids.py: panel {name!r} has {channels} channels; expected 1, 3 or 20"',
  'f"panel_to_uint8: panel {name!r} must have 1, 3 or 20 channels. Received: {channels} channels"')
r("tfvton/training/schedules.py",
  '''raise ValueError(f"tfvton/training/schedules.py: optimizer.decay must be 'none' or 'linear', "
                         f"got {optimizer_config.decay!r}")''',
  '''raise ConfigError(f"optimizer.decay must be 'none' or 'linear'. "
                          f"Received: optimizer.decay={optimizer_config.decay!r}")''')
r("tfvton/training/checkpoints.py",
  'raise ValueError(f"tfvton/training/checkpoints.py: train.keep_checkpoints must be >= 1, got {max_to_keep}")',
  'raise ConfigError(f"train.keep_checkpoints must be >= 1. Received: train.keep_checkpoints={max_to_keep}")')
r("tfvton/training/checkpoints.py",
  '''f"tfvton/training/checkpoints.py: {prefix} does not match the networks/optimizers being "
                f"trained (did the config change since it was written?): {err}"''',
  '''f"{prefix}: the checkpoint does not match the networks/optimizers being trained (did the "
                f"config change since it was written?): {err}"''')

# --- convert, synth, bench ------------------------------------------------------------------
r("tfvton/convert/gmm.py",
  '"tfvton.convert.gmm: official GMM state dict does not match the model:\\n  "',
  '"GMM: the official state dict does not match the model:\\n  "')
r("tfvton/convert/gmm.py",
  'f"tfvton.convert.gmm: GMM variables not covered by the mapping: {unset}"',
  'f"GMM: every variable must be covered by the official mapping. Received: uncovered {unset}"')
r("tfvton/data/synth/__init__.py",
  'f"tfvton.data.synth.generate: identities must be >= 2, got {identities}"',
  'f"generate: identities must be >= 2. Received: identities={identities}"')
r("tfvton/data/synth/__init__.py",
  'f"tfvton.data.synth.generate: poses_per_identity must be >= 2, got {poses_per_identity}"',
  'f"generate: poses_per_identity must be >= 2. "\n'
  '                         f"Received: poses_per_identity={poses_per_identity}"')
r("tfvton/data/synth/__init__.py",
  'f"tfvton.data.synth.generate: size must be at least 32x32, got {height}x{width}"',
  'f"generate: size must be at least 32x32. Received: size={height}x{width}"')
r("tfvton/data/synth/__init__.py",
  'f"tfvton.data.synth.generate: seed must be >= 0, got {seed}"',
  'f"generate: seed must be >= 0. Received: seed={seed}"')
r("tfvton/data/synth/__init__.py",
  'f"tfvton.data.synth.generate: test_fraction must be in (0, 1), got {test_fraction}"',
  'f"generate: test_fraction must be in (0, 1). Received: test_fraction={test_fraction}"')
r("tfvton/bench/ablation.py",
  '"tfvton/bench/ablation.py: the ablation covers tree blocks without fusion activation"',
  'f"run_ablation: the ablation covers Tree-Blocks without fusion activation. "\n'
  '                         f"Received: model.block={model.block!r}, "\n'
  '                         f"model.fusion_activation={model.fusion_activation!r}"')
r("tfvton/bench/flops.py",
  '''f"tfvton/bench/flops.py: op input {tensor.name} has a dynamic shape {tensor.shape}; "
                         "trace with a fully defined input signature"''',
  '''f"FLOP counting needs fully defined shapes (trace with a fully defined input signature). "
                         f"Received: op input {tensor.name} of shape {tensor.shape}"''')
r("tfvton/bench/runner.py",
  '''f"tfvton bench: unknown variant {name!r}; expected one of {', '.join(VARIANTS)}, "
                         f"optionally with {CROP_SUFFIX} and/or {FROZEN_SUFFIX}"''',
  '''f"a bench variant must be one of {', '.join(VARIANTS)}, optionally with {CROP_SUFFIX} "
                         f"and/or {FROZEN_SUFFIX}. Received: unknown variant {name!r}"''')
r("tfvton/bench/runner.py",
  '''f"tfvton bench: {FROZEN_SUFFIX} applies to {', '.join(FREEZABLE)}, not {base!r}"''',
  '''f"{FROZEN_SUFFIX} applies to {', '.join(FREEZABLE)}. Received: {base!r}"''')
r("tfvton/bench/runner.py",
  '''f"tfvton/bench/runner.py: bf16_networks holds unknown names {unknown}; "
                                 f"expected some of {list(NETWORKS)}"''',
  '''f"bf16_networks must be some of {list(NETWORKS)}. "
                                 f"Received unknown names: {unknown}"''')
r("tfvton/bench/quality.py",
  'f"tfvton/bench/quality.py: reference images {ref.shape} and test images {got.shape} differ"',
  'f"image_quality: reference and test images must have the same shape. "\n'
  '                         f"Received: {ref.shape} and {got.shape}"')
r("tfvton/bench/timing.py",
  'f"tfvton/bench/timing.py: runs must be >= 1, got {runs}"',
  'f"time_callable: runs must be >= 1. Received: runs={runs}"')

# Files whose messages now raise ConfigError import it.
NEEDS_CONFIG_ERROR = ("tfvton/networks/vgg.py", "tfvton/training/algorithm.py", "tfvton/training/strategy.py",
                      "tfvton/training/schedules.py", "tfvton/training/checkpoints.py")


def _add_import(text: str) -> str:
    if "from tfvton.errors import" in text:
        return text if "ConfigError" in text.split("from tfvton.errors import", 1)[1].split("\n", 1)[0] else \
            text.replace("from tfvton.errors import ", "from tfvton.errors import ConfigError, ", 1)
    lines = text.split("\n")
    last = max(i for i, line in enumerate(lines) if re.match(r"(import |from \S+ import )", line)
               and not line.startswith((" ", "\t")))
    # after the last top-level import (the first-party block goes last in this project)
    first_party = lines[last].startswith("from tfvton")
    lines[last + 1:last + 1] = ["from tfvton.errors import ConfigError"] if first_party else \
        ["", "from tfvton.errors import ConfigError"]
    return "\n".join(lines)


def main() -> int:
    missing = 0
    for path, old, new in R:
        file = Path(path)
        text = file.read_text()
        if old in text:
            text = text.replace(old, new, 1)
            file.write_text(text)
        elif new not in text:
            print(f"not applied (moved or changed): {path}: {old[:70]}...", file=sys.stderr)
            missing += 1
    for path in NEEDS_CONFIG_ERROR:
        file = Path(path)
        text = file.read_text()
        if "ConfigError(" in text:
            file.write_text(_add_import(text))
    long_lines = [f"{p}:{i + 1}" for p, _, new in R for i, line in enumerate(Path(p).read_text().split("\n"))
                  if len(line) > 120 and line.strip()[:40] in new]
    for where in sorted(set(long_lines)):
        print(f"line over 120 characters: {where}", file=sys.stderr)
    left = [f"{p}:{i + 1}" for p in sorted(Path("tfvton").rglob("*.py"))
            for i, line in enumerate(p.read_text().split("\n")) if re.search(r"[\"']tfvton[/.][a-z_./]*: ", line)]
    for where in left:
        print(f"source-path prefix left: {where}", file=sys.stderr)
    return 1 if missing or left else 0


if __name__ == "__main__":
    sys.exit(main())
