"""Paired evaluation on a test split: the model against two baselines (docs/metrics.md).

For each pair (source person, target person wearing the cloth, cloth) of the
split, the model's try-on of the source in the target pose is compared with
the target photo. Every image is first quantised to 8 bits exactly as a saved
PNG would be (round(clip((x + 1) * 127.5, 0, 255))), so the numbers are those
of the image files one would look at, and SSIM uses L = 255.

Methods (each a row of `metrics.json`):

- `model`: the predictor's output (the face-refined `final`; `tryon` when the
  config turns face refinement off);
- `baseline_source`: the source photo unchanged ("return the source image");
- `baseline_paste`: the source photo with the in-shop cloth image pasted,
  unwarped and at the same pixel positions, over the TARGET cloth region
  (target parsing labels 5, 6, 7): paste = source * (1 - m) + cloth * m.

Metrics: SSIM and mask-SSIM (foreground = target parsing label > 0),
L1 (in units of the range) and PSNR (dB), averaged over images; Inception
Score and mask-IS (10 splits, mean and std), FID and KID (against the target
photos) when a scorer is given. Structure metrics (`structure.py`): parsing
pixel accuracy, mIoU and per-class IoU, warped-cloth IoU, for the model and
for the baselines they apply to.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional

import numpy as np

from tfvton.data.counting import SkipLog, decoded_batches
from tfvton.data.transforms import LABEL_NAMES
from tfvton.errors import DataError
from tfvton.metrics.fid_kid import fid, kid
from tfvton.metrics.image_metrics import l1, psnr, to_uint8
from tfvton.metrics.inception_score import score_from_probabilities
from tfvton.metrics.ssim import mask_background, mask_ssim, ssim
from tfvton.metrics.structure import StructureAccumulator, structure_inputs

METHODS = ("model", "baseline_source", "baseline_paste")
CLOTH_LABELS = (5, 6, 7)

__all__ = ["METHODS", "to_uint8", "baseline_images", "evaluate_predictor", "format_table",
           "format_structure_tables"]


def baseline_images(batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The two baselines (uint8) from a preprocessed test batch.

    Args:
        batch: `source_image`, `cloth_image` ([-1, 1]) and `target_parse`
            (one-hot, 20 channels), batched.
    Returns:
        dict `baseline_source`, `baseline_paste`: uint8 (B, H, W, 3).
    """
    source = to_uint8(batch["source_image"])
    cloth = to_uint8(batch["cloth_image"])
    labels = np.argmax(np.asarray(batch["target_parse"]), axis=-1)
    region = np.isin(labels, CLOTH_LABELS)[..., None]
    return {"baseline_source": source, "baseline_paste": np.where(region, cloth, source)}


class _Accumulator:
    def __init__(self, with_inception: bool):
        self.values: Dict[str, List[float]] = {"ssim": [], "mask_ssim": [], "l1": [], "psnr": []}
        self.probabilities: Dict[str, List[np.ndarray]] = {"is": [], "mask_is": []} if with_inception else {}
        self.features: List[np.ndarray] = []
        self.structure = StructureAccumulator()

    def add(self, fake: np.ndarray, real: np.ndarray, foreground: np.ndarray, scorer=None):
        self.values["ssim"] += ssim(fake, real, data_range=255).numpy().tolist()
        self.values["mask_ssim"] += mask_ssim(fake, real, foreground, data_range=255).numpy().tolist()
        self.values["l1"] += l1(fake, real, data_range=255).numpy().tolist()
        self.values["psnr"] += psnr(fake, real, data_range=255).numpy().tolist()
        if scorer is not None:
            as_float = fake.astype(np.float32) / 127.5 - 1.0
            masked = np.asarray(mask_background(fake, foreground, 0.0), np.float32) / 127.5 - 1.0
            features, probabilities = scorer.features_and_probabilities(as_float)
            self.features.append(features)
            self.probabilities["is"].append(probabilities)
            self.probabilities["mask_is"].append(scorer.probabilities(masked))

    def result(self, splits: int, real_features: Optional[np.ndarray] = None) -> Dict[str, float]:
        out = {name: float(np.mean(v)) for name, v in self.values.items()}
        out["ssim_std"] = float(np.std(self.values["ssim"]))
        out["n"] = len(self.values["ssim"])
        for name, parts in self.probabilities.items():
            score = score_from_probabilities(np.concatenate(parts), splits)
            out[name] = score["mean"]
            out[f"{name}_std"] = score["std"]
        if real_features is not None and self.features and len(real_features) >= 2:
            fake_features = np.concatenate(self.features)
            out["fid"] = fid(real_features, fake_features)
            kid_score = kid(real_features, fake_features)
            out["kid"], out["kid_std"] = kid_score["mean"], kid_score["std"]
        out.update(self.structure.result())
        return out


def _batches(predictor, dataset, n: int, batch_size: int, skips: SkipLog):
    """Yields (first index, preprocessed batch, outputs, model seconds) over the first `n` pairs.

    A Keras predictor reads the dataset's `tf.data` pipeline (parallel decoding
    and the one preprocessing in graph mode); other predictors get the raw
    inputs they need (a SavedModel or TFLite graph preprocesses by itself).
    Pairs that fail to decode go through `skips` either way.
    """
    if hasattr(predictor, "run_model_inputs"):
        for indices, batch in decoded_batches(dataset, n, batch_size, skips):
            t = time.perf_counter()
            outputs = predictor.run_model_inputs(batch)
            yield indices[0], batch, outputs, time.perf_counter() - t
        return
    for first in range(0, n, batch_size):
        raws = []
        for i in range(first, min(first + batch_size, n)):
            try:
                raws.append(dataset.raw(i))
            except DataError as e:
                skips.add(e, dataset.samples[i].line)
        if not raws:
            continue
        batch = predictor.preprocess(raws)
        t = time.perf_counter()
        outputs = predictor.predict(raws, preprocessed=batch)
        yield first, batch, outputs, time.perf_counter() - t


def evaluate_predictor(predictor, dataset, limit: Optional[int] = None, batch_size: int = 8, scorer=None,
                       splits: int = 10, progress: bool = True,
                       on_batch: Optional[Callable[[int, Dict, Dict], None]] = None) -> Dict[str, Dict]:
    """Evaluates a predictor and the two baselines on a paired dataset.

    Args:
        predictor: a `tfvton.inference.predictor.Predictor`.
        dataset: a `tfvton.data.MPVDataset` in `test` (or `train`) mode (it
            must have target images).
        limit: evaluate the first `limit` pairs only.
        batch_size: pairs per forward pass.
        scorer: an `InceptionScorer` for IS / mask-IS, or None.
        splits: IS splits.
        progress: show a tqdm bar.
        on_batch: called as on_batch(first_index, preprocessed_batch, outputs)
            after each batch (the demo uses it to draw grids).
    Returns:
        dict method -> metrics (`ssim`, `mask_ssim`, `l1`, `psnr`, `ssim_std`,
        `n`, and `is`, `is_std`, `mask_is`, `mask_is_std` with a scorer), plus
        `meta` (what was evaluated, how, and how long it took), and the counts:
        `n_requested` (pairs of the split, or the first `limit`, usable or not),
        `n_evaluated` (pairs the metrics cover) and `skipped` (`[{file, reason,
        line}]`: pairs dropped by the up-front check or while decoding).
    Raises:
        DataError: under the dataset's `on_bad_sample="stop"`, naming the first
            file that fails to decode.
    """
    if not getattr(dataset, "has_target", False):
        raise ValueError(f"evaluate: {dataset!r} has no target images; use a pair list in train/test "
                         f"form (source target cloth split), not a demo list")
    n = len(dataset) if limit is None else max(0, min(int(limit), len(dataset)))
    if n == 0:
        raise ValueError(f"evaluate: no pairs to evaluate in {dataset!r}")
    # The up-front check's drops among the pairs asked for, then the decoding failures.
    last_line = None if n == len(dataset) else dataset.samples[n - 1].line
    skips = SkipLog.from_dataset(dataset, last_line, label="evaluate") if hasattr(dataset, "bad_samples") \
        else SkipLog(getattr(dataset, "on_bad_sample", "stop"), label="evaluate")
    accumulators = {m: _Accumulator(scorer is not None) for m in METHODS}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, desc="evaluate", unit="pair")
    start = time.perf_counter()
    model_seconds = 0.0
    real_features: List[np.ndarray] = []
    clip_warp = predictor.clip_warp_to_parsing
    for first, batch, outputs, seconds in _batches(predictor, dataset, n, batch_size, skips):
        model_seconds += seconds
        real = to_uint8(batch["target_image"])
        foreground = (np.argmax(batch["target_parse"], axis=-1) > 0)[..., None]
        fakes = {"model": to_uint8(outputs["output"]), **baseline_images(batch)}
        for method in METHODS:
            accumulators[method].add(fakes[method], real, foreground, scorer)
        for method, structure in structure_inputs(batch, outputs, clip_warp).items():
            accumulators[method].structure.add(**structure)
        if scorer is not None:
            real_features.append(scorer.features(real.astype(np.float32) / 127.5 - 1.0))
        if on_batch is not None:
            on_batch(first, batch, outputs)
        if bar is not None:
            bar.update(len(real))
    if bar is not None:
        bar.close()
    n_evaluated = len(accumulators["model"].values["ssim"])
    if n_evaluated == 0:
        raise DataError(getattr(dataset, "pairs_file", "dataset"), f"no pair could be evaluated: "
                                                                  f"{skips.summary(0)}")
    real_features = np.concatenate(real_features) if real_features else None
    results = {m: accumulators[m].result(splits, real_features) for m in METHODS}
    results.update(skips.counts(n_evaluated))
    results["meta"] = {
        "pairs": n_evaluated, "pairs_file": str(getattr(dataset, "pairs_file", "")), "mode": getattr(dataset, "mode", ""),
        "model_source": predictor.source, "model_kind": predictor.kind,
        "model_output": "final" if predictor.face_refinement else "tryon",
        "size": [predictor.height, predictor.width],
        "images": "8-bit (round((x + 1) * 127.5)), SSIM data_range 255, window 11 Gaussian sigma 1.5, "
                  "K1 0.01, K2 0.03, valid region, channel mean; see docs/metrics.md",
        "inception": None if scorer is None else {
            "weights": str(scorer.weights), "splits": splits,
            "fid_kid": "InceptionV3 avg_pool features (2048) of each method's images vs the target photos; "
                       "KID: cubic polynomial kernel, 100 subsets of min(1000, N)"},
        "structure": "parsing: dataset-level confusion matrix of the predicted arg-max vs the target parsing, "
                     "mIoU over the classes present in the targets; warped_cloth_iou: the cloth mask warped "
                     "with the GMM grid (> 0.5), warped_cloth_iou_nonwhite: warped cloth pixels with a channel "
                     "< 245, each vs target labels 5/6/7; see docs/metrics.md",
        "seconds": round(time.perf_counter() - start, 3),
        "model_seconds_per_pair": round(model_seconds / n_evaluated, 5),
    }
    return results


def format_table(results: Dict[str, Dict], methods=METHODS) -> str:
    """A fixed-width text table of the image metrics (one row per method)."""
    columns = [("ssim", "SSIM", "{:.4f}"), ("mask_ssim", "mask-SSIM", "{:.4f}"), ("l1", "L1", "{:.4f}"),
               ("psnr", "PSNR dB", "{:.2f}")]
    if any("is" in results.get(m, {}) for m in methods):
        columns += [("is", "IS", "{:.3f}"), ("mask_is", "mask-IS", "{:.3f}")]
    if any("fid" in results.get(m, {}) for m in methods):
        columns += [("fid", "FID", "{:.2f}"), ("kid", "KID", "{:.4f}")]
    return _text_table(results, methods, columns)


def _text_table(results: Dict[str, Dict], methods, columns) -> str:
    header = f"{'method':<18}" + "".join(f"{title:>11}" for _, title, _ in columns)
    lines = [header, "-" * len(header)]
    for method in methods:
        row = results.get(method)
        if row is None:
            continue
        cells = []
        for key, _, fmt in columns:
            value = row.get(key)
            text = fmt.format(value) if value is not None else "-"
            if key in ("is", "mask_is") and f"{key}_std" in row:
                text = f"{value:.2f}±{row[key + '_std']:.2f}"
            cells.append(f"{text:>11}")
        lines.append(f"{method:<18}" + "".join(cells))
    return "\n".join(lines)


# (key, title, format) of the structure summary; `-` where a method has no such output.
STRUCTURE_COLUMNS = (("parsing_pixel_accuracy", "pix-acc", "{:.4f}"), ("parsing_miou", "mIoU", "{:.4f}"),
                     ("parsing_classes_present", "classes", "{:d}"), ("warped_cloth_iou", "cloth-IoU", "{:.4f}"),
                     ("warped_cloth_iou_nonwhite", "c-IoU-nw", "{:.4f}"))


def format_structure_tables(results: Dict[str, Dict], methods=METHODS) -> str:
    """The structure metrics as text: a summary (one row per method), then per-class IoU by CIHP name.

    Columns of the summary: parsing pixel accuracy, mIoU over the target
    classes present, their number, warped-cloth IoU of the warped mask and of
    the non-white pixels. The per-class table has one column per method with a
    parsing (the model; the source baseline's is the source parsing).
    """
    lines = [_text_table(results, methods, STRUCTURE_COLUMNS)]
    with_parsing = [m for m in methods if results.get(m, {}).get("parsing_iou")]
    if with_parsing:
        names = list(dict.fromkeys(n for m in with_parsing for n in results[m]["parsing_iou"]))
        header = f"{'CIHP class IoU':<18}" + "".join(f"{m:>18}" for m in with_parsing)
        lines += ["", header, "-" * len(header)]
        for name in names:
            cells = [results[m]["parsing_iou"].get(name) for m in with_parsing]
            label = f"{LABEL_NAMES.index(name):>2} {name}" if name in LABEL_NAMES else name
            lines.append(f"{label:<18}" + "".join(f"{'-' if v is None else f'{v:.4f}':>18}" for v in cells))
    return "\n".join(lines)
