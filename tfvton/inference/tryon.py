"""Runs a `Predictor` on an MPV-layout pair list or on one set of raw inputs and writes PNGs.

Outputs, per pair: `<person stem>__<cloth stem>.png`, the try-on at the model
size, and with `grid=True` `<person stem>__<cloth stem>_grid.png`, the
official-style strip (`tfvton.inference.grid`).
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from tfvton.atomic_file import AtomicFile
from tfvton.data.counting import SkipLog
from tfvton.data.mpv import DataError
from tfvton.data.preview import TITLE_HEIGHT
from tfvton.inference.grid import save_png, stack_rows, tryon_strip, write_png
from tfvton.inference.predictor import Predictor, batches
from tfvton.metrics.evaluation import to_uint8

__all__ = ["output_stem", "tryon_raws", "tryon_dataset", "resize_notes_collapsed"]


@contextlib.contextmanager
def resize_notes_collapsed(log=print):
    """Replaces the data layer's per-file "is WxH, expected ...: resized" warnings by one summary line.

    Files of another size than the model's are expected here (e.g. 256x192 MPV photos and a
    128x96 model): the one preprocessing resizes them, and one line says so.
    """
    resized = []

    def keep(record):
        if record.levelno == logging.WARNING and "expected %dx%d" in str(record.msg):
            resized.append(record.args[0] if record.args else "")
            return False
        return True

    target = logging.getLogger("tfvton.data.mpv")
    target.addFilter(keep)
    try:
        yield resized
    finally:
        target.removeFilter(keep)
        if resized:
            log(f"note: {len(resized)} input file(s) differ from the model size and are resized by the "
                f"preprocessing (images bilinearly, parsing and masks nearest, keypoints scaled)")


def output_stem(person: str, cloth: str) -> str:
    """`<person stem>__<cloth stem>` with path separators flattened."""
    def stem(name):
        return Path(str(name)).stem.replace("/", "_")
    return f"{stem(person)}__{stem(cloth)}"


def tryon_raws(predictor: Predictor, raws: Sequence[Mapping[str, np.ndarray]], stems: Sequence[str],
               out_dir, grid: bool = False, batch_size: int = 4, progress: bool = False,
               grid_rows: Optional[List[np.ndarray]] = None,
               target: Optional[AtomicFile] = None) -> List[Dict[str, str]]:
    """Runs the try-on on raw input dicts and writes one PNG (and strip) per input.

    Args:
        predictor: the model.
        raws: raw input dicts (`tfvton.data.transforms.preprocess` input).
        stems: output file stem per input.
        out_dir: output folder (created).
        grid: also write the official-style strip per input.
        batch_size: inputs per forward pass.
        progress: tqdm bar.
        grid_rows: when given, every strip is also appended to this list.
        target: for one input, an opened `AtomicFile` the try-on is written to
            (in one rename) instead of `out_dir/<stem>.png`.
    Returns:
        one dict per input: `image` (and `grid`) paths.
    """
    if target is not None and len(raws) != 1:
        raise ValueError(f"one output file takes one input; got {len(raws)} inputs")
    out_dir = Path(out_dir)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(raws), desc="tryon", unit="image")
    written = []
    for chunk_index, chunk in enumerate(batches(list(range(len(raws))), batch_size)):
        chunk_raws = [raws[i] for i in chunk]
        need_grid = grid or grid_rows is not None
        batch = predictor.preprocess(chunk_raws) if (need_grid or predictor.kind == "keras") else None
        outputs = predictor.predict(chunk_raws, preprocessed=batch)
        for j, i in enumerate(chunk):
            image = to_uint8(outputs["output"][j])
            if target is not None:
                paths = {"image": str(target.commit(lambda scratch: write_png(image, scratch)))}
            else:
                paths = {"image": str(out_dir / f"{stems[i]}.png")}
                save_png(image, paths["image"])
            if need_grid:
                example = {k: v[j] for k, v in batch.items()}
                one = {k: v[j] for k, v in outputs.items()}
                raw = raws[i]
                strip = tryon_strip(example, one, raw["target_pose_keypoints"],
                                    _keypoint_frame(raw), titles=True)
                if grid:
                    paths["grid"] = str(out_dir / f"{stems[i]}_grid.png")
                    save_png(strip, paths["grid"])
                if grid_rows is not None:  # one title bar per sheet, above its first row
                    grid_rows.append(strip if not grid_rows else strip[TITLE_HEIGHT:])
            written.append(paths)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return written


def _keypoint_frame(raw: Mapping[str, np.ndarray]):
    # Target keypoints refer to the target photo when there is one, else to the person photo.
    image = raw["target_image"] if "target_image" in raw else raw["person_image"]
    return np.asarray(image).shape[:2]


def tryon_dataset(predictor: Predictor, dataset, out_dir, grid: bool = False, limit: Optional[int] = None,
                  batch_size: int = 4, progress: bool = True, indices: Optional[Sequence[int]] = None,
                  sheet=None, skips: Optional[SkipLog] = None) -> List[Dict[str, str]]:
    """Runs the try-on on the pairs of an `MPVDataset` (demo, test or train mode).

    Args:
        predictor: the model.
        dataset: a `tfvton.data.MPVDataset`.
        out_dir: output folder.
        grid: write one strip per pair.
        limit: only the first `limit` pairs.
        batch_size: pairs per forward pass.
        progress: tqdm bar.
        indices: explicit pair indices (overrides `limit`).
        sheet: path of one PNG stacking every strip (a relative path is taken under `out_dir`).
        skips: the `SkipLog` applying the skip/stop rule to pairs that fail to
            decode (default: the dataset's `on_bad_sample`); read it afterwards.
    Returns:
        one dict per pair: `image` (and `grid`) paths, plus `source`, `target`, `cloth` names.
    Raises:
        tfvton.data.DataError: naming a file that cannot be decoded (under `stop`,
            or when no pair decodes).
    """
    if skips is None:
        skips = SkipLog(dataset.on_bad_sample, label="tryon")
    if indices is None:
        n = len(dataset) if limit is None else min(int(limit), len(dataset))
        indices = list(range(n))
    # Every pair is decoded before the first image is written: under `stop`, a bad
    # file ends the run with nothing half-written.
    pairs, raws = [], []
    for i in indices:
        try:
            raws.append(dataset.raw(i))
        except DataError as e:
            skips.add(e, dataset.samples[i].line)
            continue
        pairs.append(dataset.samples[i])
    if not raws:
        raise DataError(dataset.pairs_file, f"no pair could be read: {skips.summary(0)}")
    stems = [output_stem(p.source, p.cloth) for p in pairs]
    rows: Optional[List[np.ndarray]] = [] if sheet else None
    written = tryon_raws(predictor, raws, stems, out_dir, grid=grid, batch_size=batch_size, progress=progress,
                         grid_rows=rows)
    if sheet and rows:
        save_png(stack_rows(rows), Path(out_dir) / sheet)
    for paths, pair in zip(written, pairs):
        paths.update({"source": pair.source, "target": pair.target, "cloth": pair.cloth})
    return written
