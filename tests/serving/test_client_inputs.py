"""Client-side request building from the real MPV files (no model, no server)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tfvton.serving import inputs


def _sample(mpv_root):
    person, target_pose, cloth, _ = (mpv_root / "demo.txt").read_text().splitlines()[0].split("\t")
    stem, cloth_stem = person.rsplit(".", 1)[0], cloth.rsplit(".", 1)[0]
    return {"person": mpv_root / "images" / person, "parsing": mpv_root / "parse_cihp" / f"{stem}.png",
            "target_pose": mpv_root / "pose_coco" / target_pose, "cloth": mpv_root / "cloth_image" / cloth,
            "cloth_mask": mpv_root / "cloth_mask" / f"{cloth_stem}_mask.png",
            "parsing_vis": mpv_root / "parse_cihp" / f"{stem}_vis.png"}


def test_requests_hold_what_tryon_reads(mpv_root):
    from tfvton.data.tryon_inputs import read_single

    files = _sample(mpv_root)
    raw = read_single(files["person"], files["parsing"], None, files["target_pose"], files["cloth"],
                      files["cloth_mask"])
    request = inputs.build_request(files["person"], files["parsing"], files["target_pose"], files["cloth"],
                                   files["cloth_mask"], "serving_default")
    for key in ("person_image", "cloth_image", "cloth_mask", "person_parsing", "target_pose_keypoints"):
        assert np.array_equal(request[key][0], raw[key]), key


def test_requests_from_real_files(mpv_root):
    files = {key: str(path) for key, path in _sample(mpv_root).items()}
    arrays = inputs.build_request(files["person"], files["parsing"], files["target_pose"], files["cloth"],
                                  files["cloth_mask"], "serving_default")
    assert {k: (v.dtype.name, v.shape) for k, v in arrays.items()} == {
        "person_image": ("uint8", (1, 256, 192, 3)), "cloth_image": ("uint8", (1, 256, 192, 3)),
        "cloth_mask": ("uint8", (1, 256, 192, 1)), "person_parsing": ("uint8", (1, 256, 192)),
        "target_pose_keypoints": ("float32", (1, 18, 3))}
    assert set(np.unique(arrays["cloth_mask"])) == {0, 255}
    assert np.array_equal(arrays["person_parsing"][0], np.asarray(Image.open(files["parsing"])))

    encoded = inputs.build_request(files["person"], files["parsing"], files["target_pose"], files["cloth"],
                                   files["cloth_mask"], "predict_bytes")
    assert encoded["person_image"][0] == open(files["person"], "rb").read()  # the JPEG as stored
    for key in ("person_parsing", "cloth_mask"):  # lossless, mode L, same values
        image = Image.open(io.BytesIO(encoded[key][0]))
        assert image.format == "PNG" and image.mode == "L"
        assert np.array_equal(np.asarray(image), arrays[key][0].reshape(256, 192))


def test_colour_rendering_reads_as_its_label_map_and_wrong_files_are_named(mpv_root, tmp_path):
    from tfvton.data import DataError

    files = {key: str(path) for key, path in _sample(mpv_root).items()}
    args = [files["person"], files["parsing"], files["target_pose"], files["cloth"], files["cloth_mask"]]
    grey = inputs.build_request(*args, signature_name="predict_bytes")
    args[1] = files["parsing_vis"]
    assert grey["person_parsing"][0] == inputs.build_request(*args, signature_name="predict_bytes")[
        "person_parsing"][0]
    (tmp_path / "empty.json").write_text('{"people": []}')
    args[2] = str(tmp_path / "empty.json")
    with pytest.raises(DataError, match="empty.json: .*no person"):
        inputs.build_request(*args)
    args[2] = files["target_pose"]
    args[1] = np.full((256, 192), 20, np.uint8)
    with pytest.raises(DataError, match=r"person parsing: CIHP label ids must be within 0-19; found \[20\]"):
        inputs.build_request(*args)


def test_client_command_reads_files_as_tryon_does_before_connecting(mpv_root, tmp_path, capsys):
    from tfvton.cli import main

    files = {key: str(path) for key, path in _sample(mpv_root).items()}
    args = ["client", "--rest", "http://127.0.0.1:9", "--person", files["person"], "--parsing", files["parsing_vis"],
            "--target-pose", files["target_pose"], "--cloth", files["cloth"], "--out", str(tmp_path / "o.png"),
            "--parsing-format", "cihp"]
    assert main(args) == 1  # refused by the reader: no connection attempted
    err = capsys.readouterr().err
    assert files["parsing_vis"] in err and "not a label map" in err and "docs/inputs.md" in err
