"""The parsing's one-hot arg-max (`forward.onehot_argmax`) against `tf.one_hot` of `tf.argmax`."""
import numpy as np
import tensorflow as tf

from tfvton.networks import forward


def test_equals_tf_one_hot_including_ties():
    rng = np.random.default_rng(0)
    probabilities = rng.random((2, 5, 4, 20)).astype(np.float32)
    probabilities[0, 0, 0, [3, 11]] = 2.0  # a tie: the first maximum wins, as tf.argmax
    got = forward.onehot_argmax(tf.constant(probabilities)).numpy()
    want = tf.one_hot(tf.argmax(probabilities, axis=-1), 20, dtype=tf.float32).numpy()
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32 and got[0, 0, 0, 3] == 1.0 and got[0, 0, 0, 11] == 0.0
