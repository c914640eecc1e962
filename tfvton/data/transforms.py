"""The one preprocessing: raw MPV inputs -> the tensors the networks read.

Everything here is TensorFlow ops only (no numpy at run time, no PIL, no
`py_function`), so the same functions run eagerly, inside `tf.data.Dataset.map`
and inside an exported `tf.function` (the serving graph). Every function accepts
any number of leading batch dimensions (`...`), NHWC.

Each rule reproduces the official PyTorch release (`data/regular_dataset.py`,
`data/demo_dataset.py`, `utils/pose_utils.py`, `utils/transforms.py`); where the
official code does something surprising we match it and say so.

Raw inputs (`preprocess`):

| key | dtype, shape | meaning |
|---|---|---|
| `person_image` | uint8 ...,h,w,3 | person photo |
| `person_parsing` | uint8 ...,h,w | CIHP label ids 0-19 |
| `source_pose_keypoints` | float32 ...,18,3 | OpenPose COCO-18 x, y, confidence (pixels of the person image) |
| `target_pose_keypoints` | float32 ...,18,3 | target pose (pixels of `target_image` if given, else of the person image) |
| `cloth_image` | uint8 ...,h,w,3 | in-shop garment |
| `cloth_mask` | uint8 ...,h,w,1 | garment mask, 0/255 |
| `target_image` | uint8 ...,h,w,3 | optional (train/test) |
| `target_parsing` | uint8 ...,h,w | optional (train/test) |

Inputs of another size than (height, width) are resized: images bilinearly,
parsing and masks with nearest neighbour, keypoints scaled. Inputs of the right
size are never touched by a resize op, so they stay bit-exact.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import tensorflow as tf

# The label and keypoint constants live in `tfvton.data.labels` (importable without TensorFlow).
from tfvton.data.labels import (CLOTH_LABELS, FACE_LABELS, KEEP_LABELS, LABEL_NAMES,
                                NUM_KEYPOINTS, NUM_LABELS)
# Pose maps and PIL-exact resampling have their own modules; they stay part of this public surface.
from tfvton.data.pil_resample import pil_bilinear_resize
from tfvton.data.pose_maps import pose_heatmaps, pose_locations, scale_keypoints

__all__ = [
    "NUM_LABELS", "NUM_KEYPOINTS", "CLOTH_LABELS", "FACE_LABELS", "KEEP_LABELS", "LABEL_NAMES",
    "decode_image", "decode_labels", "decode_mask", "decode_raw", "normalize_image", "check_labels",
    "onehot_parsing", "mask_from_png", "pose_locations", "pose_heatmaps", "pil_bilinear_resize",
    "body_shape", "part_mask", "head_image", "cloth_part_image", "image_without_cloth",
    "remove_cloth_channels", "fit_image", "fit_labels", "scale_keypoints", "preprocess",
]


# ----------------------------------------------------------------------------- decoding

def decode_image(contents: tf.Tensor) -> tf.Tensor:
    """Decodes encoded image bytes to uint8 RGB exactly as PIL does.

    TF's default JPEG decoder (`dct_method=""`, i.e. fast IDCT) differs from
    PIL/libjpeg's default by up to 5 grey levels on the MPV samples;
    `INTEGER_ACCURATE` is libjpeg's default ISLOW IDCT and matches PIL bit for
    bit. `decode_jpeg` also decodes PNG, GIF and BMP (documented TF behaviour),
    so cloth images stored as PNG work too. Grey images are expanded to RGB.

    Args:
        contents: scalar string tensor, the file's bytes.
    Returns:
        uint8 tensor (h, w, 3).
    """
    return tf.io.decode_jpeg(contents, channels=3, dct_method="INTEGER_ACCURATE")


def decode_labels(contents: tf.Tensor) -> tf.Tensor:
    """Decodes an 8-bit grey PNG of label ids (CIHP parsing) to uint8 (h, w).

    The PNG must be mode `L` (grey): TF would turn palette PNGs into colours,
    not ids. `tfvton.data.MPVDataset` checks the mode when it validates files.
    """
    return tf.squeeze(tf.io.decode_png(contents, channels=1), axis=-1)


def decode_mask(contents: tf.Tensor) -> tf.Tensor:
    """Decodes an 8-bit grey PNG mask (0/255) to uint8 (h, w, 1)."""
    return tf.io.decode_png(contents, channels=1)


def decode_raw(encoded: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """Turns encoded file bytes into the raw inputs of `preprocess`.

    Args:
        encoded: dict with string tensors `person_image`, `person_parsing`,
            `cloth_image`, `cloth_mask` (and optionally `target_image`,
            `target_parsing`) holding file bytes, plus float32
            `source_pose_keypoints` / `target_pose_keypoints` (18, 3).
    Returns:
        The raw dict described in the module docstring (unbatched).
    """
    raw = {
        "person_image": decode_image(encoded["person_image"]),
        "person_parsing": decode_labels(encoded["person_parsing"]),
        "cloth_image": decode_image(encoded["cloth_image"]),
        "cloth_mask": decode_mask(encoded["cloth_mask"]),
        "source_pose_keypoints": tf.convert_to_tensor(encoded["source_pose_keypoints"], tf.float32),
        "target_pose_keypoints": tf.convert_to_tensor(encoded["target_pose_keypoints"], tf.float32),
    }
    if "target_image" in encoded:
        raw["target_image"] = decode_image(encoded["target_image"])
        raw["target_parsing"] = decode_labels(encoded["target_parsing"])
    return raw


# ----------------------------------------------------------------------------- pixels

# torchvision's ToTensor + Normalize(0.5, 0.5) in float32: (v / 255 - 0.5) / 0.5, per uint8 value.
_NORMALIZED = ((np.arange(256, dtype=np.float32) / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5))


def normalize_image(image: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1] exactly as torchvision ToTensor + Normalize(0.5, 0.5).

    A 256-entry lookup table holds torchvision's float32 results. Plain
    arithmetic would be exact eagerly, but graph optimisers (Grappler in an
    exported `tf.function`) fold `(x / 255 - 0.5) / 0.5` into a multiply-add and
    change the last bit of about half the values; a table cannot be rewritten.
    """
    return tf.gather(tf.constant(_NORMALIZED), tf.cast(image, tf.int32))


def check_labels(labels: tf.Tensor, what: str = "parsing", path: Optional[tf.Tensor] = None) -> tf.Tensor:
    """Returns `labels` once it is checked that every id is within 0-19.

    The official code silently turns an id >= 20 into an all-zero one-hot
    pixel; a parsing with such ids was made with another label set, so we stop.

    Args:
        labels: integer label ids (..., h, w).
        what: name of the input, used in the error message.
        path: optional string tensor (file name) added to the error message.
    Returns:
        `labels`, with the check as a control dependency (so it also runs in graphs).
    Raises:
        tf.errors.InvalidArgumentError: when an id is outside 0-19.
    """
    ids = tf.cast(labels, tf.int32)
    in_range = tf.logical_and(tf.reduce_all(ids >= 0), tf.reduce_all(ids < NUM_LABELS))
    data = [f"{what}: CIHP label ids must be within 0-{NUM_LABELS - 1}; found min", tf.reduce_min(ids),
            "max", tf.reduce_max(ids)]
    if path is not None:
        data = ["file", path] + data
    check = tf.debugging.Assert(in_range, data, summarize=8, name="check_labels")
    with tf.control_dependencies([check]):
        return tf.identity(labels)


def onehot_parsing(labels: tf.Tensor, check: bool = True) -> tf.Tensor:
    """CIHP label ids (..., h, w) -> one-hot float32 (..., h, w, 20) (official `parsing_embedding`).

    Args:
        labels: integer label ids.
        check: assert that ids are within 0-19 (see `check_labels`).
    """
    if check:
        labels = check_labels(labels)
    return tf.one_hot(tf.cast(labels, tf.int32), NUM_LABELS, dtype=tf.float32)


def mask_from_png(mask: tf.Tensor) -> tf.Tensor:
    """Cloth mask uint8 (..., h, w, 1) -> float32 {0, 1}.

    Official surprise kept: only pixels equal to 255 count (`array == 255`);
    a grey edge pixel (say 254) is background.
    """
    return tf.cast(tf.equal(tf.cast(mask, tf.int32), 255), tf.float32)


# ----------------------------------------------------------------------------- body shape

def body_shape(labels: tf.Tensor, downsample: int = 16) -> tf.Tensor:
    """Blurred body shape (official `source_parse_shape`).

    (labels > 0) as a 0/255 grey image, PIL BILINEAR down to
    (w // downsample, h // downsample) and back up to (w, h), then to [-1, 1].

    Args:
        labels: CIHP ids (..., h, w) with static h, w.
        downsample: the blur factor (official: 16).
    Returns:
        float32 (..., h, w, 1) in [-1, 1].
    """
    labels = tf.convert_to_tensor(labels)
    h, w = labels.shape[-2], labels.shape[-1]
    if h is None or w is None:
        raise ValueError(f"body_shape needs a static parsing size, got shape {labels.shape}")
    binary = tf.where(labels > 0, 255.0, 0.0)
    small = pil_bilinear_resize(binary, max(h // downsample, 1), max(w // downsample, 1))
    shape = pil_bilinear_resize(small, h, w)
    return normalize_image(tf.cast(shape, tf.uint8)[..., None])


# ----------------------------------------------------------------------------- parts

def _label_runs(labels: Sequence[int]):
    """Sorted label ids as (start, stop) runs of consecutive ids: (5, 6, 7) -> [(5, 8)]."""
    runs = []
    for label in sorted(int(label) for label in labels):
        if runs and runs[-1][1] == label:
            runs[-1][1] = label + 1
        else:
            runs.append([label, label + 1])
    return [tuple(run) for run in runs]


def _channel_runs(parse: tf.Tensor, labels: Sequence[int]):
    # Channel slices, not tf.gather: in a TFLite model a gather on the channel axis is a
    # reference-kernel op (2.4 ms for the 17 kept channels at 256x192), slices are XNNPACK's.
    return [parse[..., start:stop] for start, stop in _label_runs(labels)]


def part_mask(parse: tf.Tensor, labels: Sequence[int]) -> tf.Tensor:
    """Sum of the one-hot channels in `labels`: float32 (..., h, w, 1) in {0, 1}.

    Summed run by run of consecutive labels (exact for a one-hot parsing; a
    soft one may differ from a single sum in the last bit).

    Args:
        parse: one-hot (or soft) parsing (..., h, w, 20).
        labels: label ids, e.g. `CLOTH_LABELS` or `FACE_LABELS`.
    """
    total = tf.zeros_like(parse[..., :1]) if not labels else None  # no labels: an empty mask
    for run in _channel_runs(parse, labels):
        part = run if run.shape[-1] == 1 else tf.reduce_sum(run, axis=-1, keepdims=True)
        total = part if total is None else total + part
    return total


def head_image(image: tf.Tensor, parse: tf.Tensor) -> tf.Tensor:
    """`im_h`: the image on labels {1, 2, 4, 13}, -1 (black) elsewhere (official arithmetic)."""
    m = part_mask(parse, FACE_LABELS)
    return image * m - (1.0 - m)


def cloth_part_image(image: tf.Tensor, parse: tf.Tensor) -> tf.Tensor:
    """`im_c`: the image on labels {5, 6, 7}, +1 (white) elsewhere (official arithmetic)."""
    m = part_mask(parse, CLOTH_LABELS)
    return image * m + (1.0 - m)


def image_without_cloth(image: tf.Tensor, parse: tf.Tensor) -> tf.Tensor:
    """image * (1 - mask{5, 6, 7}): 0 (mid grey) on the clothes.

    As official `create_part(..., 'image_without_cloth', for_L1=False)`, which
    multiplies and leaves 0, not -1, where the cloth was.
    """
    return image * (1.0 - part_mask(parse, CLOTH_LABELS))


def remove_cloth_channels(parse: tf.Tensor) -> tf.Tensor:
    """20-channel parsing -> 17 channels without 5, 6, 7 (official `index_select`)."""
    return tf.concat(_channel_runs(parse, KEEP_LABELS), axis=-1)


# ----------------------------------------------------------------------------- sizes

def _static_hw(x: tf.Tensor, height: int, width: int, channels_last: bool) -> tf.Tensor:
    if x.shape.rank is not None:
        shape = x.shape.as_list()
        if channels_last:
            shape[-3:-1] = [height, width]
        else:
            shape[-2:] = [height, width]
        x = tf.ensure_shape(x, shape)
    return x


def fit_image(image: tf.Tensor, height: int, width: int, method: str = "bilinear") -> tf.Tensor:
    """Resizes (..., h, w, c) uint8 to (height, width) unless it already has that size.

    Images are resized bilinearly (antialiased) and rounded back to uint8; masks
    use `method="nearest"`. A right-sized input passes through untouched.
    """
    image = tf.convert_to_tensor(image)
    if image.shape[-3] == height and image.shape[-2] == width:
        return image
    shape = tf.shape(image)
    same = tf.logical_and(tf.equal(shape[-3], height), tf.equal(shape[-2], width))

    def resize():
        if method == "nearest":
            return tf.image.resize(image, [height, width], method="nearest")
        out = tf.image.resize(image, [height, width], method="bilinear", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), image.dtype)

    return _static_hw(tf.cond(same, lambda: tf.identity(image), resize), height, width, True)


def fit_labels(labels: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Resizes label ids (..., h, w) with nearest neighbour unless already (height, width)."""
    labels = tf.convert_to_tensor(labels)
    out = fit_image(labels[..., None], height, width, method="nearest")[..., 0]
    return _static_hw(out, height, width, False)


def _image_hw(image: tf.Tensor) -> tf.Tensor:
    shape = tf.shape(image)
    return tf.stack([shape[-3], shape[-2]])


# ----------------------------------------------------------------------------- everything

def preprocess(raw: Dict[str, tf.Tensor], height: int = 256, width: int = 192, radius: int = 6,
               shape_downsample: int = 16) -> Dict[str, tf.Tensor]:
    """Raw inputs -> the model tensors of docs/architecture.md.

    Args:
        raw: the raw dict (module docstring); batched or not.
        height, width: model input size.
        radius: pose disc radius (official 6).
        shape_downsample: body-shape blur factor (official 16).
    Returns:
        dict with `source_image`, `source_parse`, `source_shape`, `source_head`,
        `source_pose`, `target_pose`, `cloth_image`, `cloth_mask`, and when
        `raw` has `target_image`: `target_image`, `target_parse`,
        `target_cloth`, `target_cloth_mask`. float32, NHWC.
    """
    person = tf.convert_to_tensor(raw["person_image"])
    person_hw = _image_hw(person)
    person = fit_image(person, height, width)
    parsing = check_labels(fit_labels(raw["person_parsing"], height, width), "person_parsing")
    source_parse = onehot_parsing(parsing, check=False)
    source_image = normalize_image(person)

    out = {
        "source_image": source_image,
        "source_parse": source_parse,
        "source_shape": body_shape(parsing, shape_downsample),
        "source_head": head_image(source_image, source_parse),
        "source_pose": pose_heatmaps(
            scale_keypoints(raw["source_pose_keypoints"], person_hw, height, width), height, width, radius),
        "cloth_image": normalize_image(fit_image(raw["cloth_image"], height, width)),
        "cloth_mask": mask_from_png(fit_image(raw["cloth_mask"], height, width, method="nearest")),
    }
    if "target_image" in raw:
        target = tf.convert_to_tensor(raw["target_image"])
        target_hw = _image_hw(target)
        target_image = normalize_image(fit_image(target, height, width))
        target_labels = check_labels(fit_labels(raw["target_parsing"], height, width), "target_parsing")
        target_parse = onehot_parsing(target_labels, check=False)
        out["target_image"] = target_image
        out["target_parse"] = target_parse
        out["target_cloth"] = cloth_part_image(target_image, target_parse)
        out["target_cloth_mask"] = part_mask(target_parse, CLOTH_LABELS)
    else:
        target_hw = person_hw  # a bare target pose is taken to share the person photo's frame
    out["target_pose"] = pose_heatmaps(
        scale_keypoints(raw["target_pose_keypoints"], target_hw, height, width), height, width, radius)
    return out

