"""The one reader for raw try-on inputs: photos, masks, parsings and keypoints.

Every part of tfvton that reads a user's file goes through here: the MPV data
layer's checks, `tfvton tryon`, `tfvton client` (its request builder) and the
GrabCut cloth masks. So a file is accepted or refused the same way everywhere,
and the served signatures enforce the same numbers (`tfvton.export.saved_model`
takes its caps from `InputLimits`). The rules, as one table, are in
docs/inputs.md; every `DataError` names the file, the problem and that page.

Each reader takes a path or an array already in memory (the clients accept
both) and checks, in this order: the file exists and is not over the byte cap;
the header's size is within the pixel caps (before any pixel is decoded, so a
small PNG declaring 13000x13000 costs nothing); the mode is one we read
correctly; the decoded values obey the input's rules.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import threading
import warnings
from typing import Callable, Iterator, Optional, Tuple, Union

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from tfvton.data.formats import FormatError
from tfvton.data.formats import keypoints as keypoint_formats
from tfvton.data.formats import parsing as parsing_formats
from tfvton.data.labels import NUM_KEYPOINTS, NUM_LABELS
from tfvton.errors import INPUT_RULES_DOC, DataError

logger = logging.getLogger(__name__)

DOCS = INPUT_RULES_DOC
# Defaults of `InputLimits`; the served graph (`tfvton export`) uses the same numbers.
MIN_IMAGE_SIDE = 16
MAX_IMAGE_PIXELS = 4096 * 4096  # a 12-megapixel phone photo (4000x3000) fits
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_KEYPOINT_COORD = 65536.0  # pixels; far beyond any accepted photo, far below float32 overflow
MASK_THRESHOLD = 128
MIN_MASK_SHARE = 0.01

IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "GIF")
# 8-bit grey (1, L, LA), palette (P, PA), RGB(A), and 16-bit grey PNG (I;16*, I), read as value >> 8
# (what libpng's strip-16 and so TF's decoder give).
PHOTO_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "I;16B", "I;16L", "I")
PARSING_MODES = ("L", "P", "RGB", "RGBA", "I;16", "I;16B", "I;16L", "I")
MASK_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I;16B", "I;16L", "I")
PARSING_FORMATS = ("auto",) + parsing_formats.FORMATS
POSE_FORMATS = ("auto",) + keypoint_formats.FORMATS
_POSE_NAMES = {"coco18": "OpenPose COCO-18", "body25": "OpenPose BODY_25 (mapped to COCO-18)",
               "coco17": "COCO-17 keypoints (mapped to COCO-18, neck from the shoulders)",
               "mediapipe33": "MediaPipe 33 landmarks (mapped to COCO-18, neck from the shoulders)"}
_PARSING_NAMES = {"cihp": "CIHP label ids", "lip": "LIP label ids, mapped to CIHP",
                  "atr": "ATR label ids, mapped to CIHP",
                  "vis": "a colour rendering in the CIHP/LIP palette, mapped to CIHP ids"}

Source = Union[str, os.PathLike, np.ndarray]
_LOAD_LOCK = threading.Lock()  # `load_strictly` sets a process-wide PIL switch
Log = Optional[Callable[[str], None]]

__all__ = ["DataError", "InputLimits", "DEFAULT_LIMITS", "open_image", "read_photo", "read_parsing",
           "read_mask", "binarize_mask", "read_keypoints", "check_same_size", "PARSING_FORMATS", "POSE_FORMATS"]


@dataclasses.dataclass(frozen=True)
class InputLimits:
    """The configurable numbers of the input contract (docs/inputs.md).

    Attributes:
        min_image_side: smallest accepted height and width, in pixels.
        max_image_pixels: largest accepted height * width (checked on the header).
        max_image_bytes: largest accepted image file.
        max_json_bytes: largest accepted keypoint JSON file.
        max_json_depth: deepest accepted nesting of `[` / `{` in a keypoint JSON.
        max_keypoint_coord: largest accepted |x| and |y| of a keypoint, in pixels.
        mask_threshold: a mask pixel >= this is garment (a 0/1 mask: value 1 is).
        min_mask_share: a mask with a smaller share of garment pixels is refused.
    """

    min_image_side: int = MIN_IMAGE_SIDE
    max_image_pixels: int = MAX_IMAGE_PIXELS
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_json_bytes: int = MAX_JSON_BYTES
    max_json_depth: int = MAX_JSON_DEPTH
    max_keypoint_coord: float = MAX_KEYPOINT_COORD
    mask_threshold: int = MASK_THRESHOLD
    min_mask_share: float = MIN_MASK_SHARE


DEFAULT_LIMITS = InputLimits()


def _is_path(source) -> bool:
    return isinstance(source, (str, os.PathLike))


def _note(log: Log, message: str) -> None:
    (log or logger.info)(message)


# ----------------------------------------------------------------------------- images

def check_size(height: int, width: int, where, what: str, limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Raises `DataError` unless min side <= height, width and height * width <= the pixel cap."""
    if min(height, width) < limits.min_image_side:
        raise DataError(where, f"{what} is {width}x{height} pixels; at least {limits.min_image_side}x"
                               f"{limits.min_image_side} accepted")
    if height * width > limits.max_image_pixels:
        raise DataError(where, f"{what} declares {width}x{height} = {height * width} pixels; at most "
                               f"{limits.max_image_pixels} accepted (scale it down first)")


@contextlib.contextmanager
def open_image(path, what: str, limits: InputLimits = DEFAULT_LIMITS) -> Iterator[Image.Image]:
    """Opens an image file after checking its byte length, format and declared size; nothing is decoded.

    Raises:
        DataError: missing, empty, too large, unreadable, unknown format, too small or too large a size.
    """
    if not os.path.isfile(path):
        raise DataError(path, f"missing file ({what})")
    length = os.path.getsize(path)
    if length == 0 or length > limits.max_image_bytes:
        raise DataError(path, f"{what} file is {length} bytes; 1 to {limits.max_image_bytes} accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as e:
        raise DataError(path, f"{what} declares too many pixels ({e}); at most {limits.max_image_pixels} "
                              "accepted") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(path, f"unreadable image ({what}: {e})") from None
    with image:
        if image.format not in IMAGE_FORMATS:
            raise DataError(path, f"{what} is {image.format}; accepted formats: {', '.join(IMAGE_FORMATS)}")
        check_size(image.size[1], image.size[0], path, what, limits)
        yield image


def load_strictly(image: Image.Image, path, what: str) -> None:
    """Decodes `image`'s pixels; a truncated or corrupt file raises `DataError` naming `path`.

    PIL fills a cut file with grey when `ImageFile.LOAD_TRUNCATED_IMAGES` is on (a
    process-wide switch another library may flip), so it is off while loading: the
    rule the served graph applies too (a JPEG needs its end-of-image marker, a PNG
    its IEND chunk; `tfvton.export.input_checks`).
    """
    try:
        if not ImageFile.LOAD_TRUNCATED_IMAGES:  # PIL's default: no lock on the common path
            image.load()  # a truncated file only fails here
            return
        with _LOAD_LOCK:
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                image.load()
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = True
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(path, f"corrupt or truncated image ({what}: {e})") from None


def _decode(image: Image.Image, path, what: str, modes) -> None:
    if image.mode not in modes:
        raise DataError(path, f"{what} has image mode {image.mode}; accepted modes: {', '.join(modes)}")
    load_strictly(image, path, what)


def _sixteen_to_eight(image: Image.Image) -> np.ndarray:
    return (np.asarray(image).astype(np.int64) >> 8).clip(0, 255).astype(np.uint8)


def _array(source, what: str, dtypes=(np.uint8,)) -> np.ndarray:
    array = np.asarray(source)
    if array.dtype not in dtypes:
        raise DataError(what, f"{what} array must be {'/'.join(np.dtype(d).name for d in dtypes)}, "
                              f"got {array.dtype}")
    return array


def read_photo(source: Source, what: str = "photo", limits: InputLimits = DEFAULT_LIMITS) -> np.ndarray:
    """A photo as uint8 RGB (H, W, 3).

    Args:
        source: a JPEG / PNG / BMP / GIF path, or a uint8 array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).
        what: the input's name, for messages.
        limits: the contract's numbers.

    Raises:
        DataError: naming the file (or `what`) and the rule it breaks.
    """
    if not _is_path(source):
        array = _array(source, what)
        if array.ndim == 2:
            array = array[..., None]
        if array.ndim != 3 or array.shape[-1] not in (1, 3, 4):
            raise DataError(what, f"{what} array must be (height, width[, 1, 3 or 4]), got {array.shape}")
        check_size(array.shape[0], array.shape[1], what, what, limits)
        return np.ascontiguousarray(np.broadcast_to(array[..., :1], array.shape[:2] + (3,))
                                    if array.shape[-1] == 1 else array[..., :3])
    with open_image(source, what, limits) as image:
        _decode(image, source, what, PHOTO_MODES)
        if image.mode.startswith("I"):
            return np.repeat(_sixteen_to_eight(image)[..., None], 3, axis=-1)
        return np.asarray(image.convert("RGB"), np.uint8)


def read_parsing(source: Source, what: str = "person parsing", fmt: str = "auto",
                 limits: InputLimits = DEFAULT_LIMITS, log: Log = None) -> np.ndarray:
    """A human parsing as CIHP label ids, uint8 (H, W).

    Args:
        source: a PNG path (grey or palette: label ids; RGB: a colour rendering or
            grey values) or an array (H, W) of ids / (H, W, 3) of colours.
        what: the input's name, for messages.
        fmt: `auto`, `cihp`, `lip`, `atr` (ids of that label set) or `vis` (a
            colour rendering in the CIHP/LIP palette). `auto` reads ids as CIHP and
            colours as the palette, and says what it read through `log`.
        limits: the contract's numbers.
        log: receives the auto-detection note (default: this module's logger, INFO).

    Raises:
        DataError: naming the file, e.g. ids outside the label set or a colour outside the palette.
    """
    if fmt not in PARSING_FORMATS:
        raise ValueError(f"parsing format must be one of {PARSING_FORMATS}, got {fmt!r}")
    palette_colours = None
    if _is_path(source):
        where = source
        with open_image(source, what, limits) as image:
            _decode(image, source, what, PARSING_MODES)
            kind = f"{image.mode} {image.format}"
            if image.mode in ("RGB", "RGBA"):
                values = np.asarray(image.convert("RGB"), np.uint8)
            else:
                values = np.asarray(image).astype(np.int64)
                if image.mode == "P":
                    palette_colours = np.asarray(image.convert("RGB"), np.uint8)
    else:
        where, kind = what, "array"
        values = _array(source, what, (np.uint8, np.uint16, np.int32, np.int64))
        if values.ndim == 3 and values.shape[-1] == 1:
            values = values[..., 0]
        if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[-1] != 3):
            raise DataError(what, f"{what} array must be (height, width) ids or (height, width, 3) colours, "
                                  f"got {values.shape}")
        check_size(values.shape[0], values.shape[1], what, what, limits)
    if values.ndim == 3 and (values == values[..., :1]).all():
        values = values[..., 0].astype(np.int64)  # grey label ids stored as RGB
    colours = values.ndim == 3
    chosen = fmt
    if fmt == "auto":
        chosen = "vis" if colours else "cihp"
        if palette_colours is not None and values.size and values.max() >= NUM_LABELS:
            chosen, values = "vis", palette_colours  # palette indices are no ids: read its colours
    elif fmt == "vis" and not colours:
        if palette_colours is None:
            raise DataError(where, f"{what} is a grey label map ({kind}), not a colour rendering; use parsing "
                                   "format auto, cihp, lip or atr")
        values = palette_colours
    elif colours:
        raise DataError(where, f"{what} is a colour image ({kind}), not a label map of {fmt.upper()} ids; "
                               "is this the colour rendering `*_vis.png`? Use parsing format vis or auto")
    try:
        labels = parsing_formats.colours_to_cihp(values) if chosen == "vis" else \
            parsing_formats.ids_to_cihp(values, chosen)
    except FormatError as e:
        raise DataError(where, f"{what}: {e}") from None
    if fmt == "auto":
        _note(log, f"{where}: {what} read as {_PARSING_NAMES[chosen]} ({kind} image)")
    return labels


def binarize_mask(values: np.ndarray, where, what: str = "cloth mask",
                  limits: InputLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Mask values -> uint8 (H, W, 1) 0/255 by the documented threshold; refuses an (almost) empty mask.

    A pixel is garment when its value is >= `limits.mask_threshold`; in a mask
    whose maximum is 1 (saved as 0/1 or bool), when it is 1.
    """
    values = np.asarray(values)
    if values.dtype == bool:
        values = values.astype(np.uint8)
    peak = int(values.max()) if values.size else 0
    garment = values == 1 if peak == 1 else values >= limits.mask_threshold
    share = float(garment.mean()) if garment.size else 0.0
    if share < limits.min_mask_share:
        raise DataError(where, f"{what} is empty or almost empty: {int(garment.sum())} of {garment.size} pixels "
                               f"({share:.2%}) are garment (value >= {limits.mask_threshold}, or 1 in a 0/1 mask); "
                               f"at least {limits.min_mask_share:.0%} expected")
    return np.where(garment, 255, 0).astype(np.uint8)[..., None]


def read_mask(source: Source, what: str = "cloth mask", limits: InputLimits = DEFAULT_LIMITS) -> np.ndarray:
    """A garment mask as uint8 (H, W, 1) 0/255 (255 = garment), binarised by `binarize_mask`.

    Args:
        source: a grey (or grey-valued RGB / palette) PNG path, or an array (H, W[, 1]) of bool / 0-1 / 0-255.
        what: the input's name, for messages.
        limits: the contract's numbers.

    Raises:
        DataError: naming the file: a colour image, or an (almost) empty mask.
    """
    if _is_path(source):
        where = source
        with open_image(source, what, limits) as image:
            _decode(image, source, what, MASK_MODES)
            if image.mode in ("RGB", "RGBA", "P"):
                rgb = np.asarray(image.convert("RGB"))
                if not (rgb == rgb[..., :1]).all():
                    raise DataError(source, f"{what} is a colour image ({image.mode}); expected a grey mask "
                                            "(0/255, 255 = garment)")
                values = rgb[..., 0]
            elif image.mode in ("LA", "1"):
                values = np.asarray(image.convert("L"))
            else:
                values = np.asarray(image)
    else:
        where = what
        values = _array(source, what, (np.bool_, np.uint8, np.uint16, np.int32, np.int64))
        if values.ndim == 3 and values.shape[-1] == 1:
            values = values[..., 0]
        if values.ndim != 2:
            raise DataError(what, f"{what} array must be (height, width[, 1]), got {values.shape}")
        check_size(values.shape[0], values.shape[1], what, what, limits)
    return binarize_mask(values, where, what, limits)


def check_same_size(image: np.ndarray, reference: np.ndarray, where, what: str, reference_where,
                    reference_what: str) -> None:
    """Raises `DataError` naming `where` unless `image` has `reference`'s height and width."""
    if image.shape[:2] != reference.shape[:2]:
        raise DataError(where, f"{what} is {image.shape[1]}x{image.shape[0]}, expected the {reference_what}'s "
                               f"size {reference.shape[1]}x{reference.shape[0]} ({reference_where})")


# ----------------------------------------------------------------------------- keypoints

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
def _json_depth(data: bytes) -> int:
    codes = np.frombuffer(_STRING.sub(b'""', data), np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int32) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max()) if steps.size else 0


def _load_json(path, what: str, limits: InputLimits):
    if not os.path.isfile(path):
        raise DataError(path, f"missing file ({what})")
    length = os.path.getsize(path)
    if length > limits.max_json_bytes:
        raise DataError(path, f"{what} JSON is {length} bytes; at most {limits.max_json_bytes} accepted")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise DataError(path, f"cannot read file ({e.strerror or e})") from None
    depth = _json_depth(data)
    if depth > limits.max_json_depth:
        raise DataError(path, f"{what} JSON is nested {depth} deep; at most {limits.max_json_depth} accepted")
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise DataError(path, f"unreadable pose JSON ({e})") from None


def read_keypoints(source: Source, what: str = "pose", fmt: str = "auto",
                   image_hw: Optional[Tuple[int, int]] = None, limits: InputLimits = DEFAULT_LIMITS,
                   log: Log = None) -> np.ndarray:
    """Keypoints as OpenPose COCO-18 float32 (18, 3): x, y, confidence in pixels.

    Args:
        source: a JSON path (OpenPose `people[0].pose_keypoints_2d`, COCO
            `keypoints`, MMPose `keypoints` + `keypoint_scores`, MediaPipe
            `landmarks`, or a bare list, flat or per joint) or an array (N, 2-4) / (3N,).
        what: the input's name, for messages.
        fmt: `auto` (by joint count: 18 COCO-18, 25 BODY_25, 17 COCO-17, 33
            MediaPipe) or one of `tfvton.data.formats.keypoints.FORMATS`.
        image_hw: the photo's (height, width): coordinates that all lie within
            [-1, 2] are taken as normalised (MediaPipe) and scaled by it.
        limits: the contract's numbers.
        log: receives the auto-detection note (default: this module's logger, INFO).

    Raises:
        DataError: naming the file: no person, an unknown layout, NaN or Inf (in
            float32), coordinates beyond `limits.max_keypoint_coord`, too large or too deep a JSON.
    """
    if fmt not in POSE_FORMATS:
        raise ValueError(f"pose format must be one of {POSE_FORMATS}, got {fmt!r}")
    where = source if _is_path(source) else what
    try:
        if _is_path(source):
            values = keypoint_formats.points_from_json(_load_json(source, what, limits))
        else:
            values = keypoint_formats.points_from_json(np.asarray(source).tolist())
        values, chosen = keypoint_formats.split_columns(values, fmt)
    except FormatError as e:
        raise DataError(where, f"{what}: {e}") from None
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(values.astype(np.float32)).all(axis=1)
    if not finite.all():
        raise DataError(where, f"{what} keypoints are NaN or infinite in float32 at joints "
                               f"{np.flatnonzero(~finite).tolist()}")
    note = ""
    xy = values[:, :2]
    if np.abs(xy).max() <= 2.0 and xy.any():
        if image_hw is None:
            raise DataError(where, f"{what} coordinates look normalised to [0, 1]; pixels expected (or give the "
                                   "photo, whose size scales them)")
        values = values * np.array([image_hw[1], image_hw[0], 1.0])
        note = f", normalised coordinates scaled to {image_hw[1]}x{image_hw[0]}"
    far = np.abs(values[:, :2]).max(axis=1) > limits.max_keypoint_coord
    if far.any():
        raise DataError(where, f"{what} keypoints beyond +-{limits.max_keypoint_coord:g} pixels at joints "
                               f"{np.flatnonzero(far).tolist()}")
    coco18 = keypoint_formats.to_coco18(values, chosen)
    if fmt == "auto":
        _note(log, f"{where}: {what} read as {_POSE_NAMES[chosen]}{note}")
    return coco18.astype(np.float32).reshape(NUM_KEYPOINTS, 3)
