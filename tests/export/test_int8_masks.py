"""Masks taken from the parsing's arg-max stay exact in an int8 TFLite model.

LiteRT's int8 ONE_HOT loses the zero point of its off value (0 reads back as 0.5), so a face
mask summed from the one-hot came out all ones and the face crop box sat at the image centre.
The pipeline's one-hot is a gather from an identity matrix (`forward.onehot_argmax`), exact in
int8 even when nothing keeps it float; the exporter still keeps ONE_HOT float
(`INT8_ALWAYS_FLOAT_OPS`). These tests convert a small graph with the pipeline's path to the masks
and the crop box (softmax -> arg-max one-hot -> face and cloth masks -> centroid box) to int8 and
compare with TensorFlow.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfvton.export.graph import convert_concrete
from tfvton.export.tflite import INT8_ALWAYS_FLOAT_OPS, INT8_FLOAT_OPS, interpreter
from tfvton.layers.face_crop import box_offsets
from tfvton.networks import forward

HEIGHT, WIDTH, CROP = 32, 24, 12
FACE, UPPER_CLOTHES = 13, 5


def _scores(seed: int) -> np.ndarray:
    """(1, H, W, 20) scores whose arg-max is a face (8x6) and a garment (10x8) on background, with noise."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(0.0, 0.3, (1, HEIGHT, WIDTH, 20)).astype(np.float32)
    scores[0, :, :, 0] += 2.0
    top, left = rng.integers(0, 6), rng.integers(0, WIDTH - 6)
    scores[0, top:top + 8, left:left + 6, FACE] += 4.0
    top, left = rng.integers(14, HEIGHT - 10), rng.integers(0, WIDTH - 8)
    scores[0, top:top + 10, left:left + 8, UPPER_CLOTHES] += 4.0
    return scores


def _tf_one_hot(probabilities):
    return tf.one_hot(tf.argmax(probabilities, axis=-1), 20, dtype=tf.float32)


class _MaskGraph(tf.Module):
    def __init__(self, onehot):
        super().__init__()
        self.onehot = onehot

    @tf.function(input_signature=[tf.TensorSpec((1, HEIGHT, WIDTH, 20), tf.float32)])
    def __call__(self, scores):
        onehot = self.onehot(tf.nn.softmax(scores, axis=-1))
        face = forward.face_region(onehot)
        return {"face": face, "box": box_offsets(face, CROP, CROP), "cloth": forward.cloth_region(onehot)}


def _int8_against_tensorflow(keep_float_ops, onehot=forward.onehot_argmax):
    """[(TensorFlow outputs, int8 TFLite outputs)] on six inputs the calibration never saw.

    `onehot`: the pipeline's (`forward.onehot_argmax`) unless given.
    """
    module = _MaskGraph(onehot)

    def dataset():
        for seed in range(8):
            yield [_scores(seed)]

    model = convert_concrete(module.__call__.get_concrete_function(), module, "int8", dataset,
                             keep_float_ops=keep_float_ops)
    runner = interpreter(model, num_threads=1).get_signature_runner()
    pairs = []
    for seed in range(20, 26):
        scores = _scores(seed)
        expected = {key: np.asarray(value) for key, value in module(tf.constant(scores)).items()}
        pairs.append((expected, runner(scores=scores)))
    return pairs


def _masks_equal(expected, got) -> bool:
    return all(np.array_equal(np.asarray(got[key]).round(3), expected[key]) for key in ("face", "cloth"))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("keep_float_ops", [INT8_FLOAT_OPS + INT8_ALWAYS_FLOAT_OPS, INT8_FLOAT_OPS],
                         ids=["exporter", "one-hot-quantised"])
def test_int8_masks_and_face_box_equal_tensorflow(keep_float_ops):
    # The pipeline's gathered one-hot stays exact even with nothing kept float for it.
    for expected, got in _int8_against_tensorflow(keep_float_ops):
        assert expected["face"].sum() == 48 and expected["cloth"].sum() == 80
        assert _masks_equal(expected, got)
        np.testing.assert_array_equal(got["box"], expected["box"])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_int8_one_hot_kernel_is_why_it_stays_float():
    # With ONE_HOT quantised the masks are wrong (all ones). If a LiteRT release fixes the kernel
    # this test fails, and ONE_HOT can leave INT8_ALWAYS_FLOAT_OPS.
    pairs = _int8_against_tensorflow(INT8_FLOAT_OPS, onehot=_tf_one_hot)
    assert not any(_masks_equal(expected, got) for expected, got in pairs)
    assert all(np.asarray(got["face"]).min() > 0.99 for _, got in pairs)
