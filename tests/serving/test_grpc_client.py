"""The gRPC client against a loopback PredictionService that runs the exported SavedModel
as TF-Serving does (V1 loader, SignatureDefs), plus retries, deadlines and message limits."""
from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from tests.export.export_helpers import raw_inputs, smoke_export
from tests.serving.fake_serving import FakePredictionService, grpc_server
from tests.serving.serving_helpers import write_request_files
from tests.testing import assert_close
from tfvton.serving.grpc_client import GrpcClient


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return smoke_export(str(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="module")
def session_model(exported):
    return exported.session


def _check_against_reference(exported, outputs, raw):
    want = exported.reference(raw)
    assert outputs["tryon_image"].dtype == np.uint8 and outputs["tryon_image"].shape == (1, 64, 64, 3)
    assert np.max(np.abs(outputs["tryon_image"].astype(int) - want["tryon_image"])) <= 1
    assert_close(outputs["final"], want["final"], atol=1e-5, what="final")
    assert np.array_equal(outputs["parsing_labels"], want["parsing_labels"])


@pytest.mark.parametrize("signature", ["serving_default", "predict_bytes"])
def test_round_trip_from_files(exported, session_model, tmp_path, signature):
    paths, decoded = write_request_files(tmp_path, seed=21)
    service = FakePredictionService(session_model)
    with grpc_server(service) as target, GrpcClient(target, signature_name=signature) as client:
        outputs = client.tryon(paths["person"], paths["parsing"], paths["target_pose"], paths["cloth"],
                               paths["cloth_mask"])
    request = service.requests[0]
    assert request.model_spec.signature_name == signature
    if signature == "predict_bytes":  # the JPEG file itself travels, not re-encoded pixels
        assert tf.make_ndarray(request.inputs["person_image"])[0] == open(paths["person"], "rb").read()
    _check_against_reference(exported, outputs, decoded)


def test_round_trip_from_arrays_and_pinned_version(exported, session_model):
    raw = raw_inputs(batch=1, seed=22)
    service = FakePredictionService(session_model)
    with grpc_server(service) as target, GrpcClient(target, version=3) as client:
        outputs = client.tryon(raw["person_image"][0], raw["person_parsing"][0], raw["target_pose_keypoints"][0],
                               raw["cloth_image"][0], raw["cloth_mask"][0])
    assert service.requests[0].model_spec.version.value == 3
    _check_against_reference(exported, outputs, raw)


def test_invalid_argument_reaches_the_client(session_model):
    raw = raw_inputs(batch=1, seed=23)
    raw["person_parsing"] = np.full_like(raw["person_parsing"], 30)
    with grpc_server(FakePredictionService(session_model)) as target, GrpcClient(target, retries=3) as client:
        with pytest.raises(grpc.RpcError) as info:
            client.predict(raw)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "CIHP label ids must be within 0-19" in info.value.details()


def test_retries_unavailable_with_backoff(session_model):
    raw = raw_inputs(batch=1, seed=24)
    service = FakePredictionService(session_model, fail_first=2)
    with grpc_server(service) as target:
        with GrpcClient(target, retries=3, backoff=0.05) as client:
            start = time.perf_counter()
            outputs = client.predict(raw, output_filter=["tryon_image"])
            waited = time.perf_counter() - start
        assert service.calls == 3 and set(outputs) == {"tryon_image"}
        assert waited >= 0.05 + 0.10  # two back-offs: 0.05 s, then doubled
        service.calls, service.fail_first = 0, 5
        with GrpcClient(target, retries=1, backoff=0.01) as client, pytest.raises(grpc.RpcError) as info:
            client.predict(raw)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE and service.calls == 2


class _SlowOrLarge(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Answers after `delay` seconds with a float32 tensor of `floats` values."""

    def __init__(self, delay=0.0, floats=1):
        self.delay, self.floats, self.calls = delay, floats, 0

    def Predict(self, request, context):  # noqa: N802
        self.calls += 1
        time.sleep(self.delay)
        response = predict_pb2.PredictResponse()
        response.outputs["final"].CopyFrom(tf.make_tensor_proto(np.ones(self.floats, np.float32)))
        return response


def test_deadline_is_not_retried():
    service = _SlowOrLarge(delay=1.0)
    with grpc_server(service) as target, GrpcClient(target, timeout=0.2, retries=3) as client:
        with pytest.raises(grpc.RpcError) as info:
            client.predict({"x": np.zeros(1, np.float32)})
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED and service.calls == 1


def test_large_responses_need_the_raised_limit():
    floats = 2 * 1024 * 1024  # 8 MB: e.g. a batch of float32 intermediates
    with grpc_server(_SlowOrLarge(floats=floats)) as target:
        with GrpcClient(target) as client:
            assert client.predict({"x": np.zeros(1, np.float32)})["final"].shape == (floats,)
        with grpc.insecure_channel(target) as channel:  # gRPC's default 4 MB limit
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            with pytest.raises(grpc.RpcError) as info:
                stub.Predict(predict_pb2.PredictRequest(), timeout=10)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_cli_client_writes_the_tryon(exported, session_model, tmp_path):
    from tfvton.cli import main

    paths, decoded = write_request_files(tmp_path, seed=25)
    out = tmp_path / "out" / "tryon.png"
    with grpc_server(FakePredictionService(session_model)) as target:
        code = main(["client", "--grpc", target, "--person", paths["person"], "--parsing", paths["parsing"],
                     "--target-pose", paths["target_pose"], "--cloth", paths["cloth"],
                     "--cloth-mask", paths["cloth_mask"], "--out", str(out)])
    assert code == 0
    want = exported.reference(decoded)
    assert np.max(np.abs(np.asarray(Image.open(out)).astype(int) - want["tryon_image"][0])) <= 1
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "tryon_parsing.png")), want["parsing_labels"][0])
