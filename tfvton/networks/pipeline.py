"""The try-on inference pipeline: GMM -> parsing -> appearance -> face refinement.

`TryOnPipeline` chains the four generators exactly as the official release's
`demo.py` forward does, so the official checkpoints (converted with
`tfvton.convert.load_official`) reproduce the official results:

1. GMM on the cloth-agnostic person [body shape (1), head (3), target pose (18)]
   and the in-shop cloth -> thin-plate-spline grid -> warped cloth (bilinear,
   align_corners=True, border padding: PyTorch 0.4.1's `grid_sample`).
2. Parsing U-Net on [source parsing without the cloth labels 5, 6, 7 (17),
   target pose (18), cloth mask (1)] -> tanh outputs -> softmax -> `parsing`.
3. Tree-Block appearance generator on [source image with the cloth pixels set
   to 0 (3), warped cloth (3), parsing probabilities (20)] -> render =
   tanh(first 3 channels), composition mask M = sigmoid(4th channel),
   tryon = warped cloth * M + render * (1 - M).
4. Face generator on [source face (3), tryon face (3)], where the faces are the
   images times the face mask (labels 1, 2, 4, 13): the source face from the
   source parsing, the tryon face from the one-hot argmax of the generated
   parsing; final = (tryon - tryon face) + face output * face mask.
   With `face_mode='crop'` (not the official model: for face generators
   trained that way) the face generator runs on `face_crop`-pixel squares
   around the two faces and its output is pasted back (`FaceCrop`).
"""
from __future__ import annotations

import keras
from keras import ops

from tfvton.data import transforms
from tfvton.layers.face_crop import FaceCrop

# Inputs the pipeline reads, named as `tfvton.data.MPVDataset` names them.
INPUT_KEYS = ("source_image", "source_parse", "source_shape", "source_head", "target_pose",
              "cloth_image", "cloth_mask")


@keras.saving.register_keras_serializable(package="tfvton")
class TryOnPipeline(keras.Model):
    """The four generators chained as the official `demo.py` forward.

    Args:
        gmm: the geometric matching module, called on `(agnostic, cloth)` and
            returning `(grid, theta)`.
        parsing_generator: the parsing U-Net (36 -> 20 channels, tanh outputs).
        appearance_generator: the Tree-Block generator (26 -> 4 channels, raw).
        face_generator: the Tree-Block generator (6 -> 3 channels, tanh).
        face_mode: `full` (official: the face generator sees the whole frame)
            or `crop` (it sees a `face_crop` square around each face;
            `tfvton.layers.FaceCrop`; config `model.face_mode`).
        face_crop: the crop side for `face_mode='crop'` (config `model.face_crop`).
        **kwargs: passed to `keras.Model` (e.g. `name`).

    Call args:
        inputs: dict of batched NHWC float32 tensors: `source_image` (3, [-1, 1]),
            `source_parse` (20, one-hot), `source_shape` (1), `source_head` (3),
            `target_pose` (18), `cloth_image` (3), `cloth_mask` (1, {0, 1}).
            Other keys are ignored.
        training: forwarded to the sub-networks (dropout, batch norm).

    Returns:
        dict of tensors: `warped_cloth` (B,H,W,3), `parsing` (B,H,W,20
        probabilities), `coarse` (B,H,W,3, the rendered person), `composition_mask`
        (B,H,W,1), `tryon` (B,H,W,3, before face refinement), `final` (B,H,W,3),
        `face_mask` (B,H,W,1, from the generated parsing), `grid` (B,H,W,2) and
        `theta` (B, 2*G*G).

    Example:
        >>> from tfvton.networks.factory import build_pipeline
        >>> pipeline = build_pipeline(load_config("smoke"))
        >>> outputs = pipeline(batch)  # batch from MPVDataset(...).batch(n)
        >>> outputs["final"].shape
    """

    def __init__(self, gmm, parsing_generator, appearance_generator, face_generator, face_mode: str = "full",
                 face_crop: int = 64, **kwargs):
        super().__init__(**kwargs)
        if face_mode not in ("full", "crop"):
            raise ValueError(f"TryOnPipeline: face_mode must be 'full' or 'crop', got {face_mode!r} "
                             "(tfvton/networks/pipeline.py)")
        # === Sub-networks ===
        self.gmm = gmm
        self.parsing_generator = parsing_generator
        self.appearance_generator = appearance_generator
        self.face_generator = face_generator
        self.face_mode = face_mode
        self.face_crop = int(face_crop)
        self.face_refiner = FaceCrop(face_generator, self.face_crop, name="face_crop") if face_mode == "crop" else None

    def call(self, inputs, training=None):
        missing = [key for key in INPUT_KEYS if key not in inputs]
        if missing:
            raise KeyError(f"TryOnPipeline: input dict lacks {', '.join(missing)}; "
                           f"expected keys {', '.join(INPUT_KEYS)} (tfvton/networks/pipeline.py)")
        source_image = inputs["source_image"]
        source_parse = inputs["source_parse"]
        cloth_image = inputs["cloth_image"]

        # 1. Geometric matching (official utils/warp_image.py: agnostic = shape, head, pose).
        agnostic = ops.concatenate(
            [inputs["source_shape"], inputs["source_head"], inputs["target_pose"]], axis=-1)
        grid, theta = self.gmm((agnostic, cloth_image), training=training)
        warped_cloth = self.gmm.warp(cloth_image, grid)

        # 2. Parsing: the U-Net ends in tanh; demo.py applies the softmax on top of it.
        parsing_input = ops.concatenate(
            [transforms.remove_cloth_channels(source_parse), inputs["target_pose"],
             inputs["cloth_mask"]], axis=-1)
        parsing = ops.softmax(self.parsing_generator(parsing_input, training=training), axis=-1)
        num_labels = parsing.shape[-1]
        parsing_onehot = ops.one_hot(ops.argmax(parsing, axis=-1), num_labels, dtype=parsing.dtype)

        # 3. Appearance: the probabilities (not the argmax) go in, as in demo.py.
        appearance_input = ops.concatenate(
            [transforms.image_without_cloth(source_image, source_parse), warped_cloth, parsing],
            axis=-1)
        appearance = self.appearance_generator(appearance_input, training=training)
        coarse = ops.tanh(appearance[..., :3])
        composition_mask = ops.sigmoid(appearance[..., 3:4])
        tryon = warped_cloth * composition_mask + coarse * (1.0 - composition_mask)

        # 4. Face refinement, only inside the generated face region.
        face_mask = transforms.part_mask(parsing_onehot, transforms.FACE_LABELS)
        source_face_mask = transforms.part_mask(source_parse, transforms.FACE_LABELS)
        source_face = source_image * source_face_mask
        tryon_face = tryon * face_mask
        face_input = ops.concatenate([source_face, tryon_face], axis=-1)
        if self.face_refiner is not None:
            face_output = self.face_refiner(face_input, source_mask=source_face_mask, target_mask=face_mask,
                                            training=training)
        else:
            face_output = self.face_generator(face_input, training=training)
        final = (tryon - tryon_face) + face_output * face_mask

        return {
            "warped_cloth": warped_cloth,
            "parsing": parsing,
            "coarse": coarse,
            "composition_mask": composition_mask,
            "tryon": tryon,
            "final": final,
            "face_mask": face_mask,
            "grid": grid,
            "theta": theta,
        }

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update({
            name: keras.saving.serialize_keras_object(getattr(self, name))
            for name in ("gmm", "parsing_generator", "appearance_generator", "face_generator")
        })
        config.update({"face_mode": self.face_mode, "face_crop": self.face_crop})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("gmm", "parsing_generator", "appearance_generator", "face_generator"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
