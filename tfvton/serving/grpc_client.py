"""gRPC client for a tfvton model served by TF-Serving (`PredictionService.Predict`).

Example:
    >>> from tfvton.serving.grpc_client import GrpcClient
    >>> with GrpcClient("localhost:8500") as client:
    ...     outputs = client.tryon("person.jpg", "person.png", "pose.json", "cloth.jpg", "cloth_mask.png")
    >>> outputs["tryon_image"].shape
    (1, 256, 192, 3)
"""
from __future__ import annotations

import logging
import random
import time
from typing import Dict, Mapping, Optional

import numpy as np

from tfvton.serving.inputs import ArrayOrPath, build_request
from tfvton.serving.replies import check_grpc_target, check_reply, check_retry_settings

LOGGER = logging.getLogger(__name__)

# Python gRPC refuses messages over 4 MB by default; a float32 256x192x3 image is
# 590 KB, a batch of intermediates is several MB. 64 MB covers batches of 8 with
# every intermediate at 512x384.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class GrpcClient:
    """Sends try-on requests to TF-Serving over gRPC.

    Args:
        target: `host:port` of the server's gRPC endpoint (TF-Serving: 8500).
        model_name: the name in `models.config`.
        signature_name: default signature (`serving_default` takes arrays,
            `predict_bytes` encoded images).
        version: pin one model version; None lets the server pick the latest.
        timeout: deadline of one attempt, in seconds.
        retries: further attempts after an UNAVAILABLE answer (server starting,
            restarting, or a connection reset by a load balancer).
        backoff: first wait between attempts in seconds; doubles each retry,
            with up to 10% jitter so many clients do not retry in lock step.
        max_message_bytes: gRPC send/receive limit of the channel.
        channel: an existing `grpc.Channel` to use instead of opening one.
    """

    def __init__(self, target: str, model_name: str = "tfvton", signature_name: str = "serving_default",
                 version: Optional[int] = None, timeout: float = 30.0, retries: int = 3, backoff: float = 0.5,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, channel=None):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        if channel is None:
            check_grpc_target(target)
        check_retry_settings(timeout, retries, backoff)
        self.target = target
        self.model_name = model_name
        self.signature_name = signature_name
        self.version = version
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_message_bytes = max_message_bytes
        self._owns_channel = channel is None
        if channel is None:
            channel = grpc.insecure_channel(target, options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ])
        self._channel = channel
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

    def predict(self, inputs: Mapping[str, np.ndarray], signature_name: Optional[str] = None,
                output_filter=()) -> Dict[str, np.ndarray]:
        """Runs one `Predict` call.

        Args:
            inputs: batched arrays keyed by the signature's input names (object
                arrays of `bytes` for string inputs).
            signature_name: overrides the client's default signature.
            output_filter: output names to return (empty: all of them).

        Returns:
            dict of NumPy arrays, one per output.

        Raises:
            grpc.RpcError: the server's error (e.g. INVALID_ARGUMENT with the
                model's validation message), or UNAVAILABLE after the last retry.
            tfvton.serving.replies.ReplyError: a reply that is not a try-on result.
        """
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name
        request.model_spec.signature_name = signature_name or self.signature_name
        if self.version is not None:
            request.model_spec.version.value = int(self.version)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
        request.output_filter.extend(output_filter)

        for attempt in range(self.retries + 1):
            try:
                response = self._stub.Predict(request, timeout=self.timeout)
                break
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == self.retries:
                    raise
                wait = self.backoff * (2 ** attempt) * (1.0 + 0.1 * random.random())
                LOGGER.warning("%s UNAVAILABLE (%s); retry %d/%d in %.2fs", self.target, error.details(),
                               attempt + 1, self.retries, wait)
                time.sleep(wait)
        outputs = {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}
        # A try-on image in the reply is checked here; `tryon` also requires one.
        return check_reply(outputs, self.target) if "tryon_image" in outputs else outputs

    def tryon(self, person: ArrayOrPath, parsing: ArrayOrPath, target_pose: ArrayOrPath, cloth: ArrayOrPath,
              cloth_mask: Optional[ArrayOrPath] = None, signature_name: Optional[str] = None) -> Dict[str, np.ndarray]:
        """One try-on from files or arrays (see `tfvton.serving.inputs.build_request`).

        Returns:
            dict with `tryon_image` uint8 (1, H, W, 3), `parsing_labels` uint8
            (1, H, W) and the intermediates when the model was exported with them.
        """
        signature_name = signature_name or self.signature_name
        request = build_request(person, parsing, target_pose, cloth, cloth_mask, signature_name)
        return check_reply(self.predict(request, signature_name), self.target)

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
