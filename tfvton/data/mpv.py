"""The MPV dataset layout: `MPVDataset`, from a pair list to the `tf.data` pipeline.

Layout (the official release's, also what `tfvton synth` writes)::

    root/images/<person>.jpg                 person photos (cloth photos may live here too)
    root/cloth_image/<cloth>.jpg             in-shop garments
    root/cloth_mask/<cloth stem>_mask.png    garment masks, 0/255
    root/parse_cihp/<person stem>.png        CIHP label ids 0-19 (8-bit grey PNG)
    root/pose_coco/<person stem>_keypoints.json   OpenPose COCO-18, people[0].pose_keypoints_2d
    root/data_pair.txt                       `source target cloth split` (tab or space separated)
    root/demo.txt                            `source target_pose.json cloth split`

How listed names are found on disk (sub folders, split dirs) is `tfvton.data.pair_list`. As in
the official code, a person entry is read as `<stem>.jpg` whatever extension the list gives,
when the name as written does not exist.

Bad input. Files are validated when the dataset is built (`tfvton.data.validation`: the rules
of the one reader, docs/inputs.md). A pair with a bad file is skipped (counted in `bad_samples`,
logged) when `on_bad_sample="skip"`, or raises `DataError` when `"stop"`. Problems only
visible when decoding (a corrupt JPEG body, out-of-range labels) and not caught by
`validate="full"` surface during iteration: `dataset[i]` raises `DataError`; the `tf.data`
pipeline raises `InvalidArgumentError` under `"stop"` and drops the element with a logged
warning under `"skip"`. `tfvton.data.counting.decoded_batches` puts those through the same
rule, naming the file (`decode_error`), as evaluation, preview and tryon do. A train/test
line whose split column is none of train, test, val ("tset", "Test") is a bad line too.
Images of another size than (height, width) are resized by `transforms.preprocess`
(images bilinearly, parsing and masks nearest, keypoints scaled); it is logged once per file.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfvton.data import raw_io, transforms
from tfvton.data.pipeline_tail import PAIR_INDEX, finish_pipeline, pair_table
from tfvton.data.pair_list import (KNOWN_SPLITS, FromDataConfig, PairFiles, PathLike, find_file, read_pair_list,
                                   resolve_rows)
# `load_keypoints` stays importable from here: most callers know it as `mpv.load_keypoints`.
from tfvton.data.validation import Validator, check_mask_values, load_keypoints
from tfvton.errors import DataError

logger = logging.getLogger(__name__)

MODES = ("train", "test", "demo")
ON_BAD_SAMPLE = ("skip", "stop")
VALIDATE = ("headers", "full", "none")
_FILE_KEYS = ("person_image", "person_parsing", "cloth_image", "cloth_mask")
_TARGET_FILE_KEYS = ("target_image", "target_parsing")


class MPVDataset(FromDataConfig):
    """An MPV-layout dataset: a pair list resolved to files, yielding model tensors.

    Examples are dicts of float32 NHWC tensors named as in docs/architecture.md:
    `source_image`, `source_parse`, `source_shape`, `source_head`, `source_pose`,
    `target_pose`, `cloth_image`, `cloth_mask`, and in train/test mode also
    `target_image`, `target_parse`, `target_cloth`, `target_cloth_mask`.

    Args:
        root: dataset root (holds images/, parse_cihp/, ...).
        pairs_file: pair list; default `root/demo.txt` in demo mode, else
            `root/data_pair.txt`. A relative path that does not exist is looked
            up under `root`.
        mode: `train` / `test` keep the lines of that split (test also takes
            `val`) and yield target tensors; `demo` takes every line, whose
            second column is a target pose JSON, and yields no target image.
            Lines with only three columns are kept in every mode.
        height, width: model input size.
        radius: pose disc radius (official 6).
        shape_downsample: body-shape blur factor (official 16).
        on_bad_sample: `skip` (count in `bad_samples` and log) or `stop` (raise `DataError`).
        validate: `headers` (default), `full` (also decode every file) or `none`.
        progress: show a progress bar while validating long lists.

    Example:
        >>> ds = MPVDataset("mpv_samples", mode="demo")
        >>> ds[0]["target_pose"].shape
        (256, 192, 18)
        >>> batches = ds.as_tf_dataset(batch_size=4, shuffle=True, seed=0)
    """

    def __init__(self, root: PathLike, pairs_file: Optional[PathLike] = None, mode: str = "train",
                 height: int = 256, width: int = 192, radius: int = 6, shape_downsample: int = 16,
                 on_bad_sample: str = "skip", validate: str = "headers", progress: bool = True):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if on_bad_sample not in ON_BAD_SAMPLE:
            raise ValueError(f"on_bad_sample must be one of {ON_BAD_SAMPLE}, got {on_bad_sample!r}")
        if validate not in VALIDATE:
            raise ValueError(f"validate must be one of {VALIDATE}, got {validate!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(self.root, "dataset root is not a directory")
        self.mode = mode
        self.height, self.width, self.radius = int(height), int(width), int(radius)
        self.shape_downsample = int(shape_downsample)
        self.on_bad_sample = on_bad_sample
        self.validate = validate
        self.pairs_file = self._find_pairs_file(pairs_file)
        self.has_target = mode != "demo"

        self._validator = Validator(self.height, self.width, validate)
        self._keypoints: Dict[str, np.ndarray] = {}
        self.samples: List[PairFiles] = []
        self.bad_samples: List[Tuple[int, DataError]] = []
        self._load_pairs(progress)

    # ------------------------------------------------------------------ building

    def _find_pairs_file(self, pairs_file) -> Path:
        if pairs_file is None:
            path = self.root / ("demo.txt" if self.mode == "demo" else "data_pair.txt")
        else:
            path = Path(pairs_file)
            if not path.is_absolute() and not path.exists() and (self.root / path).exists():
                path = self.root / path
        if not path.is_file():
            raise DataError(path, "pair list not found")
        return path

    def _load_pairs(self, progress: bool):
        rows = read_pair_list(self.pairs_file)
        if self.has_target and rows and len(rows[0][1]) >= 2 and rows[0][1][1].lower().endswith(".json"):
            # A whole list in the wrong mode is a configuration error, not a bad sample.
            raise DataError(f"{self.pairs_file}:{rows[0][0]}", "the second column is a pose JSON, as in a "
                                                              "demo list; use mode='demo' (train/test need a "
                                                              "target image)")
        wanted = {"train": ("train",), "test": ("test", "val")}.get(self.mode)
        misspelt = [] if wanted is None else [(n, c) for n, c in rows if len(c) >= 4 and c[3] not in KNOWN_SPLITS]
        selected = [(n, c) for n, c in rows if wanted is None or len(c) < 4 or c[3] in wanted] + misspelt
        selected.sort(key=lambda row: row[0])
        self.samples, self.bad_samples = resolve_rows(selected, self._resolve, self.pairs_file,
                                                      self.on_bad_sample, progress, logger)
        if self.bad_samples:
            logger.warning("skipped %d of %d pairs listed in %s for mode %r (see MPVDataset.bad_samples)",
                           len(self.bad_samples), len(selected), self.pairs_file, self.mode)
        if not self.samples:
            bad = self.bad_samples[0][1] if self.bad_samples else None
            first = f"; first problem: {bad.path}: {bad.problem}" if bad else ""
            raise DataError(self.pairs_file, f"no usable pairs for mode {self.mode!r} "
                                             f"({len(selected)} selected, {len(self.bad_samples)} bad{first})")

    def _find(self, folder: str, names: Sequence[str], split: str) -> str:
        return find_file(self.root, folder, names, split)

    def _person_files(self, name: str, split: str):
        stem = os.path.splitext(name)[0]
        image_names = [name] if name.lower().endswith(".jpg") else [name, stem + ".jpg"]
        image = self._find("images", image_names, split)
        parsing = self._find("parse_cihp", [stem + ".png"], split)
        pose = self._find("pose_coco", [stem + "_keypoints.json"], split)
        self._validator.check("image", image)
        self._validator.check("labels", parsing)
        self._keypoints[pose] = self._validator.check("pose", pose)
        return image, parsing, pose

    def _resolve(self, number: int, columns: List[str]) -> PairFiles:
        where = f"{self.pairs_file}:{number}"
        if len(columns) < 3:
            raise DataError(where, f"expected 'source target cloth split' separated by tabs or spaces, "
                                   f"got {len(columns)} column(s)")
        source, target, cloth = columns[:3]
        split = columns[3] if len(columns) > 3 else ""
        if self.has_target and split and split not in KNOWN_SPLITS:
            # Dropping the line as "another split" would lose it without a word.
            raise DataError(where, f"the split column (4th) must be one of {', '.join(KNOWN_SPLITS)}. "
                                   f"Received: {split!r}")
        person_image, person_parsing, source_pose = self._person_files(source, split)

        cloth_stem = os.path.splitext(cloth)[0]
        cloth_image = self._find_cloth(cloth, split)
        cloth_mask = self._find("cloth_mask", [cloth_stem + "_mask.png"], split)
        self._validator.check("image", cloth_image)
        self._validator.check("mask", cloth_mask)

        target_image = target_parsing = None
        if self.mode == "demo":
            target_names = [target] if target.lower().endswith(".json") else \
                [os.path.splitext(target)[0] + "_keypoints.json"]
            target_pose = self._find("pose_coco", target_names, split)
            self._keypoints[target_pose] = self._validator.check("pose", target_pose)
        else:
            if target.lower().endswith(".json"):
                raise DataError(where, "the second column is a pose JSON, as in a demo list; "
                                       "use mode='demo' (train/test need a target image)")
            target_image, target_parsing, target_pose = self._person_files(target, split)
        return PairFiles(number, source, target, cloth, split, person_image, person_parsing, source_pose,
                         cloth_image, cloth_mask, target_pose, target_image, target_parsing)

    def _find_cloth(self, cloth: str, split: str) -> str:
        try:
            return self._find("cloth_image", [cloth], split)
        except DataError as first:
            try:  # the official MPV release keeps cloth photos next to the person photos
                return self._find("images", [cloth], split)
            except DataError:
                raise first from None

    # ------------------------------------------------------------------ access

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def keys(self) -> Tuple[str, ...]:
        """Names of the tensors in each example."""
        base = ("source_image", "source_parse", "source_shape", "source_head", "source_pose",
                "target_pose", "cloth_image", "cloth_mask")
        if self.has_target:
            base += ("target_image", "target_parse", "target_cloth", "target_cloth_mask")
        return base

    def keypoints(self, index: int) -> Dict[str, np.ndarray]:
        """Source and target keypoints (float32 (18, 3), pixels of their own image) of one pair."""
        pair = self.samples[index]
        return {"source_pose_keypoints": self._keypoints[pair.source_pose],
                "target_pose_keypoints": self._keypoints[pair.target_pose]}

    def files(self, index: int) -> Dict[str, str]:
        """The files one example is read from, by raw-input name."""
        pair = self.samples[index]
        files = {"person_image": pair.person_image, "person_parsing": pair.person_parsing,
                 "cloth_image": pair.cloth_image, "cloth_mask": pair.cloth_mask}
        if self.has_target:
            files["target_image"] = pair.target_image
            files["target_parsing"] = pair.target_parsing
        return files

    def encoded(self, index: int) -> Dict[str, object]:
        """File bytes and keypoints of one pair (what `tfvton prepare` stores)."""
        out: Dict[str, object] = {}
        for key, path in self.files(index).items():
            try:
                with open(path, "rb") as f:
                    out[key] = f.read()
            except OSError as e:
                raise DataError(path, f"cannot read file ({e.strerror or e})") from None
        out.update(self.keypoints(index))
        return out

    def raw(self, index: int) -> Dict[str, np.ndarray]:
        """Decoded raw inputs of one pair (uint8 images, label ids, keypoints), as numpy.

        Raises:
            DataError: naming the file that cannot be decoded or holds bad labels.
        """
        import tensorflow as tf
        encoded = self.encoded(index)
        files = self.files(index)
        decoders = {"person_image": transforms.decode_image, "cloth_image": transforms.decode_image,
                    "target_image": transforms.decode_image, "person_parsing": transforms.decode_labels,
                    "target_parsing": transforms.decode_labels, "cloth_mask": transforms.decode_mask}
        raw = {}
        for key, path in files.items():
            try:
                raw[key] = decoders[key](tf.constant(encoded[key])).numpy()
            except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as e:
                raise DataError(path, f"cannot decode image ({e.message.strip()})") from None
            if key == "cloth_mask":
                check_mask_values(raw[key], path)
            if key.endswith("parsing") and raw[key].size and int(raw[key].max()) >= transforms.NUM_LABELS:
                bad = sorted(int(v) for v in np.unique(raw[key][raw[key] >= transforms.NUM_LABELS]))
                raise DataError(path, f"parsing labels outside 0-19: found {bad[:8]}")
        raw["source_pose_keypoints"] = encoded["source_pose_keypoints"]
        raw["target_pose_keypoints"] = encoded["target_pose_keypoints"]
        return raw

    def __getitem__(self, index: int) -> Dict[str, np.ndarray]:
        """One example as a dict of numpy float32 arrays (eager `transforms.preprocess`)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} examples")
        index %= len(self)
        out = transforms.preprocess(self.raw(index), self.height, self.width, self.radius,
                                    self.shape_downsample)
        return {key: value.numpy() for key, value in out.items()}

    # ------------------------------------------------------------------ tf.data

    def decode_error(self, index: int) -> DataError:
        """Why pair `index` fails to decode, as a `DataError` naming the file (`counting.decode_error`)."""
        from tfvton.data.counting import decode_error

        return decode_error(self, index)

    def decode_and_preprocess(self, element):
        """The `tf.data` map function: file paths + keypoints -> model tensors (graph-safe)."""
        import tensorflow as tf
        encoded = {key: tf.io.read_file(element[key]) for key in self.files(0)}
        encoded["source_pose_keypoints"] = element["source_pose_keypoints"]
        encoded["target_pose_keypoints"] = element["target_pose_keypoints"]
        raw = transforms.decode_raw(encoded)
        for key in ("person_parsing", "target_parsing"):
            if key in raw:  # name the file in the error message
                raw[key] = transforms.check_labels(raw[key], key, path=element[key])
        share = tf.reduce_mean(tf.cast(tf.equal(raw["cloth_mask"], 255), tf.float32))
        check = tf.debugging.Assert(share >= raw_io.MIN_MASK_SHARE, [
            "file", element["cloth_mask"], f"cloth_mask: fewer than {raw_io.MIN_MASK_SHARE:.0%} of the pixels are "
            "255 (garment); dataset masks are 0/255, see docs/inputs.md; share", share])
        with tf.control_dependencies([check]):
            raw["cloth_mask"] = tf.identity(raw["cloth_mask"])
        out = transforms.preprocess(raw, self.height, self.width, self.radius, self.shape_downsample)
        if PAIR_INDEX in element:
            out[PAIR_INDEX] = element[PAIR_INDEX]
        return out

    def as_tf_dataset(self, batch_size: Optional[int] = None, shuffle: bool = False,
                      seed: Optional[int] = None, repeat: bool = False, drop_remainder: bool = False,
                      shuffle_buffer: Optional[int] = None, num_parallel_calls: Optional[int] = None,
                      limit: Optional[int] = None, with_index: bool = False, on_bad_sample: Optional[str] = None):
        """A `tf.data` pipeline of example dicts (parallel decode, shuffle, batch, prefetch).

        The order is deterministic for a given seed (the shuffle runs on file
        names, before decoding, and the parallel map keeps order). The result is
        a plain dataset of dicts, so `strategy.experimental_distribute_dataset`
        can split each global batch across replicas; multi-worker input is
        sharded by element (auto-shard policy DATA, as the source is in memory).

        Args:
            batch_size: global batch size; None yields single examples.
            shuffle: shuffle the pairs (reshuffled every epoch).
            seed: shuffle seed (None: nondeterministic).
            repeat: repeat forever.
            drop_remainder: drop a last incomplete batch (static batch dim).
            shuffle_buffer: default: the whole list (only names are buffered).
            num_parallel_calls: decode parallelism (default AUTOTUNE).
            limit: only the first `limit` pairs (before shuffling).
            with_index: add each pair's index as int64 `pair_index` (`PAIR_INDEX`),
                so a consumer can tell which pairs failed to decode.
            on_bad_sample: overrides the dataset's rule for decoding failures
                (`decoded_batches` asks for `skip` and applies the rule itself).
        Returns:
            `tf.data.Dataset` of dicts of float32 tensors.
        """
        import tensorflow as tf

        autotune = tf.data.AUTOTUNE
        table = pair_table(self)
        if with_index:
            table[PAIR_INDEX] = np.arange(len(self), dtype=np.int64)
        ds = tf.data.Dataset.from_tensor_slices(table)
        if limit is not None:
            ds = ds.take(int(limit))
        if shuffle:
            ds = ds.shuffle(shuffle_buffer or len(self), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.map(self.decode_and_preprocess, num_parallel_calls=num_parallel_calls or autotune,
                    deterministic=True)
        return finish_pipeline(ds, on_bad_sample or self.on_bad_sample, batch_size, drop_remainder,
                               tf.data.experimental.AutoShardPolicy.DATA)

    def __repr__(self) -> str:
        return (f"MPVDataset(root={str(self.root)!r}, pairs_file={self.pairs_file.name!r}, mode={self.mode!r}, "
                f"examples={len(self)}, bad={len(self.bad_samples)}, size={self.height}x{self.width})")

