"""Tiny networks and deterministic batches for the training tests."""
from __future__ import annotations

import numpy as np


def random_batch(batch_size=2, height=64, width=64, seed=0):
    """A batch with every key of `MPVDataset`, consistent the way the real data are.

    Parsings are blocky label maps (a person-like layout with face, cloth, arms),
    shifted per sample; images are smooth random colours per label plus noise.
    """
    import tensorflow as tf

    from tfvton.data import transforms

    rng = np.random.default_rng(seed)

    def labels(shift):
        lab = np.zeros((height, width), np.int32)
        h, w = height, width
        cx = w // 2 + shift
        lab[h // 10: h // 4, cx - w // 10: cx + w // 10] = 13            # face
        lab[h // 16: h // 10, cx - w // 9: cx + w // 9] = 2              # hair
        lab[h // 4: h * 3 // 5, cx - w // 5: cx + w // 5] = 5            # upper clothes
        lab[h // 4: h // 2, cx - w // 4: cx - w // 5] = 14               # arms
        lab[h // 4: h // 2, cx + w // 5: cx + w // 4] = 15
        lab[h * 3 // 5: h * 9 // 10, cx - w // 6: cx + w // 6] = 9       # pants
        return lab

    def image(lab):
        palette = rng.uniform(-1, 1, size=(20, 3)).astype(np.float32)
        img = palette[lab] + rng.normal(0, 0.25, size=lab.shape + (3,)).astype(np.float32)
        return np.clip(img, -1, 1)

    def pose(shift):
        maps = np.zeros((height, width, 18), np.float32)
        for k in range(18):
            y = int(rng.integers(0, height - 3))
            x = int(np.clip(rng.integers(0, width - 3) + shift, 0, width - 3))
            maps[y:y + 3, x:x + 3, k] = 1.0
        return maps

    out = {key: [] for key in ("source_image", "source_parse", "source_shape", "source_head", "source_pose",
                               "target_pose", "cloth_image", "cloth_mask", "target_image", "target_parse",
                               "target_cloth", "target_cloth_mask")}
    for _ in range(batch_size):
        s_shift, t_shift = int(rng.integers(-4, 5)), int(rng.integers(-4, 5))
        s_lab, t_lab = labels(s_shift), labels(t_shift)
        s_img, t_img = image(s_lab), image(t_lab)
        s_parse = np.eye(20, dtype=np.float32)[s_lab]
        t_parse = np.eye(20, dtype=np.float32)[t_lab]
        cloth_mask = np.zeros((height, width, 1), np.float32)
        cloth_mask[height // 5: height * 4 // 5, width // 4: width * 3 // 4] = 1.0
        cloth_colour = rng.uniform(-1, 1, size=3).astype(np.float32)
        texture = rng.normal(0, 0.25, size=(height, width, 3)).astype(np.float32)
        cloth = np.clip(np.where(cloth_mask > 0, cloth_colour + texture, 1.0), -1, 1).astype(np.float32)
        shape = (s_lab > 0).astype(np.float32)[..., None] * 2 - 1
        out["source_image"].append(s_img)
        out["source_parse"].append(s_parse)
        out["source_shape"].append(shape)
        out["source_head"].append(transforms.head_image(s_img, s_parse).numpy())
        out["source_pose"].append(pose(s_shift))
        out["target_pose"].append(pose(t_shift))
        out["cloth_image"].append(cloth)
        out["cloth_mask"].append(cloth_mask)
        out["target_image"].append(t_img)
        out["target_parse"].append(t_parse)
        out["target_cloth"].append(transforms.cloth_part_image(t_img, t_parse).numpy())
        out["target_cloth_mask"].append(transforms.part_mask(t_parse, transforms.CLOTH_LABELS).numpy())
    return {key: tf.constant(np.stack(value)) for key, value in out.items()}


def random_dataset(num_examples=4, batch_size=2, height=64, width=64, seed=0):
    """A repeating `tf.data.Dataset` of `random_batch` examples (batched, drop_remainder)."""
    import tensorflow as tf

    examples = random_batch(num_examples, height, width, seed)
    return tf.data.Dataset.from_tensor_slices(examples).repeat().batch(batch_size, drop_remainder=True)


# Tiny widths for the training tests (on top of the `smoke` preset): one block per
# generator/discriminator, a 3-level U-Net, VGG up to relu1_1 only.
TINY_OVERRIDES = (
    "model.n_blocks=1", "model.d_blocks=1", "model.d_layers=1", "model.parsing_downsamplings=3",
    "loss.vgg_layers=[block1_conv1]", "loss.vgg_layer_weights=[1.0]",
)


def tiny_config(*overrides):
    """The `smoke` preset with `TINY_OVERRIDES` and the given `section.key=value` overrides."""
    from tfvton.config import load_config

    return load_config("smoke", list(TINY_OVERRIDES) + list(overrides))


def make_synth(root, identities=3, poses=2, size=(64, 64), seed=0):
    """A tiny SynthMPV dataset written by the synth package; returns its root."""
    from tfvton.data.synth import generate

    generate(root, identities=identities, poses_per_identity=poses, size=size, seed=seed, workers=1, vis=False)
    return root
