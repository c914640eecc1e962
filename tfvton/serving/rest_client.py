"""REST client for a tfvton model served by TF-Serving (`POST /v1/models/<name>:predict`).

Requests use TF-Serving's columnar JSON form (`{"signature_name": ..., "inputs":
{...}}`); encoded images travel as `{"b64": "..."}` objects, which TF-Serving
decodes into the signature's string inputs. By default the client calls the
`predict_bytes` signature, so a 256x192 photo costs its JPEG size in base64
instead of a JSON list of 147,456 integers. Standard library only (urllib).

Example:
    >>> from tfvton.serving.rest_client import RestClient
    >>> client = RestClient("http://localhost:8501")
    >>> outputs = client.tryon("person.jpg", "person.png", "pose.json", "cloth.jpg", "cloth_mask.png")
"""
from __future__ import annotations

import base64
import http.client
import json
import logging
import random
import socket
import time
import urllib.error
import urllib.request
from typing import Dict, Mapping, Optional

import numpy as np

from tfvton.errors import TfvtonError
from tfvton.serving.inputs import ArrayOrPath, build_request
from tfvton.serving.replies import ReplyError, check_reply, check_rest_url, check_retry_settings

LOGGER = logging.getLogger(__name__)

# Output dtypes of the exported signatures (JSON carries no dtype).
OUTPUT_DTYPES = {"tryon_image": np.uint8, "parsing_labels": np.uint8}

_RETRY_STATUS = (502, 503, 504)  # gateway errors and "server not ready"


def to_json_value(value):
    """A NumPy input as JSON: nested lists, bytes as `{"b64": ...}` objects."""
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind == "S":
        def encode(item):
            if isinstance(item, np.ndarray):
                return [encode(x) for x in item]
            return {"b64": base64.b64encode(bytes(item)).decode("ascii")}
        return encode(array) if array.ndim else encode(array.item())
    return array.tolist()


def endpoint(url: str, model_name: str, version: Optional[int] = None) -> str:
    """The predict URL: `url` itself when it already ends in `:predict`."""
    url = url.rstrip("/")
    if url.endswith(":predict"):
        return url
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    path = f"/v1/models/{model_name}" + (f"/versions/{int(version)}" if version is not None else "")
    return url + path + ":predict"


class RestError(TfvtonError, RuntimeError):
    """The server answered with an error (its message, e.g. the model's validation, is kept)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class RestClient:
    """Sends try-on requests to TF-Serving's REST API.

    Args:
        url: server base URL (`http://host:8501`) or a full `...:predict` URL.
        model_name: the name in `models.config`.
        signature_name: default signature (`predict_bytes` or `serving_default`).
        version: pin one model version; None lets the server pick the latest.
        timeout: socket timeout of one attempt, in seconds (connecting and reading).
        retries: further attempts after a refused or reset connection, a read
            timeout or HTTP 502/503/504.
        backoff: first wait between attempts in seconds; doubles each retry.
    """

    def __init__(self, url: str, model_name: str = "tfvton", signature_name: str = "predict_bytes",
                 version: Optional[int] = None, timeout: float = 60.0, retries: int = 3, backoff: float = 0.5):
        check_rest_url(url)
        check_retry_settings(timeout, retries, backoff)
        self.url = url
        self.model_name = model_name
        self.signature_name = signature_name
        self.version = version
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def predict(self, inputs: Mapping[str, np.ndarray], signature_name: Optional[str] = None) -> Dict[str, np.ndarray]:
        """Runs one predict call; returns a dict of NumPy arrays, one per output.

        Raises:
            RestError: the server's error message (HTTP 4xx/5xx), or the last
                retryable failure after `retries` attempts.
            ReplyError: a 200 reply that is not a try-on result.
        """
        body = json.dumps({
            "signature_name": signature_name or self.signature_name,
            "inputs": {key: to_json_value(value) for key, value in inputs.items()},
        }).encode("utf-8")
        url = endpoint(self.url, self.model_name, self.version)
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read().decode("utf-8", "replace")
                break
            except urllib.error.HTTPError as error:
                text = error.read().decode("utf-8", "replace")
                try:
                    message = json.loads(text).get("error", text)
                except ValueError:
                    message = text
                if error.code not in _RETRY_STATUS or attempt == self.retries:
                    raise RestError(error.code, message) from None
                reason = f"HTTP {error.code}"
            except urllib.error.URLError as error:  # refused, reset: the server is not up (yet)
                timed_out = isinstance(error.reason, (socket.timeout, TimeoutError))
                reason = f"no answer within {self.timeout:g} s" if timed_out else str(error.reason)
                if attempt == self.retries:
                    raise RestError(0, f"{url}: {reason} (after {attempt + 1} attempt(s))") from None
            except (socket.timeout, TimeoutError):  # connected, but the reply did not come in time
                reason = f"no reply within {self.timeout:g} s (read timeout; raise --timeout for a slow server)"
                if attempt == self.retries:
                    raise RestError(0, f"{url}: {reason} (after {attempt + 1} attempt(s))") from None
            except (ConnectionError, http.client.HTTPException) as error:  # reset or cut mid-reply
                reason = f"connection lost ({type(error).__name__}: {error})"
                if attempt == self.retries:
                    raise RestError(0, f"{url}: {reason} (after {attempt + 1} attempt(s))") from None
            wait = self.backoff * (2 ** attempt) * (1.0 + 0.1 * random.random())
            LOGGER.warning("%s: %s; retry %d/%d in %.2fs", url, reason, attempt + 1, self.retries, wait)
            time.sleep(wait)
        try:
            payload = json.loads(text)
        except ValueError:
            raise ReplyError(f"{url}: the reply is not JSON: {text[:200]!r}") from None
        outputs = payload.get("outputs") if isinstance(payload, dict) else None
        if outputs is None:
            raise ReplyError(f"{url}: the reply has no 'outputs': {str(payload)[:200]}")
        if not isinstance(outputs, dict):  # TF-Serving unwraps a single output
            outputs = {"tryon_image": outputs}
        try:
            # float64 first, so values outside uint8 are caught by the check, not wrapped.
            arrays = {key: np.asarray(value, dtype=np.float64 if key in OUTPUT_DTYPES else np.float32)
                      for key, value in outputs.items()}
        except (TypeError, ValueError) as error:
            raise ReplyError(f"{url}: an output of the reply is not a numeric array ({error})") from None
        # A try-on image in the reply is checked here; `tryon` also requires one.
        return check_reply(arrays, url) if "tryon_image" in arrays else arrays

    def tryon(self, person: ArrayOrPath, parsing: ArrayOrPath, target_pose: ArrayOrPath, cloth: ArrayOrPath,
              cloth_mask: Optional[ArrayOrPath] = None, signature_name: Optional[str] = None) -> Dict[str, np.ndarray]:
        """One try-on from files or arrays (see `tfvton.serving.inputs.build_request`)."""
        signature_name = signature_name or self.signature_name
        request = build_request(person, parsing, target_pose, cloth, cloth_mask, signature_name)
        return check_reply(self.predict(request, signature_name), self.url)
