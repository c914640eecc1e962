"""The one preprocessing: hand-derived expectations, PIL bit-exactness, eager == tf.data == batched."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfvton.data import transforms as T
from testing import assert_close, torch_or_skip

H, W = 256, 192


def _keypoints(**joints):
    """(18, 3) keypoints, all missing (0, 0, 0) except joint index -> (x, y, c)."""
    kp = np.zeros((18, 3), np.float32)
    for name, value in joints.items():
        kp[int(name[1:])] = value
    return kp


def _heat(kp, h=H, w=W, radius=6):
    return T.pose_heatmaps(tf.constant(kp), h, w, radius).numpy()


# ----------------------------------------------------------------------------- pose

def test_disc_of_radius_6_has_113_pixels_and_missing_joints_are_empty():
    heat = _heat(_keypoints(j3=(100.0, 120.0, 0.9)))
    assert heat.shape == (H, W, 18) and heat.dtype == np.float32
    assert heat[..., 3].sum() == 113  # 1 + 4*6 on the axes + 4*22 inside the quadrants
    assert set(np.unique(heat)) <= {0.0, 1.0}
    others = np.delete(heat, 3, axis=-1)
    assert others.sum() == 0  # (0, 0, 0) joints are not drawn
    assert heat[120, 100, 3] == 1 and heat[120, 106, 3] == 1 and heat[120, 107, 3] == 0
    assert heat[126, 100, 3] == 1 and heat[127, 100, 3] == 0
    assert heat[124, 104, 3] == 1 and heat[125, 105, 3] == 0  # 4^2 + 4^2 = 32 <= 36 < 50


def test_keypoints_are_truncated_toward_zero():
    heat = _heat(_keypoints(j0=(10.9, 20.9, 1.0)))[..., 0]
    rows, cols = np.nonzero(heat)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (14, 26, 4, 16)  # centre (20, 10), not (21, 11)
    loc = T.pose_locations(tf.constant(_keypoints(j0=(10.9, 20.9, 1), j1=(-0.5, 50, 1), j2=(-3.7, -2.2, 1))), H, W)
    assert loc.numpy()[:3].tolist() == [[20, 10], [50, 0], [-2, -3]]


def test_negative_and_small_coordinates_follow_the_row_col_greater_than_one_rule():
    kp = _keypoints(j0=(-3.7, 50, 1), j1=(50, -0.5, 1), j2=(1.99, 50, 1), j3=(50, 1.99, 1), j4=(2.0, 50, 1),
                    j5=(50, 2.0, 1), j6=(100, 100, 0.0))
    heat = _heat(kp)
    assert heat[..., :4].sum() == 0  # truncates to <= 1 -> not drawn
    # x = 2: the disc is cut by the left border: columns -4..8, i.e. |j| <= 6 with j >= -2.
    expected = sum(1 for i in range(-6, 7) for j in range(-2, 7) if i * i + j * j <= 36)
    assert heat[..., 4].sum() == expected == heat[..., 5].sum()
    assert heat[..., 6].sum() == 113  # the confidence is ignored, as in the official code


def test_coordinates_are_clipped_to_width_and_height_minus_one():
    heat = _heat(_keypoints(j0=(500.0, 100.0, 1), j1=(100.0, 1000.0, 1), j2=(191.9, 255.9, 1), j3=(1e9, 1e9, 1)))
    half = (113 + 13) // 2  # the half disc including its centre column
    assert heat[..., 0].sum() == half and heat[100, 191, 0] == 1 and heat[100, 185, 0] == 1
    assert heat[..., 1].sum() == half and heat[255, 100, 1] == 1
    quarter = 22 + 6 + 6 + 1
    assert heat[..., 2].sum() == quarter and heat[255, 191, 2] == 1
    assert heat[..., 3].sum() == quarter
    # Generalised from the official hardcoded 191 / 255 to W - 1 / H - 1.
    small = _heat(_keypoints(j0=(47.5, 63.5, 1)), h=64, w=48)
    assert small[63, 47, 0] == 1 and small[..., 0].sum() == quarter


def test_nan_keypoints_raise():
    with pytest.raises(tf.errors.InvalidArgumentError, match="finite"):
        _heat(_keypoints(j0=(np.nan, 10, 1)))


def test_keypoints_scale_with_the_image_size():
    kp = tf.constant(_keypoints(j0=(20.0, 30.0, 0.7)))
    scaled = T.scale_keypoints(kp, [512, 384], H, W).numpy()
    np.testing.assert_array_equal(scaled[0], np.float32([10.0, 15.0, 0.7]))
    np.testing.assert_array_equal(T.scale_keypoints(kp, [H, W], H, W).numpy(), kp.numpy())


# ----------------------------------------------------------------------------- parsing and parts

def _labels():
    return np.arange(20, dtype=np.uint8).reshape(4, 5)


def test_onehot_sums_to_one_and_checks_the_label_range():
    onehot = T.onehot_parsing(tf.constant(_labels())).numpy()
    assert onehot.shape == (4, 5, 20)
    np.testing.assert_array_equal(onehot.sum(-1), 1.0)
    np.testing.assert_array_equal(onehot.argmax(-1), _labels())
    bad = _labels().copy()
    bad[0, 0] = 23
    with pytest.raises(tf.errors.InvalidArgumentError, match="0-19"):
        T.onehot_parsing(tf.constant(bad))


def test_remove_cloth_channels_drops_labels_5_6_7():
    onehot = T.onehot_parsing(tf.constant(_labels()))
    parse17 = T.remove_cloth_channels(onehot).numpy()
    assert parse17.shape == (4, 5, 17)
    kept = [i for i in range(20) if i not in (5, 6, 7)]
    np.testing.assert_array_equal(parse17, onehot.numpy()[..., kept])
    labels = _labels().reshape(-1)
    np.testing.assert_array_equal(parse17.reshape(-1, 17).sum(-1), [0 if v in (5, 6, 7) else 1 for v in labels])


def test_part_mask_sums_any_labels_by_runs():
    # Runs of consecutive labels in any order (13, 1, 2, 4 -> [1, 3), [4, 5), [13, 14)); no labels: zeros.
    rng = np.random.default_rng(0)
    soft = rng.random((2, 3, 4, 20)).astype(np.float32)
    got = T.part_mask(tf.constant(soft), (13, 1, 2, 4)).numpy()
    np.testing.assert_allclose(got, soft[..., [1, 2, 4, 13]].sum(-1, keepdims=True), rtol=1e-6)
    np.testing.assert_array_equal(T.part_mask(tf.constant(soft), ()).numpy(), np.zeros((2, 3, 4, 1)))


def test_part_images_follow_the_official_arithmetic():
    labels = np.array([[0, 1, 2, 4], [13, 5, 6, 7]], np.uint8)
    parse = T.onehot_parsing(tf.constant(labels))
    image = tf.fill([2, 4, 3], 0.25)
    np.testing.assert_array_equal(T.part_mask(parse, T.FACE_LABELS).numpy()[..., 0], [[0, 1, 1, 1], [1, 0, 0, 0]])
    np.testing.assert_array_equal(T.part_mask(parse, T.CLOTH_LABELS).numpy()[..., 0], [[0, 0, 0, 0], [0, 1, 1, 1]])
    np.testing.assert_array_equal(T.head_image(image, parse).numpy()[..., 0], [[-1, .25, .25, .25], [.25, -1, -1, -1]])
    np.testing.assert_array_equal(T.cloth_part_image(image, parse).numpy()[..., 0], [[1, 1, 1, 1], [1, .25, .25, .25]])
    np.testing.assert_array_equal(T.image_without_cloth(image, parse).numpy()[..., 0], [[.25] * 4, [.25, 0, 0, 0]])
    assert T.CLOTH_LABELS == (5, 6, 7) and T.FACE_LABELS == (1, 2, 4, 13)


def test_cloth_mask_counts_only_255():
    mask = np.array([[[0], [254], [255]]], np.uint8)
    np.testing.assert_array_equal(T.mask_from_png(tf.constant(mask)).numpy()[..., 0], [[0, 0, 1]])


def test_normalize_matches_torchvision_bit_for_bit():
    values = np.arange(256, dtype=np.uint8)
    ours = T.normalize_image(tf.constant(values)).numpy()
    assert ours[0] == -1.0 and ours[255] == 1.0
    torch = torch_or_skip()
    # torchvision ToTensor: float().div(255); Normalize(0.5, 0.5): sub_(0.5).div_(0.5).
    ref = torch.from_numpy(values).float().div(255).sub(0.5).div(0.5).numpy()
    np.testing.assert_array_equal(ours, ref)


# ----------------------------------------------------------------------------- PIL exactness

def _pil_resize(a, h, w):
    return np.asarray(Image.fromarray(a.astype(np.uint8)).resize((w, h), Image.BILINEAR))


@pytest.mark.parametrize("in_hw, out_hw", [((256, 192), (16, 12)), ((16, 12), (256, 192)), ((40, 30), (40, 7)),
                                           ((40, 30), (9, 30)), ((33, 21), (11, 7)), ((13, 9), (39, 27))])
def test_pil_bilinear_resize_is_bit_exact(in_hw, out_hw):
    image = np.random.default_rng(0).integers(0, 256, in_hw, dtype=np.uint8)
    ours = T.pil_bilinear_resize(tf.constant(image), *out_hw).numpy()
    np.testing.assert_array_equal(ours, _pil_resize(image, *out_hw))


def _official_shape(labels, down=16):
    h, w = labels.shape
    grey = Image.fromarray(((labels > 0) * 255).astype(np.uint8))
    return np.asarray(grey.resize((w // down, h // down), Image.BILINEAR).resize((w, h), Image.BILINEAR))


@pytest.mark.parametrize("hw", [(256, 192), (128, 96), (512, 384)])
def test_body_shape_matches_pil_on_random_masks(hw):
    rng = np.random.default_rng(hw[0])
    blocks = rng.random((hw[0] // 8, hw[1] // 8)) > 0.5
    labels = (np.kron(blocks, np.ones((8, 8))) * 5).astype(np.uint8)
    ours = T.body_shape(tf.constant(labels)).numpy()
    assert ours.shape == hw + (1,)
    np.testing.assert_array_equal(ours[..., 0], T.normalize_image(tf.constant(_official_shape(labels))).numpy())


def test_body_shape_and_decode_match_pil_on_the_real_samples(mpv_root):
    for path in sorted((mpv_root / "parse_cihp").glob("*.png")):
        if path.stem.endswith("_vis"):
            continue
        labels = np.asarray(Image.open(path))
        ours = T.body_shape(T.decode_labels(tf.io.read_file(str(path)))).numpy()[..., 0]
        expected = T.normalize_image(tf.constant(_official_shape(labels))).numpy()
        np.testing.assert_array_equal(ours, expected, err_msg=str(path))
    jpegs = sorted((mpv_root / "images").glob("*.jpg")) + sorted((mpv_root / "cloth_image").glob("*.jpg"))
    assert len(jpegs) == 10
    for path in jpegs:
        ours = T.decode_image(tf.io.read_file(str(path))).numpy()
        np.testing.assert_array_equal(ours, np.asarray(Image.open(path)), err_msg=str(path))


# ----------------------------------------------------------------------------- eager == tf.data == batched

def _raw(seed=0, h=H, w=W, target=True):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 20, (h // 8, w // 8), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    kp = np.concatenate([rng.uniform(0, w, (18, 1)), rng.uniform(0, h, (18, 1)), rng.uniform(0, 1, (18, 1))], 1)
    kp[5] = 0
    raw = {"person_image": rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "person_parsing": labels,
           "source_pose_keypoints": kp.astype(np.float32), "target_pose_keypoints": kp[::-1].astype(np.float32).copy(),
           "cloth_image": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
           "cloth_mask": (rng.random((h, w, 1)) > 0.5).astype(np.uint8) * 255}
    if target:
        raw["target_image"] = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        raw["target_parsing"] = labels[::-1].copy()
    return raw


_RAW = _raw(1, 64, 48)
_ONEHOT = T.onehot_parsing(tf.constant(_RAW["person_parsing"])).numpy()
_IMAGE = T.normalize_image(tf.constant(_RAW["person_image"])).numpy()
TRANSFORMS = {
    "decode_image": (T.decode_image, tf.io.encode_jpeg(_RAW["person_image"]).numpy()),
    "decode_labels": (T.decode_labels, tf.io.encode_png(_RAW["person_parsing"][..., None]).numpy()),
    "normalize_image": (T.normalize_image, _RAW["person_image"]),
    "onehot_parsing": (T.onehot_parsing, _RAW["person_parsing"]),
    "mask_from_png": (T.mask_from_png, _RAW["cloth_mask"]),
    "pose_heatmaps": (lambda k: T.pose_heatmaps(k, 64, 48, 6), _RAW["source_pose_keypoints"]),
    "body_shape": (T.body_shape, _RAW["person_parsing"]),
    "part_mask": (lambda p: T.part_mask(p, T.CLOTH_LABELS), _ONEHOT),
    "head_image": (lambda p: T.head_image(tf.constant(_IMAGE), p), _ONEHOT),
    "cloth_part_image": (lambda p: T.cloth_part_image(tf.constant(_IMAGE), p), _ONEHOT),
    "image_without_cloth": (lambda p: T.image_without_cloth(tf.constant(_IMAGE), p), _ONEHOT),
    "remove_cloth_channels": (T.remove_cloth_channels, _ONEHOT),
    "fit_image": (lambda x: T.fit_image(x, 32, 24), _RAW["person_image"]),
    "fit_labels": (lambda x: T.fit_labels(x, 32, 24), _RAW["person_parsing"]),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_is_the_same_eagerly_and_in_tf_data(name):
    fn, value = TRANSFORMS[name]
    eager = fn(tf.constant(value)).numpy()
    mapped = next(iter(tf.data.Dataset.from_tensors(value).map(fn))).numpy()
    np.testing.assert_array_equal(eager, mapped)


def test_preprocess_eager_tf_data_and_batched_agree():
    raws = [_raw(s, 64, 48) for s in (2, 3)]
    fn = lambda r: T.preprocess(r, 64, 48)  # noqa: E731
    eager = [{k: v.numpy() for k, v in fn(r).items()} for r in raws]
    assert set(eager[0]) == {"source_image", "source_parse", "source_shape", "source_head", "source_pose",
                             "target_pose", "cloth_image", "cloth_mask", "target_image", "target_parse",
                             "target_cloth", "target_cloth_mask"}
    stacked = {k: np.stack([r[k] for r in raws]) for k in raws[0]}
    mapped = list(tf.data.Dataset.from_tensor_slices(stacked).map(fn))
    batched = fn({k: tf.constant(v) for k, v in stacked.items()})
    for i in range(2):
        for key in eager[i]:
            np.testing.assert_array_equal(mapped[i][key].numpy(), eager[i][key], err_msg=key)
            np.testing.assert_array_equal(batched[key].numpy()[i], eager[i][key], err_msg=key)


def test_preprocess_in_a_serving_graph_resizes_other_sizes():
    spec = {"person_image": tf.TensorSpec([None, None, None, 3], tf.uint8),
            "person_parsing": tf.TensorSpec([None, None, None], tf.uint8),
            "source_pose_keypoints": tf.TensorSpec([None, 18, 3], tf.float32),
            "target_pose_keypoints": tf.TensorSpec([None, 18, 3], tf.float32),
            "cloth_image": tf.TensorSpec([None, None, None, 3], tf.uint8),
            "cloth_mask": tf.TensorSpec([None, None, None, 1], tf.uint8)}
    serve = tf.function(lambda raw: T.preprocess(raw, 64, 48), input_signature=[spec])
    small = {k: v[None] for k, v in _raw(4, 64, 48, target=False).items()}
    # A vertical gradient, so a 2x bilinear downsample of its 2x enlargement gives it back.
    small["person_image"] = np.broadcast_to((np.arange(64) * 4).astype(np.uint8)[None, :, None, None],
                                            (1, 64, 48, 3)).copy()
    static = serve.get_concrete_function().structured_outputs
    assert static["source_shape"].shape.as_list() == [None, 64, 48, 1]
    assert static["target_pose"].shape.as_list() == [None, 64, 48, 18]
    out = serve(small)
    eager = T.preprocess({k: tf.constant(v) for k, v in small.items()}, 64, 48)
    for key in out:
        np.testing.assert_array_equal(out[key].numpy(), eager[key].numpy(), err_msg=key)
    # Twice the size: images resized, parsing nearest, keypoints halved.
    big = dict(small)
    for key in ("person_image", "cloth_image", "cloth_mask"):
        big[key] = np.repeat(np.repeat(small[key], 2, axis=1), 2, axis=2)
    big["person_parsing"] = np.repeat(np.repeat(small["person_parsing"], 2, axis=1), 2, axis=2)
    big["source_pose_keypoints"] = small["source_pose_keypoints"] * np.float32([2, 2, 1])
    big["target_pose_keypoints"] = small["target_pose_keypoints"] * np.float32([2, 2, 1])
    resized = serve(big)
    for key in ("source_parse", "source_pose", "target_pose", "cloth_mask", "source_shape"):
        np.testing.assert_array_equal(resized[key].numpy(), out[key].numpy(), err_msg=key)
    assert_close(resized["source_image"].numpy(), out["source_image"].numpy(), atol=1.01 / 127.5, what="image")
