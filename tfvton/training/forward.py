"""The forward pieces the stage trainers share, step by step as `TryOnPipeline` chains them.

Each function takes a batch dict (keys as `tfvton.data.MPVDataset` names them,
see docs/architecture.md) and the networks it needs, so a stage can run some
networks frozen (`training=False`) and others in training mode. A test checks
that chaining them in inference mode gives `TryOnPipeline`'s outputs.
"""
from __future__ import annotations

from typing import Dict

import tensorflow as tf

from tfvton.data import transforms


def gmm_agnostic(batch) -> tf.Tensor:
    """Cloth-agnostic person for the GMM: body shape (1), head (3), target pose (18) = 22 channels."""
    return tf.concat([batch["source_shape"], batch["source_head"], batch["target_pose"]], axis=-1)


def warp_cloth(gmm, batch, training: bool, padding_mode: str = "border") -> Dict[str, tf.Tensor]:
    """Runs the GMM and warps the in-shop cloth.

    Args:
        gmm: the `GMM` network.
        batch: needs `source_shape`, `source_head`, `target_pose`, `cloth_image`.
        training: GMM mode (batch norm statistics).
        padding_mode: `zeros` as the official GMM training forward (`F.grid_sample`
            default), `border` as its offline warping and inference.
    Returns:
        dict: `grid`, `theta`, `warped_cloth`.
    """
    cloth = batch["cloth_image"]
    grid, theta = gmm((gmm_agnostic(batch), cloth), training=training)
    warped = gmm.warp(cloth, tf.cast(grid, cloth.dtype), padding_mode=padding_mode)
    return {"grid": grid, "theta": theta, "warped_cloth": warped}


def parsing_input(batch) -> tf.Tensor:
    """Parsing U-Net input: source parse without 5, 6, 7 (17), target pose (18), cloth mask (1) = 36."""
    return tf.concat([transforms.remove_cloth_channels(batch["source_parse"]), batch["target_pose"],
                      batch["cloth_mask"]], axis=-1)


def generate_parsing(parsing_generator, batch, training: bool) -> Dict[str, tf.Tensor]:
    """Parsing U-Net forward.

    Returns:
        dict: `parsing_input` (36 ch), `parsing_scores` (the U-Net's tanh outputs),
        `parsing` (softmax probabilities, float32), `parsing_onehot` (one-hot arg-max,
        no gradient).
    """
    x = parsing_input(batch)
    scores = parsing_generator(x, training=training)
    probabilities = tf.nn.softmax(tf.cast(scores, tf.float32), axis=-1)
    onehot = tf.one_hot(tf.argmax(probabilities, axis=-1), probabilities.shape[-1], dtype=tf.float32)
    return {"parsing_input": x, "parsing_scores": scores, "parsing": probabilities,
            "parsing_onehot": onehot}


def render_appearance(appearance_generator, batch, warped_cloth, parsing, training: bool) -> Dict[str, tf.Tensor]:
    """Tree-Block appearance generator: coarse render, composition mask, try-on.

    Args:
        appearance_generator: the 26 -> 4 channel generator (raw outputs).
        batch: needs `source_image`, `source_parse`.
        warped_cloth: (B, H, W, 3) from `warp_cloth`.
        parsing: (B, H, W, 20) parsing probabilities (the official feeds the
            softmax, not the arg-max).
        training: generator mode (dropout).
    Returns:
        dict: `appearance_input`, `coarse` (tanh), `composition_mask` (sigmoid),
        `tryon` = warped * M + coarse * (1 - M), all float32.
    """
    source_image = batch["source_image"]
    x = tf.concat([transforms.image_without_cloth(source_image, batch["source_parse"]),
                   tf.cast(warped_cloth, source_image.dtype), tf.cast(parsing, source_image.dtype)], axis=-1)
    raw = tf.cast(appearance_generator(x, training=training), tf.float32)
    coarse = tf.tanh(raw[..., :3])
    mask = tf.sigmoid(raw[..., 3:4])
    warped = tf.cast(warped_cloth, tf.float32)
    tryon = warped * mask + coarse * (1.0 - mask)
    return {"appearance_input": x, "coarse": coarse, "composition_mask": mask, "tryon": tryon}


def refine_face(face_generator, source_image, source_parse, image, face_parse, training: bool):
    """Face refinement inside the face region of `face_parse`.

    Args:
        face_generator: the 6 -> 3 channel generator (tanh).
        source_image: (B, H, W, 3) person photo.
        source_parse: its one-hot parsing (source face mask).
        image: the try-on image to refine.
        face_parse: one-hot parsing that locates the face in `image` (generated
            arg-max at inference and in the joint stage; the target parse in the
            official face stage).
        training: generator mode.
    Returns:
        dict: `face_mask`, `source_face`, `image_face` (the face cut from `image`),
        `face` (generator output times the face mask), `final` = image - image_face + face.
    """
    face_mask = tf.cast(transforms.part_mask(face_parse, transforms.FACE_LABELS), tf.float32)
    source_face = tf.cast(source_image, tf.float32) * tf.cast(
        transforms.part_mask(source_parse, transforms.FACE_LABELS), tf.float32)
    image = tf.cast(image, tf.float32)
    image_face = image * face_mask
    x = tf.concat([source_face, image_face], axis=-1)
    face = tf.cast(face_generator(tf.cast(x, source_image.dtype), training=training), tf.float32) * face_mask
    return {"face_mask": face_mask, "source_face": source_face, "image_face": image_face, "face": face,
            "final": image - image_face + face}
