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


def test_keypoints_read_as_the_data_layer_reads_them(mpv_root):
    from tfvton.data.mpv import load_keypoints

    for path in sorted((mpv_root / "pose_coco").glob("*.json")):
        assert np.array_equal(inputs.load_keypoints(str(path)), load_keypoints(path))


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


def test_wrong_files_are_named(mpv_root, tmp_path):
    files = _sample(mpv_root)
    with pytest.raises(ValueError, match=r"_vis\.png"):
        inputs.load_parsing(str(files["parsing_vis"]))
    (tmp_path / "empty.json").write_text('{"people": []}')
    with pytest.raises(ValueError, match="no person"):
        inputs.load_keypoints(str(tmp_path / "empty.json"))
    with pytest.raises(ValueError, match=r"label ids must be in 0\.\.19"):
        inputs.load_parsing(np.full((4, 4), 20, np.uint8))
