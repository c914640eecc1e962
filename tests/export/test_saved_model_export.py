"""SavedModel export: layout, both signatures against the in-process pipeline, byte-input
safety checks, in-graph validation messages and the TF-Serving warm-up file."""
from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.export.export_helpers import SERVING_KEYS, raw_inputs, smoke_export
from tests.testing import assert_close
from tfvton.export import input_checks, saved_model, warmup

FLOAT_OUTPUTS = ("warped_cloth", "coarse", "composition_mask", "tryon", "final")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return smoke_export(str(tmp_path_factory.getbasetemp()))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_declaring(width: int, height: int, colour: int = 2) -> bytes:
    """A 100-byte PNG whose IHDR declares width x height (decoding it would need width*height*3 bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _encode(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _bytes_request(raw, photo_format="PNG"):
    """predict_bytes inputs for raw arrays: photos in `photo_format`, label map and mask as PNG (mode L)."""
    return {
        "person_image": np.array([_encode(x, photo_format) for x in raw["person_image"]], dtype=object),
        "cloth_image": np.array([_encode(x, photo_format) for x in raw["cloth_image"]], dtype=object),
        "cloth_mask": np.array([_encode(x[..., 0], "PNG") for x in raw["cloth_mask"]], dtype=object),
        "person_parsing": np.array([_encode(x, "PNG") for x in raw["person_parsing"]], dtype=object),
        "target_pose_keypoints": raw["target_pose_keypoints"],
    }


def test_layout_signatures_and_atomic_write(exported):
    model_dir = os.path.dirname(exported.version_dir)
    assert os.path.basename(exported.version_dir) == "3"
    assert os.listdir(model_dir) == ["3"], "the staging directory must be renamed away, nothing else left"
    for path in ("saved_model.pb", "variables", saved_model.CONFIG_ASSET, warmup.WARMUP_RELATIVE_PATH):
        assert os.path.exists(os.path.join(exported.version_dir, path)), path
    assert saved_model.load_exported_config(exported.version_dir) == exported.config

    signatures = exported.loaded.signatures
    assert set(signatures) == {"serving_default", "predict_bytes"}
    specs = signatures["serving_default"].structured_input_signature[1]
    assert {k: v.dtype.name for k, v in specs.items()} == {
        "person_image": "uint8", "cloth_image": "uint8", "cloth_mask": "uint8", "person_parsing": "uint8",
        "target_pose_keypoints": "float32"}
    assert all(v.shape[0] is None for v in specs.values()), "the batch size must be dynamic"
    specs = signatures["predict_bytes"].structured_input_signature[1]
    assert {k: v.dtype.name for k, v in specs.items()} == {
        "person_image": "string", "cloth_image": "string", "cloth_mask": "string", "person_parsing": "string",
        "target_pose_keypoints": "float32"}
    assert set(signatures["serving_default"].structured_outputs) == {"tryon_image", "parsing_labels",
                                                                     *FLOAT_OUTPUTS}

    with pytest.raises(FileExistsError, match="version 3"):
        saved_model.export_saved_model(exported.pipeline, exported.config, os.path.dirname(model_dir), "tfvton", 3)


@pytest.mark.parametrize("batch", [1, 3])
def test_serving_default_equals_in_process_pipeline(exported, batch):
    raw = raw_inputs(batch=batch, seed=batch)
    got = exported.call(raw)
    want = exported.reference(raw)
    for key in FLOAT_OUTPUTS:
        assert_close(got[key], want[key], atol=1e-5, what=key)
    assert got["tryon_image"].dtype == np.uint8 and got["tryon_image"].shape == (batch, 64, 64, 3)
    assert np.max(np.abs(got["tryon_image"].astype(int) - want["tryon_image"])) <= 1
    # Parsing labels: equal wherever the top two probabilities are not a float-rounding tie.
    top2 = np.sort(want["parsing"], axis=-1)[..., -2:]
    clear = (top2[..., 1] - top2[..., 0]) > 1e-5
    assert np.array_equal(got["parsing_labels"][clear], want["parsing_labels"][clear])


def test_predict_bytes_equals_serving_default(exported):
    raw = raw_inputs(batch=2, seed=11)
    arrays = exported.call(raw)
    # Lossless PNG photos: identical pixels, identical outputs.
    png = exported.call(_bytes_request(raw, "PNG"), "predict_bytes")
    for key in ("tryon_image", "parsing_labels", "final"):
        assert_close(png[key], arrays[key], atol=1e-6, what=key)
    # JPEG photos: the graph must see exactly the pixels PIL decodes.
    request = _bytes_request(raw, "JPEG")
    pil = dict(raw)
    for key in ("person_image", "cloth_image"):
        pil[key] = np.stack([np.asarray(Image.open(io.BytesIO(data))) for data in request[key]])
    jpeg = exported.call(request, "predict_bytes")
    for key in ("tryon_image", "final"):
        assert_close(jpeg[key], exported.call(pil)[key], atol=1e-6, what=key)


def test_bytes_decoding_is_pil_exact(mpv_root):
    files = sorted((mpv_root / "images").glob("*.jpg")) + sorted((mpv_root / "cloth_image").glob("*.jpg"))
    labels = [p for p in sorted((mpv_root / "parse_cihp").glob("*.png")) if not p.name.endswith("_vis.png")]
    masks = sorted((mpv_root / "cloth_mask").glob("*.png"))
    for kind, paths in (("photo", files), ("labels", labels), ("mask", masks)):
        for path in paths:
            data = path.read_bytes()
            image, size = input_checks.decode_checked(tf.constant(data), "x", kind, 1 << 22, 1 << 22)
            expected = np.asarray(Image.open(path))
            if kind == "mask":
                expected = expected[..., None]
            assert np.array_equal(image.numpy(), expected), f"{path.name}: TF decode differs from PIL"
            assert tuple(size.numpy()) == expected.shape[:2]


def test_declared_size_and_byte_length_checked_before_decoding(exported):
    raw = raw_inputs(batch=1, seed=3)
    signature = exported.signature("predict_bytes")

    def call(**replace):
        request = {**_bytes_request(raw), **replace}
        return signature(**{key: tf.constant(request[key]) for key in SERVING_KEYS})

    bomb = _png_declaring(20000, 20000)
    assert len(bomb) < 200
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"person_image: declared image size.*20000 20000"):
        call(person_image=np.array([bomb], dtype=object))

    jpeg = bytearray(_encode(raw["cloth_image"][0], "JPEG"))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 20000, 20000)  # SOF0 height, width
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"cloth_image: declared image size"):
        call(cloth_image=np.array([bytes(jpeg)], dtype=object))

    huge = b"\xff\xd8\xff" + b"\x00" * saved_model.DEFAULT_MAX_IMAGE_BYTES
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"person_image: encoded image too large"):
        call(person_image=np.array([huge], dtype=object))

    with pytest.raises(tf.errors.InvalidArgumentError, match=r"person_image: not a JPEG or PNG"):
        call(person_image=np.array([b"GIF89a" + b"\x00" * 64], dtype=object))
    palette = Image.fromarray(raw["person_parsing"][0]).convert("P")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"person_parsing: PNG must be 8-bit greyscale"):
        call(person_parsing=np.array([_encode(palette, "PNG")], dtype=object))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"cloth_mask: must be a PNG"):
        call(cloth_mask=np.array([_encode(raw["cloth_mask"][0, ..., 0], "JPEG")], dtype=object))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"person_image: declared image size .* at least 16x16"):
        call(person_image=np.array([_encode(np.zeros((1, 1, 3), np.uint8), "PNG")], dtype=object))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"person_parsing must have the height and width of person_image"):
        call(person_parsing=np.array([_encode(raw["person_parsing"][0, :, :48], "PNG")], dtype=object))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"batch size must be at least 1"):
        signature(**{key: tf.constant(value[:0]) for key, value in _bytes_request(raw).items()})


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(person_parsing=np.full_like(r["person_parsing"], 25)),
     r"person_parsing: CIHP label ids must be within 0-19"),
    (lambda r: r.update(target_pose_keypoints=r["target_pose_keypoints"][:, :17]),
     r"target_pose_keypoints must have shape \[batch, 18, 3\]"),
    (lambda r: r["target_pose_keypoints"].__setitem__((0, 4, 0), np.nan),
     r"target_pose_keypoints must be finite"),
    (lambda r: r.update(person_image=np.concatenate([r["person_image"]] * 2, axis=-1)[..., :4]),
     r"person_image must have shape \[batch, height, width, 3\]"),
    (lambda r: r.update(cloth_image=np.concatenate([r["cloth_image"]] * 2)),
     r"cloth_image: batch size differs from that of person_image"),
    (lambda r: r.update(person_parsing=r["person_parsing"][:, :, :48]),
     r"person_parsing must have the height and width of person_image"),
    (lambda r: r.update({key: value[:, :8, :8] for key, value in r.items() if key != "target_pose_keypoints"}),
     r"height and width must be at least 16"),
    (lambda r: r.update({key: value[:0] for key, value in r.items()}), r"batch size must be at least 1"),
    (lambda r: r["target_pose_keypoints"].__setitem__((0, 4, 0), 1e6), r"x and y must be within \+-65536 pixels"),
], ids=["labels", "keypoint_count", "nan", "channels", "batch", "parsing_size", "tiny", "empty_batch",
        "far_keypoint"])
def test_invalid_inputs_rejected_with_clear_message(exported, change, message):
    raw = raw_inputs(batch=1, seed=5)
    change(raw)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        exported.call(raw)


def test_warmup_requests_parse_and_run(exported):
    logs = warmup.read_warmup_file(os.path.join(exported.version_dir, warmup.WARMUP_RELATIVE_PATH))
    assert [log.predict_log.request.model_spec.signature_name for log in logs] == ["serving_default",
                                                                                  "predict_bytes"]
    for log in logs:
        request = log.predict_log.request
        assert request.model_spec.name == "tfvton"
        inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        assert set(inputs) == set(SERVING_KEYS)
        outputs = exported.call(inputs, request.model_spec.signature_name)  # what TF-Serving replays
        assert outputs["tryon_image"].shape == (1, 64, 64, 3)
    # Real-looking: a person with face, upper clothes and arms, and a garment mask of plausible size.
    arrays = {key: tf.make_ndarray(proto) for key, proto in logs[0].predict_log.request.inputs.items()}
    assert {5, 13, 14, 15} <= set(np.unique(arrays["person_parsing"]))
    assert 0.1 < np.mean(arrays["cloth_mask"] == 255) < 0.8
    assert np.count_nonzero(arrays["target_pose_keypoints"][0, :, 2]) >= 12


@pytest.mark.slow
def test_real_samples_at_paper_geometry(mpv_root, tmp_path):
    """The five MPV demo triplets, from their files, at 256x192: both signatures equal the in-process pipeline."""
    import keras

    from tests.export.export_helpers import Exported, make_parsing_decisive
    from tfvton.config import load_config
    from tfvton.networks.factory import build_pipeline
    from tfvton.serving.inputs import build_request

    keras.utils.set_random_seed(1)
    config = load_config("smoke", ["data.height=256", "data.width=192", "data.pose_radius=6"])
    pipeline = make_parsing_decisive(build_pipeline(config))
    exported = Exported(saved_model.export_saved_model(pipeline, config, str(tmp_path), "tfvton", 1), config,
                        pipeline)
    for line in (mpv_root / "demo.txt").read_text().splitlines():
        person, pose, cloth, _ = line.split("\t")
        stem, cloth_stem = person.rsplit(".", 1)[0], cloth.rsplit(".", 1)[0]
        files = [str(p) for p in (mpv_root / "images" / person, mpv_root / "parse_cihp" / f"{stem}.png",
                                  mpv_root / "pose_coco" / pose, mpv_root / "cloth_image" / cloth,
                                  mpv_root / "cloth_mask" / f"{cloth_stem}_mask.png")]
        arrays = build_request(*files, signature_name="serving_default")
        want = exported.reference(arrays)
        for signature in ("serving_default", "predict_bytes"):
            got = exported.call(build_request(*files, signature_name=signature), signature)
            assert np.max(np.abs(got["tryon_image"].astype(int) - want["tryon_image"])) <= 1, (line, signature)
            assert np.mean(got["tryon_image"] == want["tryon_image"]) > 0.999
