"""Sharded TFRecords of the raw MPV inputs, and a reader that preprocesses them in `tf.data`.

The records hold what the files hold (encoded JPEG / PNG bytes and the OpenPose
keypoints), not preprocessed tensors: they stay small, and the reader runs the
same `transforms.preprocess` as `MPVDataset`, so both yield identical tensors.
A large dataset streams from many files, and multi-worker training shards by
file (the reader sets the FILE auto-shard policy, or shards explicitly).

Layout written by `write_tfrecords` / `tfvton prepare`::

    out/<mode>-00000-of-00008.tfrecord ... out/<mode>-00007-of-00008.tfrecord
    out/records.json    mode, example count, shard names, raw keys
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from tfvton.data import transforms
from tfvton.data.mpv import DataError, MPVDataset

logger = logging.getLogger(__name__)

METADATA = "records.json"
_BYTES_KEYS = ("person_image", "person_parsing", "cloth_image", "cloth_mask")
_TARGET_BYTES_KEYS = ("target_image", "target_parsing")
_KEYPOINT_KEYS = ("source_pose_keypoints", "target_pose_keypoints")
_NAME_KEYS = ("source", "target", "cloth", "split")


def _example(encoded: Dict[str, object], names: Dict[str, str]):
    import tensorflow as tf

    def _bytes(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    feature = {key: _bytes(encoded[key]) for key in _BYTES_KEYS + _TARGET_BYTES_KEYS if key in encoded}
    for key in _KEYPOINT_KEYS:
        values = np.asarray(encoded[key], np.float32).reshape(-1)
        feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=values.tolist()))
    for key in _NAME_KEYS:
        feature[f"name/{key}"] = _bytes(names[key].encode("utf-8"))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_tfrecords(dataset: MPVDataset, out_dir: Union[str, Path], shards: int = 8,
                    progress: bool = True) -> Dict[str, object]:
    """Writes the raw inputs of every pair of `dataset` into `shards` TFRecord files.

    Pair i goes to shard i % shards, so reading the shards round-robin (the
    reader's default without shuffling) gives back the dataset's order. A pair
    whose files cannot be read is skipped and counted, or raises, following
    the dataset's `on_bad_sample`.

    Args:
        dataset: the source `MPVDataset` (its validation has already run).
        out_dir: output folder (created).
        shards: number of files (capped at the number of examples).
        progress: show a progress bar.
    Returns:
        The metadata written to `out_dir/records.json`.
    """
    import tensorflow as tf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shards = max(1, min(int(shards), len(dataset)))
    names = [f"{dataset.mode}-{i:05d}-of-{shards:05d}.tfrecord" for i in range(shards)]
    writers = [tf.io.TFRecordWriter(str(out_dir / name)) for name in names]
    written, skipped = 0, []
    indices = range(len(dataset))
    if progress:
        from tqdm import tqdm
        indices = tqdm(indices, desc=f"writing {out_dir.name}", unit="pair")
    try:
        for i in indices:
            pair = dataset.samples[i]
            try:
                encoded = dataset.encoded(i)
            except DataError as e:
                if dataset.on_bad_sample == "stop":
                    raise
                skipped.append(str(e))
                logger.warning("skipping pair at %s:%d: %s", dataset.pairs_file, pair.line, e)
                continue
            pair_names = {"source": pair.source, "target": pair.target, "cloth": pair.cloth, "split": pair.split}
            writers[written % shards].write(_example(encoded, pair_names).SerializeToString())
            written += 1
    finally:
        for writer in writers:
            writer.close()
    metadata = {
        "format": "tfvton-mpv-raw/1",
        "mode": dataset.mode,
        "examples": written,
        "shards": names,
        "keys": list(_BYTES_KEYS + (_TARGET_BYTES_KEYS if dataset.has_target else ()) + _KEYPOINT_KEYS),
        "source": {"root": str(dataset.root), "pairs_file": str(dataset.pairs_file)},
        "skipped": len(dataset.bad_samples) + len(skipped),
    }
    (out_dir / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


class MPVRecords:
    """Reads TFRecords written by `write_tfrecords` into the same tensors as `MPVDataset`.

    Args:
        path: the folder written by `tfvton prepare` (with records.json), or a
            glob pattern of .tfrecord files.
        height, width, radius, shape_downsample: preprocessing geometry, as in `MPVDataset`.
        on_bad_sample: `skip` drops a record that fails to decode (logged by
            tf.data), `stop` raises.
        mode: needed only for a glob without records.json (`demo` = no target tensors).

    Example:
        >>> records = MPVRecords("data/mpv-train", 256, 192)
        >>> ds = records.as_tf_dataset(batch_size=8, shuffle=True, seed=0, repeat=True)
    """

    def __init__(self, path: Union[str, Path], height: int = 256, width: int = 192, radius: int = 6,
                 shape_downsample: int = 16, on_bad_sample: str = "skip", mode: Optional[str] = None):
        path = Path(path)
        self.metadata: Dict[str, object] = {}
        if path.is_dir():
            meta_path = path / METADATA
            if meta_path.exists():
                self.metadata = json.loads(meta_path.read_text())
                self.files = [str(path / name) for name in self.metadata["shards"]]
            else:
                self.files = sorted(str(p) for p in path.glob("*.tfrecord"))
        else:
            self.files = sorted(str(p) for p in path.parent.glob(path.name))
        if not self.files:
            raise DataError(path, "no .tfrecord files found (write them with `tfvton prepare`)")
        for f in self.files:
            if not Path(f).is_file():
                raise DataError(f, "missing TFRecord shard listed in records.json")
        self.mode = self.metadata.get("mode", mode or "train")
        self.has_target = self.mode != "demo"
        self.height, self.width, self.radius = int(height), int(width), int(radius)
        self.shape_downsample = int(shape_downsample)
        if on_bad_sample not in ("skip", "stop"):
            raise ValueError(f"on_bad_sample must be 'skip' or 'stop', got {on_bad_sample!r}")
        self.on_bad_sample = on_bad_sample

    def __len__(self) -> int:
        if "examples" not in self.metadata:
            raise TypeError("the number of records is unknown without records.json")
        return int(self.metadata["examples"])

    def _feature_spec(self):
        import tensorflow as tf
        keys = _BYTES_KEYS + (_TARGET_BYTES_KEYS if self.has_target else ())
        spec = {key: tf.io.FixedLenFeature([], tf.string) for key in keys}
        for key in _KEYPOINT_KEYS:
            spec[key] = tf.io.FixedLenFeature([transforms.NUM_KEYPOINTS * 3], tf.float32)
        for key in _NAME_KEYS:
            spec[f"name/{key}"] = tf.io.FixedLenFeature([], tf.string, default_value="")
        return spec

    def decode_and_preprocess(self, serialized):
        """Map function: one serialized record -> model tensors (graph-safe)."""
        import tensorflow as tf
        features = tf.io.parse_single_example(serialized, self._feature_spec())
        encoded = {key: features[key] for key in _BYTES_KEYS + (_TARGET_BYTES_KEYS if self.has_target else ())}
        for key in _KEYPOINT_KEYS:
            encoded[key] = tf.reshape(features[key], [transforms.NUM_KEYPOINTS, 3])
        raw = transforms.decode_raw(encoded)
        raw["person_parsing"] = transforms.check_labels(raw["person_parsing"], "person_parsing",
                                                        path=features["name/source"])
        if self.has_target:
            raw["target_parsing"] = transforms.check_labels(raw["target_parsing"], "target_parsing",
                                                            path=features["name/target"])
        return transforms.preprocess(raw, self.height, self.width, self.radius, self.shape_downsample)

    def as_tf_dataset(self, batch_size: Optional[int] = None, shuffle: bool = False,
                      seed: Optional[int] = None, repeat: bool = False, drop_remainder: bool = False,
                      shuffle_buffer: int = 512, num_shards: int = 1, shard_index: int = 0,
                      cycle_length: Optional[int] = None):
        """A `tf.data` pipeline streaming the shards (interleave, shuffle, decode, batch, prefetch).

        Args:
            batch_size: global batch size; None yields single examples.
            shuffle: shuffle the file order and the examples (buffer `shuffle_buffer`).
            seed: shuffle seed (None: nondeterministic).
            repeat: repeat forever.
            drop_remainder: drop a last incomplete batch.
            shuffle_buffer: examples held by the shuffle buffer.
            num_shards, shard_index: read only every `num_shards`-th file starting
                at `shard_index` (explicit multi-worker sharding by file). Left at
                1 / 0, a distribution strategy auto-shards by FILE.
            cycle_length: files read at once (default: all, which keeps the
                writer's order when not shuffling).
        Returns:
            `tf.data.Dataset` of dicts of float32 tensors (keys as `MPVDataset`).
        """
        import tensorflow as tf

        from tfvton.data.pipeline_tail import finish_pipeline
        autotune = tf.data.AUTOTUNE
        files = tf.data.Dataset.from_tensor_slices(self.files)
        n_files = len(self.files)
        if num_shards > 1:
            if num_shards > n_files:
                raise ValueError(f"cannot shard {n_files} TFRecord files {num_shards} ways; "
                                 f"write more shards with `tfvton prepare --shards`")
            files = files.shard(num_shards, shard_index)
            n_files = len(self.files[shard_index::num_shards])
        if shuffle:
            files = files.shuffle(n_files, seed=seed, reshuffle_each_iteration=True)
        ds = files.interleave(tf.data.TFRecordDataset, cycle_length=cycle_length or n_files, block_length=1,
                              num_parallel_calls=autotune, deterministic=True)
        if shuffle:
            ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.map(self.decode_and_preprocess, num_parallel_calls=autotune, deterministic=True)
        return finish_pipeline(ds, self.on_bad_sample, batch_size, drop_remainder,
                               tf.data.experimental.AutoShardPolicy.FILE)

    def __repr__(self) -> str:
        return f"MPVRecords(files={len(self.files)}, mode={self.mode!r}, examples={self.metadata.get('examples')})"

