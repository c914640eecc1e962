"""Keypoint accuracy against reference keypoints (e.g. the OpenPose files that ship with MPV).

Only joints both sides mark visible (confidence > 0) are compared; distances
are divided by the image height, so numbers are comparable across sizes.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np

from tfvton.data.mpv import load_keypoints
from tfvton.data.raw_io import read_photo

__all__ = ["KeypointAccuracy", "joint_distances", "summarize", "mpv_sample_accuracy"]


@dataclasses.dataclass(frozen=True)
class KeypointAccuracy:
    """Summary over all compared joints.

    Attributes:
        joints: number of joints compared.
        median: median distance / image height.
        within_5: share of joints closer than 5 % of the image height.
        within_10: share closer than 10 %.
        missed: joints the reference marks visible and the prediction does not.
    """

    joints: int
    median: float
    within_5: float
    within_10: float
    missed: int

    def __str__(self) -> str:
        return (f"{self.joints} joints: median {100 * self.median:.2f} % of the image height, "
                f"{100 * self.within_5:.1f} % within 5 %, {100 * self.within_10:.1f} % within 10 % "
                f"({self.missed} reference joints not found)")


def joint_distances(predicted: np.ndarray, reference: np.ndarray, image_height: int) -> Tuple[np.ndarray, int]:
    """Distances / height of the joints both mark visible, and how many reference joints were missed.

    Args:
        predicted, reference: (18, 3) keypoints (x, y, confidence); 0 confidence = not seen.
        image_height: pixels.
    """
    predicted, reference = np.asarray(predicted, np.float64), np.asarray(reference, np.float64)
    both = (predicted[:, 2] > 0) & (reference[:, 2] > 0)
    missed = int(((reference[:, 2] > 0) & ~(predicted[:, 2] > 0)).sum())
    distances = np.linalg.norm(predicted[both, :2] - reference[both, :2], axis=1) / float(image_height)
    return distances, missed


def summarize(distances: Iterable[np.ndarray], missed: int = 0) -> KeypointAccuracy:
    """Pools per-image distances into one `KeypointAccuracy`."""
    pooled = np.concatenate([np.asarray(d, np.float64).reshape(-1) for d in distances] or [np.zeros(0)])
    if pooled.size == 0:
        raise ValueError("no joint is marked visible by both the prediction and the reference")
    return KeypointAccuracy(int(pooled.size), float(np.median(pooled)), float((pooled < 0.05).mean()),
                            float((pooled < 0.10).mean()), int(missed))


def mpv_sample_accuracy(root: Path, estimate: Callable[[np.ndarray], np.ndarray],
                        log: Optional[Callable[[str], None]] = None) -> Tuple[KeypointAccuracy, Dict[str, List[float]]]:
    """Accuracy of `estimate` on every `images/*.jpg` of an MPV-layout root with `pose_coco/<stem>_keypoints.json`.

    Args:
        root: the dataset root (e.g. the five real samples).
        estimate: uint8 RGB image -> (18, 3) keypoints.
        log: per-image lines (optional).
    Returns:
        the pooled accuracy and, per image stem, its distances.
    """
    per_image, all_distances, missed = {}, [], 0
    for image_path in sorted(Path(root, "images").glob("*.jpg")):
        reference_path = Path(root, "pose_coco", f"{image_path.stem}_keypoints.json")
        if not reference_path.is_file():
            continue
        image = read_photo(image_path, "person photo")
        distances, image_missed = joint_distances(estimate(image), load_keypoints(reference_path), image.shape[0])
        per_image[image_path.stem] = distances.tolist()
        all_distances.append(distances)
        missed += image_missed
        if log:
            log(f"{image_path.name}: {distances.size} joints, median {100 * np.median(distances):.2f} %, "
                f"max {100 * distances.max():.2f} % of the height")
    if not per_image:
        raise FileNotFoundError(f"no images/*.jpg with pose_coco/<stem>_keypoints.json under {root}")
    return summarize(all_distances, missed), per_image
