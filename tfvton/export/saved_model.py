"""SavedModel export for TF-Serving: raw client inputs in, try-on image out.

Layout written (what TF-Serving's file-system source polls):

    OUT/<model name>/<version>/saved_model.pb
                              /variables/...
                              /assets.extra/tf_serving_warmup_requests
                              /assets.extra/tfvton_config.yaml

Signatures:

`serving_default` takes what a client has, batched (any batch size):
    person_image           uint8   [B, h, w, 3]   the person photo
    cloth_image            uint8   [B, h, w, 3]   the in-shop garment
    cloth_mask             uint8   [B, h, w, 1]   garment mask, 0/255 (or 0/1; binarised as the
                                                  CLI reads masks: >= 128, or 1 in a 0/1 mask)
    person_parsing         uint8   [B, h, w]      CIHP label ids 0-19
    target_pose_keypoints  float32 [B, 18, 3]     OpenPose COCO-18 x, y, confidence,
                                                  in pixels of the person photo
and runs the one preprocessing (`tfvton.data.transforms.preprocess`: one-hot,
pose discs, body shape, head, cloth removal) in the graph. Inputs of the model
size (config `data.height` x `data.width`, 256x192 for the paper) pass through
bit-exact; other sizes are resized as `preprocess` documents (keypoints scaled
with the person photo). The person's own pose is not an input: the official
forward (`demo.py`) conditions the GMM on body shape + head + TARGET pose and
the parsing generator on the source parsing + TARGET pose + cloth mask; the
source pose is never read at inference, so zeros stand in for it.

`predict_bytes` takes the four images as encoded strings [B] (photos: JPEG or
8-bit PNG; label map and mask: 8-bit greyscale PNG, as the MPV files) and the
same keypoints, so REST clients can send base64. Before any pixel is decoded
the graph checks the byte length against a cap and the size the header
declares (`tf.io.extract_jpeg_shape`; the PNG IHDR width/height read from the
bytes): `tf.io.decode_image` has no size limit and a 24 KB PNG can declare
588 MB of pixels. Decoding then uses `tfvton.data.transforms` (JPEG with the
INTEGER_ACCURATE IDCT, bit-identical to PIL; always one 3-D frame, never an
animation).

Outputs (both signatures), always at the model size (H, W):
    tryon_image     uint8   [B, H, W, 3]   the final try-on (face-refined unless model.face_refinement is off)
    parsing_labels  uint8   [B, H, W]      argmax of the predicted parsing
and with `include_intermediates` the float32 pipeline tensors `warped_cloth`,
`coarse`, `composition_mask`, `tryon` (before the face refinement) and `final`
(images in [-1, 1], the mask in [0, 1]).

The networks are saved frozen by default (`tfvton.export.frozen`): their
weights are constants of the graph, so grappler folds the kernel products the
Tree-Blocks compute from two variables once, when the server loads the model
and runs its warm-up requests, and the served graph does no weight arithmetic
per request (the variables directory is then empty). `freeze=False` saves the
variables instead (weights readable as a checkpoint, no load-time fold, the
per-request weight arithmetic stays).

Invalid inputs fail with INVALID_ARGUMENT and a message that names the input
and what was expected (ranks, shapes, batch sizes, label range, keypoint count,
NaN/Inf, an (almost) empty mask, byte length, declared size, format, a JPEG or
PNG cut short). The rules and numbers are the
input contract of docs/inputs.md, shared with the CLI's reader
(`tfvton.data.raw_io`): batch >= 1, every side >= 16, at most `max_image_pixels`,
the parsing of the photo's size and the mask of the cloth's, keypoints within
+-65536 pixels.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Dict

import tensorflow as tf

from tfvton.data import raw_io, transforms
from tfvton.export import frozen, graph, warmup as warmup_lib
from tfvton.export.input_checks import assert_that, binarize_mask, decode_checked, tail_equals, validate_arrays

NUM_KEYPOINTS = transforms.NUM_KEYPOINTS
MODEL_INPUT_KEYS = graph.MODEL_INPUT_KEYS
# The input contract's numbers (docs/inputs.md): the CLI reader and the served graph share them.
DEFAULT_MAX_IMAGE_BYTES = raw_io.MAX_IMAGE_BYTES
DEFAULT_MAX_IMAGE_PIXELS = raw_io.MAX_IMAGE_PIXELS
MIN_IMAGE_SIDE = raw_io.MIN_IMAGE_SIDE
MAX_KEYPOINT_COORD = raw_io.MAX_KEYPOINT_COORD
INTERMEDIATE_KEYS = ("warped_cloth", "coarse", "composition_mask", "tryon", "final")
SIGNATURE_KEYS = ("serving_default", "predict_bytes")
CONFIG_ASSET = os.path.join("assets.extra", "tfvton_config.yaml")


def to_uint8_image(image):
    """[-1, 1] float image -> uint8 as the official `array2img` (truncation, not rounding)."""
    scaled = (image * 0.5 + 0.5) * 255.0
    return tf.cast(tf.clip_by_value(scaled, 0.0, 255.0), tf.uint8)


class ServingModule(tf.Module):
    """The exported object: the pipeline plus the two serving functions.

    Args:
        pipeline: a built `TryOnPipeline` (dict of model tensors -> dict of outputs).
        height: model input height (config `data.height`).
        width: model input width (config `data.width`).
        pose_radius: radius of the pose discs (config `data.pose_radius`).
        shape_downsample: body-shape blur factor (config `data.shape_downsample`).
        include_intermediates: add the float pipeline tensors to the outputs.
        max_image_bytes: largest encoded image `predict_bytes` accepts.
        max_image_pixels: largest declared height * width `predict_bytes` decodes.
        freeze: run the networks as one frozen graph (`tfvton.export.frozen`)
            instead of reading their variables.
    """

    def __init__(self, pipeline, height: int, width: int, pose_radius: int, shape_downsample: int = 16,
                 include_intermediates: bool = False, max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
                 max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS, freeze: bool = True):
        super().__init__(name="tfvton_serving")
        output_keys = ("final", "parsing") + (INTERMEDIATE_KEYS if include_intermediates else ())
        # The pipeline object itself stays out of the SavedModel's object graph
        # (as in Keras' ExportArchive): only its variables are tracked (none when
        # frozen), so no layer attribute has to be checkpointable, and reloading
        # needs no tfvton code.
        core = graph.pipeline_core(pipeline, height, width, sorted(set(output_keys)))
        if freeze:
            self._core = graph.Untracked(frozen.freeze(core))
            self.model_variables = []
        else:
            self._core = graph.Untracked(core)
            self.model_variables = graph.plain_variables(pipeline)
        self.is_frozen = bool(freeze)
        self.height = int(height)
        self.width = int(width)
        self.pose_radius = int(pose_radius)
        self.shape_downsample = int(shape_downsample)
        self.include_intermediates = bool(include_intermediates)
        self.max_image_bytes = int(max_image_bytes)
        self.max_image_pixels = int(max_image_pixels)

        # The array shapes, ranks included, stay dynamic in the signature, so a wrong
        # shape reaches the in-graph checks (a message naming the input) rather than
        # a shape error, or a batch axis silently missing (`input_checks.check_ranks`).
        self.serve_arrays = tf.function(self._serve_arrays, input_signature=[
            tf.TensorSpec(None, tf.uint8, name="person_image"),
            tf.TensorSpec(None, tf.uint8, name="cloth_image"),
            tf.TensorSpec(None, tf.uint8, name="cloth_mask"),
            tf.TensorSpec(None, tf.uint8, name="person_parsing"),
            tf.TensorSpec(None, tf.float32, name="target_pose_keypoints"),
        ])
        self.serve_bytes = tf.function(self._serve_bytes, input_signature=[
            tf.TensorSpec([None], tf.string, name="person_image"),
            tf.TensorSpec([None], tf.string, name="cloth_image"),
            tf.TensorSpec([None], tf.string, name="cloth_mask"),
            tf.TensorSpec([None], tf.string, name="person_parsing"),
            tf.TensorSpec([None, None, None], tf.float32, name="target_pose_keypoints"),
        ])

    # === Preprocessing and outputs ===
    def _run(self, inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        raw = validate_arrays(inputs, self.max_image_pixels)
        raw["cloth_mask"] = binarize_mask(raw["cloth_mask"])  # the CLI reader's rule, 0/1 masks included
        keypoints = tf.ensure_shape(raw["target_pose_keypoints"], [None, NUM_KEYPOINTS, 3])
        raw["target_pose_keypoints"] = keypoints
        # Unused by the pipeline at inference (see the module docstring); pruned from the graph.
        raw["source_pose_keypoints"] = tf.zeros_like(keypoints)
        model_inputs = transforms.preprocess(raw, self.height, self.width, self.pose_radius,
                                             self.shape_downsample)
        outputs = self._core.obj({key: model_inputs[key] for key in MODEL_INPUT_KEYS})
        result = {
            "tryon_image": to_uint8_image(outputs["final"]),
            "parsing_labels": tf.cast(tf.argmax(outputs["parsing"], axis=-1), tf.uint8),
        }
        if self.include_intermediates:
            for key in INTERMEDIATE_KEYS:
                result[key] = tf.identity(outputs[key])
        return result

    def _serve_arrays(self, person_image, cloth_image, cloth_mask, person_parsing, target_pose_keypoints):
        return self._run({"person_image": person_image, "cloth_image": cloth_image, "cloth_mask": cloth_mask,
                          "person_parsing": person_parsing, "target_pose_keypoints": target_pose_keypoints})

    def _serve_bytes(self, person_image, cloth_image, cloth_mask, person_parsing, target_pose_keypoints):
        batch = tf.shape(person_image)[0]
        checks = [assert_that(batch >= 1, "person_image: batch size must be at least 1, got", batch),
                  assert_that(tail_equals(target_pose_keypoints, (NUM_KEYPOINTS, 3)),
                               f"target_pose_keypoints must have shape [batch, {NUM_KEYPOINTS}, 3] (OpenPose COCO-18 "
                               "joints x (x, y, confidence)), got shape", tf.shape(target_pose_keypoints))]
        for name, tensor in (("cloth_image", cloth_image), ("cloth_mask", cloth_mask),
                             ("person_parsing", person_parsing), ("target_pose_keypoints", target_pose_keypoints)):
            checks.append(assert_that(tf.equal(tf.shape(tensor)[0], batch),
                                       f"{name}: batch size differs from that of person_image; got",
                                       tf.shape(tensor)[0], "and", batch))
        with tf.control_dependencies(checks):
            keypoints = tf.ensure_shape(target_pose_keypoints, [None, NUM_KEYPOINTS, 3])
        # Checked before the per-image scaling too, so the limit means pixels of the sent photo.
        in_range = assert_that(tf.logical_not(tf.reduce_any(tf.abs(keypoints[..., :2]) > MAX_KEYPOINT_COORD)),
                                f"target_pose_keypoints: x and y must be within +-{MAX_KEYPOINT_COORD:g} pixels "
                                "(docs/inputs.md); largest", tf.reduce_max(tf.abs(keypoints[..., :2])))
        with tf.control_dependencies([in_range]):
            person, keypoints, person_hw = self._decode_batch(person_image, "person_image", "photo", keypoints)
            cloth, _, cloth_hw = self._decode_batch(cloth_image, "cloth_image", "photo")
            mask, _, mask_hw = self._decode_batch(cloth_mask, "cloth_mask", "mask")
            parsing, _, parsing_hw = self._decode_batch(person_parsing, "person_parsing", "labels")
        # Each image is resized on its own here, so the same-size rule is checked on the declared sizes.
        same = [assert_that(tf.reduce_all(tf.equal(parsing_hw, person_hw)),
                             "person_parsing must have the height and width of person_image; got", parsing_hw, "and",
                             person_hw),
                assert_that(tf.reduce_all(tf.equal(mask_hw, cloth_hw)),
                             "cloth_mask must have the height and width of cloth_image; got", mask_hw, "and", cloth_hw)]
        with tf.control_dependencies(same):
            person = tf.identity(person)
        # Calls the traced array signature: the pipeline graph exists once in the
        # SavedModel (a function call), which halves export, load and warm-up time.
        return self.serve_arrays(person, cloth, mask, parsing, keypoints)

    # === Decoding ===
    def _decode_batch(self, encoded, name: str, kind: str, keypoints=None):
        """Decodes a batch of images of any size to the model size (a batch needs one shape).

        The resize happens per image here instead of in `preprocess`, so the
        person photo's keypoints are scaled here too, with `transforms.scale_keypoints`.
        """
        h, w = self.height, self.width

        def decode(args):
            data, points = args
            image, size = decode_checked(data, name, kind, self.max_image_bytes, self.max_image_pixels)
            if kind == "labels":
                image = transforms.fit_labels(image, h, w)
            elif kind == "mask":
                image = transforms.fit_image(image, h, w, method="nearest")
            else:
                image = transforms.fit_image(image, h, w)
            return image, transforms.scale_keypoints(points, size, h, w), size

        if keypoints is None:  # a placeholder per example keeps one map_fn signature
            keypoints = tf.zeros([tf.shape(encoded)[0], NUM_KEYPOINTS, 3], tf.float32)
        shape = {"photo": [h, w, 3], "mask": [h, w, 1], "labels": [h, w]}[kind]
        return tf.map_fn(decode, (encoded, keypoints), fn_output_signature=(
            tf.TensorSpec(shape, tf.uint8), tf.TensorSpec([NUM_KEYPOINTS, 3], tf.float32),
            tf.TensorSpec([2], tf.int32)))


def export_saved_model(pipeline, config, out_dir: str, model_name: str = "tfvton", version: int = 1,
                       include_intermediates: bool = False, max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
                       max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS, warmup: bool = True,
                       warmup_batch_sizes=(1,), overwrite: bool = False, freeze: bool = True) -> str:
    """Writes `pipeline` as a TF-Serving model version `out_dir/<model_name>/<version>/`.

    The version is written to a non-numeric staging directory and renamed into
    place when complete: TF-Serving polls the model directory and would try to
    load a half-written numeric directory.

    Args:
        pipeline: a built `TryOnPipeline` (e.g. from `tfvton.run_dir.RunDir.load_pipeline`).
        config: the run's `Config` (model size, pose radius, body-shape blur).
        out_dir: parent of the model base directory (TF-Serving's `base_path`
            is `out_dir/<model_name>`).
        model_name: the served model name.
        version: positive integer; TF-Serving serves the highest by default.
        include_intermediates: add `warped_cloth`, `coarse`, `composition_mask`,
            `tryon`, `final` (float32) to both signatures' outputs.
        max_image_bytes: largest encoded image `predict_bytes` accepts.
        max_image_pixels: largest declared height * width `predict_bytes` decodes.
        warmup: write `assets.extra/tf_serving_warmup_requests`.
        warmup_batch_sizes: batch sizes to warm up (one request per signature each).
        overwrite: replace an existing version directory.
        freeze: save the networks frozen (the default, faster to
            serve) rather than as variables (`ServingModule`).

    Returns:
        The version directory.

    Example:
        >>> pipeline = RunDir("runs/paper").load_pipeline()
        >>> export_saved_model(pipeline, config, "models", version=1)
        'models/tfvton/1'
    """
    from tfvton.config import save_config

    if int(version) <= 0:
        raise ValueError(f"export_saved_model: version must be a positive integer, got {version!r}")
    if not callable(pipeline):
        raise TypeError(f"export_saved_model: pipeline must be a TryOnPipeline, got {type(pipeline).__name__}")
    height, width = config.data.height, config.data.width
    model_dir = os.path.join(out_dir, model_name)
    final_dir = os.path.join(model_dir, str(int(version)))
    if os.path.exists(final_dir) and not overwrite:
        raise FileExistsError(f"{final_dir}: version {version} of model {model_name!r} exists; "
                              "pick another version or pass overwrite")
    os.makedirs(model_dir, exist_ok=True)

    module = ServingModule(pipeline, height, width, config.data.pose_radius, config.data.shape_downsample,
                           include_intermediates, max_image_bytes, max_image_pixels, freeze)
    signatures = {
        "serving_default": module.serve_arrays.get_concrete_function(),
        "predict_bytes": module.serve_bytes.get_concrete_function(),
    }
    staging = tempfile.mkdtemp(prefix=f".staging-{int(version)}-", dir=model_dir)
    os.chmod(staging, 0o755)  # mkdtemp makes it private; the server may run as another user
    try:
        tf.saved_model.save(module, staging, signatures=signatures)
        save_config(config, os.path.join(staging, CONFIG_ASSET))
        if warmup:
            warmup_lib.write_warmup_file(staging, model_name, height, width, batch_sizes=warmup_batch_sizes)
        if os.path.exists(final_dir):
            shutil.rmtree(final_dir)
        os.replace(staging, final_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final_dir


def load_exported_config(version_dir: str):
    """The `Config` written next to an exported version (for clients and TFLite export)."""
    from tfvton.config import load_config

    return load_config(os.path.join(version_dir, CONFIG_ASSET))
