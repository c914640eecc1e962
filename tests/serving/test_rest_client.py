"""The REST client against a loopback server speaking TF-Serving's REST predict API."""
from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from tests.export.export_helpers import raw_inputs, smoke_export
from tests.serving.fake_serving import RestState, rest_server
from tests.serving.serving_helpers import write_request_files
from tests.testing import assert_close
from tfvton.serving.rest_client import RestClient, RestError, endpoint, to_json_value


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return smoke_export(str(tmp_path_factory.getbasetemp()))


def test_json_encoding_and_endpoint():
    assert to_json_value(np.array([b"\x00\xff"], dtype=object)) == [{"b64": base64.b64encode(b"\x00\xff").decode()}]
    assert to_json_value(np.array([[1, 2]], np.uint8)) == [[1, 2]]
    assert endpoint("localhost:8501", "tfvton") == "http://localhost:8501/v1/models/tfvton:predict"
    assert endpoint("http://h:1/", "m", 7) == "http://h:1/v1/models/m/versions/7:predict"
    assert endpoint("http://h:1/v1/models/m:predict", "ignored") == "http://h:1/v1/models/m:predict"


@pytest.mark.parametrize("signature", ["predict_bytes", "serving_default"])
def test_round_trip_from_files(exported, tmp_path, signature):
    paths, decoded = write_request_files(tmp_path, seed=31)
    state = RestState(exported.session)
    with rest_server(state) as url:
        client = RestClient(url, signature_name=signature, version=3)
        outputs = client.tryon(paths["person"], paths["parsing"], paths["target_pose"], paths["cloth"],
                               paths["cloth_mask"])
    assert state.paths == ["/v1/models/tfvton/versions/3:predict"]
    body = state.bodies[0]
    assert body["signature_name"] == signature
    if signature == "predict_bytes":  # base64 of the JPEG file as it is on disk
        assert base64.b64decode(body["inputs"]["person_image"][0]["b64"]) == open(paths["person"], "rb").read()
    want = exported.reference(decoded)
    assert outputs["tryon_image"].dtype == np.uint8
    assert np.max(np.abs(outputs["tryon_image"].astype(int) - want["tryon_image"])) <= 1
    assert_close(outputs["final"], want["final"], atol=1e-5, what="final")  # JSON floats keep float32 digits


def test_server_error_message_and_retry_on_503(exported):
    raw = raw_inputs(batch=1, seed=32)
    state = RestState(exported.session, fail_first=1)
    with rest_server(state) as url:
        client = RestClient(url, signature_name="serving_default", retries=2, backoff=0.01)
        outputs = client.predict(raw)
        assert state.calls == 2 and outputs["tryon_image"].shape == (1, 64, 64, 3)
        bad = dict(raw, target_pose_keypoints=raw["target_pose_keypoints"][:, :17])
        with pytest.raises(RestError, match=r"(?s)HTTP 400: .*target_pose_keypoints must have shape \[batch, 18, 3\]"):
            client.predict(bad)
        assert state.calls == 3  # a 400 is not retried
    with pytest.raises(RestError, match="HTTP 0"):  # nothing listens any more: retried, then reported
        RestClient(url, retries=1, backoff=0.01, timeout=2).predict(raw)


def test_cli_client_rest(exported, tmp_path):
    from tfvton.cli import main

    paths, decoded = write_request_files(tmp_path, seed=33)
    out = tmp_path / "tryon.png"
    with rest_server(RestState(exported.session)) as url:
        code = main(["client", "--rest", url, "--person", paths["person"], "--parsing", paths["parsing"],
                     "--target-pose", paths["target_pose"], "--cloth", paths["cloth"],
                     "--cloth-mask", paths["cloth_mask"], "--out", str(out)])
    assert code == 0
    want = exported.reference(decoded)
    assert np.max(np.abs(np.asarray(Image.open(out)).astype(int) - want["tryon_image"][0])) <= 1
