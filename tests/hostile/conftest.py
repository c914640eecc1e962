"""Fixtures of the hostile-input tables: a tiny MPV tree to spoil, a smoke run directory, hostile files."""
from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.commands.conftest import smoke_run_dir  # noqa: F401 - re-exported fixture
from tests.data.mpv_helpers import write_flat_dataset

SIZE = 64  # the smoke config's geometry


@pytest.fixture(autouse=True)
def _seed_everything():
    """Overrides the suite's per-test seeding: no `tf.random.set_seed` here.

    In eager mode TF's global-seed setter clears the context's kernel and function
    caches, so every row would instantiate the loaded signatures (or the Keras
    predictor's graphs) again, about 3 s of CPU each; these tables draw nothing at random from TF.
    """
    import random

    random.seed(0)
    np.random.seed(0)
    yield


def person(i: int) -> str:
    """Stem of person `i` in `write_flat_dataset`."""
    return f"P{i:02d}-A11@{i}=person_half_front"


def cloth(i: int) -> str:
    return f"P{i:02d}-A11@{i}=cloth_front"


def single_tryon_argv(root, run, output) -> list:
    """`tfvton tryon` on person 0 in person 1's pose wearing cloth 0, one `--output` file."""
    return ["tryon", "--model", str(run), "--output", str(output), "--quiet",
            "--person", str(root / "images" / f"{person(0)}.jpg"),
            "--parsing", str(root / "parse_cihp" / f"{person(0)}.png"),
            "--pose", str(root / "pose_coco" / f"{person(0)}_keypoints.json"),
            "--target-pose", str(root / "pose_coco" / f"{person(1)}_keypoints.json"),
            "--cloth", str(root / "cloth_image" / f"{cloth(0)}.jpg"),
            "--cloth-mask", str(root / "cloth_mask" / f"{cloth(0)}_mask.png")]


@pytest.fixture(scope="session")
def pristine_root(tmp_path_factory):
    """4 persons at 64x64: data_pair.txt lines 1, 3 train and 2, 4 test; demo.txt 4 test lines."""
    return write_flat_dataset(tmp_path_factory.mktemp("pristine"), persons=4, h=SIZE, w=SIZE)


@pytest.fixture
def root(pristine_root, tmp_path):
    """A private copy of the tiny MPV tree, free to spoil."""
    return Path(shutil.copytree(pristine_root, tmp_path / "mpv"))


_PREDICTORS = {}  # config.yaml text -> the Keras predictor of a smoke run directory (weights are all copies)


@pytest.fixture(autouse=True)
def _one_predictor_per_run_config(monkeypatch):
    """Rows that reach inference share one loaded smoke predictor per run config.

    Every row's run directory is a copy of `smoke_run_dir` (same weights); building
    the pipeline, loading its weights and tracing it again per row is what the
    tables would otherwise spend their time on, and it is not what they test.
    SavedModel and `.tflite` sources load as usual.
    """
    from tfvton.inference import predictor

    real = predictor.load_predictor

    def load(source, num_threads: int = 2):
        if predictor.describe_source(source) != "run":
            return real(source, num_threads)
        key = (Path(source) / "config.yaml").read_text()
        if key not in _PREDICTORS:
            _PREDICTORS[key] = real(source, num_threads)
        return _PREDICTORS[key]

    monkeypatch.setattr(predictor, "load_predictor", load)


# ---------------------------------------------------------------- hostile files (made, never stored)

def truncate(path: Path, keep: float = 0.5) -> None:
    """Cuts a file after a valid header (PIL still opens it; decoding fails)."""
    data = path.read_bytes()
    path.write_bytes(data[:max(64, int(len(data) * keep))])


def write_labels(path: Path, value: int) -> None:
    """A grey PNG parsing holding `value` in one block (ids over 19 are another label set)."""
    labels = np.zeros((SIZE, SIZE), np.uint8)
    labels[10:30, 10:30] = value
    Image.fromarray(labels).save(path)


def write_pose(path: Path, body) -> None:
    path.write_text(body if isinstance(body, str) else json.dumps(body))


def pose_with(values) -> dict:
    return {"people": [{"pose_keypoints_2d": list(values)}]}


def png_declaring(width: int, height: int) -> bytes:
    """A ~100-byte PNG whose header declares width x height (decoding it would need that much memory)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


def encode(array, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image = array if isinstance(array, Image.Image) else Image.fromarray(np.asarray(array))
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()
