"""Training input pipelines whose order depends only on the seed and the step (for exact resume).

Every pair is decoded once before training starts (`tfvton.data.counting.usable_pairs`):
a pair that fails only when decoded is skipped, counted and named, or stops the run,
by the dataset's `on_bad_sample` rule, as the up-front check does. The training
pipeline then runs on the pairs that decode and drops nothing (no `ignore_errors`):
an element that still fails is an error, not a silent gap in the count.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import tensorflow as tf

from tfvton.data.counting import SkipLog, usable_pairs
from tfvton.data.pipeline_tail import pair_table
from tfvton.errors import DataError


def training_dataset(dataset, batch_size: int, seed: int = 0, start_step: int = 0, shuffle: bool = True,
                     indices: Optional[Sequence[int]] = None):
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
        indices: the pairs to train on (default: all; `MPVSource` passes those that decode).
    Returns:
        `tf.data.Dataset` of batched example dicts (static batch dimension).
    """
    indices = list(range(len(dataset))) if indices is None else list(indices)
    if not indices:
        raise ValueError(f"training_dataset: the dataset must hold at least one usable pair. Received: {dataset!r}")
    ds = tf.data.Dataset.from_tensor_slices(pair_table(dataset, indices))
    if shuffle:
        ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
    ds = ds.repeat()
    if start_step:
        ds = ds.skip(int(start_step) * int(batch_size))
    ds = ds.map(dataset.decode_and_preprocess, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def sample_batch(dataset, size: int = 4, indices: Optional[Sequence[int]] = None):
    """The first `size` examples (of `indices`, default all), unshuffled, as one batch dict (for the image grids)."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    chosen = indices[:max(1, min(size, len(indices)))]
    ds = tf.data.Dataset.from_tensor_slices(pair_table(dataset, chosen))
    ds = ds.map(dataset.decode_and_preprocess).batch(len(chosen))
    return next(iter(ds))


class MPVSource:
    """Training data from a dataset directory (MPV or VITON-HD layout, `tfvton.data.layouts`).

    Building it decodes every pair once (`usable_pairs`): pairs that fail are
    skipped, logged and named (`skips`) under the dataset's `on_bad_sample="skip"`,
    or raise `DataError` naming the file under `"stop"`.

    Args:
        dataset: an `MPVDataset` or `VitonHDDataset` in train mode.
        seed: shuffle seed.

    Attributes:
        skips: the `SkipLog` of every pair not trained on (up-front check and decoding).
        indices: the pairs trained on.
    """

    def __init__(self, dataset, seed: int = 0):
        self.mpv = dataset
        self.seed = seed
        self.skips = SkipLog.from_dataset(dataset, label="train")
        self.indices: List[int] = usable_pairs(dataset, self.skips)
        if not self.indices:
            raise DataError(dataset.pairs_file, f"no pair to train on: {self.skips.summary(0)}")

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
        return len(self.indices)

    def summary(self) -> str:
        """One line: pairs trained on and pairs skipped, naming the first skipped files."""
        return self.skips.summary(len(self.indices))

    def dataset(self, batch_size: int, start_step: int = 0):
        return training_dataset(self.mpv, batch_size, self.seed, start_step, indices=self.indices)

    def sample_batch(self, size: int = 4):
        return sample_batch(self.mpv, size, self.indices)


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
