"""Up-front validation of an MPV dataset's files, by the rules of the one reader.

Files are validated when the dataset is built, by the rules of `tfvton.data.raw_io`
(docs/inputs.md) (`validate="headers"`: every file exists, is within the byte and pixel caps,
and images have a usable format and mode; pose JSONs parse and hold one person whose keypoints
(any layout `raw_io.read_keypoints` knows, mapped to COCO-18) are finite in float32 and within
range; `validate="full"` also decodes every image and checks that parsing ids are within 0-19
and that masks are not empty). Parsings and masks must be 8-bit grey PNGs here, because the
pipeline decodes them in-graph.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Dict, Tuple

import numpy as np

from tfvton.data import raw_io
from tfvton.data.labels import NUM_LABELS
from tfvton.data.pair_list import PathLike
from tfvton.errors import DataError

logger = logging.getLogger(__name__)


def load_keypoints(path: PathLike) -> np.ndarray:
    """Reads a pose JSON as OpenPose COCO-18 float32 (18, 3) (`raw_io.read_keypoints`, format auto).

    Raises:
        DataError: missing or malformed file, no person, an unknown layout, NaN / Inf values.
    """
    return raw_io.read_keypoints(path, "pose", log=logger.debug)


def check_mask_values(mask: np.ndarray, path) -> None:
    """Refuses a dataset mask with too few 255 pixels (the in-graph rule `transforms.mask_from_png`).

    A 0/1 mask would silently be empty for that rule; single files go through
    `raw_io.read_mask`, which binarises them instead.
    """
    share = float(np.mean(np.asarray(mask) == 255))
    if share < raw_io.MIN_MASK_SHARE:
        raise DataError(path, f"cloth mask has {share:.2%} pixels equal to 255 (garment), at least "
                              f"{raw_io.MIN_MASK_SHARE:.0%} expected; dataset masks are 0/255 (a 0/1 mask reads "
                              "as empty)")


class Validator:
    """Checks files once each (results cached), logs size mismatches once per file."""

    def __init__(self, height: int, width: int, level: str):
        self.height, self.width, self.level = height, width, level
        self._cache: Dict[Tuple[str, str], object] = {}

    def check(self, kind: str, path: str):
        key = (kind, path)
        if key not in self._cache:
            try:
                self._cache[key] = getattr(self, "_" + kind)(path)
            except DataError as e:
                self._cache[key] = e
        result = self._cache[key]
        if isinstance(result, DataError):
            raise result
        return result

    @contextlib.contextmanager
    def _open(self, path: str, what: str):
        # Byte, header-size, format and mode rules are the reader's (docs/inputs.md).
        with raw_io.open_image(path, what) as image:
            if self.level == "full":
                raw_io.load_strictly(image, path, what)
            yield image

    def _size_note(self, path: str, size, how: str):
        if size != (self.width, self.height):
            logger.warning("%s: is %dx%d, expected %dx%d: %s", path, size[0], size[1],
                           self.width, self.height, how)

    def _image(self, path: str):
        if self.level == "none":
            return None
        with self._open(path, "photo") as image:
            if image.mode not in raw_io.PHOTO_MODES:
                raise DataError(path, f"photo has image mode {image.mode}; accepted modes: "
                                      f"{', '.join(raw_io.PHOTO_MODES)}")
            self._size_note(path, image.size, "resized bilinearly (keypoints scaled)")
        return None

    def _labels(self, path: str):
        if self.level == "none":
            return None
        with self._open(path, "person parsing") as image:
            self._grey_png(path, image, "a CIHP parsing (label ids 0-19)")
            self._size_note(path, image.size, "resized with nearest neighbour")
            if self.level == "full":
                ids = np.asarray(image)
                if ids.size and int(ids.max()) >= NUM_LABELS:
                    bad = sorted(int(v) for v in np.unique(ids[ids >= NUM_LABELS]))
                    raise DataError(path, f"parsing labels outside 0-19: found {bad[:8]}")
        return None

    def _mask(self, path: str):
        if self.level == "none":
            return None
        with self._open(path, "cloth mask") as image:
            self._grey_png(path, image, "a cloth mask (0/255)")
            self._size_note(path, image.size, "resized with nearest neighbour")
            if self.level == "full":
                check_mask_values(np.asarray(image), path)
        return None

    @staticmethod
    def _grey_png(path, image, what):
        if image.format != "PNG" or image.mode != "L":
            # TF decodes a palette PNG to colours, not to the ids the official np.array() gives.
            raise DataError(path, f"expected {what} as an 8-bit grey PNG (mode L), "
                                  f"got {image.format} mode {image.mode}; a dataset's files are decoded "
                                  "in-graph, so convert it once (`tfvton tryon` reads other formats)")

    def _pose(self, path: str):
        return load_keypoints(path)
