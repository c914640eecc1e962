"""Real-format example inputs, and TF-Serving's warm-up file built from them.

TF-Serving replays `assets.extra/tf_serving_warmup_requests` (TFRecords of
`PredictionLog`) when it loads a version, so the graph is built and the kernels
are initialised before the first client waits for them. The requests must look
like real traffic: same dtypes and sizes, plausible label maps and keypoints (a
request that trips the in-graph validation would fail the model load).

`synthetic_raw_inputs` draws a person, its CIHP parsing, OpenPose keypoints and
an in-shop garment with its mask, in the formats a client sends (uint8 images,
uint8 labels, float32 pixel keypoints). The same arrays serve as warm-up data,
as test inputs and as a fallback representative dataset for int8 TFLite.
"""
from __future__ import annotations

import io
import os
from typing import Dict, Iterable, Mapping, Optional

import numpy as np

# Names and dtypes of the `serving_default` signature inputs (raw client data).
RAW_INPUT_KEYS = ("person_image", "cloth_image", "cloth_mask", "person_parsing", "target_pose_keypoints")

WARMUP_RELATIVE_PATH = os.path.join("assets.extra", "tf_serving_warmup_requests")

# OpenPose COCO-18 joints of a front-facing person, as fractions of (width, height):
# nose, neck, r-shoulder, r-elbow, r-wrist, l-shoulder, l-elbow, l-wrist, r-hip,
# r-knee, r-ankle, l-hip, l-knee, l-ankle, r-eye, l-eye, r-ear, l-ear.
_POSE_FRACTIONS = np.array([
    [0.50, 0.14], [0.50, 0.30], [0.33, 0.31], [0.26, 0.52], [0.23, 0.72],
    [0.67, 0.31], [0.74, 0.52], [0.77, 0.72], [0.40, 0.74], [0.40, 0.95],
    [0.40, 1.20], [0.60, 0.74], [0.60, 0.95], [0.60, 1.20], [0.46, 0.11],
    [0.54, 0.11], [0.42, 0.13], [0.58, 0.13],
], dtype=np.float64)


def _keypoints(height: int, width: int, rng: np.random.Generator, jitter: float) -> np.ndarray:
    xy = _POSE_FRACTIONS * np.array([width, height]) + rng.normal(0.0, jitter, size=(18, 2))
    confidence = rng.uniform(0.5, 0.95, size=(18, 1))
    points = np.concatenate([xy, confidence], axis=1)
    # Joints below the frame are not detected; OpenPose writes them as (0, 0, 0).
    outside = (xy[:, 1] >= height) | (xy[:, 0] >= width) | (xy[:, 0] < 0)
    points[outside] = 0.0
    return points.astype(np.float32)


def _person(height: int, width: int, keypoints: np.ndarray, rng: np.random.Generator):
    """Draws a person (image, CIHP labels) around `keypoints` with OpenCV."""
    import cv2

    labels = np.zeros((height, width), np.uint8)
    scale = min(height / 256.0, width / 192.0)
    thick = max(2, int(round(14 * scale)))

    def pt(i):
        return int(round(keypoints[i, 0])), int(round(keypoints[i, 1]))

    def limb(a, b, label, t=thick):
        if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
            cv2.line(labels, pt(a), pt(b), int(label), t)

    # Legs (pants 9) then torso (upper clothes 5), arms (14 left, 15 right), head.
    limb(8, 9, 9, thick + 2)
    limb(11, 12, 9, thick + 2)
    limb(9, 10, 9, thick)
    limb(12, 13, 9, thick)
    torso = np.array([pt(2), pt(5), pt(11), pt(8)], np.int32)
    cv2.fillConvexPoly(labels, torso, 5)
    limb(2, 3, 5, thick)
    limb(5, 6, 5, thick)
    limb(3, 4, 15, max(2, thick - 3))
    limb(6, 7, 14, max(2, thick - 3))
    head_axes = (max(2, int(20 * scale)), max(2, int(26 * scale)))
    cv2.ellipse(labels, pt(0), head_axes, 0, 0, 360, 13, -1)
    cv2.ellipse(labels, (pt(0)[0], pt(0)[1] - head_axes[1] // 2), (head_axes[0], head_axes[1] // 2),
                0, 180, 360, 2, -1)

    palette = np.zeros((20, 3), np.float64)
    palette[0] = rng.uniform(200, 245, 3)  # studio background
    palette[2] = rng.uniform(20, 70, 3)  # hair
    palette[5] = rng.uniform(30, 230, 3)  # upper clothes
    palette[9] = rng.uniform(20, 120, 3)  # pants
    skin = np.array([224, 172, 140]) * rng.uniform(0.7, 1.05)
    palette[13] = palette[14] = palette[15] = skin
    image = palette[labels]
    # Soft shading and sensor noise: constant regions are not what JPEGs hold.
    shade = np.linspace(1.05, 0.9, height)[:, None, None]
    image = image * shade + rng.normal(0.0, 4.0, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), labels


def _garment(height: int, width: int, rng: np.random.Generator):
    """Draws an in-shop T-shirt on white, with its 0/255 mask."""
    import cv2

    mask = np.zeros((height, width), np.uint8)
    w, h = width, height
    body = np.array([[0.28 * w, 0.22 * h], [0.72 * w, 0.22 * h], [0.70 * w, 0.85 * h], [0.30 * w, 0.85 * h]],
                    np.int32)
    cv2.fillConvexPoly(mask, body, 255)
    sleeves = [
        np.array([[0.28 * w, 0.22 * h], [0.10 * w, 0.40 * h], [0.18 * w, 0.47 * h], [0.32 * w, 0.36 * h]], np.int32),
        np.array([[0.72 * w, 0.22 * h], [0.90 * w, 0.40 * h], [0.82 * w, 0.47 * h], [0.68 * w, 0.36 * h]], np.int32),
    ]
    for sleeve in sleeves:
        cv2.fillConvexPoly(mask, sleeve, 255)
    cv2.ellipse(mask, (w // 2, int(0.22 * h)), (max(1, int(0.08 * w)), max(1, int(0.05 * h))), 0, 0, 180, 0, -1)

    colour = rng.uniform(20, 235, 3)
    stripes = (np.arange(height)[:, None] // max(2, height // 16)) % 2
    garment = colour[None, None, :] * (0.8 + 0.2 * stripes[..., None]) + rng.normal(0.0, 3.0, (height, width, 3))
    image = np.where(mask[..., None] > 0, garment, 255.0)
    return np.clip(image, 0, 255).astype(np.uint8), mask[..., None]


def synthetic_raw_inputs(height: int, width: int, batch: int = 1, seed: int = 0) -> Dict[str, np.ndarray]:
    """A batch of raw try-on inputs in the formats clients send.

    Args:
        height: image height in pixels.
        width: image width in pixels.
        batch: number of examples.
        seed: seed of the drawing; the same seed gives the same arrays.

    Returns:
        dict with `person_image` uint8 (B,H,W,3), `cloth_image` uint8 (B,H,W,3),
        `cloth_mask` uint8 (B,H,W,1) in {0, 255}, `person_parsing` uint8 (B,H,W)
        CIHP labels, `target_pose_keypoints` float32 (B,18,3) and
        `source_pose_keypoints` float32 (B,18,3) (OpenPose x, y, confidence in
        pixels; undetected joints are zeros).

    Example:
        >>> raw = synthetic_raw_inputs(256, 192, batch=2)
        >>> raw["person_image"].shape, raw["target_pose_keypoints"].shape
        ((2, 256, 192, 3), (2, 18, 3))
    """
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(batch):
        source_pose = _keypoints(height, width, rng, jitter=0.02 * width)
        target_pose = _keypoints(height, width, rng, jitter=0.04 * width)
        person, parsing = _person(height, width, source_pose, rng)
        cloth, mask = _garment(height, width, rng)
        examples.append({"person_image": person, "cloth_image": cloth, "cloth_mask": mask,
                         "person_parsing": parsing, "target_pose_keypoints": target_pose,
                         "source_pose_keypoints": source_pose})
    return {key: np.stack([e[key] for e in examples]) for key in examples[0]}


def encode_image(array: np.ndarray, fmt: str = "PNG", quality: int = 95) -> bytes:
    """Encodes a uint8 (H,W), (H,W,1) or (H,W,3) array as PNG or JPEG bytes with PIL."""
    from PIL import Image

    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    kwargs = {"quality": quality} if fmt.upper() in ("JPEG", "JPG") else {}
    Image.fromarray(array.astype(np.uint8)).save(buffer, format="JPEG" if fmt.upper() == "JPG" else fmt, **kwargs)
    return buffer.getvalue()


def encode_raw_inputs(raw: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Turns raw arrays into `predict_bytes` inputs: photos as JPEG, label maps and masks as PNG.

    Label maps and masks must stay lossless (JPEG would invent labels), which is
    also how the MPV files store them.
    """
    formats = {"person_image": "JPEG", "cloth_image": "JPEG", "cloth_mask": "PNG", "person_parsing": "PNG"}
    encoded = {key: np.array([encode_image(item, fmt) for item in raw[key]], dtype=object)
               for key, fmt in formats.items()}
    encoded["target_pose_keypoints"] = np.asarray(raw["target_pose_keypoints"], np.float32)
    return encoded


def prediction_logs(model_name: str, requests: Iterable[tuple]):
    """Yields `PredictionLog` protos for (signature_name, inputs dict) pairs."""
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    for signature_name, inputs in requests:
        request = predict_pb2.PredictRequest(
            model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name))
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        yield prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=request))


def write_warmup_file(version_dir: str, model_name: str, height: int, width: int,
                      signatures: Iterable[str] = ("serving_default", "predict_bytes"),
                      batch_sizes: Iterable[int] = (1,), raw: Optional[Mapping[str, np.ndarray]] = None,
                      seed: int = 0) -> str:
    """Writes `assets.extra/tf_serving_warmup_requests` into an exported version.

    Args:
        version_dir: the SavedModel directory (`.../<model name>/<version>`).
        model_name: the name TF-Serving serves the model under.
        height: image height the signatures expect.
        width: image width the signatures expect.
        signatures: which signatures to warm up (`serving_default`, `predict_bytes`).
        batch_sizes: one request per signature and batch size (with server-side
            batching, warm each allowed batch size once).
        raw: raw inputs to use instead of `synthetic_raw_inputs` (must hold at
            least max(batch_sizes) examples).
        seed: seed of the synthetic inputs.

    Returns:
        The path of the written file.
    """
    import tensorflow as tf

    batch_sizes = list(batch_sizes)
    if raw is None:
        raw = synthetic_raw_inputs(height, width, batch=max(batch_sizes), seed=seed)
    requests = []
    for batch in batch_sizes:
        sliced = {key: np.asarray(value)[:batch] for key, value in raw.items() if key in RAW_INPUT_KEYS}
        for signature in signatures:
            if signature == "serving_default":
                requests.append((signature, sliced))
            elif signature == "predict_bytes":
                requests.append((signature, encode_raw_inputs(sliced)))
            else:
                raise ValueError("write_warmup_file: signature must be serving_default or predict_bytes. "
                                 f"Received: signature={signature!r}")
    path = os.path.join(version_dir, WARMUP_RELATIVE_PATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for log in prediction_logs(model_name, requests):
            writer.write(log.SerializeToString())
    return path


def read_warmup_file(path: str):
    """Parses a warm-up file back into `PredictionLog` protos (for checks and tests)."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    logs = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    return logs
