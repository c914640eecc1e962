"""Client-side checks: endpoints, retry settings, reply shapes, read timeouts (a loopback HTTP server)."""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time

import numpy as np
import pytest

from tfvton.serving.replies import (MIN_REPLY_SIDE, ReplyError, check_grpc_target, check_reply, check_rest_url,
                                    check_retry_settings)
from tfvton.serving.rest_client import RestClient, RestError

VALID = {"outputs": {"tryon_image": np.zeros((1, 32, 32, 3), np.uint8).tolist(),
                     "parsing_labels": np.full((1, 32, 32), 5, np.uint8).tolist()}}


@contextlib.contextmanager
def loopback(replies):
    """An HTTP server on 127.0.0.1 answering each POST with the next (delay seconds, status, body)."""
    replies = list(replies)
    calls = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            delay, status, body = replies[min(len(calls), len(replies) - 1)]
            calls.append(status)
            time.sleep(delay)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


def test_read_timeout_is_retried_then_succeeds():
    with loopback([(1.5, 200, VALID), (0.0, 200, VALID)]) as (url, calls):
        outputs = RestClient(url, timeout=0.4, retries=1, backoff=0.01).predict({"x": np.zeros(1)})
    assert calls == [200, 200] and outputs["tryon_image"].shape == (1, 32, 32, 3)


def test_read_timeout_after_the_last_retry_is_a_clear_error():
    with loopback([(1.5, 200, VALID)]) as (url, calls):
        with pytest.raises(RestError, match=r"no reply within 0.4 s \(read timeout.*after 2 attempt"):
            RestClient(url, timeout=0.4, retries=1, backoff=0.01).predict({"x": np.zeros(1)})
    assert len(calls) == 2


@pytest.mark.parametrize("body, message", [
    ({"outputs": [[1, 2]]}, r"tryon_image` must be \(batch, height, width, 3\).*\(1, 2\)"),
    ({"outputs": {"tryon_image": np.zeros((1, 2, 1, 3)).tolist()}}, r"height and width >= 16"),
    ({"outputs": {"tryon_image": np.full((1, 32, 32, 3), 300).tolist()}}, r"integers in 0-255"),
    ({"outputs": {"tryon_image": np.full((1, 32, 32, 3), 0.5).tolist()}}, r"integers in 0-255"),
    ({"outputs": {"tryon_image": [[["a"]]]}}, r"not a numeric array"),
    ({"result": 1}, r"no 'outputs'"),
    (b"<html>proxy error</html>", r"not JSON"),
    ({"outputs": {**VALID["outputs"], "parsing_labels": np.full((1, 32, 32), 25).tolist()}}, r"integers in 0-19"),
], ids=["2x1", "tiny", "over_255", "fraction", "strings", "no_outputs", "html", "labels_25"])
def test_malformed_200_reply_is_an_error(body, message):
    with loopback([(0.0, 200, body)]) as (url, _):
        with pytest.raises(ReplyError, match=message):
            RestClient(url, retries=0).predict({"x": np.zeros(1)})


def test_check_reply_accepts_a_try_on_and_casts_to_uint8():
    image = np.full((2, MIN_REPLY_SIDE, MIN_REPLY_SIDE, 3), 255.0)
    checked = check_reply({"tryon_image": image, "parsing_labels": np.zeros((2, 16, 16, 1))}, "server")
    assert checked["tryon_image"].dtype == np.uint8 and checked["tryon_image"].max() == 255
    with pytest.raises(ReplyError, match="no `tryon_image`"):  # what `tryon` requires of every reply
        check_reply({"final": np.zeros((1, 16, 16, 3))}, "server")


@pytest.mark.parametrize("target", ["127.0.0.1:99999", "127.0.0.1:0", "localhost", ":8500", "host:85x0"])
def test_grpc_target_needs_a_real_port(target):
    with pytest.raises(ValueError, match="1-65535"):
        check_grpc_target(target)
    assert check_grpc_target("localhost:8500") == "localhost:8500"
    assert check_grpc_target("[::1]:8500") == "[::1]:8500"


@pytest.mark.parametrize("url", ["ftp://localhost:8501", "file:///etc/passwd", "http://:8501", "http://h:99999"])
def test_rest_url_must_be_http(url):
    with pytest.raises(ValueError, match="http"):
        check_rest_url(url)
    assert check_rest_url("localhost:8501") == "http://localhost:8501"


@pytest.mark.parametrize("kwargs, field", [({"retries": -1}, "retries"), ({"retries": 1.5}, "retries"),
                                           ({"timeout": 0}, "timeout"), ({"timeout": float("nan")}, "timeout"),
                                           ({"backoff": -1}, "backoff")])
def test_retry_settings_are_checked(kwargs, field):
    settings = {"timeout": 30.0, "retries": 3, "backoff": 0.5, **kwargs}
    with pytest.raises(ValueError, match=f"`{field}`"):
        check_retry_settings(**settings)
    with pytest.raises(ValueError, match=f"`{field}`"):
        RestClient("http://localhost:8501", **settings)


def test_client_command_saves_nothing_from_a_malformed_reply(tmp_path, capsys):
    from tests.data.mpv_helpers import write_flat_dataset
    from tfvton.cli import main

    root = write_flat_dataset(tmp_path / "mpv", persons=2)
    stem, cloth = "P00-A11@0=person_half_front", "P00-A11@0=cloth_front"
    out = tmp_path / "out" / "c.png"
    with loopback([(0.0, 200, {"outputs": [[1, 2]]})]) as (url, _):
        code = main(["client", "--rest", url, "--person", str(root / "images" / f"{stem}.jpg"),
                     "--parsing", str(root / "parse_cihp" / f"{stem}.png"),
                     "--target-pose", str(root / "pose_coco" / f"{stem}_keypoints.json"),
                     "--cloth", str(root / "cloth_image" / f"{cloth}.jpg"),
                     "--cloth-mask", str(root / "cloth_mask" / f"{cloth}_mask.png"), "--out", str(out),
                     "--retries", "0"])
    assert code == 1 and "tryon_image" in capsys.readouterr().err
    assert not out.exists()
