"""The served graph's input checks: in-graph asserts and the checked decoding of encoded images.

The rules and numbers are the input contract of docs/inputs.md, shared with the CLI's reader
(`tfvton.data.raw_io`); `tfvton.export.saved_model` documents the messages a client sees.
"""
from __future__ import annotations

from typing import Dict

import tensorflow as tf

from tfvton.data import transforms
from tfvton.data.labels import NUM_KEYPOINTS
from tfvton.data.raw_io import MAX_KEYPOINT_COORD, MIN_IMAGE_SIDE

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
_PNG_HEADER_BYTES = 33  # signature 8 + IHDR length 4 + type 4 + data 13 + CRC 4
_PNG_GREY = 0  # IHDR colour type of single-channel greyscale


def assert_that(condition, *message):
    """`tf.debugging.Assert` whose failure reads as one sentence plus the offending values."""
    return tf.debugging.Assert(condition, list(message), summarize=8)


def tail_equals(tensor, expected):
    """True when the shape after the batch axis equals `expected` (None = any size)."""
    shape = tf.shape(tensor, out_type=tf.int64)[1:]
    checks = [tf.equal(shape[i], size) for i, size in enumerate(expected) if size is not None]
    return tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)


def png_header(data):
    """Width, height, bit depth and colour type a PNG's IHDR declares, read from the bytes.

    Args:
        data: scalar string tensor.

    Returns:
        int64 scalars (width, height, bit_depth, colour_type) and a bool scalar
        that is true when `data` starts with a PNG signature and an IHDR chunk.
        Padding first makes every slice valid whatever the input length.
    """
    padded = tf.strings.substr(tf.strings.join([data, tf.constant(b"\x00" * _PNG_HEADER_BYTES)]),
                               0, _PNG_HEADER_BYTES)
    header = tf.cast(tf.io.decode_raw(padded, tf.uint8), tf.int64)

    def big_endian(start):
        return (header[start] * 16777216 + header[start + 1] * 65536 + header[start + 2] * 256
                + header[start + 3])

    valid = tf.logical_and(
        tf.logical_and(tf.equal(tf.strings.substr(padded, 0, 8), _PNG_SIGNATURE),
                       tf.equal(tf.strings.substr(padded, 12, 4), b"IHDR")),
        tf.strings.length(data) >= _PNG_HEADER_BYTES)
    return big_endian(16), big_endian(20), header[24], header[25], valid


def decode_checked(data, name: str, kind: str, max_bytes: int, max_pixels: int):
    """Checks one encoded image's length, format and declared size, then decodes it.

    Args:
        data: scalar string tensor, the encoded image.
        name: input name, for the error messages.
        kind: `photo` (JPEG or 8-bit PNG -> (h, w, 3)), `labels` or `mask`
            (8-bit greyscale PNG -> (h, w) / (h, w, 1)). Label maps and masks must
            be lossless, and a palette PNG would decode to colours, not to the
            ids PIL returns.
        max_bytes: largest accepted encoded length.
        max_pixels: largest accepted declared height * width.

    Returns:
        (uint8 image as `tfvton.data.transforms` decodes it, int32 (2,) its height and width).
    """
    length = tf.strings.length(data)
    length_ok = assert_that(length <= max_bytes,
                             f"{name}: encoded image too large; at most {max_bytes} bytes accepted, got", length)
    with tf.control_dependencies([length_ok]):
        png_width, png_height, bit_depth, colour, is_png = png_header(data)
        is_jpeg = tf.equal(tf.strings.substr(data, 0, 3), _JPEG_SOI)
    if kind == "photo":
        checks = [
            assert_that(tf.logical_or(is_png, is_jpeg), f"{name}: not a JPEG or PNG image"),
            assert_that(tf.logical_or(is_jpeg, tf.logical_or(tf.equal(bit_depth, 8), tf.equal(bit_depth, 16))),
                         f"{name}: PNG bit depth must be 8 or 16 (16 is read as value >> 8), got", bit_depth),
        ]
    else:
        checks = [
            assert_that(is_png, f"{name}: must be a PNG (lossless); JPEG and other formats alter the values"),
            assert_that(tf.logical_and(tf.equal(bit_depth, 8), tf.equal(colour, _PNG_GREY)),
                         f"{name}: PNG must be 8-bit greyscale (PIL mode L, IHDR colour type 0); "
                         "got bit depth and colour type", bit_depth, colour),
        ]
    with tf.control_dependencies(checks):
        if kind == "photo":
            # Runs only on JPEG bytes: the cond keeps extract_jpeg_shape off PNGs.
            declared = tf.cond(is_jpeg, lambda: tf.cast(tf.io.extract_jpeg_shape(data)[:2], tf.int64),
                               lambda: tf.stack([png_height, png_width]))
        else:
            declared = tf.stack([png_height, png_width])
    size_ok = assert_that(
        tf.logical_and(tf.reduce_all(declared >= MIN_IMAGE_SIDE), declared[0] * declared[1] <= max_pixels),
        f"{name}: declared image size (height, width) must be at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} with "
        f"at most {max_pixels} pixels (docs/inputs.md); header declares", declared)
    with tf.control_dependencies([size_ok]):
        if kind == "photo":
            image = transforms.decode_image(data)
        elif kind == "labels":
            image = transforms.decode_labels(data)
        else:
            image = transforms.decode_mask(data)
    return image, tf.cast(declared, tf.int32)


def validate_arrays(inputs: Dict[str, tf.Tensor], max_image_pixels: int):
    """`serving_default`'s shape, batch, size and keypoint checks, as a list of assert ops.

    Label ids are checked by `transforms.preprocess`.

    Args:
        inputs: the signature's five tensors by name.
        max_image_pixels: largest accepted height * width of an image.
    """
    batch = tf.shape(inputs["person_image"], out_type=tf.int64)[0]
    expected = {"person_image": (None, None, 3), "cloth_image": (None, None, 3), "cloth_mask": (None, None, 1),
                "person_parsing": (None, None), "target_pose_keypoints": (NUM_KEYPOINTS, 3)}
    described = {"person_image": "[batch, height, width, 3]", "cloth_image": "[batch, height, width, 3]",
                 "cloth_mask": "[batch, height, width, 1] (0/255)", "person_parsing": "[batch, height, width]",
                 "target_pose_keypoints": f"[batch, {NUM_KEYPOINTS}, 3] (OpenPose COCO-18 joints x "
                                          "(x, y, confidence))"}
    checks = []
    for name, tail in expected.items():
        tensor = inputs[name]
        checks.append(assert_that(tail_equals(tensor, tail),
                                   f"{name} must have shape {described[name]}, got shape", tf.shape(tensor)))
        checks.append(assert_that(tf.equal(tf.shape(tensor, out_type=tf.int64)[0], batch),
                                   f"{name}: batch size differs from that of person_image; got", tf.shape(tensor)[0],
                                   "and", batch))
    checks.append(assert_that(batch >= 1, "person_image: batch size must be at least 1, got", batch))
    for name in ("person_image", "cloth_image", "cloth_mask", "person_parsing"):
        hw = tf.shape(inputs[name], out_type=tf.int64)[1:3]
        checks.append(assert_that(
            tf.logical_and(tf.reduce_all(hw >= MIN_IMAGE_SIDE), hw[0] * hw[1] <= max_image_pixels),
            f"{name}: height and width must be at least {MIN_IMAGE_SIDE} with at most {max_image_pixels} "
            "pixels (docs/inputs.md), got", hw))
    for name, reference in (("person_parsing", "person_image"), ("cloth_mask", "cloth_image")):
        hw = tf.shape(inputs[name], out_type=tf.int64)[1:3]
        reference_hw = tf.shape(inputs[reference], out_type=tf.int64)[1:3]
        checks.append(assert_that(tf.reduce_all(tf.equal(hw, reference_hw)),
                                   f"{name} must have the height and width of {reference}; got", hw, "and",
                                   reference_hw))
    with tf.control_dependencies(checks):
        keypoints = inputs["target_pose_keypoints"]
        checks.append(assert_that(tf.reduce_all(tf.math.is_finite(keypoints)),
                                   "target_pose_keypoints must be finite (OpenPose writes undetected joints as "
                                   "0, 0, 0); found NaN or Inf"))
    with tf.control_dependencies(checks):
        checks.append(assert_that(tf.logical_not(tf.reduce_any(tf.abs(keypoints[..., :2]) > MAX_KEYPOINT_COORD)),
                                   f"target_pose_keypoints: x and y must be within +-{MAX_KEYPOINT_COORD:g} pixels "
                                   "(docs/inputs.md); largest", tf.reduce_max(tf.abs(keypoints[..., :2]))))
    return checks
