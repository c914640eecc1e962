"""Face refinement on a fixed-size crop around the face instead of the whole frame.

The official face generator runs on the full 256x192 frame (213 GFLOPs at the
paper's widths) although the face covers a few percent of it. `FaceCrop`
wraps a face generator: it cuts a `crop_size` square around the SOURCE face
from the source-face channels and one around the GENERATED face from the
try-on-face channels, runs the generator on the two aligned crops, and pastes
its output back at the generated face's position. Outside the pasted square
it returns the try-on face channels unchanged, so the pipeline's
`final = tryon - tryon_face + face_output * face_mask` leaves the image as
it was there.

This is a DIFFERENT model from the official full-frame refinement: instance
norm statistics over a crop are not those over the frame, so official
weights are not expected to give the same faces. It is for face generators
trained with the same crop (`model.face_mode: crop`).

Its input is the face generator's own input, (B, H, W, 6) = [source face (3),
try-on face (3)], both images times a face mask (zero outside). The face
boxes (centred on each face's centroid) come from the non-zero pixels of each half, so `FaceCrop(generator)`
drops in where the generator was (`TryOnPipeline(..., face_generator=
FaceCrop(face_generator))`); explicit masks can be passed instead.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def mask_from_image(image):
    """(B, H, W, 1) float mask of the pixels where any channel of `image` is non-zero.

    The pipeline's face images are images times a binary mask; an image value
    of exactly 0 inside the mask does not occur for decoded uint8 photos
    (v / 127.5 - 1 is never 0) and only moves the box by that pixel otherwise.
    """
    return tf.cast(tf.reduce_any(tf.not_equal(image, 0), axis=-1, keepdims=True), image.dtype)


def box_offsets(mask, crop_height: int, crop_width: int):
    """Top-left corner (B, 2) int32 of a crop_height x crop_width box centred on each mask's centroid.

    The centroid, not the bounding box: a few stray mask pixels (arg-max flips of a
    quantised parsing, say) move a bounding box by up to half the image but the
    centroid by a fraction of a pixel, so the crop (and the pasted face) stays put.
    Integer arithmetic throughout (exact, and never quantised in an int8 model).
    The box is clamped inside the image. An empty mask gives the centred box.

    Args:
        mask: (B, H, W, 1) (or (B, H, W)) mask, > 0.5 inside.
        crop_height, crop_width: box size, at most H and W.
    """
    mask = tf.convert_to_tensor(mask)
    if mask.shape.rank == 4:
        mask = mask[..., 0]
    height, width = mask.shape[1], mask.shape[2]
    if crop_height > height or crop_width > width:
        raise ValueError(f"box_offsets: the crop must fit in the image ({height}x{width}). "
                         f"Received: crop {crop_height}x{crop_width}")
    inside = tf.cast(mask > 0.5, tf.int32)
    count = tf.reduce_sum(inside, axis=[1, 2])  # (B,)
    offsets = []
    for axis, size, crop in ((2, height, crop_height), (1, width, crop_width)):
        per_line = tf.reduce_sum(inside, axis=axis)  # (B, size): pixels per row (axis 2 summed) or column
        total = tf.reduce_sum(per_line * tf.range(size, dtype=tf.int32)[None], axis=1)
        # Pixel i spans [i, i + 1): centroid c = total / count + 1/2; start = round(c - crop / 2)
        # = floor((2 * total + count * (2 - crop)) / (2 * count)).
        start = tf.math.floordiv(2 * total + count * (2 - crop), tf.maximum(2 * count, 1))
        start = tf.where(count > 0, start, tf.fill(tf.shape(start), (size - crop) // 2))
        offsets.append(tf.clip_by_value(start, 0, size - crop))
    return tf.stack(offsets, axis=1)


def crop_at(images, offsets, crop_height: int, crop_width: int):
    """(B, crop_height, crop_width, C) windows of `images` at per-sample `offsets` (B, 2) [top, left].

    Two batched gathers (rows, then columns): exact copies, TFLite builtins.
    """
    rows = offsets[:, :1] + tf.range(crop_height, dtype=tf.int32)[None]
    cols = offsets[:, 1:] + tf.range(crop_width, dtype=tf.int32)[None]
    out = tf.gather(images, rows, axis=1, batch_dims=1)
    return tf.gather(out, cols, axis=2, batch_dims=1)


def paste_at(background, crops, offsets):
    """`background` (B, H, W, C) with `crops` (B, h, w, C) written at `offsets` (B, 2) [top, left].

    Every output pixel gathers its crop pixel (clamped index) and keeps it
    inside the box, the background outside: no scatter, TFLite builtins.
    """
    height, width = background.shape[1], background.shape[2]
    crop_height, crop_width = crops.shape[1], crops.shape[2]
    rows = tf.range(height, dtype=tf.int32)[None] - offsets[:, :1]  # (B, H) row inside the crop
    cols = tf.range(width, dtype=tf.int32)[None] - offsets[:, 1:]
    spread = tf.gather(crops, tf.clip_by_value(rows, 0, crop_height - 1), axis=1, batch_dims=1)
    spread = tf.gather(spread, tf.clip_by_value(cols, 0, crop_width - 1), axis=2, batch_dims=1)
    inside_rows = (rows >= 0) & (rows < crop_height)
    inside_cols = (cols >= 0) & (cols < crop_width)
    inside = inside_rows[:, :, None, None] & inside_cols[:, None, :, None]
    return tf.where(inside, tf.cast(spread, background.dtype), background)


@keras.saving.register_keras_serializable(package="tfvton")
class FaceCrop(keras.layers.Layer):
    """Runs a face generator on fixed-size crops around the faces and pastes its output back.

    Args:
        generator: the face generator (6 -> 3 channels), e.g. a `TreeGenerator`.
            Its weights stay its own (same variables, same paths).
        crop_size: side of the square crop; a multiple of 4 and at least 20
            (the Tree-Block's reflection pad of 4 at 1/4 resolution). 64 covers
            the faces of 256x192 MPV images with a margin.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call args:
        inputs: (B, H, W, 6) face-generator input [source face, try-on face].
        source_mask, target_mask: optional (B, H, W, 1) masks of the two faces;
            derived from the non-zero pixels of each half when omitted.
        training: forwarded to the generator.

    Returns:
        (B, H, W, 3): the generator's output inside the pasted box, the try-on
        face channels elsewhere.

    Example:
        >>> refine = FaceCrop(face_generator, crop_size=64)
        >>> face_output = refine(ops.concatenate([source_face, tryon_face], -1))
    """

    def __init__(self, generator, crop_size: int = 64, **kwargs):
        super().__init__(**kwargs)
        if int(crop_size) != crop_size or crop_size < 20 or crop_size % 4:
            raise ValueError(f"FaceCrop: crop_size must be a multiple of 4 and >= 20. "
                             f"Received: crop_size={crop_size!r}")
        self.generator = generator
        self.crop_size = int(crop_size)

    def build(self, input_shape):
        # Nothing to create: the generator builds itself on its first (cropped) call.
        self.built = True

    def call(self, inputs, source_mask=None, target_mask=None, training=None):
        source_face, tryon_face = inputs[..., :3], inputs[..., 3:6]
        if source_mask is None:
            source_mask = mask_from_image(source_face)
        if target_mask is None:
            target_mask = mask_from_image(tryon_face)
        size = self.crop_size
        source_at = box_offsets(source_mask, size, size)
        target_at = box_offsets(target_mask, size, size)
        crops = tf.concat([crop_at(source_face, source_at, size, size),
                           crop_at(tryon_face, target_at, size, size)], axis=-1)
        refined = self.generator(crops, training=training)
        return paste_at(tf.cast(tryon_face, refined.dtype), refined, target_at)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (3,)

    def get_config(self):
        config = super().get_config()
        config.update({"generator": keras.saving.serialize_keras_object(self.generator),
                       "crop_size": self.crop_size})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        return cls(**config)
