"""Loopback stand-ins for TF-Serving (the real `tensorflow_model_server` cannot run here).

`FakePredictionService` implements `PredictionService.Predict` the way TF-Serving
does: the SavedModel loaded by the V1 loader into a Session, the request's
signature looked up in the SignatureDefs, TensorProtos in and out, TF errors
mapped to gRPC status codes. `rest_server` serves TF-Serving's REST predict API
(`POST /v1/models/<name>[/versions/<v>]:predict`, columnar `inputs`, `{"b64": ...}`
strings) from the same model.
"""
from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # TF-Serving itself accepts large messages


class FakePredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict backed by a `SessionModel`; the first `fail_first` calls answer UNAVAILABLE."""

    def __init__(self, model, model_name="tfvton", version=3, fail_first=0):
        self.model = model
        self.model_name = model_name
        self.version = version
        self.fail_first = fail_first
        self.calls = 0
        self.requests = []

    def Predict(self, request, context):  # noqa: N802 (gRPC method name)
        self.calls += 1
        self.requests.append(request)
        if self.calls <= self.fail_first:
            context.abort(grpc.StatusCode.UNAVAILABLE, "model is loading")
        if request.model_spec.name != self.model_name:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {request.model_spec.name}")
        signature = request.model_spec.signature_name or "serving_default"
        if signature not in self.model.signatures:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Serving signature name: \"{signature}\" not found")
        inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        try:
            outputs = self.model.run(signature, inputs, list(request.output_filter))
        except tf.errors.OpError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, error.message)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = self.model_name
        response.model_spec.signature_name = signature
        response.model_spec.version.value = self.version
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
        return response


@contextlib.contextmanager
def grpc_server(servicer):
    """Serves `servicer` on a free loopback port; yields `127.0.0.1:PORT`."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=[
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(0)


def _from_json(value, dtype):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        items = [_from_json(v, dtype) for v in value]
        if dtype == tf.string:
            return np.array(items, dtype=object)
        return np.asarray(items, dtype=dtype.as_numpy_dtype)
    return value


class RestState:
    """What the REST fake serves and what it saw."""

    def __init__(self, model, model_name="tfvton", fail_first=0):
        self.model = model
        self.model_name = model_name
        self.fail_first = fail_first
        self.calls = 0
        self.paths = []
        self.bodies = []


@contextlib.contextmanager
def rest_server(state: RestState):
    """TF-Serving's REST predict API on a free loopback port; yields `http://127.0.0.1:PORT`."""
    pattern = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

        def _reply(self, status, payload):
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):  # noqa: N802 (http.server API)
            state.calls += 1
            state.paths.append(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
            state.bodies.append(body)
            if state.calls <= state.fail_first:
                return self._reply(503, {"error": "model is loading"})
            match = pattern.match(self.path)
            if not match or match.group(1) != state.model_name:
                return self._reply(404, {"error": f"Servable not found for request: {self.path}"})
            signature_name = body.get("signature_name", "serving_default")
            signature = state.model.signatures.get(signature_name)
            if signature is None or "inputs" not in body:
                return self._reply(400, {"error": f"bad request for signature {signature_name!r}"})
            inputs = {key: _from_json(value, tf.dtypes.as_dtype(signature.inputs[key].dtype))
                      for key, value in body["inputs"].items()}
            try:
                outputs = state.model.run(signature_name, inputs)
            except tf.errors.OpError as error:
                return self._reply(400, {"error": error.message})
            return self._reply(200, {"outputs": {key: value.tolist() for key, value in outputs.items()}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
