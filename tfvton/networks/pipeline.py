"""The try-on inference pipeline: GMM -> parsing -> appearance -> face refinement.

`TryOnPipeline` chains the four generators exactly as the official release's
`demo.py` forward does, so the official checkpoints (converted with
`tfvton.convert.load_official`) reproduce the official results:

1. GMM on the cloth-agnostic person [body shape (1), head (3), target pose (18)]
   and the in-shop cloth -> thin-plate-spline grid -> warped cloth (bilinear,
   align_corners=True, border padding: PyTorch 0.4.1's `grid_sample`).
2. Parsing U-Net on [source parsing without the cloth labels 5, 6, 7 (17),
   target pose (18), cloth mask (1)] -> tanh outputs -> softmax -> `parsing`.
   (Steps 1 and 2 are independent; `forward.render_tryon` runs 2 first, because
   the two non-official GMM switches, `model.gmm_condition: target_cloth` and
   `model.clip_warp_to_parsing`, use its cloth region.)
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

from tfvton.networks import forward

# Inputs the pipeline reads, named as `tfvton.data.MPVDataset` names them.
INPUT_KEYS = ("source_image", "source_parse", "source_shape", "source_head", "target_pose",
              "cloth_image", "cloth_mask")
# What `call` returns (the forward functions compute more, e.g. the networks' inputs).
OUTPUT_KEYS = ("warped_cloth", "parsing", "coarse", "composition_mask", "tryon", "final", "face_mask", "grid",
               "theta")


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
        face_refinement: run the face generator (config `model.face_refinement`);
            false is the "w/o face refinement" model: `final` is `tryon` and the
            face generator, which such a model never trained, is not run.
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
                 face_crop: int = 64, face_refinement: bool = True, **kwargs):
        super().__init__(**kwargs)
        # === Sub-networks ===
        self.gmm = gmm
        self.parsing_generator = parsing_generator
        self.appearance_generator = appearance_generator
        self.face_generator = face_generator
        self.face_mode = face_mode
        self.face_crop = int(face_crop)
        self.face_refinement = bool(face_refinement)
        self.face_refiner = forward.face_refiner(face_generator, face_mode, self.face_crop)

    def call(self, inputs, training=None):
        missing = [key for key in INPUT_KEYS if key not in inputs]
        if missing:
            raise KeyError(f"TryOnPipeline: the input dict lacks {', '.join(missing)}. "
                           f"Expected keys: {', '.join(INPUT_KEYS)}")
        # The steps live in `tfvton.networks.forward`, which the stage trainers call too.
        outputs = forward.render_tryon(inputs, self.gmm, self.parsing_generator, self.appearance_generator,
                                       training, training, training)
        if self.face_refinement:
            outputs.update(forward.refine_face(self.face_generator, inputs["source_image"], inputs["source_parse"],
                                               outputs["tryon"], outputs["parsing_onehot"], training=training,
                                               refiner=self.face_refiner))
        else:
            outputs["face_mask"] = forward.face_region(outputs["parsing_onehot"])
            outputs["final"] = outputs["tryon"]
        return {key: outputs[key] for key in OUTPUT_KEYS}

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update({
            name: keras.saving.serialize_keras_object(getattr(self, name))
            for name in ("gmm", "parsing_generator", "appearance_generator", "face_generator")
        })
        config.update({"face_mode": self.face_mode, "face_crop": self.face_crop,
                       "face_refinement": self.face_refinement})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("gmm", "parsing_generator", "appearance_generator", "face_generator"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
