"""One interface over every way a trained model is stored: run directories, SavedModels, TFLite.

`load_predictor(source)` looks at `source` and returns a `Predictor`:

- a run directory (`tfvton.run_dir.RunDir`), written by `tfvton train` or by
  `tfvton convert-official` (the converted official checkpoints): the Keras
  `TryOnPipeline` of `RunDir.load_pipeline`;
- an exported SavedModel (`tfvton export`): a version directory holding
  `saved_model.pb`, or the model base directory (the highest numeric version
  is used), or the export root holding `<model name>/<version>/`;
- a `.tflite` file, when `tfvton.export.tflite` provides a runner;
- the name of a model shipped in the repository's `models/` (`tfvton.shipped_models`,
  checksums verified), e.g. `synthmpv-small`.

`Predictor.predict(raws)` takes raw inputs (docs/architecture.md: uint8 photos,
label ids, 0/255 masks, OpenPose keypoints) and returns numpy outputs in a
common form, so `tryon`, `evaluate` and `demo` never care where the model came
from.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from tfvton.errors import ModelError
from tfvton.run_dir import RunDir
from tfvton.shipped_models import resolve_model_source, shipped_model_names


PathLike = Union[str, Path]

# Raw input keys every predictor reads (the serving signature's inputs plus the source pose).
RAW_KEYS = ("person_image", "person_parsing", "source_pose_keypoints", "target_pose_keypoints",
            "cloth_image", "cloth_mask")

__all__ = ["Predictor", "KerasPredictor", "SavedModelPredictor", "TFLitePredictor", "load_predictor", "describe_source",
           "read_source_config", "batches"]


class Predictor:
    """Base class: runs the try-on on raw inputs.

    Attributes:
        config: the run's `tfvton.config.Config` (model size, switches).
        kind: `keras`, `saved_model` or `tflite`.
        source: where the model was loaded from.
        has_intermediates: whether `predict` returns `warped_cloth`,
            `parsing`, `tryon` besides `final`.
    """

    kind = ""
    has_intermediates = False

    def __init__(self, config, source: PathLike):
        self.config = config
        self.source = str(source)

    @property
    def height(self) -> int:
        return self.config.data.height

    @property
    def width(self) -> int:
        return self.config.data.width

    @property
    def face_refinement(self) -> bool:
        return bool(getattr(self.config.model, "face_refinement", True))

    @property
    def clip_warp_to_parsing(self) -> bool:
        """The model cuts its warped cloth to its predicted cloth region (`model.clip_warp_to_parsing`)."""
        return bool(self.config.model.clip_warp_to_parsing)

    def preprocess(self, raws: Sequence[Mapping[str, np.ndarray]]) -> Dict[str, np.ndarray]:
        """Raw inputs -> the batched model tensors (the one preprocessing, eager)."""
        from tfvton.data import transforms

        d = self.config.data
        examples = [transforms.preprocess(dict(raw), d.height, d.width, d.pose_radius, d.shape_downsample)
                    for raw in raws]
        return {key: np.stack([np.asarray(e[key]) for e in examples]) for key in examples[0]}

    def predict(self, raws: Sequence[Mapping[str, np.ndarray]],
                preprocessed: Optional[Mapping[str, np.ndarray]] = None) -> Dict[str, np.ndarray]:
        """Runs the try-on on a list of raw input dicts.

        Args:
            raws: raw input dicts (unbatched), keys `RAW_KEYS`.
            preprocessed: the same examples already preprocessed and batched
                (saves the Keras predictor a second preprocessing).
        Returns:
            dict of numpy arrays batched over `raws`: `output` (B,H,W,3) in
            [-1, 1], the model's answer (the face-refined `final`, or `tryon`
            when the config turns face refinement off); when
            `has_intermediates`: `warped_cloth`, `parsing` (B,H,W,20
            probabilities), `tryon` (before face refinement), `final`;
            `parsing_labels` (B,H,W) uint8 always.
        """
        raise NotImplementedError


class KerasPredictor(Predictor):
    """The Keras `TryOnPipeline` of a run directory (trained or converted).

    Args:
        pipeline: a `TryOnPipeline`.
        config: the run's config.
        source: the run directory (for messages).
    """

    kind = "keras"
    has_intermediates = True

    def __init__(self, pipeline, config, source: PathLike = "<memory>"):
        import tensorflow as tf

        super().__init__(config, source)
        self.pipeline = pipeline
        self._batch = None  # the batch size of the first call (the traced one)
        # One traced graph per batch shape: much faster than eager Keras calls on CPU.
        self._forward = tf.function(lambda inputs: pipeline(inputs, training=False), reduce_retracing=True)

    @classmethod
    def from_run_dir(cls, run_dir: PathLike) -> "KerasPredictor":
        run = RunDir(run_dir)
        config = run.load_config()
        return cls(run.load_pipeline(config), config, run_dir)

    def run_model_inputs(self, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Runs the pipeline on already preprocessed, batched model tensors."""
        from tfvton.networks.pipeline import INPUT_KEYS

        feed = {key: np.asarray(inputs[key], np.float32) for key in INPUT_KEYS}
        n = len(feed["source_image"])
        if self._batch is None:
            self._batch = n
        if n < self._batch:
            # Pad a short last batch to the traced size: one graph instead of a second trace.
            feed = {key: np.concatenate([v, np.repeat(v[-1:], self._batch - n, axis=0)]) for key, v in feed.items()}
        outputs = self._forward(feed)
        out = {key: np.asarray(outputs[key])[:n] for key in ("warped_cloth", "parsing", "coarse", "tryon", "final",
                                                              "composition_mask", "grid")}
        out["output"] = out["final"] if self.face_refinement else out["tryon"]
        out["parsing_labels"] = np.argmax(out["parsing"], axis=-1).astype(np.uint8)
        return out

    def predict(self, raws, preprocessed=None):
        inputs = preprocessed if preprocessed is not None else self.preprocess(raws)
        return self.run_model_inputs(inputs)


def _find_saved_model(path: Path) -> Optional[Path]:
    """The SavedModel version directory under `path` (itself, highest version, or model/version)."""
    if (path / "saved_model.pb").is_file():
        return path

    def versions(base: Path):
        return sorted((p for p in base.iterdir() if p.is_dir() and p.name.isdigit()
                       and (p / "saved_model.pb").is_file()), key=lambda p: int(p.name))

    found = versions(path)
    if found:
        return found[-1]
    for child in sorted(p for p in path.iterdir() if p.is_dir()):
        found = versions(child)
        if found:
            return found[-1]
    return None


class SavedModelPredictor(Predictor):
    """An exported SavedModel (`tfvton export`), called through its `serving_default` signature.

    The signature does its own preprocessing in the graph. The final image
    comes back as uint8 (`tryon_image`); intermediates exist only when the
    export included them.
    """

    kind = "saved_model"

    def __init__(self, version_dir: PathLike):
        import tensorflow as tf

        from tfvton.export.saved_model import load_exported_config

        version_dir = Path(version_dir)
        super().__init__(load_exported_config(str(version_dir)), version_dir)
        self.module = tf.saved_model.load(str(version_dir))
        self.signature = self.module.signatures["serving_default"]
        outputs = set(self.signature.structured_outputs)
        self.has_intermediates = {"warped_cloth", "tryon", "final"} <= outputs

    def _call(self, raws) -> Dict[str, np.ndarray]:
        import tensorflow as tf

        batch = {
            "person_image": np.stack([np.asarray(r["person_image"], np.uint8) for r in raws]),
            "cloth_image": np.stack([np.asarray(r["cloth_image"], np.uint8) for r in raws]),
            "cloth_mask": np.stack([np.asarray(r["cloth_mask"], np.uint8).reshape(
                np.asarray(r["cloth_mask"]).shape[:2] + (1,)) for r in raws]),
            "person_parsing": np.stack([np.asarray(r["person_parsing"], np.uint8) for r in raws]),
            "target_pose_keypoints": np.stack([np.asarray(r["target_pose_keypoints"], np.float32)
                                               for r in raws]),
        }
        outputs = self.signature(**{k: tf.constant(v) for k, v in batch.items()})
        return {k: np.asarray(v) for k, v in outputs.items()}

    def predict(self, raws, preprocessed=None):
        shapes = {tuple(np.asarray(r[k]).shape for k in ("person_image", "cloth_image")) for r in raws}
        if len(shapes) == 1:
            results = [self._call(raws)]
        else:  # one batch must share a size; different sizes go one by one
            results = [self._call([r]) for r in raws]
        merged = {k: np.concatenate([r[k] for r in results]) for k in results[0]}
        out = {"final": merged["tryon_image"].astype(np.float32) / 127.5 - 1.0,
               "parsing_labels": merged["parsing_labels"].astype(np.uint8)}
        for key in ("warped_cloth", "coarse", "composition_mask", "tryon"):
            if key in merged:
                out[key] = merged[key].astype(np.float32)
        if "final" in merged:
            out["final"] = merged["final"].astype(np.float32)
        out["output"] = out["tryon"] if (not self.face_refinement and "tryon" in out) else out["final"]
        if self.has_intermediates:
            # The signature returns labels, not probabilities; a one-hot stands in for the grid.
            out["parsing"] = np.eye(20, dtype=np.float32)[out["parsing_labels"]]
        return out


def _tflite_config(path: Path):
    """The config written next to a `.tflite` file (`<name>.yaml`, `config.yaml` or `tfvton_config.yaml`)."""
    from tfvton.config import load_config

    candidates = [path.with_suffix(".yaml"), path.parent / "config.yaml", path.parent / "tfvton_config.yaml"]
    # `tfvton export` layout: OUT/tflite/<version>/<name>_<variant>.tflite beside the SavedModel
    # OUT/<name>/<version>/assets.extra/tfvton_config.yaml.
    if len(path.parents) >= 3 and "_" in path.stem:
        name = path.stem.rsplit("_", 1)[0]
        candidates.append(path.parents[2] / name / path.parent.name / "assets.extra" / "tfvton_config.yaml")
    for candidate in candidates:
        if candidate.is_file():
            return load_config(candidate)
    raise ModelError(f"{path}: no model config next to the .tflite file (looked for "
                     f"{', '.join(str(c) for c in candidates)}); copy the run's config.yaml there")


def _tflite_predictor(path: Path, num_threads: int = 2) -> Predictor:
    try:
        from tfvton.export.tflite import TFLiteRunner
    except ImportError:
        raise ModelError(f"{path}: TFLite models need `tfvton.export.tflite` and `ai-edge-litert`") from None
    config = _tflite_config(path)
    try:
        runner = TFLiteRunner(str(path), config, num_threads=num_threads)
    except ValueError as err:  # LiteRT's "not a valid Flatbuffer buffer" names no file
        raise ModelError(f"{path}: not a readable .tflite model ({err})") from None
    return TFLitePredictor(runner, config, path)


class TFLitePredictor(Predictor):
    """A `.tflite` pipeline core run by `tfvton.export.tflite.TFLiteRunner` (LiteRT), batch 1.

    The runner does the one preprocessing in TensorFlow before the interpreter
    and returns every intermediate, like the Keras pipeline.
    """

    kind = "tflite"
    has_intermediates = True

    def __init__(self, runner, config, path):
        super().__init__(config, path)
        self.runner = runner

    def predict(self, raws, preprocessed=None):
        keys = ("person_image", "person_parsing", "cloth_image", "cloth_mask", "target_pose_keypoints",
                "source_pose_keypoints")
        results = [self.runner.tryon({k: np.asarray(r[k])[None] for k in keys if k in r}) for r in raws]
        out = {k: np.concatenate([r[k] for r in results]) for k in ("final", "tryon", "warped_cloth", "coarse",
                                                                     "composition_mask", "parsing")}
        out["output"] = out["final"] if self.face_refinement else out["tryon"]
        out["parsing_labels"] = np.argmax(out["parsing"], axis=-1).astype(np.uint8)
        return out


def describe_source(source: PathLike) -> str:
    """`run`, `saved_model` or `tflite`: what `load_predictor` would load from `source`.

    Raises:
        FileNotFoundError: `source` does not exist.
        ModelError: `source` is none of the known forms (the message says what was expected).
    """
    path = resolve_model_source(source)
    if not path.exists():
        names = ", ".join(shipped_model_names()) or "none in this installation"
        raise FileNotFoundError(f"{path}: no such run directory, SavedModel or .tflite file, nor a shipped "
                                f"model name (shipped: {names})")
    if path.is_file():
        if path.suffix == ".tflite":
            return "tflite"
        raise ModelError(f"{path}: expected a run directory, a SavedModel directory or a .tflite file")
    if RunDir.looks_like_run_dir(path):
        return "run"
    if _find_saved_model(path) is not None:
        return "saved_model"
    raise ModelError(f"{path}: not a run directory (config.yaml + weights/), nor a SavedModel "
                     f"(saved_model.pb, <version>/saved_model.pb or <model>/<version>/saved_model.pb)")


def read_source_config(source: PathLike):
    """The `Config` of a model source without loading any weights (cheap; for input checks)."""
    kind = describe_source(source)
    path = resolve_model_source(source)
    if kind == "run":
        return RunDir(path).load_config()
    if kind == "saved_model":
        from tfvton.export.saved_model import load_exported_config

        return load_exported_config(str(_find_saved_model(path)))
    return _tflite_config(path)


def load_predictor(source: PathLike, num_threads: int = 2) -> Predictor:
    """Loads a `Predictor` from a run directory, a SavedModel or a `.tflite` file (see module docstring).

    Args:
        source: the model location.
        num_threads: interpreter threads (XNNPACK) for a `.tflite` file; ignored otherwise.
    """
    kind = describe_source(source)
    path = resolve_model_source(source)
    if kind == "run":
        return KerasPredictor.from_run_dir(path)
    if kind == "saved_model":
        return SavedModelPredictor(_find_saved_model(path))
    return _tflite_predictor(path, num_threads)


def batches(items: Sequence, size: int) -> List[Sequence]:
    """Consecutive slices of `items` of at most `size` elements."""
    size = max(1, int(size))
    return [items[i:i + size] for i in range(0, len(items), size)]
