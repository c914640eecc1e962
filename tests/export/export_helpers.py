"""Shared by tests/export and tests/serving: one smoke-model export per test session,
the in-process reference, and a TF-Serving-like session runner of the export.
"""
from __future__ import annotations

import tempfile
from typing import Dict

import numpy as np

SERVING_KEYS = ("person_image", "cloth_image", "cloth_mask", "person_parsing", "target_pose_keypoints")
_CACHE: Dict[str, object] = {}


class Exported:
    """The exported smoke model: its directory, config, in-process pipeline and reloaded object."""

    def __init__(self, version_dir, config, pipeline):
        self.version_dir = version_dir
        self.base_dir = version_dir.rsplit("/", 2)[0]
        self.config = config
        self.pipeline = pipeline
        self._loaded = None
        self._session = None

    @property
    def loaded(self):
        if self._loaded is None:
            import tensorflow as tf

            self._loaded = tf.saved_model.load(self.version_dir)
        return self._loaded

    @property
    def session(self):
        if self._session is None:
            self._session = SessionModel(self.version_dir)
        return self._session

    def signature(self, name="serving_default"):
        return self.loaded.signatures[name]

    def call(self, raw, signature="serving_default"):
        """Runs a reloaded signature on numpy inputs; returns numpy outputs."""
        import tensorflow as tf

        inputs = {key: tf.constant(raw[key]) for key in SERVING_KEYS}
        return {key: value.numpy() for key, value in self.signature(signature)(**inputs).items()}

    def reference(self, raw):
        """The in-process result: eager `transforms.preprocess` + the Keras pipeline."""
        from tfvton.data import transforms

        data = self.config.data
        raw = dict(raw)
        raw.setdefault("source_pose_keypoints", np.zeros_like(raw["target_pose_keypoints"]))
        model_inputs = transforms.preprocess(raw, data.height, data.width, data.pose_radius,
                                             data.shape_downsample)
        outputs = {key: value.numpy() for key, value in self.pipeline(model_inputs, training=False).items()}
        outputs["tryon_image"] = np.clip((outputs["final"] * 0.5 + 0.5) * 255.0, 0, 255).astype(np.uint8)
        outputs["parsing_labels"] = np.argmax(outputs["parsing"], -1).astype(np.uint8)
        return outputs


class SessionModel:
    """Runs an exported version the way TF-Serving does: the SavedModel V1 loader
    (MetaGraph + saver restore) in a Session, tensors looked up from the SignatureDefs."""

    def __init__(self, version_dir):
        import tensorflow as tf

        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            self.meta_graph = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], version_dir)
        self.signatures = dict(self.meta_graph.signature_def)

    def run(self, signature_name: str, inputs: Dict[str, np.ndarray], output_filter=()) -> Dict[str, np.ndarray]:
        signature = self.signatures[signature_name]
        missing = sorted(set(signature.inputs) - set(inputs))
        if missing:
            raise KeyError(f"missing inputs {missing}")
        feeds = {signature.inputs[key].name: value for key, value in inputs.items()}
        names = list(output_filter) or list(signature.outputs)
        fetches = {key: signature.outputs[key].name for key in names}
        return self.session.run(fetches, feed_dict=feeds)


def make_parsing_decisive(pipeline, label=13, margin=4.0):
    """Biases the parsing U-Net's output layer so `label` wins every pixel by a wide margin.

    A randomly initialised U-Net gives near-uniform softmax outputs whose top two
    classes differ by ~1e-9 at some pixel of a 64x64 image; graph and eager
    rounding then flip that pixel's argmax, which changes the face mask and,
    through the face generator's instance norms, the whole refined image. With a
    decisive parsing the comparisons test the export, not argmax ties. Label 13
    (face) makes the face mask cover the image, so the face branch is exercised
    everywhere.
    """
    layer = pipeline.parsing_generator.up0_deconv
    kernel, bias = layer.get_weights()
    bias = np.full_like(bias, -margin)
    bias[label] = margin
    layer.set_weights([kernel, bias])
    return pipeline


def smoke_export(tmp_root=None) -> Exported:
    """Exports the smoke-config pipeline once per process (with intermediates)."""
    if "smoke" not in _CACHE:
        import keras

        from tfvton.config import load_config
        from tfvton.export.saved_model import export_saved_model
        from tfvton.networks.factory import build_pipeline

        keras.utils.set_random_seed(0)
        config = load_config("smoke")
        pipeline = make_parsing_decisive(build_pipeline(config))
        out = tempfile.mkdtemp(prefix="tfvton_export_", dir=tmp_root)
        version_dir = export_saved_model(pipeline, config, out, "tfvton", 3, include_intermediates=True)
        _CACHE["smoke"] = Exported(version_dir, config, pipeline)
    return _CACHE["smoke"]


def raw_inputs(batch=1, seed=0, size=64):
    from tfvton.export.warmup import synthetic_raw_inputs

    raw = synthetic_raw_inputs(size, size, batch=batch, seed=seed)
    return {key: raw[key] for key in SERVING_KEYS}
