"""What every tf.data input pipeline shares: the per-pair table, bad-example policy, batching, options."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

# Key of the pair's index in the elements of `indexed_examples` (and `MPVDataset.as_tf_dataset(with_index=True)`).
PAIR_INDEX = "pair_index"


def pair_table(dataset, indices: Optional[Sequence[int]] = None) -> Dict[str, np.ndarray]:
    """File paths and keypoints of the pairs `indices` (default: all), one array per raw-input name.

    The slices a pipeline starts from (`from_tensor_slices`), read through the
    datasets' public accessors (`files(i)`, `keypoints(i)`), so every pair-list
    dataset (MPV, VITON-HD) builds the same table.
    """
    indices = range(len(dataset)) if indices is None else list(indices)
    files = [dataset.files(i) for i in indices]
    keys = dataset.files(0).keys()
    table = {key: np.array([f[key] for f in files]) for key in keys}
    for key in ("source_pose_keypoints", "target_pose_keypoints"):
        table[key] = np.stack([dataset.keypoints(i)[key] for i in indices]).astype(np.float32)
    return table


def indexed_examples(dataset, indices: Sequence[int], batch_size: int) -> tf.data.Dataset:
    """Batches of the pairs `indices`, decoded in parallel, each example carrying its `PAIR_INDEX`.

    Examples that fail to decode are dropped here; the caller tells which from
    the indices that arrive and accounts for every one (`tfvton.data.counting`).
    """
    table = pair_table(dataset, indices)
    table[PAIR_INDEX] = np.asarray(list(indices), np.int64)

    def decode(element):
        example = dict(dataset.decode_and_preprocess(element))
        example[PAIR_INDEX] = element[PAIR_INDEX]
        return example

    ds = tf.data.Dataset.from_tensor_slices(table).map(decode, num_parallel_calls=tf.data.AUTOTUNE,
                                                         deterministic=True)
    # Dropped, then found missing by index: the counting is the caller's.
    ds = ds.ignore_errors().batch(batch_size).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options)


def finish_pipeline(ds: tf.data.Dataset, on_bad_sample: str, batch_size, drop_remainder: bool,
                    shard_policy: tf.data.experimental.AutoShardPolicy) -> tf.data.Dataset:
    """Skips (and logs) examples that fail to decode when `on_bad_sample == "skip"`, then batches,
    prefetches and fixes the options (deterministic order; how multi-worker training shards).

    The drop is logged by tf.data but names no file; training (`tfvton.training.inputs`),
    evaluation and `tryon` decode through `tfvton.data.counting` instead, which names and
    counts every pair it drops.
    """
    if on_bad_sample == "skip":
        ds = ds.ignore_errors(log_warning=True)
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = shard_policy
    return ds.with_options(options)
