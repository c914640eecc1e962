"""Client-side input handling: files or arrays -> the served signatures' inputs.

The clients accept, for every input, either a path (read as the MPV files are
read: PIL for images, OpenPose JSON for keypoints) or an array already in the
served format. Only PIL, NumPy and `json` are used here, so building a request
needs no TensorFlow op.

Two request forms exist (see `tfvton/export/saved_model.py`):
- `serving_default`: uint8 arrays `person_image` (B,H,W,3), `cloth_image`
  (B,H,W,3), `cloth_mask` (B,H,W,1) 0/255, `person_parsing` (B,H,W) CIHP ids and
  float32 `target_pose_keypoints` (B,18,3).
- `predict_bytes`: the four images as encoded strings (B,), keypoints as above.
  Photos given as paths are sent as the file's bytes (the server decodes JPEG
  exactly as PIL does); label maps and masks are always re-encoded as 8-bit
  greyscale PNG, because the server cannot read palette PNGs as label ids.
"""
from __future__ import annotations

import io
import json
import os
from typing import Dict, Optional, Union

import numpy as np

ArrayOrPath = Union[str, os.PathLike, np.ndarray]

SIGNATURES = ("serving_default", "predict_bytes")
IMAGE_KEYS = ("person_image", "cloth_image", "cloth_mask", "person_parsing")


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def load_image(value: ArrayOrPath, what: str = "image") -> np.ndarray:
    """An RGB photo as uint8 (H, W, 3) from a path or an array."""
    if _is_path(value):
        from PIL import Image

        with Image.open(value) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    array = np.asarray(value)
    if array.ndim != 3 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(f"{what}: expected a uint8 array (H, W, 3), got {array.dtype} {array.shape}")
    return array


def load_parsing(value: ArrayOrPath) -> np.ndarray:
    """A CIHP label map as uint8 (H, W) ids 0-19 from a PNG path or an array.

    PIL returns palette indices for mode `P` and grey values for mode `L`, both
    of which are the label ids (as the official `parsing_embedding` reads them).
    An RGB file is almost certainly the colour rendering (`*_vis.png`), not labels.
    """
    if _is_path(value):
        from PIL import Image

        with Image.open(value) as image:
            if image.mode not in ("L", "P"):
                raise ValueError(f"{value}: person parsing must be a label map (PNG mode L or P), got mode "
                                 f"{image.mode} (is this the colour rendering *_vis.png?)")
            array = np.asarray(image, dtype=np.uint8)
    else:
        array = np.asarray(value)
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.ndim != 2:
            raise ValueError(f"person parsing: expected an array (H, W) of label ids, got shape {array.shape}")
        array = array.astype(np.uint8)
    if array.size and array.max() > 19:
        raise ValueError(f"person parsing: label ids must be in 0..19 (CIHP), found {int(array.max())}")
    return array


def load_mask(value: ArrayOrPath) -> np.ndarray:
    """A garment mask as uint8 (H, W, 1) with 255 on the garment."""
    if _is_path(value):
        from PIL import Image

        with Image.open(value) as image:
            array = np.asarray(image.convert("L"), dtype=np.uint8)
    else:
        array = np.asarray(value)
        if array.dtype == bool:
            array = array.astype(np.uint8) * 255
        array = array.astype(np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"cloth mask: expected (H, W) or (H, W, 1), got shape {array.shape}")
    return array[..., None]


def mask_from_cloth(cloth: np.ndarray) -> np.ndarray:
    """A garment mask computed from the in-shop photo (GrabCut, as the official masks were made).

    Uses `tfvton.data.cloth_mask.compute_cloth_mask` (NumPy + OpenCV only).
    """
    from tfvton.data.cloth_mask import compute_cloth_mask

    return compute_cloth_mask(np.asarray(cloth, dtype=np.uint8))[..., None]


def load_keypoints(value: ArrayOrPath) -> np.ndarray:
    """OpenPose COCO-18 keypoints as float32 (18, 3): x, y, confidence in pixels.

    A path is read as OpenPose JSON (`people[0].pose_keypoints_2d`, 54 numbers),
    the format of MPV's `pose_coco/*_keypoints.json`.
    """
    if _is_path(value):
        with open(value) as handle:
            data = json.load(handle)
        people = data.get("people") if isinstance(data, dict) else None
        if not people:
            raise ValueError(f"{value}: no person in the OpenPose JSON (field 'people' is empty or missing)")
        flat = people[0].get("pose_keypoints_2d")
        if flat is None or len(flat) != 54:
            raise ValueError(f"{value}: people[0].pose_keypoints_2d must hold 54 numbers (18 COCO joints x "
                             f"(x, y, confidence)), got {None if flat is None else len(flat)}")
        return np.asarray(flat, dtype=np.float32).reshape(18, 3)
    array = np.asarray(value, dtype=np.float32)
    if array.shape == (54,):
        array = array.reshape(18, 3)
    if array.shape != (18, 3):
        raise ValueError(f"target pose: expected keypoints (18, 3) (OpenPose COCO-18), got shape {array.shape}")
    return array


def encode_png(array: np.ndarray) -> bytes:
    """Lossless PNG bytes of a uint8 (H, W), (H, W, 1) or (H, W, 3) array."""
    from PIL import Image

    array = np.asarray(array, dtype=np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _photo_bytes(value: ArrayOrPath, what: str) -> bytes:
    if _is_path(value):
        with open(value, "rb") as handle:
            data = handle.read()
        # JPEG and 8-bit PNG go as they are; anything else is re-encoded losslessly.
        if data[:3] == b"\xff\xd8\xff" or (data[:8] == b"\x89PNG\r\n\x1a\n" and data[24:25] == b"\x08"):
            return data
    return encode_png(load_image(value, what))


def build_request(person: ArrayOrPath, parsing: ArrayOrPath, target_pose: ArrayOrPath, cloth: ArrayOrPath,
                  cloth_mask: Optional[ArrayOrPath] = None,
                  signature_name: str = "serving_default") -> Dict[str, np.ndarray]:
    """One try-on request (batch 1) for the given signature.

    Args:
        person: the person photo (path or uint8 (H, W, 3)).
        parsing: its CIHP label map (PNG path or uint8 (H, W)).
        target_pose: OpenPose JSON path or float32 (18, 3) keypoints of the target pose.
        cloth: the in-shop garment photo (path or uint8 (H, W, 3)).
        cloth_mask: its mask (PNG path or uint8 (H, W[, 1]) 0/255). When None,
            it is computed from the cloth photo (`mask_from_cloth`, GrabCut).
        signature_name: `serving_default` (arrays) or `predict_bytes` (encoded images).

    Returns:
        dict of batched NumPy inputs, keyed as the signature names them.
    """
    if signature_name not in SIGNATURES:
        raise ValueError(f"signature_name must be one of {SIGNATURES}, got {signature_name!r}")
    keypoints = load_keypoints(target_pose)[None]
    parsing_array = load_parsing(parsing)
    mask = load_mask(cloth_mask) if cloth_mask is not None else mask_from_cloth(load_image(cloth, "cloth image"))
    if signature_name == "serving_default":
        return {
            "person_image": load_image(person, "person image")[None],
            "cloth_image": load_image(cloth, "cloth image")[None],
            "cloth_mask": mask[None],
            "person_parsing": parsing_array[None],
            "target_pose_keypoints": keypoints,
        }
    return {
        "person_image": np.array([_photo_bytes(person, "person image")], dtype=object),
        "cloth_image": np.array([_photo_bytes(cloth, "cloth image")], dtype=object),
        "cloth_mask": np.array([encode_png(mask)], dtype=object),
        "person_parsing": np.array([encode_png(parsing_array)], dtype=object),
        "target_pose_keypoints": keypoints,
    }


def save_image(array: np.ndarray, path: Union[str, os.PathLike]) -> str:
    """Writes a uint8 (H, W), (H, W, 1) or (H, W, 3) array with PIL (format from the suffix)."""
    from PIL import Image

    array = np.asarray(array, dtype=np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    Image.fromarray(array).save(path)
    return os.fspath(path)
