"""Benchmark inputs: real-format model tensors, batches of them, and each generator's own input."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tfvton.bench.variants import NETWORKS
from tfvton.data import transforms
from tfvton.data.mpv import MPVDataset
from tfvton.export.warmup import synthetic_raw_inputs
from tfvton.layers.face_crop import FaceCrop
from tfvton.networks.pipeline import INPUT_KEYS as MODEL_INPUT_KEYS


def real_format_examples(config, mpv_root: Optional[str], count: int = 5, seed: int = 0
                         ) -> Tuple[List[Dict[str, np.ndarray]], str]:
    """Batch-1 model-tensor dicts from MPV-layout files (demo or test pairs), else synthetic people."""
    data = config.data
    if mpv_root and Path(mpv_root).is_dir():
        mode = "demo" if (Path(mpv_root) / "demo.txt").exists() else "test"
        dataset = MPVDataset.from_config(mpv_root, None, mode, data, progress=False)
        examples = [dataset[i % len(dataset)] for i in range(min(count, len(dataset)))]
        source = f"{mpv_root} ({len(examples)} real {mode} pairs)"
        return [{k: np.asarray(e[k], np.float32)[None] for k in MODEL_INPUT_KEYS} for e in examples], source
    raw = synthetic_raw_inputs(data.height, data.width, batch=count, seed=seed)
    raw.setdefault("source_pose_keypoints", np.zeros_like(raw["target_pose_keypoints"]))
    tensors = transforms.preprocess(raw, data.height, data.width, data.pose_radius, data.shape_downsample)
    examples = [{k: np.asarray(tensors[k])[i:i + 1].astype(np.float32) for k in MODEL_INPUT_KEYS}
                for i in range(count)]
    return examples, f"synthetic people ({count}, seed {seed})"


# The raw client arrays the exported SavedModel's `serving_default` takes.
RAW_KEYS = ("person_image", "cloth_image", "cloth_mask", "person_parsing", "target_pose_keypoints")


def real_format_raw(config, mpv_root: Optional[str], count: int = 5, seed: int = 0) -> Dict[str, np.ndarray]:
    """The raw client arrays (batched) of the examples `real_format_examples` makes: what an export takes."""
    data = config.data
    if mpv_root and Path(mpv_root).is_dir():
        mode = "demo" if (Path(mpv_root) / "demo.txt").exists() else "test"
        dataset = MPVDataset.from_config(mpv_root, None, mode, data, progress=False)
        raws = [dataset.raw(i % len(dataset)) for i in range(min(count, len(dataset)))]
        return {key: np.stack([np.asarray(r[key]) for r in raws]) for key in RAW_KEYS}
    raw = synthetic_raw_inputs(data.height, data.width, batch=count, seed=seed)
    return {key: raw[key] for key in RAW_KEYS}


def stack_raw(raw: Dict[str, np.ndarray], batch: int) -> Dict[str, np.ndarray]:
    """A batch of `batch` raw examples, cycling through the given ones."""
    count = len(raw["person_image"])
    picks = [i % count for i in range(batch)]
    return {key: np.asarray(value)[picks] for key, value in raw.items()}


def stack_batch(examples: Sequence[Dict[str, np.ndarray]], batch: int) -> Dict[str, np.ndarray]:
    """A batch of `batch` examples, cycling through the given ones."""
    chosen = [examples[i % len(examples)] for i in range(batch)]
    return {k: np.concatenate([e[k] for e in chosen]) for k in MODEL_INPUT_KEYS}


@contextlib.contextmanager
def capture_network_inputs(pipeline):
    """Records the positional input of each generator while the pipeline runs (eagerly).

    Yields a dict name -> list of inputs (one per call); a `FaceCrop` face
    stage records the inner generator's (cropped) input.
    """
    records: Dict[str, list] = {name: [] for name in NETWORKS}
    patched = []
    for name in NETWORKS:
        network = getattr(pipeline, name)
        if isinstance(network, FaceCrop):
            network = network.generator
        original = network.call

        def recorder(inputs, *args, _original=original, _name=name, **kwargs):
            if tf.executing_eagerly():  # not Keras' symbolic shape inference
                records[_name].append(inputs)
            return _original(inputs, *args, **kwargs)

        network.call = recorder
        patched.append((network, original))
    try:
        yield records
    finally:
        for network, original in patched:
            network.call = original


def network_arguments(captured) -> Tuple[np.ndarray, ...]:
    """A recorded input as a tuple of numpy arrays (the GMM takes two tensors)."""
    if isinstance(captured, (tuple, list)):
        return tuple(np.asarray(t, np.float32) for t in captured)
    return (np.asarray(captured, np.float32),)
