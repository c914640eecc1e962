"""The try-on forward pass, one step per function: the one home of the chaining.

`TryOnPipeline.call` (inference and export) and every stage trainer's
`generate` call these functions, so what a stage trains is what the pipeline
serves. Each function takes a batch dict (keys as `tfvton.data.MPVDataset`
names them, see docs/architecture.md) and the networks it needs, so a stage can
run some networks frozen (`training=False`) and others in training mode.

Face refinement has two modes (config `model.face_mode`): `full`, the
official model, runs the face generator on the whole frame; `crop` runs it on
a `model.face_crop` square around each face (`tfvton.layers.FaceCrop`).
`face_refiner` builds the crop wrapper (None in `full` mode); `refine_face` runs either.
"""
from __future__ import annotations

from typing import Dict, Optional

import tensorflow as tf

from tfvton.data import transforms
from tfvton.layers.face_crop import FaceCrop

FACE_MODES = ("full", "crop")


def gmm_agnostic(batch, target_cloth=None) -> tf.Tensor:
    """Cloth-agnostic person for the GMM: body shape (1), head (3), target pose (18) = 22 channels.

    With `target_cloth` ((B, H, W, 1) in {0, 1}), its [-1, 1] version is the 23rd
    channel (`model.gmm_condition: target_cloth`).
    """
    parts = [batch["source_shape"], batch["source_head"], batch["target_pose"]]
    if target_cloth is not None:
        # [-1, 1] as the body shape channel beside it.
        parts.append(tf.cast(target_cloth, parts[0].dtype) * 2.0 - 1.0)
    return tf.concat(parts, axis=-1)


def cloth_region(parsing_onehot) -> tf.Tensor:
    """The cloth region (labels 5, 6, 7) of a one-hot parsing: (B, H, W, 1) in {0, 1}."""
    return transforms.part_mask(parsing_onehot, transforms.CLOTH_LABELS)


def clip_to_region(cloth_image, region) -> tf.Tensor:
    """A cloth image on white cut to a region: the image inside, white (1.0) outside."""
    region = tf.cast(region, cloth_image.dtype)
    return cloth_image * region + (1.0 - region)


def warp_cloth(gmm, batch, training: bool, padding_mode: str = "border", target_cloth=None) -> Dict[str, tf.Tensor]:
    """Runs the GMM and warps the in-shop cloth.

    Args:
        gmm: the `GMM` network.
        batch: needs `source_shape`, `source_head`, `target_pose`, `cloth_image`.
        training: GMM mode (batch norm statistics).
        padding_mode: `zeros` as the official GMM training forward (`F.grid_sample`
            default), `border` as its offline warping and inference.
        target_cloth: the target's cloth region, (B, H, W, 1) in {0, 1}; required by
            (and only given to) a GMM that conditions on it (`gmm.conditions_on_target_cloth`).
    Returns:
        dict: `grid`, `theta`, `warped_cloth`.
    """
    cloth = tf.convert_to_tensor(batch["cloth_image"])
    if gmm.conditions_on_target_cloth != (target_cloth is not None):
        raise ValueError("warp_cloth: a GMM built with model.gmm_condition=target_cloth needs target_cloth, "
                         "an official GMM takes none. Received: "
                         f"conditions_on_target_cloth={gmm.conditions_on_target_cloth}, "
                         f"target_cloth={'given' if target_cloth is not None else 'None'}")
    grid, theta = gmm((gmm_agnostic(batch, target_cloth), cloth), training=training)
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
    return {"parsing_input": x, "parsing_scores": scores, "parsing": probabilities,
            "parsing_onehot": onehot_argmax(probabilities)}


def onehot_argmax(probabilities) -> tf.Tensor:
    """float32 one-hot of the arg-max over the last axis (the first maximum on ties).

    Rows of an identity matrix gathered at the arg-max: the same values as
    `tf.one_hot`, but in a TFLite model ONE_HOT is a reference kernel (about
    2 ms at 256x192x20) and has a wrong int8 kernel, where this gather copies
    rows (0.4 ms). A bare `tf.argmax` (not `keras.ops.argmax`, whose -0.0
    fix-up has no TFLite kernel): probabilities are never -0.0.
    """
    index = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
    return tf.gather(tf.eye(probabilities.shape[-1], dtype=tf.float32), index, name="onehot_argmax")


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
    render, mask_score = tf.split(raw, [3, 1], axis=-1)
    coarse = tf.tanh(render)
    mask = tf.sigmoid(mask_score)
    warped = tf.cast(warped_cloth, tf.float32)
    tryon = warped * mask + coarse * (1.0 - mask)
    return {"appearance_input": x, "coarse": coarse, "composition_mask": mask, "tryon": tryon}


def render_tryon(batch, gmm, parsing_generator, appearance_generator, gmm_training=False,
                 parsing_training=False, appearance_training=False) -> Dict[str, tf.Tensor]:
    """Steps 1-3 chained: `generate_parsing`, `warp_cloth` (border padding), `render_appearance`.

    Each network has its own mode, so a stage can train some and run the others frozen.
    A GMM conditioned on the target cloth gets the predicted parsing's cloth region
    (arg-max), so every stage after the GMM's own trains on what inference gives it;
    with `gmm.clip_to_parsing` the warped cloth is cut to that region (white outside).

    Returns:
        the three steps' dicts merged (`warped_cloth`, `parsing`, `parsing_onehot`,
        `coarse`, `composition_mask`, `tryon`, ...).
    """
    parsing = generate_parsing(parsing_generator, batch, training=parsing_training)
    region = None
    if gmm.conditions_on_target_cloth or gmm.clip_to_parsing:
        region = cloth_region(parsing["parsing_onehot"])
    target_cloth = region if gmm.conditions_on_target_cloth else None
    outputs = warp_cloth(gmm, batch, training=gmm_training, padding_mode="border", target_cloth=target_cloth)
    if gmm.clip_to_parsing:
        outputs["warped_cloth"] = clip_to_region(outputs["warped_cloth"], region)
    outputs.update(parsing)
    outputs.update(render_appearance(appearance_generator, batch, outputs["warped_cloth"], outputs["parsing"],
                                     training=appearance_training))
    return outputs


def face_refiner(face_generator, face_mode: str = "full", face_crop: int = 64) -> Optional[FaceCrop]:
    """The crop wrapper `refine_face` runs in `crop` mode, None in `full` mode.

    Args:
        face_generator: the 6 -> 3 channel generator (tanh).
        face_mode: `full` (official: the whole frame) or `crop` (a square
            around each face; config `model.face_mode`).
        face_crop: the crop side in `crop` mode (config `model.face_crop`).
    Returns:
        `FaceCrop(face_generator, face_crop)` (same variables) in `crop` mode,
        None in `full` mode.
    """
    if face_mode not in FACE_MODES:
        raise ValueError(f"face_mode must be 'full' or 'crop'. Received: face_mode={face_mode!r}")
    if face_mode == "crop":
        return FaceCrop(face_generator, int(face_crop), name="face_crop")
    return None


def face_region(parse) -> tf.Tensor:
    """float32 (B, H, W, 1) mask of the face labels (1, 2, 4, 13) of a one-hot parsing."""
    return tf.cast(transforms.part_mask(parse, transforms.FACE_LABELS), tf.float32)


def refine_face(face_generator, source_image, source_parse, image, face_parse, training: bool,
                refiner: Optional[FaceCrop] = None):
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
        refiner: `face_refiner(face_generator, "crop", ...)` to run the generator
            on crops around the faces; None runs it on the whole frame.
    Returns:
        dict: `face_mask`, `source_face`, `image_face` (the face cut from `image`),
        `face` (generator output times the face mask), `final` = image - image_face + face.
    """
    face_mask = face_region(face_parse)
    source_face_mask = face_region(source_parse)
    source_face = tf.cast(source_image, tf.float32) * source_face_mask
    image = tf.cast(image, tf.float32)
    image_face = image * face_mask
    x = tf.cast(tf.concat([source_face, image_face], axis=-1), source_image.dtype)
    if refiner is not None:
        # The crop boxes come from the two masks, not from the non-zero pixels of the faces.
        output = refiner(x, source_mask=source_face_mask, target_mask=face_mask, training=training)
    else:
        output = face_generator(x, training=training)
    face = tf.cast(output, tf.float32) * face_mask
    return {"face_mask": face_mask, "source_face": source_face, "image_face": image_face, "face": face,
            "final": image - image_face + face}
