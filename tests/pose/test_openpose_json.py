"""OpenPose JSON writing: the file reads back through the data layer's reader; the skeleton picture."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tfvton.data.mpv import load_keypoints
from tfvton.pose.openpose_json import render_skeleton, write_openpose_json


def test_written_keypoints_read_back(tmp_path):
    keypoints = np.zeros((18, 3), np.float32)
    keypoints[0] = (12.25, 30.5, 0.9)
    keypoints[1] = (15.0, 40.0, 0.75)
    path = write_openpose_json(tmp_path / "a" / "p_keypoints.json", keypoints)
    document = json.loads(path.read_text())
    assert len(document["people"]) == 1 and len(document["people"][0]["pose_keypoints_2d"]) == 54
    np.testing.assert_allclose(load_keypoints(path), keypoints)
    with pytest.raises(ValueError, match="18, 3"):
        write_openpose_json(tmp_path / "b.json", np.zeros((25, 3)))


def test_render_draws_only_seen_joints(tmp_path):
    image = np.zeros((64, 48, 3), np.uint8)
    keypoints = np.zeros((18, 3))
    keypoints[1], keypoints[2] = (24, 10, 0.9), (10, 12, 0.9)  # neck and right shoulder: one limb
    out = np.asarray(Image.open(render_skeleton(tmp_path / "r.png", image, keypoints)))
    assert out.shape == (64, 48, 3)
    assert out[10, 17].any() and out[12, 10].any()  # on the limb and on the shoulder
    assert not out[50:, :].any()  # nothing where no joint is
