"""Training input pipelines whose order depends only on the seed and the step (for exact resume)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf


def _file_table(dataset):
    # The same per-pair table `MPVDataset.as_tf_dataset` starts from, through public accessors.
    files = [dataset.files(i) for i in range(len(dataset))]
    table = {key: np.array([f[key] for f in files]) for key in files[0]}
    for key in ("source_pose_keypoints", "target_pose_keypoints"):
        table[key] = np.stack([dataset.keypoints(i)[key] for i in range(len(dataset))]).astype(np.float32)
    return table


def training_dataset(dataset, batch_size: int, seed: int = 0, start_step: int = 0, shuffle: bool = True):
    """Infinite, shuffled, batched examples of an `MPVDataset`, positioned at `start_step`.

    The pair list is shuffled (reshuffled each pass, seeded) and repeated BEFORE
    decoding, so skipping the `start_step * batch_size` examples a resumed run has
    already seen costs no image decoding, and the resumed run sees exactly the
    batches an uninterrupted run would.

    Args:
        dataset: an `MPVDataset` (train mode).
        batch_size: the global batch size B.
        seed: shuffle seed (`train.seed`).
        start_step: optimisation steps already taken.
        shuffle: shuffle the pairs.
    Returns:
        `tf.data.Dataset` of batched example dicts (static batch dimension).
    """
    if len(dataset) == 0:
        raise ValueError(f"training_dataset: the dataset must hold at least one usable pair. Received: {dataset!r}")
    ds = tf.data.Dataset.from_tensor_slices(_file_table(dataset))
    if shuffle:
        ds = ds.shuffle(len(dataset), seed=seed, reshuffle_each_iteration=True)
    ds = ds.repeat()
    if start_step:
        ds = ds.skip(int(start_step) * int(batch_size))
    ds = ds.map(dataset.decode_and_preprocess, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if getattr(dataset, "on_bad_sample", "skip") == "skip":
        ds = ds.ignore_errors(log_warning=True)
    ds = ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def sample_batch(dataset, size: int = 4):
    """The first `size` examples, unshuffled, as one batch dict (for the image grids)."""
    size = max(1, min(size, len(dataset)))
    ds = dataset.as_tf_dataset(batch_size=size, shuffle=False)
    return next(iter(ds))


class MPVSource:
    """Training data from a dataset directory (MPV or VITON-HD layout, `tfvton.data.layouts`).

    Args:
        dataset: an `MPVDataset` or `VitonHDDataset` in train mode.
        seed: shuffle seed.
    """

    def __init__(self, dataset, seed: int = 0):
        self.mpv = dataset
        self.seed = seed

    @classmethod
    def from_config(cls, root, config, pairs_file=None, mode: str = "train"):
        from pathlib import Path

        from tfvton.data.layouts import detect_layout, open_dataset

        default = config.train.pairs_file
        if detect_layout(root) == "viton-hd" and not (Path(root) / default).is_file():
            default = None  # the MPV list name: VITON-HD's own default (train_pairs.txt) applies
        mpv = open_dataset(root, pairs_file or default, mode, config.data)
        return cls(mpv, config.train.seed)

    @property
    def num_examples(self) -> int:
        return len(self.mpv)

    def dataset(self, batch_size: int, start_step: int = 0):
        return training_dataset(self.mpv, batch_size, self.seed, start_step)

    def sample_batch(self, size: int = 4):
        return sample_batch(self.mpv, size)


class TensorSource:
    """Training data from in-memory example tensors (tests, synthetic benchmarks).

    Args:
        examples: dict of (N, ...) arrays keyed as `MPVDataset` examples.
        seed: shuffle seed (None: no shuffling).
    """

    def __init__(self, examples, seed=0):
        self.examples = {key: tf.convert_to_tensor(value) for key, value in examples.items()}
        self.seed = seed

    @property
    def num_examples(self) -> int:
        return int(next(iter(self.examples.values())).shape[0])

    def dataset(self, batch_size: int, start_step: int = 0):
        ds = tf.data.Dataset.from_tensor_slices(self.examples)
        if self.seed is not None:
            ds = ds.shuffle(self.num_examples, seed=self.seed, reshuffle_each_iteration=True)
        ds = ds.repeat().skip(int(start_step) * int(batch_size))
        ds = ds.batch(batch_size, drop_remainder=True)
        options = tf.data.Options()
        options.deterministic = True
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.with_options(options)

    def sample_batch(self, size: int = 4):
        size = max(1, min(size, self.num_examples))
        return {key: value[:size] for key, value in self.examples.items()}
