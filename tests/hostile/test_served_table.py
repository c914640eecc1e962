"""Hostile requests to both served signatures of one exported smoke SavedModel (loaded once).

Every row builds a request from synthetic raw inputs, spoils one field and
asserts the signature raises (never a result) with a message naming the field.
The tests after the table check what must be accepted (a 0/1 mask, bytes after a
JPEG's end) and that the CLI's reader refuses the same cut files.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.export.export_helpers import SERVING_KEYS, raw_inputs, smoke_export
from tfvton.export.warmup import encode_raw_inputs
from tfvton.data.raw_io import MAX_IMAGE_BYTES
from tests.hostile.conftest import encode, png_declaring

ERRORS = (tf.errors.InvalidArgumentError, ValueError, TypeError)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return smoke_export(str(tmp_path_factory.getbasetemp()))



def _one(data: bytes):
    return np.array([data], dtype=object)


def _cut_jpeg(raw):
    data = encode(raw["person_image"][0], "JPEG")
    return _one(data[:len(data) // 2])


def _cut_png(image, keep=0.8):
    data = encode(image, "PNG")
    return _one(data[:int(len(data) * keep)])


def jpeg_with_thumbnail(image, thumbnail) -> bytes:
    """A JPEG of `image` with an EXIF-style APP1 segment holding a complete JPEG of `thumbnail` (with its FFD9)."""
    main, thumb = encode(image, "JPEG"), encode(thumbnail, "JPEG")
    payload = b"Exif\x00\x00" + thumb
    return main[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + main[2:]


def _cut_after_thumbnail(raw):
    # The thumbnail's end-of-image marker must not pass for the main image's.
    data = jpeg_with_thumbnail(raw["person_image"][0], np.ascontiguousarray(raw["person_image"][0, ::4, ::4]))
    return _one(data[:len(data) - (len(data) - 200) // 2])


def _mask_with_share(raw, pixels, value=255):
    mask = np.zeros_like(raw["cloth_mask"])
    mask[0, :1, :pixels] = value
    return mask


def _sof_declaring(raw, height, width):
    jpeg = bytearray(encode(raw["cloth_image"][0], "JPEG"))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return _one(bytes(jpeg))


def _keypoints(raw, value, joint=4):
    keypoints = raw["target_pose_keypoints"].copy()
    keypoints[0, joint, 0] = value
    return keypoints


# (id, signature, field, spoil(raw, request) -> {field: new value}, marks)
CASES = [
    ("arrays_labels_25", "serving_default", "person_parsing",
     lambda r, q: {"person_parsing": np.full_like(r["person_parsing"], 25)}, ()),
    ("arrays_labels_255", "serving_default", "person_parsing",
     lambda r, q: {"person_parsing": np.full_like(r["person_parsing"], 255)}, ()),
    ("arrays_keypoints_nan", "serving_default", "target_pose_keypoints",
     lambda r, q: {"target_pose_keypoints": _keypoints(r, np.nan)}, ()),
    ("arrays_keypoints_inf", "serving_default", "target_pose_keypoints",
     lambda r, q: {"target_pose_keypoints": _keypoints(r, np.inf)}, ()),
    ("arrays_keypoints_17", "serving_default", "target_pose_keypoints",
     lambda r, q: {"target_pose_keypoints": r["target_pose_keypoints"][:, :17]}, ()),
    ("arrays_keypoints_2_columns", "serving_default", "target_pose_keypoints",
     lambda r, q: {"target_pose_keypoints": r["target_pose_keypoints"][..., :2]}, ()),
    ("arrays_person_4_channels", "serving_default", "person_image",
     lambda r, q: {"person_image": np.concatenate([r["person_image"]] * 2, axis=-1)[..., :4]}, ()),
    ("arrays_cloth_grey", "serving_default", "cloth_image",
     lambda r, q: {"cloth_image": r["cloth_image"][..., :1]}, ()),
    ("arrays_batch_mismatch", "serving_default", "cloth_image",
     lambda r, q: {"cloth_image": np.concatenate([r["cloth_image"]] * 2)}, ()),
    # TF's signature wrapper checks dtypes before the graph runs; its message gives the
    # argument position and the expected dtype, not the name.
    ("arrays_person_float", "serving_default", "uint8",
     lambda r, q: {"person_image": r["person_image"].astype(np.float32)}, ()),
    ("arrays_person_no_batch", "serving_default", "person_image",
     lambda r, q: {"person_image": r["person_image"][0]}, ()),
    ("arrays_person_rank_5", "serving_default", "person_image",
     lambda r, q: {"person_image": r["person_image"][None]}, ()),
    ("arrays_parsing_with_channel_axis", "serving_default", "person_parsing",
     lambda r, q: {"person_parsing": r["person_parsing"][..., None]}, ()),
    ("arrays_mask_without_channel_axis", "serving_default", "cloth_mask",
     lambda r, q: {"cloth_mask": r["cloth_mask"][..., 0]}, ()),
    ("arrays_keypoints_no_batch", "serving_default", "target_pose_keypoints",
     lambda r, q: {"target_pose_keypoints": r["target_pose_keypoints"][0]}, ()),
    ("arrays_parsing_other_size", "serving_default", "person_parsing",
     lambda r, q: {"person_parsing": r["person_parsing"][:, :32, :32]}, ()),
    ("arrays_person_1x1", "serving_default", "person_image",
     lambda r, q: {"person_image": r["person_image"][:, :1, :1], "person_parsing": r["person_parsing"][:, :1, :1]},
     ()),
    ("arrays_batch_0", "serving_default", "person_image",
     lambda r, q: {key: value[:0] for key, value in r.items()}, ()),
    # The CLI reader's mask rule (docs/inputs.md): under 1 % garment (>= 128, or 1 in a 0/1 mask) is refused.
    ("arrays_mask_empty", "serving_default", "cloth_mask",
     lambda r, q: {"cloth_mask": np.zeros_like(r["cloth_mask"])}, ()),
    ("arrays_mask_almost_empty", "serving_default", "cloth_mask",
     lambda r, q: {"cloth_mask": _mask_with_share(r, 40)}, ()),  # 40 of 4096 pixels
    ("arrays_mask_below_threshold", "serving_default", "cloth_mask",
     lambda r, q: {"cloth_mask": (r["cloth_mask"] > 0).astype(np.uint8) * 127}, ()),
    ("arrays_mask_0_1_almost_empty", "serving_default", "cloth_mask",
     lambda r, q: {"cloth_mask": _mask_with_share(r, 40, value=1)}, ()),
    ("bytes_not_an_image", "predict_bytes", "person_image",
     lambda r, q: {"person_image": _one(b"GIF89a" + b"\x00" * 64)}, ()),
    ("bytes_empty", "predict_bytes", "person_image", lambda r, q: {"person_image": _one(b"")}, ()),
    ("bytes_text", "predict_bytes", "cloth_image", lambda r, q: {"cloth_image": _one(b"hello world" * 10)}, ()),
    ("bytes_jpeg_cut_after_header", "predict_bytes", "person_image",
     lambda r, q: {"person_image": _cut_jpeg(r)}, ()),
    ("bytes_jpeg_without_end_marker", "predict_bytes", "cloth_image",
     lambda r, q: {"cloth_image": _one(encode(r["cloth_image"][0], "JPEG")[:-2])}, ()),
    ("bytes_jpeg_cut_after_thumbnail", "predict_bytes", "person_image",
     lambda r, q: {"person_image": _cut_after_thumbnail(r)}, ()),
    ("bytes_png_photo_cut", "predict_bytes", "person_image",
     lambda r, q: {"person_image": _cut_png(r["person_image"][0])}, ()),
    ("bytes_parsing_cut", "predict_bytes", "person_parsing",
     lambda r, q: {"person_parsing": _cut_png(r["person_parsing"][0], keep=0.9)}, ()),
    ("bytes_mask_empty", "predict_bytes", "cloth_mask",
     lambda r, q: {"cloth_mask": _one(encode(np.zeros((64, 64), np.uint8), "PNG"))}, ()),
    ("bytes_png_declaring_20000", "predict_bytes", "person_image",
     lambda r, q: {"person_image": _one(png_declaring(20000, 20000))}, ()),
    ("bytes_jpeg_declaring_20000", "predict_bytes", "cloth_image",
     lambda r, q: {"cloth_image": _sof_declaring(r, 20000, 20000)}, ()),
    ("bytes_too_many", "predict_bytes", "person_image",
     lambda r, q: {"person_image": _one(b"\xff\xd8\xff" + b"\x00" * MAX_IMAGE_BYTES)}, ()),
    ("bytes_parsing_palette", "predict_bytes", "person_parsing",
     lambda r, q: {"person_parsing": _one(encode(Image.fromarray(r["person_parsing"][0]).convert("P"), "PNG"))}, ()),
    ("bytes_parsing_label_25", "predict_bytes", "person_parsing",
     lambda r, q: {"person_parsing": _one(encode(np.full((64, 64), 25, np.uint8), "PNG"))}, ()),
    ("bytes_mask_jpeg", "predict_bytes", "cloth_mask",
     lambda r, q: {"cloth_mask": _one(encode(r["cloth_mask"][0, ..., 0], "JPEG"))}, ()),
    ("bytes_keypoints_nan", "predict_bytes", "target_pose_keypoints",
     lambda r, q: {"target_pose_keypoints": _keypoints(r, np.nan)}, ()),
    ("bytes_batch_mismatch", "predict_bytes", "cloth_image",
     lambda r, q: {"cloth_image": np.concatenate([q["cloth_image"]] * 2)}, ()),
    ("bytes_parsing_other_size", "predict_bytes", "person_parsing",
     lambda r, q: {"person_parsing": _one(encode(np.zeros((32, 32), np.uint8), "PNG"))}, ()),
]


@pytest.mark.parametrize("case_id, signature, field, spoil",
                         [pytest.param(*case[:4], id=case[0], marks=case[4]) for case in CASES])
def test_hostile_request(exported, case_id, signature, field, spoil):
    raw = raw_inputs(batch=1, seed=11)
    request = dict(raw) if signature == "serving_default" else encode_raw_inputs(raw)
    request.update(spoil(raw, request))
    function = exported.signature(signature)
    with pytest.raises(ERRORS) as error:
        function(**{key: tf.constant(request[key]) for key in SERVING_KEYS})
    assert field in str(error.value), str(error.value)[:500]


def test_unspoilt_requests_succeed(exported):
    # The table's base requests are valid: each row fails because of its one change.
    raw = raw_inputs(batch=1, seed=11)
    for signature, request in (("serving_default", raw), ("predict_bytes", encode_raw_inputs(raw))):
        outputs = exported.signature(signature)(**{key: tf.constant(request[key]) for key in SERVING_KEYS})
        assert outputs["tryon_image"].shape == (1, 64, 64, 3)


def _call(exported, signature, request):
    return {key: value.numpy() for key, value in exported.signature(signature)(
        **{key: tf.constant(request[key]) for key in SERVING_KEYS}).items()}


def test_a_0_1_mask_reads_as_0_255_as_in_the_cli(exported):
    # raw_io.binarize_mask: in a mask whose maximum is 1, the 1s are garment; both signatures agree.
    raw = raw_inputs(batch=1, seed=11)
    assert set(np.unique(raw["cloth_mask"])) == {0, 255}
    zero_one = dict(raw, cloth_mask=(raw["cloth_mask"] == 255).astype(np.uint8))
    expected = _call(exported, "serving_default", raw)["tryon_image"]
    assert np.array_equal(_call(exported, "serving_default", zero_one)["tryon_image"], expected)
    as_bytes = _call(exported, "predict_bytes", encode_raw_inputs(raw))["tryon_image"]  # JPEG photos: lossy
    assert np.array_equal(_call(exported, "predict_bytes", encode_raw_inputs(zero_one))["tryon_image"], as_bytes)
    from tfvton.data.raw_io import read_mask

    assert np.array_equal(read_mask(zero_one["cloth_mask"][0]), raw["cloth_mask"][0])


def test_bytes_after_the_jpeg_end_and_thumbnails_are_accepted(exported, tmp_path):
    # A phone's "motion photo" appends data after the EOI; PIL reads it, so the served graph does too.
    raw = raw_inputs(batch=1, seed=11)
    request = encode_raw_inputs(raw)
    expected = _call(exported, "predict_bytes", dict(request, person_image=_one(encode(raw["person_image"][0],
                                                                                        "JPEG"))))["tryon_image"]
    for data in (encode(raw["person_image"][0], "JPEG") + b"ftypmp42" + bytes(range(256)) * 4,
                 jpeg_with_thumbnail(raw["person_image"][0], np.ascontiguousarray(raw["person_image"][0, ::4, ::4]))):
        got = _call(exported, "predict_bytes", dict(request, person_image=_one(data)))["tryon_image"]
        assert np.array_equal(got, expected)
        path = tmp_path / "photo.jpg"
        path.write_bytes(data)
        from tfvton.data.raw_io import read_photo

        assert read_photo(path).shape == (64, 64, 3)


@pytest.mark.parametrize("cut", ["half", "no_end_marker", "png"])
def test_the_cli_reader_refuses_the_cut_files_the_graph_refuses(tmp_path, monkeypatch, cut):
    """The same bytes, refused by `raw_io` (PIL, truncated loading off even if a library turned it on)."""
    from PIL import ImageFile

    from tfvton.data.raw_io import DataError, read_photo

    raw = raw_inputs(batch=1, seed=11)
    data = {"half": _cut_jpeg(raw)[0], "no_end_marker": encode(raw["person_image"][0], "JPEG")[:-2],
            "png": _cut_png(raw["person_image"][0])[0]}[cut]
    path = tmp_path / ("p.png" if cut == "png" else "p.jpg")
    path.write_bytes(data)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(DataError, match="truncated") as error:
        read_photo(path)
    assert str(path) in str(error.value) and "docs/inputs.md" in str(error.value)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the switch is put back
