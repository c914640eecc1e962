"""Structure metrics of a try-on: parsing accuracy / mIoU / per-class IoU and warped-cloth IoU.

`StructureAccumulator` sums them over batches for one method (model or
baseline); `structure_inputs` says what each method contributes;
`evaluate_structure` runs a `TryOnPipeline` over a split and returns the
model's numbers (the quick check a training recipe calls after a stage).
Definitions: `parsing_metrics`, `cloth_metrics`, docs/metrics.md.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np
import tensorflow as tf

from tfvton.metrics.cloth_metrics import MaskIoU, cloth_region, non_white, warp_mask
from tfvton.metrics.image_metrics import to_uint8
from tfvton.metrics.parsing_metrics import ParsingConfusion

# Keys of a structure result (beside `parsing_iou`, a dict class name -> IoU).
STRUCTURE_KEYS = ("parsing_pixel_accuracy", "parsing_miou", "parsing_classes_present", "warped_cloth_iou",
                  "warped_cloth_iou_nonwhite")

__all__ = ["STRUCTURE_KEYS", "StructureAccumulator", "structure_inputs", "evaluate_structure"]


def _labels(one_hot_or_probabilities) -> np.ndarray:
    return np.argmax(np.asarray(one_hot_or_probabilities), axis=-1)


class StructureAccumulator:
    """Dataset-level parsing confusion and warped-cloth IoUs of one method."""

    def __init__(self):
        self.parsing = ParsingConfusion()
        self.cloth = MaskIoU()
        self.cloth_nonwhite = MaskIoU()

    def add(self, target_labels, predicted_labels=None, warped_mask=None, warped_image=None) -> None:
        """Adds one batch.

        Args:
            target_labels: the target parsing, integer (B, H, W).
            predicted_labels: the predicted parsing's arg-max (B, H, W), or None.
            warped_mask: boolean (B, H, W) garment pixels of the warped cloth
                mask, or None.
            warped_image: the warped cloth image, uint8 (B, H, W, 3), or None.
        """
        target_labels = np.asarray(target_labels)
        if predicted_labels is not None:
            self.parsing.update(target_labels, predicted_labels)
        region = cloth_region(target_labels)
        if warped_mask is not None:
            self.cloth.update(warped_mask, region)
        if warped_image is not None:
            self.cloth_nonwhite.update(non_white(warped_image), region)

    def result(self) -> Dict[str, object]:
        """The keys that received data: `parsing_*` and `warped_cloth_iou*` (docs/metrics.md)."""
        out: Dict[str, object] = {}
        if self.parsing.matrix.any():
            scores = self.parsing.result()
            out.update({"parsing_pixel_accuracy": scores["pixel_accuracy"], "parsing_miou": scores["miou"],
                        "parsing_classes_present": scores["classes_present"], "parsing_iou": scores["iou"]})
        if self.cloth.n:
            out["warped_cloth_iou"] = self.cloth.result()["iou"]
        if self.cloth_nonwhite.n:
            out["warped_cloth_iou_nonwhite"] = self.cloth_nonwhite.result()["iou"]
        return out


def structure_inputs(batch: Mapping, outputs: Optional[Mapping] = None,
                     clip_warp_to_parsing: bool = False) -> Dict[str, Dict[str, np.ndarray]]:
    """What each method contributes to its `StructureAccumulator.add` for one batch.

    - `model`: the arg-max of the generated parsing; the cloth mask warped with
      the GMM grid (when the outputs carry `grid`: Keras models); the warped
      cloth image (when the outputs carry `warped_cloth`).
    - `baseline_source`: the SOURCE parsing as the prediction ("return the source").
    - `baseline_paste`: the unwarped cloth mask and image ("no warp").

    Args:
        batch: preprocessed batch with `target_parse`, `source_parse` (one-hot),
            `cloth_mask` (B, H, W, 1) and `cloth_image` ([-1, 1]).
        outputs: the model's outputs (`parsing_labels` or `parsing`, `grid`,
            `warped_cloth`), or None for the baselines only.
        clip_warp_to_parsing: the model cuts its warped cloth to its predicted
            parsing's cloth region (`model.clip_warp_to_parsing`); the grid-warped
            mask is cut the same way, so it is the garment the model passes on.
    Returns:
        dict method -> keyword arguments of `StructureAccumulator.add`.
    """
    target = _labels(batch["target_parse"])
    cloth_mask = np.asarray(batch["cloth_mask"])
    methods = {
        "baseline_source": {"target_labels": target, "predicted_labels": _labels(batch["source_parse"])},
        "baseline_paste": {"target_labels": target, "warped_mask": cloth_mask[..., 0] > 0.5,
                           "warped_image": to_uint8(batch["cloth_image"])},
    }
    if outputs is not None:
        model = {"target_labels": target}
        if "parsing_labels" in outputs:
            model["predicted_labels"] = np.asarray(outputs["parsing_labels"])
        elif "parsing" in outputs:
            model["predicted_labels"] = _labels(outputs["parsing"])
        if "grid" in outputs:
            model["warped_mask"] = warp_mask(cloth_mask, outputs["grid"])
            if clip_warp_to_parsing and "predicted_labels" in model:
                model["warped_mask"] &= cloth_region(model["predicted_labels"])
        if "warped_cloth" in outputs:
            model["warped_image"] = to_uint8(outputs["warped_cloth"])
        methods["model"] = model
    return methods


def evaluate_structure(pipeline, dataset, max_batches: Optional[int] = None, batch_size: int = 8,
                       baselines: bool = False, compiled: bool = True) -> Dict[str, object]:
    """Parsing and warped-cloth metrics of a `TryOnPipeline` on a split, in one pass.

    Args:
        pipeline: a `TryOnPipeline` (e.g. `tfvton.networks.factory.load_run(run_dir)`).
        dataset: a `tfvton.data.MPVDataset` with targets (`train` or `test`
            mode), or any iterable of preprocessed batch dicts.
        max_batches: stop after this many batches (None: the whole split).
        batch_size: pairs per batch when `dataset` is an `MPVDataset`.
        baselines: also return the two baselines' numbers.
        compiled: trace the forward pass into one graph first. Tracing costs
            about as much as a handful of eager batches, so pass False for a
            check on one or two batches (smoke tests).
    Returns:
        the model's `StructureAccumulator.result()` (`parsing_pixel_accuracy`,
        `parsing_miou`, `parsing_classes_present`, `parsing_iou`,
        `warped_cloth_iou`, `warped_cloth_iou_nonwhite`) plus `n` (pairs);
        with `baselines=True`, a dict method -> such a result.

    Example:
        >>> from tfvton.data import MPVDataset
        >>> from tfvton.networks.factory import load_run
        >>> test = MPVDataset.from_config(data_root, None, "test", config.data)
        >>> evaluate_structure(load_run(run_dir), test, max_batches=4)["parsing_miou"]
    """
    if getattr(dataset, "has_target", True) is False:
        raise ValueError(f"evaluate_structure: {dataset!r} has no target parsing; use a pair list in "
                         f"train/test form, not a demo list")
    batches = dataset.as_tf_dataset(batch_size=batch_size) if hasattr(dataset, "as_tf_dataset") else dataset
    def forward(inputs):
        return pipeline(inputs, training=False)

    if compiled:
        forward = tf.function(forward, reduce_retracing=True)
    accumulators = {m: StructureAccumulator() for m in ("model", "baseline_source", "baseline_paste")}
    n = 0
    for index, batch in enumerate(batches):
        if max_batches is not None and index >= max_batches:
            break
        batch = {key: np.asarray(value) for key, value in batch.items()}
        outputs = {key: np.asarray(value) for key, value in forward(batch).items()}
        for method, kwargs in structure_inputs(batch, outputs, pipeline.gmm.clip_to_parsing).items():
            accumulators[method].add(**kwargs)
        n += len(batch["target_parse"])
    if n == 0:
        raise ValueError(f"evaluate_structure: no batches in {dataset!r} (max_batches={max_batches})")
    results = {method: {**acc.result(), "n": n} for method, acc in accumulators.items()}
    return results if baselines else results["model"]
