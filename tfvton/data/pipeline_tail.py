"""The end every tf.data input pipeline shares: bad-example policy, batching, prefetch, options."""
from __future__ import annotations

import tensorflow as tf


def finish_pipeline(ds: tf.data.Dataset, on_bad_sample: str, batch_size, drop_remainder: bool,
                    shard_policy: tf.data.experimental.AutoShardPolicy) -> tf.data.Dataset:
    """Skips (and logs) examples that fail to decode when `on_bad_sample == "skip"`, then batches,
    prefetches and fixes the options (deterministic order; how multi-worker training shards)."""
    if on_bad_sample == "skip":
        ds = ds.ignore_errors(log_warning=True)
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = shard_policy
    return ds.with_options(options)
