"""The training-recipe ablation: one stage, a fixed step budget, that stage's metric on the test split.

    python -m tfvton.training.recipe_study --data-root /tmp/synth --stage parsing --steps 400 \\
        --out /tmp/study --lever official --lever logits=loss.parsing_ce=logits

Each lever is a name and a list of `key=value` config overrides on top of the
base config (`--config`, `--set`). Every lever trains the same stage with the
same seed, the same data order and the same step budget through the demo's
code path (`tfvton.demo.timed_training.train_stage_for`, no time limit), then
its exported networks are scored on the test split:

    parsing     pixel accuracy, mIoU over the classes present in the targets,
                per-class IoU (arg-max of the predicted parsing vs the target's)
    gmm         warped-cloth IoU: the GMM-warped cloth's garment pixels (border
                padding, as at inference) vs the target's cloth region (5, 6, 7)
    appearance  SSIM and mask-SSIM of the try-on (before face refinement) and of
                the "return the source" baseline (`tfvton.metrics.evaluation`)

A stage that needs earlier ones (appearance needs gmm and parsing) takes their
exports from `--start-from RUN_DIR`. Results go to OUT/study.json and a
Markdown table on stdout (docs/training.md holds the one that chose the recipe).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfvton.data import transforms
from tfvton.networks import factory
from tfvton.networks.forward import cloth_region, generate_parsing, warp_cloth
from tfvton.run_dir import RunDir
from tfvton.training import algorithm

# The switches a recipe consists of (section, key); the `paper` preset keeps the official values.
RECIPE_FIELDS = (("model", "parsing_output"), ("model", "gmm_init"), ("loss", "parsing_ce"), ("loss", "parsing"),
                 ("loss", "parsing_gan"), ("loss", "gan_warmup"), ("loss", "real_label"), ("loss", "gmm_smoothness"),
                 ("loss", "gmm_mask"), ("optimizer", "lr"), ("optimizer", "stage_lr"),
                 ("optimizer", "d_lr_scale"), ("model", "clip_warp_to_parsing"))
STAGE_METRICS = {"parsing": "miou", "gmm": "cloth_iou", "appearance": "mask_ssim"}
# A warped-cloth pixel is garment when some channel is darker than this (8-bit 245 in [-1, 1]):
# SynthMPV's in-shop cloth lies on pure white, and border padding keeps the white.
WHITE_THRESHOLD = 245.0 / 127.5 - 1.0


def confusion_matrix(predicted, target, num_classes: int = transforms.NUM_LABELS) -> np.ndarray:
    """(K, K) pixel counts, rows = target label, columns = predicted label."""
    predicted = np.asarray(predicted, np.int64).ravel()
    target = np.asarray(target, np.int64).ravel()
    return np.bincount(target * num_classes + predicted, minlength=num_classes ** 2).reshape(num_classes,
                                                                                              num_classes)


def parsing_scores(confusion: np.ndarray) -> Dict[str, object]:
    """Pixel accuracy, mIoU over the classes present in the targets, per-class IoU, from a confusion matrix."""
    confusion = np.asarray(confusion, np.float64)
    true = np.diag(confusion)
    in_target = confusion.sum(axis=1)
    union = in_target + confusion.sum(axis=0) - true
    present = np.flatnonzero(in_target > 0)
    iou = {int(k): float(true[k] / union[k]) for k in present}
    return {"pixel_accuracy": float(true.sum() / max(confusion.sum(), 1.0)),
            "miou": float(np.mean(list(iou.values()))) if iou else float("nan"),
            "min_class_iou": float(min(iou.values())) if iou else float("nan"), "class_iou": iou}


def garment_pixels(image) -> tf.Tensor:
    """(B, H, W) bool: pixels of a cloth image on white that are not white."""
    return tf.reduce_any(tf.convert_to_tensor(image) < WHITE_THRESHOLD, axis=-1)


def mask_iou(a, b) -> float:
    """IoU of two boolean masks summed over the whole set (1.0 when both are empty)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def target_cloth_mask(batch) -> np.ndarray:
    """(B, H, W) bool: the target parsing's cloth region (labels 5, 6, 7), what a warp is scored against."""
    return transforms.part_mask(batch["target_parse"], transforms.CLOTH_LABELS).numpy()[..., 0] > 0.5


def split_batches(data_root, config, split: str = "test", batch_size: int = 8):
    """A split's pairs as preprocessed batches (the data config's size)."""
    from tfvton.data import MPVDataset

    pairs = MPVDataset.from_config(str(data_root), None, split, config.data, progress=False)
    return pairs.as_tf_dataset(batch_size=batch_size)


def evaluate_parsing(parsing_generator, data_root, config, split: str = "test") -> Dict[str, object]:
    """Parsing scores of a generator on a split's pairs (inference mode; see `parsing_scores`)."""
    confusion = np.zeros((transforms.NUM_LABELS,) * 2, np.int64)
    for batch in split_batches(data_root, config, split):
        predicted = tf.argmax(generate_parsing(parsing_generator, batch, training=False)["parsing"], axis=-1)
        confusion += confusion_matrix(predicted.numpy(), tf.argmax(batch["target_parse"], axis=-1).numpy())
    return parsing_scores(confusion)


def evaluate_gmm(gmm, data_root, config, split: str = "test", parsing_generator=None) -> Dict[str, float]:
    """Warped-cloth IoU on a split's pairs, and that of the unwarped cloth (the identity warp) for reference.

    With `parsing_generator` (a trained parsing network), also `cloth_iou_clipped` (the warp cut to
    the predicted cloth region, as `model.clip_warp_to_parsing` does) and `region_iou` (that region
    itself, the cut's ceiling). A GMM conditioned on the target cloth (`model.gmm_condition:
    target_cloth`) is given the predicted region then (as at inference), else the ground truth.
    """
    warped_masks, regions, cloth_masks, targets = [], [], [], []
    for batch in split_batches(data_root, config, split):
        region = None
        if parsing_generator is not None:
            region = cloth_region(generate_parsing(parsing_generator, batch, training=False)["parsing_onehot"])
        target_cloth = None
        if gmm.conditions_on_target_cloth:
            target_cloth = batch["target_cloth_mask"] if region is None else region
        warped = warp_cloth(gmm, batch, training=False, padding_mode="border", target_cloth=target_cloth)["warped_cloth"]
        warped_masks.append(garment_pixels(warped).numpy())
        if region is not None:
            regions.append(region.numpy()[..., 0] > 0.5)
        cloth_masks.append(garment_pixels(batch["cloth_image"]).numpy())
        targets.append(target_cloth_mask(batch))
    targets, warped_masks = np.concatenate(targets), np.concatenate(warped_masks)
    result = {"cloth_iou": mask_iou(warped_masks, targets),
              "unwarped_cloth_iou": mask_iou(np.concatenate(cloth_masks), targets)}
    if regions:
        regions = np.concatenate(regions)
        result.update(cloth_iou_clipped=mask_iou(warped_masks & regions, targets),
                      region_iou=mask_iou(regions, targets))
    return result


def evaluate_appearance(run_dir, data_root, config) -> Dict[str, float]:
    """SSIM / mask-SSIM of the try-on and of the source baseline, warped-cloth IoU and parsing mIoU, on the test split."""
    from tfvton.data import MPVDataset
    from tfvton.inference.predictor import KerasPredictor
    from tfvton.metrics.evaluation import evaluate_predictor

    predictor = KerasPredictor.from_run_dir(run_dir)
    test = MPVDataset.from_config(str(data_root), None, "test", config.data, progress=False)
    result = evaluate_predictor(predictor, test, progress=False)
    model = result["model"]
    return {"ssim": model["ssim"], "mask_ssim": model["mask_ssim"],
            "source_ssim": result["baseline_source"]["ssim"],
            "source_mask_ssim": result["baseline_source"]["mask_ssim"],
            # The frozen GMM and parsing as the try-on uses them (a clipping model's garment is clipped).
            "cloth_iou": model.get("warped_cloth_iou"), "parsing_miou": model.get("parsing_miou")}


def _load_exported(config, run_dir, stage: str, network: str):
    net = factory.build_networks(config, [network])[network]
    net.load_weights(RunDir(run_dir).stage_weights_path(stage, network))
    return net


def _copy_start_weights(start_from, run_dir: Path, stage: str) -> None:
    for network, earlier in algorithm.STAGES[stage].starts_from:
        source = Path(start_from) / "weights" / earlier
        if not source.is_dir():
            raise FileNotFoundError(f"--start-from {start_from}: no weights/{earlier}/ for {network}; train the "
                                    f"{earlier!r} stage there first")
        shutil.copytree(source, run_dir / "weights" / earlier, dirs_exist_ok=True)


def recipe_overrides(config) -> List[str]:
    """The config's training-recipe switches as `key=value` overrides (to carry a preset's recipe
    onto another geometry, e.g. the `small` recipe onto the `smoke` sizes in the learning test)."""
    def text(value):
        if isinstance(value, tuple):  # YAML flow lists: [[parsing, 0.001]]
            return "[" + ", ".join(text(v) for v in value) + "]"
        return str(value)

    return [f"{section}.{key}={text(getattr(getattr(config, section), key))}" for section, key in RECIPE_FIELDS]


def run_lever(config, stage: str, data_root, steps: int, run_dir, start_from=None,
              split: str = "test") -> Dict[str, object]:
    """Trains `stage` for `steps` steps from scratch in `run_dir` and scores it on a split (default test).

    Returns:
        dict: the stage's metrics plus `steps`, `seconds` (training, build included),
        `step_seconds` (median), `steps_per_second`, `losses` (the last logged values).
    """
    from tfvton.demo.timed_training import train_stage_for
    from tfvton.training.inputs import MPVSource

    run_dir = Path(run_dir)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    if start_from is not None:
        _copy_start_weights(start_from, run_dir, stage)
    tf.keras.backend.clear_session()
    data = MPVSource.from_config(str(data_root), config)
    trained = train_stage_for(config, stage, run_dir, data, seconds=float("inf"), max_steps=steps, verbose=0)
    result = {"steps": trained["steps"], "seconds": round(trained["seconds"], 1),
              "step_seconds": round(trained["step_seconds"], 4),
              "steps_per_second": round(1.0 / trained["step_seconds"], 2), "losses": trained["losses"]}
    if stage == "parsing":
        result.update(evaluate_parsing(_load_exported(config, run_dir, stage, "parsing_generator"), data_root, config,
                                       split))
    elif stage == "gmm":
        gmm = _load_exported(config, run_dir, stage, "gmm")
        parsing_generator = None
        if start_from is not None and (Path(start_from) / "weights" / "parsing").is_dir():
            parsing_generator = _load_exported(config, start_from, "parsing", "parsing_generator")
        result.update(evaluate_gmm(gmm, data_root, config, split, parsing_generator))
        if gmm.conditions_on_target_cloth and parsing_generator is not None:
            # Above: given the region a trained parsing network predicts; here: the true one.
            result["cloth_iou_true_target"] = evaluate_gmm(gmm, data_root, config, split)["cloth_iou"]
    elif stage == "appearance":
        run = RunDir(run_dir)
        for network in ("gmm", "parsing_generator", "appearance_generator"):
            source = run.stage_weights_path(algorithm.STAGES[stage].start_stage(network) or stage, network)
            shutil.copy(source, run.weights_path(network))
        run.save_config(config.replace(model=config.model.__class__(
            **{**config.model.__dict__, "face_refinement": False})))
        result.update(evaluate_appearance(run_dir, data_root, config))
    else:
        raise ValueError(f"stage {stage!r} has no study metric; expected one of {', '.join(STAGE_METRICS)}")
    return result


def parse_lever(text: str) -> Tuple[str, List[str]]:
    """`name` or `name=key=value,key=value` -> (name, overrides)."""
    name, _, rest = text.partition("=")
    overrides = [item for item in rest.split(",") if item] if rest else []
    return name, overrides


def format_table(stage: str, results: Mapping[str, Mapping[str, object]]) -> str:
    """Markdown: lever, overrides, the stage's metrics, steps, seconds, steps/s."""
    if stage == "parsing":
        head = "| lever | overrides | mIoU | min class IoU | pixel acc. | steps | s | steps/s |"
        row = lambda r: f"{r['miou']:.3f} | {r['min_class_iou']:.3f} | {r['pixel_accuracy']:.3f}"
    elif stage == "gmm":
        head = "| lever | overrides | warped-cloth IoU | cut to the predicted region | unwarped IoU | steps | s | steps/s |"
        row = lambda r: (f"{r['cloth_iou']:.3f}" + (f" (true target region: {r['cloth_iou_true_target']:.3f})"
                                                     if "cloth_iou_true_target" in r else "")
                         + (f" | {r['cloth_iou_clipped']:.3f} (region {r['region_iou']:.3f})"
                            if "cloth_iou_clipped" in r else " | -")
                         + f" | {r['unwarped_cloth_iou']:.3f}")
    else:
        head = ("| lever | overrides | SSIM | mask-SSIM | source SSIM | source mask-SSIM | cloth IoU | steps | s "
                "| steps/s |")
        row = lambda r: (f"{r['ssim']:.3f} | {r['mask_ssim']:.3f} | {r['source_ssim']:.3f} | "
                         f"{r['source_mask_ssim']:.3f} | " + ("-" if r.get("cloth_iou") is None
                                                               else f"{r['cloth_iou']:.3f}"))
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in results.items():
        lines.append(f"| {name} | {', '.join(r['overrides']) or '-'} | {row(r)} | {r['steps']} | {r['seconds']:.0f} | "
                     f"{r['steps_per_second']:.2f} |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tfvton.training.recipe_study", description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", required=True, help="MPV-layout dataset with train and test pairs")
    parser.add_argument("--stage", required=True, choices=sorted(STAGE_METRICS))
    parser.add_argument("--steps", type=int, required=True, help="step budget of every lever")
    parser.add_argument("--out", required=True, help="folder for the levers' run directories and study.json")
    parser.add_argument("--config", default="small", help="base preset or YAML (default: small)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="base override key=value")
    parser.add_argument("--lever", action="append", required=True,
                        help="NAME or NAME=key=value,key=value (repeatable)")
    parser.add_argument("--start-from", default=None, help="run dir with the earlier stages' weights/<stage>/")
    args = parser.parse_args(argv)

    from tfvton.config import load_config

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "study.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for text in args.lever:
        name, overrides = parse_lever(text)
        config = load_config(args.config, list(args.overrides) + overrides)
        start = time.perf_counter()
        result = run_lever(config, args.stage, args.data_root, args.steps, out / name, args.start_from)
        result.update({"stage": args.stage, "overrides": overrides, "base": [args.config] + list(args.overrides),
                       "wall_seconds": round(time.perf_counter() - start, 1)})
        results[name] = result
        results_path.write_text(json.dumps(results, indent=2) + "\n")
        metric = STAGE_METRICS[args.stage]
        print(f"[study] {args.stage} {name}: {metric} {result[metric]:.4f} in {result['steps']} steps, "
              f"{result['seconds']:.0f} s ({result['steps_per_second']:.2f} steps/s)", flush=True)
    print(format_table(args.stage, {k: v for k, v in results.items() if v.get("stage") == args.stage}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
