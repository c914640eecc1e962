"""Client-side requests: files or arrays -> the served signatures' inputs.

Every input is read by `tfvton.data.tryon_inputs.read_single`, the reader
`tfvton tryon` uses, so the clients accept exactly the files `tryon` accepts
(the contract: docs/inputs.md): any photo mode the reader knows, parsings as
CIHP / LIP / ATR ids or colour renderings, keypoints in any layout it maps to
COCO-18, masks binarised, a missing mask computed with GrabCut.

Two request forms exist (see `tfvton/export/saved_model.py`):
- `serving_default`: uint8 arrays `person_image` (B,H,W,3), `cloth_image`
  (B,H,W,3), `cloth_mask` (B,H,W,1) 0/255, `person_parsing` (B,H,W) CIHP ids and
  float32 `target_pose_keypoints` (B,18,3).
- `predict_bytes`: the four images as encoded strings (B,), keypoints as above.
  A photo given as a JPEG or 8-bit PNG file is sent as the file's bytes (the
  server decodes JPEG exactly as PIL does); anything else is re-encoded as PNG.
  Label maps and masks are always sent as 8-bit greyscale PNG of what the
  reader made of them (CIHP ids, 0/255).
"""
from __future__ import annotations

import io
import os
from typing import Dict, Optional, Union

import numpy as np
from PIL import Image

from tfvton.atomic_file import atomic_write
from tfvton.data.raw_io import Source
from tfvton.data.tryon_inputs import read_single

ArrayOrPath = Source

SIGNATURES = ("serving_default", "predict_bytes")
IMAGE_KEYS = ("person_image", "cloth_image", "cloth_mask", "person_parsing")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"

__all__ = ["SIGNATURES", "IMAGE_KEYS", "build_request", "encode_png", "save_image"]


def encode_png(array: np.ndarray) -> bytes:
    """Lossless PNG bytes of a uint8 (H, W), (H, W, 1) or (H, W, 3) array."""
    array = np.asarray(array, dtype=np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _photo_bytes(source: ArrayOrPath, decoded: np.ndarray) -> bytes:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            head = handle.read(26)
        # The server decodes JPEG and 8-bit PNG as the reader did; anything else goes as the reader's pixels.
        if head[:3] == _JPEG_SOI or (head[:8] == _PNG_SIGNATURE and head[24:25] == b"\x08"):
            with open(source, "rb") as handle:
                return handle.read()
    return encode_png(decoded)


def build_request(person: ArrayOrPath, parsing: ArrayOrPath, target_pose: ArrayOrPath, cloth: ArrayOrPath,
                  cloth_mask: Optional[ArrayOrPath] = None, signature_name: str = "serving_default",
                  **read_options) -> Dict[str, np.ndarray]:
    """One try-on request (batch 1) for the given signature.

    Args:
        person: the person photo (path or uint8 array).
        parsing: its human parsing (path or array; see `tfvton.data.raw_io.read_parsing`).
        target_pose: keypoints of the target pose (path or array; see `raw_io.read_keypoints`).
        cloth: the in-shop garment photo (path or uint8 array).
        cloth_mask: its mask (path or array). When None, it is computed from the
            cloth photo with GrabCut.
        signature_name: `serving_default` (arrays) or `predict_bytes` (encoded images).
        **read_options: `parsing_format`, `pose_format`, `limits`, `log` of `read_single`.

    Returns:
        dict of batched NumPy inputs, keyed as the signature names them.

    Raises:
        ValueError: an unknown signature.
        tfvton.data.DataError: an input file that breaks the contract, naming it.
    """
    if signature_name not in SIGNATURES:
        raise ValueError(f"signature_name must be one of {SIGNATURES}, got {signature_name!r}")
    raw = read_single(person, parsing, None, target_pose, cloth, cloth_mask, **read_options)
    keypoints = raw["target_pose_keypoints"][None]
    if signature_name == "serving_default":
        return {
            "person_image": raw["person_image"][None],
            "cloth_image": raw["cloth_image"][None],
            "cloth_mask": raw["cloth_mask"][None],
            "person_parsing": raw["person_parsing"][None],
            "target_pose_keypoints": keypoints,
        }
    return {
        "person_image": np.array([_photo_bytes(person, raw["person_image"])], dtype=object),
        "cloth_image": np.array([_photo_bytes(cloth, raw["cloth_image"])], dtype=object),
        "cloth_mask": np.array([encode_png(raw["cloth_mask"])], dtype=object),
        "person_parsing": np.array([encode_png(raw["person_parsing"])], dtype=object),
        "target_pose_keypoints": keypoints,
    }


def save_image(array: np.ndarray, path: Union[str, os.PathLike]) -> str:
    """Writes a uint8 (H, W), (H, W, 1) or (H, W, 3) array with PIL (format from the suffix)."""
    array = np.asarray(array, dtype=np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    image = Image.fromarray(array)
    # In one rename; the scratch name keeps the suffix, from which PIL picks the format.
    atomic_write(path, lambda scratch: image.save(scratch), "--out")
    return os.fspath(path)
