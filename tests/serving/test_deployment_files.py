"""The files in the top-level serving/ folder parse and agree with each other and with the export."""
from __future__ import annotations

import re

import yaml
from google.protobuf import text_format

from tests.conftest import REPO_ROOT

SERVING = REPO_ROOT / "serving"


def test_models_config_parses_and_matches_the_compose_mount():
    from tensorflow_serving.config import model_server_config_pb2

    config = text_format.Parse((SERVING / "models.config").read_text(), model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert model.name == "tfvton" and model.model_platform == "tensorflow"
    assert model.base_path == "/models/tfvton"  # export writes OUT/tfvton/<version>; OUT is mounted at /models

    compose = yaml.safe_load((SERVING / "docker-compose.yml").read_text())
    service = compose["services"]["tfvton"]
    assert service["image"].startswith("tensorflow/serving:")
    assert {"8500:8500", "8501:8501"} <= set(service["ports"])
    mounts = {volume.rsplit(":", 2)[1] for volume in service["volumes"]}  # HOST:CONTAINER:ro
    assert {"/models", "/config/models.config", "/config/batching_parameters.txt"} <= mounts
    flags = dict(arg.lstrip("-").split("=", 1) for arg in service["command"])
    assert flags["model_config_file"] == "/config/models.config"
    assert flags["batching_parameters_file"] == "/config/batching_parameters.txt"


def test_batching_parameters_are_consistent():
    text = (SERVING / "batching_parameters.txt").read_text()
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    max_batch = int(re.search(r"max_batch_size\s*{\s*value:\s*(\d+)\s*}", body).group(1))
    allowed = [int(v) for v in re.findall(r"allowed_batch_sizes:\s*(\d+)", body)]
    # TF-Serving requires increasing allowed sizes ending at max_batch_size.
    assert allowed == sorted(allowed) and allowed[-1] == max_batch
    fields = set(re.findall(r"^\s*(\w+)\s*[:{]", body, flags=re.M))
    assert fields <= {"max_batch_size", "batch_timeout_micros", "allowed_batch_sizes", "num_batch_threads",
                      "max_enqueued_batches", "pad_variable_length_inputs", "value"}
