"""The loaded SavedModel called from 4 threads at once: valid requests give exactly the
sequential result, invalid ones raise, and neither disturbs the other.

Each thread runs a schedule that interleaves valid requests (three different
inputs, both signatures) with invalid ones (label 25, NaN keypoints, a batch
mismatch, bytes that are no image). The fast test runs 4 x 12 requests; the slow
one 4 x 50.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest
import tensorflow as tf

from tests.export.export_helpers import SERVING_KEYS, raw_inputs, smoke_export
from tfvton.export.warmup import encode_raw_inputs

THREADS = 4


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return smoke_export(str(tmp_path_factory.getbasetemp()))



def _requests():
    """(name, signature, request, valid) for three valid inputs and four invalid ones."""
    requests = []
    for seed in (1, 2, 3):
        raw = raw_inputs(batch=1, seed=seed)
        signature = "serving_default" if seed != 2 else "predict_bytes"
        requests.append((f"valid{seed}", signature, raw if signature == "serving_default" else encode_raw_inputs(raw),
                         True))
    raw = raw_inputs(batch=1, seed=4)
    labels = {**raw, "person_parsing": np.full_like(raw["person_parsing"], 25)}
    keypoints = {**raw, "target_pose_keypoints": np.full_like(raw["target_pose_keypoints"], np.nan)}
    batch = {**raw, "cloth_image": np.concatenate([raw["cloth_image"]] * 2)}
    garbage = {**encode_raw_inputs(raw), "person_image": np.array([b"not an image"], dtype=object)}
    requests += [("labels25", "serving_default", labels, False), ("nan", "serving_default", keypoints, False),
                 ("batch", "serving_default", batch, False), ("garbage", "predict_bytes", garbage, False)]
    return requests


def _call(exported, signature, request):
    outputs = exported.signature(signature)(**{key: tf.constant(request[key]) for key in SERVING_KEYS})
    return {key: value.numpy() for key, value in outputs.items()}


def _hammer(exported, per_thread):
    requests = _requests()
    expected = {name: _call(exported, signature, request)
                for name, signature, request, valid in requests if valid}
    failures, counts = [], {"valid": 0, "invalid": 0}
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(offset):
        start.wait()  # all threads call at once
        for k in range(per_thread):
            name, signature, request, valid = requests[(offset + k * 3) % len(requests)]
            try:
                outputs = _call(exported, signature, request)
            except tf.errors.InvalidArgumentError as error:
                with lock:
                    counts["invalid"] += 1
                    if valid:
                        failures.append(f"{name}: valid request raised {error.message[:200]}")
                continue
            with lock:
                counts["valid"] += 1
                if not valid:
                    failures.append(f"{name}: invalid request returned a result")
                    continue
                for key, value in expected[name].items():
                    if not np.array_equal(outputs[key], value):
                        failures.append(f"{name}: {key} differs from the sequential result")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not failures, failures[:10]
    assert counts["valid"] + counts["invalid"] == THREADS * per_thread
    assert counts["valid"] > 0 and counts["invalid"] > 0, counts


def test_four_threads_mixed_requests(exported):
    _hammer(exported, per_thread=12)


@pytest.mark.slow
def test_four_threads_fifty_requests_each(exported):
    _hammer(exported, per_thread=50)
