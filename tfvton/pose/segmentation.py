"""Person mask from `selfie_segmentation.tflite`, and the parsing-vs-photo sanity check.

People often pass the parsing of another photo (or of another size). The
selfie-segmentation model (MediaPipe `selfie_segmentation_cpu.pbtxt`, general
model: the photo stretched to 256x256, values in [0, 1], one sigmoid output
channel) gives a person mask independent of the parsing; a low IoU between it
and the parsing's foreground (labels > 0) means the two do not belong together.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional, Union

import cv2
import numpy as np

from tfvton.pose import cache

__all__ = ["PersonSegmenter", "mask_iou", "ParsingCheck", "check_parsing_matches_photo", "parsing_mismatch_warning",
           "MISMATCH_IOU", "MISMATCH_WARNING"]

INPUT_SIZE = 256
MASK_THRESHOLD = 0.5
# The real MPV samples' own parsings overlap the mask with IoU >= 0.92 and another sample's parsing (same
# studio, similar pose) with <= 0.84 (tests/pose/test_segmentation.py checks both sides); 0.88 sits between.
MISMATCH_IOU = 0.88
MISMATCH_WARNING = "the parsing does not match the photo"


class PersonSegmenter:
    """Runs `selfie_segmentation.tflite` (general 256x256 model) on whole photos.

    Args:
        model_path: the `.tflite` file (default: the cached model; see `tfvton models fetch pose`).
        num_threads: interpreter threads.
    """

    def __init__(self, model_path: Optional[Union[str, Path]] = None, num_threads: int = 2):
        self.model_path, self.interpreter = cache.load_interpreter("selfie_segmentation", model_path, num_threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        self._output = self.interpreter.get_output_details()[0]["index"]

    def probability(self, image: np.ndarray) -> np.ndarray:
        """Person probability float32 (H, W) in [0, 1] for a uint8 RGB image (H, W, 3)."""
        height, width = image.shape[:2]
        tensor = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
        self.interpreter.set_tensor(self._input, (tensor.astype(np.float32) / 255.0)[None])
        self.interpreter.invoke()
        mask = self.interpreter.get_tensor(self._output)[0, :, :, 0]
        return np.clip(cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)

    def mask(self, image: np.ndarray) -> np.ndarray:
        """Boolean person mask (H, W)."""
        return self.probability(image) >= MASK_THRESHOLD


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks of one shape (1.0 when both are empty)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape:
        raise ValueError(f"masks must have one shape. Received: {a.shape} and {b.shape}")
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


@dataclasses.dataclass(frozen=True)
class ParsingCheck:
    """Result of `check_parsing_matches_photo`: the IoU and whether it passes the threshold."""

    iou: float
    threshold: float

    @property
    def matches(self) -> bool:
        return self.iou >= self.threshold

    def warning(self, parsing_name: str = "the parsing", photo_name: str = "the photo") -> Optional[str]:
        """The user-facing warning, or None when the parsing matches."""
        if self.matches:
            return None
        return (f"warning: {MISMATCH_WARNING}: the person mask of {photo_name} and the foreground of "
                f"{parsing_name} (labels > 0) overlap with IoU {self.iou:.2f}, expected >= {self.threshold:.2f} "
                f"(is it the parsing of another photo?)")


def check_parsing_matches_photo(image: np.ndarray, labels: np.ndarray, segmenter: Optional[PersonSegmenter] = None,
                                threshold: float = MISMATCH_IOU) -> ParsingCheck:
    """Compares the photo's person mask with the parsing's foreground.

    Args:
        image: the person photo, uint8 RGB (H, W, 3).
        labels: its parsing, int (h, w) label ids (0 = background); resized (nearest) when its size differs.
        segmenter: a `PersonSegmenter` (default: on the cached model).
        threshold: minimum IoU of a matching parsing.
    """
    segmenter = segmenter or PersonSegmenter()
    height, width = image.shape[:2]
    labels = np.asarray(labels)
    if labels.shape[:2] != (height, width):
        labels = cv2.resize(labels.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    return ParsingCheck(mask_iou(segmenter.mask(image), labels > 0), threshold)


def parsing_mismatch_warning(image: np.ndarray, labels: np.ndarray, photo_name: str = "the photo",
                             parsing_name: str = "the parsing") -> Optional[str]:
    """The "parsing does not match the photo" warning, or None (also None when the model is not cached).

    The check is a convenience: without the cached model it is skipped, and a model that does not load
    gives a warning saying so, rather than failing the try-on.
    """
    if not cache.models_present(("selfie_segmentation",)):
        return None
    try:
        segmenter = PersonSegmenter()
    except (ValueError, RuntimeError) as e:  # LiteRT's errors for a file that is not a usable model
        return (f"warning: parsing check skipped: the cached selfie-segmentation model does not load ({e}); "
                f"run `tfvton models fetch pose --force` to replace it")
    return check_parsing_matches_photo(image, labels, segmenter).warning(parsing_name, photo_name)
