"""The served graph's input checks: in-graph asserts and the checked decoding of encoded images.

The rules and numbers are the input contract of docs/inputs.md, shared with the CLI's reader
(`tfvton.data.raw_io`); `tfvton.export.saved_model` documents the messages a client sees.
"""
from __future__ import annotations

from typing import Dict

import tensorflow as tf

from tfvton.data import transforms
from tfvton.data.labels import NUM_KEYPOINTS
from tfvton.data.raw_io import MASK_THRESHOLD, MAX_KEYPOINT_COORD, MIN_IMAGE_SIDE, MIN_MASK_SHARE
from tfvton.errors import INPUT_RULES_DOC

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
_PNG_HEADER_BYTES = 33  # signature 8 + IHDR length 4 + type 4 + data 13 + CRC 4
_PNG_GREY = 0  # IHDR colour type of single-channel greyscale
# The IEND chunk: type and its fixed CRC (a PNG's last 8 bytes, unless data trails it).
_PNG_IEND = b"IEND\xaeB`\x82"
_JPEG_EOI = b"\xff\xd9"
_JPEG_SOS = 0xDA
# Marker segments walked before the first scan; real files have a few dozen.
_MAX_JPEG_SEGMENTS = 4096
# The served inputs' shapes after the batch axis, in the order `serving_default` takes them
# (None: any size); each input's rank is 1 + len(tail).
ARRAY_TAILS = {"person_image": (None, None, 3), "cloth_image": (None, None, 3), "cloth_mask": (None, None, 1),
               "person_parsing": (None, None), "target_pose_keypoints": (NUM_KEYPOINTS, 3)}
ARRAY_RANKS = {name: 1 + len(tail) for name, tail in ARRAY_TAILS.items()}


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


def contains(data, needle: bytes):
    """True when the scalar string `data` holds the byte sequence `needle` (a literal split, no regex)."""
    return tf.strings.split(tf.reshape(data, [1]), sep=needle).row_lengths()[0] > 1


def jpeg_scan_offset(data):
    """Offset of the main image's first start-of-scan (SOS) marker, or -1.

    Walks the marker segments from the SOI by their lengths, as a decoder does,
    so the markers inside an embedded EXIF thumbnail (an APP1 segment) are
    skipped, not mistaken for the main image's.

    Args:
        data: scalar string tensor, the JPEG's bytes.
    """
    length = tf.strings.length(data)
    padded = tf.strings.join([data, tf.constant(b"\x00" * 4)])

    def keep_walking(position, found, steps):
        return tf.logical_and(tf.logical_and(tf.logical_not(found), position >= 0),
                              tf.logical_and(position + 4 <= length, steps < _MAX_JPEG_SEGMENTS))

    def next_segment(position, found, steps):
        head = tf.cast(tf.io.decode_raw(tf.strings.substr(padded, position, 4), tf.uint8), tf.int32)
        lead, marker, segment = head[0], head[1], head[2] * 256 + head[3]
        standalone = tf.logical_or(tf.equal(marker, 0x01), tf.logical_and(marker >= 0xD0, marker <= 0xD8))
        following = tf.where(tf.not_equal(lead, 0xFF), -1,  # not a marker: the chain is broken
                             tf.where(tf.equal(marker, 0xFF), position + 1,  # fill byte
                                      tf.where(standalone, position + 2, position + 2 + segment)))
        is_scan = tf.logical_and(tf.equal(lead, 0xFF), tf.equal(marker, _JPEG_SOS))
        return tf.where(is_scan, position, following), is_scan, steps + 1

    position, found, _ = tf.while_loop(keep_walking, next_segment,
                                       (tf.constant(2), tf.constant(False), tf.constant(0)))
    return tf.where(found, position, -1)


def jpeg_complete(data):
    """True when a JPEG holds an end-of-image marker (FFD9) after the start of its image data.

    A JPEG cut after a valid header has no EOI after its first scan (entropy-coded
    data never holds FFD9), and TF's decoder would fill the missing rows with grey;
    bytes after the EOI (phone "motion photos") are allowed, as PIL allows them.
    """
    scan = jpeg_scan_offset(data)
    tail = tf.strings.substr(data, tf.maximum(scan, 0) + 2, tf.strings.length(data))
    return tf.logical_and(scan >= 0, contains(tail, _JPEG_EOI))


def png_complete(data):
    """True when a PNG holds its IEND chunk (a PNG cut short has none)."""
    return contains(data, _PNG_IEND)


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
            # Runs only on JPEG bytes; a PNG is checked below.
            assert_that(tf.cond(is_jpeg, lambda: jpeg_complete(data), lambda: tf.constant(True)),
                         f"{name}: JPEG is truncated: no end-of-image marker (FFD9) after its image data; the "
                         f"file was cut short ({INPUT_RULES_DOC})"),
        ]
    else:
        checks = [
            assert_that(is_png, f"{name}: must be a PNG (lossless); JPEG and other formats alter the values"),
            assert_that(tf.logical_and(tf.equal(bit_depth, 8), tf.equal(colour, _PNG_GREY)),
                         f"{name}: PNG must be 8-bit greyscale (PIL mode L, IHDR colour type 0); "
                         "got bit depth and colour type", bit_depth, colour),
        ]
    checks.append(assert_that(tf.logical_or(tf.logical_not(is_png), png_complete(data)),
                               f"{name}: PNG is truncated: no IEND chunk; the file was cut short "
                               f"({INPUT_RULES_DOC})"))
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


def check_ranks(inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """The inputs, once each is checked to have its rank (`ARRAY_RANKS`), with that rank set statically.

    The signatures leave the rank open so that a missing batch axis reaches this
    check (a message naming the input) instead of being read as another layout.
    """
    checks = [assert_that(tf.equal(tf.rank(inputs[name]), rank),
                          f"{name} must have rank {rank} ({_DESCRIBED[name]}); got shape", tf.shape(inputs[name]))
              for name, rank in ARRAY_RANKS.items()]
    with tf.control_dependencies(checks):
        return {name: tf.ensure_shape(inputs[name], [None] * rank) for name, rank in ARRAY_RANKS.items()}


_DESCRIBED = {"person_image": "[batch, height, width, 3]", "cloth_image": "[batch, height, width, 3]",
              "cloth_mask": "[batch, height, width, 1], 0/255", "person_parsing": "[batch, height, width]",
              "target_pose_keypoints": f"[batch, {NUM_KEYPOINTS}, 3], OpenPose COCO-18 joints x "
                                       "(x, y, confidence)"}


def validate_arrays(inputs: Dict[str, tf.Tensor], max_image_pixels: int) -> Dict[str, tf.Tensor]:
    """`serving_default`'s rank, shape, batch, size and keypoint checks.

    Label ids are checked by `transforms.preprocess`, the mask by `binarize_mask`.

    Args:
        inputs: the signature's five tensors by name (any rank).
        max_image_pixels: largest accepted height * width of an image.

    Returns:
        The five tensors, with static ranks, to be read only after every check passed.
    """
    inputs = check_ranks(inputs)
    batch = tf.shape(inputs["person_image"], out_type=tf.int64)[0]
    checks = []
    for name, tail in ARRAY_TAILS.items():
        tensor = inputs[name]
        checks.append(assert_that(tail_equals(tensor, tail),
                                   f"{name} must have shape {_DESCRIBED[name]}, got shape", tf.shape(tensor)))
        checks.append(assert_that(tf.equal(tf.shape(tensor, out_type=tf.int64)[0], batch),
                                   f"{name}: batch size differs from that of person_image; got", tf.shape(tensor)[0],
                                   "and", batch))
    checks.append(assert_that(batch >= 1, "person_image: batch size must be at least 1, got", batch))
    for name in ("person_image", "cloth_image", "cloth_mask", "person_parsing"):
        hw = tf.shape(inputs[name], out_type=tf.int64)[1:3]
        checks.append(assert_that(
            tf.logical_and(tf.reduce_all(hw >= MIN_IMAGE_SIDE), hw[0] * hw[1] <= max_image_pixels),
            f"{name}: height and width must be at least {MIN_IMAGE_SIDE} with at most {max_image_pixels} "
            f"pixels ({INPUT_RULES_DOC}), got", hw))
    for name, reference in (("person_parsing", "person_image"), ("cloth_mask", "cloth_image")):
        hw = tf.shape(inputs[name], out_type=tf.int64)[1:3]
        reference_hw = tf.shape(inputs[reference], out_type=tf.int64)[1:3]
        checks.append(assert_that(tf.reduce_all(tf.equal(hw, reference_hw)),
                                   f"{name} must have the height and width of {reference}; got", hw, "and",
                                   reference_hw))
    with tf.control_dependencies(checks):
        keypoints = tf.identity(inputs["target_pose_keypoints"])
        checks.append(assert_that(tf.reduce_all(tf.math.is_finite(keypoints)),
                                   "target_pose_keypoints must be finite (OpenPose writes undetected joints as "
                                   "0, 0, 0); found NaN or Inf"))
    with tf.control_dependencies(checks):
        checks.append(assert_that(tf.logical_not(tf.reduce_any(tf.abs(keypoints[..., :2]) > MAX_KEYPOINT_COORD)),
                                   f"target_pose_keypoints: x and y must be within +-{MAX_KEYPOINT_COORD:g} pixels "
                                   f"({INPUT_RULES_DOC}); largest", tf.reduce_max(tf.abs(keypoints[..., :2]))))
    with tf.control_dependencies(checks):
        return {name: tf.identity(tensor) for name, tensor in inputs.items()}


def binarize_mask(mask, threshold: int = MASK_THRESHOLD, min_share: float = MIN_MASK_SHARE):
    """A batch of cloth masks -> 0/255 by the CLI reader's rule; refuses an (almost) empty mask.

    The rule of `tfvton.data.raw_io.binarize_mask` (docs/inputs.md): a pixel is
    garment when its value is >= `threshold`, or, in a mask whose maximum is 1
    (saved as 0/1), when it is 1. A 0/255 mask passes through unchanged.

    Args:
        mask: uint8 [batch, height, width, 1].
        threshold: the mask threshold.
        min_share: smallest accepted share of garment pixels, per mask.
    """
    values = tf.cast(mask, tf.int32)
    peak = tf.reduce_max(values, axis=[1, 2, 3], keepdims=True)
    garment = tf.where(tf.equal(peak, 1), tf.equal(values, 1), values >= threshold)
    share = tf.reduce_mean(tf.cast(garment, tf.float64), axis=[1, 2, 3])
    check = assert_that(tf.reduce_all(share >= min_share),
                        f"cloth_mask is empty or almost empty: at least {min_share:.0%} of its pixels must be garment "
                        f"(value >= {threshold}, or 1 in a 0/1 mask) ({INPUT_RULES_DOC}); share per example", share)
    with tf.control_dependencies([check]):
        return tf.where(garment, tf.constant(255, tf.uint8), tf.constant(0, tf.uint8))
