import numpy as np
import pytest

from tests.testing import assert_close, run_layer_roundtrips
from tfvton.layers.face_crop import FaceCrop, box_offsets, crop_at, mask_from_image, paste_at


def _mask(boxes, height=40, width=32):
    """(B, H, W, 1) masks with one filled rectangle (top, left, bottom, right inclusive) each."""
    mask = np.zeros((len(boxes), height, width, 1), np.float32)
    for i, (top, left, bottom, right) in enumerate(boxes):
        mask[i, top:bottom + 1, left:right + 1] = 1.0
    return mask


def test_box_is_centred_on_the_mask_centroid():
    # A rectangle's centroid is its centre: rows 10..15 (centre 13), columns 4..9 (centre 7): a 8x8 box
    # starts at 13 - 4 = 9 and 7 - 4 = 3.
    offsets = np.asarray(box_offsets(_mask([(10, 4, 15, 9)]), 8, 8))
    np.testing.assert_array_equal(offsets, [[9, 3]])


def test_box_is_clamped_inside_the_image_and_centred_when_empty():
    masks = np.concatenate([_mask([(0, 0, 1, 1)]), _mask([(38, 30, 39, 31)]), np.zeros((1, 40, 32, 1), np.float32)])
    offsets = np.asarray(box_offsets(masks, 20, 16))
    np.testing.assert_array_equal(offsets, [[0, 0], [20, 16], [10, 8]])


def test_box_from_a_one_hot_parsing_face_mask():
    from tfvton.data import transforms

    labels = np.zeros((1, 40, 32), np.int32)
    labels[0, 5:12, 10:20] = 13  # face
    labels[0, 3:5, 12:18] = 2  # hair above it
    labels[0, 20:30, 5:25] = 5  # upper clothes: not a face label
    parse = np.eye(20, dtype=np.float32)[labels]
    face_mask = np.asarray(transforms.part_mask(parse, transforms.FACE_LABELS))
    # face (70 px: rows 5..11, columns 10..19) + hair (12 px: rows 3..4, columns 12..17): centroid row
    # (560 + 42) / 82 + 0.5 = 7.84, column (1015 + 174) / 82 + 0.5 = 15.0; a 12x12 box starts at
    # round(1.84) = 2 and round(9.0) = 9 (the bounding box's centre would give 1 and 9).
    np.testing.assert_array_equal(np.asarray(box_offsets(face_mask, 12, 12)), [[2, 9]])


def test_a_stray_pixel_far_away_does_not_move_the_box():
    face = _mask([(4, 4, 15, 13)])  # 12 x 10 = 120 pixels, centre (10, 9)
    stray = face.copy()
    stray[0, 39, 31] = 1.0  # one flipped label in the far corner: a bounding box would jump by 12 rows
    np.testing.assert_array_equal(np.asarray(box_offsets(face, 16, 16)), [[2, 1]])
    np.testing.assert_array_equal(np.asarray(box_offsets(stray, 16, 16)), [[2, 1]])


def test_crop_then_paste_round_trip():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 40, 32, 3)).astype(np.float32)
    offsets = np.array([[3, 5], [20, 16]], np.int32)
    crops = np.asarray(crop_at(images, offsets, 20, 16))
    np.testing.assert_array_equal(crops[0], images[0, 3:23, 5:21])
    np.testing.assert_array_equal(crops[1], images[1, 20:40, 16:32])
    background = rng.normal(size=images.shape).astype(np.float32)
    pasted = np.asarray(paste_at(background, crops, offsets))
    expected = background.copy()
    expected[0, 3:23, 5:21] = images[0, 3:23, 5:21]
    expected[1, 20:40, 16:32] = images[1, 20:40, 16:32]
    np.testing.assert_array_equal(pasted, expected)
    # Pasting a crop back onto its own image changes nothing.
    np.testing.assert_array_equal(np.asarray(paste_at(images, crops, offsets)), images)


def _face_input(seed=0):
    rng = np.random.default_rng(seed)
    source = rng.uniform(-1, 1, size=(2, 64, 48, 3)).astype(np.float32) * _mask([(5, 6, 20, 18), (30, 20, 45, 40)],
                                                                              64, 48)
    tryon = rng.uniform(-1, 1, size=(2, 64, 48, 3)).astype(np.float32) * _mask([(8, 10, 22, 21), (40, 2, 60, 14)],
                                                                              64, 48)
    return np.concatenate([source, tryon], axis=-1)


class _Identity:
    """A 'generator' that returns its try-on face channels (the official face stage if it learnt nothing)."""

    def __call__(self, x, training=None):
        return x[..., 3:6]


def test_identity_generator_gives_the_tryon_face_back():
    x = _face_input()
    out = np.asarray(FaceCrop(_Identity(), crop_size=24)(x))
    assert_close(out, x[..., 3:6], atol=0)


def test_generator_sees_aligned_crops_and_output_lands_on_the_target_face():
    seen = {}

    def spy(x, training=None):
        seen["x"] = np.asarray(x)
        return x[..., :3] * 0.0 + 0.5  # constant output, easy to locate

    x = _face_input(1)
    out = np.asarray(FaceCrop(spy, crop_size=24)(x))
    assert seen["x"].shape == (2, 24, 24, 6)
    src_at = np.asarray(box_offsets(mask_from_image(x[..., :3]), 24, 24))
    dst_at = np.asarray(box_offsets(mask_from_image(x[..., 3:]), 24, 24))
    for i in range(2):
        (st, sl), (dt, dl) = src_at[i], dst_at[i]
        np.testing.assert_array_equal(seen["x"][i, ..., :3], x[i, st:st + 24, sl:sl + 24, :3])
        np.testing.assert_array_equal(seen["x"][i, ..., 3:], x[i, dt:dt + 24, dl:dl + 24, 3:])
        inside = np.zeros((64, 48), bool)
        inside[dt:dt + 24, dl:dl + 24] = True
        assert np.all(out[i][inside] == 0.5)
        np.testing.assert_array_equal(out[i][~inside], x[i, ..., 3:][~inside])


def test_explicit_masks_override_the_derived_ones():
    x = _face_input(2)
    masks = _mask([(0, 0, 3, 3), (0, 0, 3, 3)], 64, 48)
    seen = {}

    def spy(t, training=None):
        seen["x"] = np.asarray(t)
        return t[..., 3:6]

    FaceCrop(spy, crop_size=20)(x, source_mask=masks, target_mask=masks)
    np.testing.assert_array_equal(seen["x"][..., 3:], x[:, :20, :20, 3:])


def test_wraps_a_tree_generator_and_runs_it_on_the_crop_only():
    from tfvton.networks.tree_generator import TreeGenerator

    generator = TreeGenerator(output_channels=3, ngf=4, n_blocks=1, with_tanh=True, dropout=0.0)
    layer = FaceCrop(generator, crop_size=32)
    x = _face_input(3)
    out = np.asarray(layer(x))
    assert out.shape == (2, 64, 48, 3)
    offsets = np.asarray(box_offsets(mask_from_image(x[..., 3:]), 32, 32))
    crops = np.concatenate([np.asarray(crop_at(x[..., :3], np.asarray(box_offsets(mask_from_image(x[..., :3]), 32, 32)),
                                               32, 32)),
                            np.asarray(crop_at(x[..., 3:], offsets, 32, 32))], axis=-1)
    refined = np.asarray(generator(crops))
    for i, (top, left) in enumerate(offsets):
        assert_close(out[i, top:top + 32, left:left + 32], refined[i], atol=1e-6)


def test_rejects_bad_crop_sizes():
    with pytest.raises(ValueError, match="FaceCrop: crop_size"):
        FaceCrop(_Identity(), crop_size=30)
    with pytest.raises(ValueError, match="the crop must fit in the image"):
        box_offsets(np.zeros((1, 16, 16, 1), np.float32), 20, 20)


def test_roundtrips(tmp_path):
    from tfvton.networks.tree_generator import TreeGenerator

    generator = TreeGenerator(output_channels=3, ngf=4, n_blocks=1, with_tanh=True, dropout=0.0)
    layer = FaceCrop(generator, crop_size=20)
    reloaded = run_layer_roundtrips(layer, _face_input(4)[:, :, :40], tmp_path)
    assert reloaded.layers[0].crop_size == 20


def test_the_box_converts_to_tflite_builtins_and_agrees():
    # Integer ops only (SUM, MUL, FLOOR_DIV, SELECT): exact in LiteRT, and left alone by int8 quantisation.
    import tensorflow as tf

    from tfvton.export.tflite import interpreter

    @tf.function(input_signature=[tf.TensorSpec((2, 40, 32, 1), tf.float32)])
    def boxes(mask):
        return box_offsets(mask, 16, 12)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([boxes.get_concrete_function()], boxes)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    runner = interpreter(converter.convert())
    runner.allocate_tensors()
    masks = np.concatenate([_mask([(3, 5, 20, 17)]), np.zeros((1, 40, 32, 1), np.float32)])
    masks[0, 39, 31] = 1.0  # a stray pixel: the centroid moves 0.1 rows, 0.1 columns
    runner.set_tensor(runner.get_input_details()[0]["index"], masks)
    runner.invoke()
    got = runner.get_tensor(runner.get_output_details()[0]["index"])
    # Rows 3..20 and columns 5..17 (centre 12, 11.5) plus the stray: starts round(4.12) = 4 and
    # round(5.59) = 6; the empty mask: the centred box (12, 10).
    np.testing.assert_array_equal(got, [[4, 6], [12, 10]])
    np.testing.assert_array_equal(got, np.asarray(box_offsets(masks, 16, 12)))
