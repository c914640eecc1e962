"""Checks both serving clients share: endpoint addresses, retry settings and the shape of a reply.

A server (or a proxy in front of it) can answer 200 with something that is not
a try-on; the clients check every reply before anything is saved, so a
malformed answer is an error, never a 2x1 PNG.
"""
from __future__ import annotations

import math
from typing import Dict, Mapping
from urllib.parse import urlsplit

import numpy as np

from tfvton.data.labels import NUM_LABELS
from tfvton.errors import TfvtonError

# Every tfvton model works at 64x48 or more (sizes are multiples of 16); a reply
# smaller than this is not a try-on.
MIN_REPLY_SIDE = 16

__all__ = ["MIN_REPLY_SIDE", "ReplyError", "check_retry_settings", "check_grpc_target", "check_rest_url",
           "check_reply"]


class ReplyError(TfvtonError, ValueError):
    """The server's reply is not a try-on result (wrong keys, shape, dtype or values)."""


def check_retry_settings(timeout: float, retries: int, backoff: float) -> None:
    """Raises ValueError unless timeout > 0, retries >= 0 (an integer) and backoff >= 0."""
    if not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"`timeout` must be a positive number of seconds. Received: timeout={timeout!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"`retries` must be an integer >= 0 (further attempts after the first). "
                         f"Received: retries={retries!r}")
    if not isinstance(backoff, (int, float)) or not math.isfinite(backoff) or backoff < 0:
        raise ValueError(f"`backoff` must be a number of seconds >= 0. Received: backoff={backoff!r}")


def check_grpc_target(target: str) -> str:
    """`host:port` with a port in 1-65535 (gRPC would silently wrap 99999 to another port)."""
    host, sep, port = str(target).rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"the gRPC endpoint must be HOST:PORT with a port in 1-65535 (TF-Serving: 8500). "
                         f"Received: {target!r}")
    return target


def check_rest_url(url: str) -> str:
    """An http(s) URL with a host and a valid port; a bare `host:port` gets `http://`."""
    text = str(url).strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"the REST endpoint must be an http:// or https:// URL (TF-Serving: "
                         f"http://HOST:8501). Received: {url!r}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or (port is not None and not 1 <= port <= 65535):
        raise ValueError(f"the REST endpoint needs a host and a port in 1-65535, e.g. http://localhost:8501. "
                         f"Received: {url!r}")
    return text


def check_reply(outputs: Mapping[str, np.ndarray], source: str) -> Dict[str, np.ndarray]:
    """Checks a reply's `tryon_image` (and `parsing_labels` when present); returns them as uint8.

    Args:
        outputs: the decoded reply, one array per output name.
        source: the endpoint, for the message.
    Raises:
        ReplyError: naming the output, what was received and what is expected.
    """
    if "tryon_image" not in outputs:
        raise ReplyError(f"{source}: the reply has no `tryon_image` output (got {sorted(outputs)})")
    checked = dict(outputs)
    image = np.asarray(outputs["tryon_image"])
    if (image.ndim != 4 or image.shape[0] < 1 or image.shape[-1] != 3 or min(image.shape[1:3]) < MIN_REPLY_SIDE):
        raise ReplyError(f"{source}: `tryon_image` must be (batch, height, width, 3) with height and width >= "
                         f"{MIN_REPLY_SIDE}. Received shape {image.shape}")
    checked["tryon_image"] = _as_uint8(image, "tryon_image", 255, source)
    if "parsing_labels" in outputs:
        labels = np.asarray(outputs["parsing_labels"])
        if labels.shape[:3] != image.shape[:3] or labels.ndim not in (3, 4) or labels.shape[3:] not in ((), (1,)):
            raise ReplyError(f"{source}: `parsing_labels` must be (batch, height, width) like `tryon_image` "
                             f"{image.shape[:3]}. Received shape {labels.shape}")
        checked["parsing_labels"] = _as_uint8(labels, "parsing_labels", NUM_LABELS - 1, source)
    return checked


def _as_uint8(array: np.ndarray, name: str, top: int, source: str) -> np.ndarray:
    if array.dtype.kind not in "uif":
        raise ReplyError(f"{source}: `{name}` must hold numbers. Received dtype {array.dtype}")
    if array.size and (not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > top
                       or np.any(array != np.round(array))):
        raise ReplyError(f"{source}: `{name}` must hold integers in 0-{top}. Received values in "
                         f"[{array.min()}, {array.max()}]")
    return array.astype(np.uint8)
