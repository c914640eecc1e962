"""The one reader's contract (docs/inputs.md): each bad input, made in the test, is a DataError naming the file."""
from __future__ import annotations

import json
import struct
import time
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfvton.data import DataError, raw_io, transforms
from tfvton.data.cloth_mask import compute_cloth_mask, mask_for_cloth
from tfvton.data.tryon_inputs import read_single


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few hundred bytes whose header declares width x height RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
            + _png_chunk(b"IEND", b""))


def _pose(path, points):
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": np.asarray(points).ravel().tolist()}]}))
    return path


def _person_files(tmp_path, h=64, w=48):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(tmp_path / "person.png")
    labels = np.zeros((h, w), np.uint8)
    labels[10:50, 10:38] = 5
    Image.fromarray(labels).save(tmp_path / "parsing.png")
    cloth = np.full((h, w, 3), 255, np.uint8)
    cloth[8:56, 8:40] = (200, 30, 30)
    Image.fromarray(cloth).save(tmp_path / "cloth.png")
    mask = np.zeros((h, w), np.uint8)
    mask[8:56, 8:40] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    points = np.zeros((18, 3))
    points[:, 0], points[:, 1], points[:, 2] = np.linspace(5, w - 5, 18), np.linspace(5, h - 5, 18), 1
    _pose(tmp_path / "pose.json", points)
    return {"person": tmp_path / "person.png", "parsing": tmp_path / "parsing.png", "pose": tmp_path / "pose.json",
            "target_pose": tmp_path / "pose.json", "cloth": tmp_path / "cloth.png", "cloth_mask": tmp_path / "mask.png"}


def test_sixteen_bit_grey_photo_is_converted_as_tf_decodes_it(tmp_path):
    values = (np.arange(64 * 48, dtype=np.uint32).reshape(64, 48) * 21).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    photo = raw_io.read_photo(tmp_path / "deep.png")
    # Not all white: the brightest pixel is 3071 * 21 = 64491, i.e. 251 in 8 bits.
    assert photo.shape == (64, 48, 3) and photo.min() == 0 and photo.max() == 251
    assert np.array_equal(photo[..., 0], (values >> 8).astype(np.uint8))
    in_graph = transforms.decode_image(tf.constant((tmp_path / "deep.png").read_bytes())).numpy()
    assert np.array_equal(photo, in_graph)  # the data layer's and the served decoder agree


@pytest.mark.parametrize("side", [13000, 30000])
def test_pixel_bomb_is_refused_from_its_header(tmp_path, side):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_declaring(side, side))
    assert path.stat().st_size < 4096
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"bomb.png: person photo declares .*pixels.*; at most 16777216") as info:
        raw_io.read_photo(path, "person photo")
    assert time.perf_counter() - start < 1.0
    assert info.value.path == str(path) and "docs/inputs.md" in str(info.value)


def test_size_and_byte_caps(tmp_path):
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(tmp_path / "dot.png")
    with pytest.raises(DataError, match=r"dot.png: photo is 1x1 pixels; at least 16x16"):
        raw_io.read_photo(tmp_path / "dot.png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "ok.png")
    with pytest.raises(DataError, match=r"ok.png: photo file is \d+ bytes; 1 to 10 accepted"):
        raw_io.read_photo(tmp_path / "ok.png", limits=raw_io.InputLimits(max_image_bytes=10))
    (tmp_path / "trunc.png").write_bytes((tmp_path / "ok.png").read_bytes()[:60])
    with pytest.raises(DataError, match="trunc.png: corrupt or truncated"):
        raw_io.read_photo(tmp_path / "trunc.png")
    Image.fromarray(np.zeros((32, 32, 4), np.uint8), "RGBA").convert("CMYK").save(tmp_path / "cmyk.jpg")
    with pytest.raises(DataError, match="cmyk.jpg: photo has image mode CMYK"):
        raw_io.read_photo(tmp_path / "cmyk.jpg")


def test_zero_one_mask_reads_as_its_zero_255_twin_and_empty_masks_are_refused(tmp_path):
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 1
    Image.fromarray(mask).save(tmp_path / "01.png")
    Image.fromarray(mask * 255).save(tmp_path / "0255.png")
    assert np.array_equal(raw_io.read_mask(tmp_path / "01.png"), raw_io.read_mask(tmp_path / "0255.png"))
    assert int(raw_io.read_mask(tmp_path / "01.png").sum()) == 16 * 16 * 255
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "empty.png")
    with pytest.raises(DataError, match=r"empty.png: cloth mask is empty or almost empty: 0 of 1024"):
        raw_io.read_mask(tmp_path / "empty.png")
    with pytest.raises(DataError, match="cloth mask is empty"):
        raw_io.read_mask(np.zeros((32, 32), bool))


@pytest.mark.parametrize("value, problem", [
    (float("nan"), r"NaN or infinite in float32 at joints \[3\]"),
    (1e300, r"NaN or infinite in float32 at joints \[3\]"),  # finite in float64, inf in float32
    (1e6, r"beyond \+-65536 pixels at joints \[3\]"),
])
def test_bad_keypoints_name_the_file(tmp_path, value, problem):
    flat = [10.0] * 54
    flat[9] = value  # x of joint 3
    (tmp_path / "kp.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": flat}]}))
    with pytest.raises(DataError, match="kp.json: pose keypoints .*" + problem):
        raw_io.read_keypoints(tmp_path / "kp.json")


def test_deep_or_huge_json_is_refused_before_parsing(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(DataError, match=r"deep.json: pose JSON is nested 100000 deep; at most 32"):
        raw_io.read_keypoints(tmp_path / "deep.json")
    (tmp_path / "big.json").write_text(" " * (raw_io.MAX_JSON_BYTES + 1))
    with pytest.raises(DataError, match="big.json: pose JSON is .* bytes; at most"):
        raw_io.read_keypoints(tmp_path / "big.json")
    (tmp_path / "brackets.json").write_text(json.dumps({"note": "[" * 1000, "people": []}))
    with pytest.raises(DataError, match="no person"):  # brackets inside strings do not count
        raw_io.read_keypoints(tmp_path / "brackets.json")


def test_single_files_check_sizes_and_accept_any_known_form(tmp_path):
    files = _person_files(tmp_path)
    raw = read_single(**files)
    assert raw["person_parsing"].shape == (64, 48) and raw["cloth_mask"].shape == (64, 48, 1)
    Image.fromarray(np.zeros((32, 48), np.uint8)).save(tmp_path / "small_parsing.png")
    with pytest.raises(DataError, match=r"small_parsing.png: person parsing is 48x32, expected the person photo's "
                                        r"size 48x64"):
        read_single(**{**files, "parsing": tmp_path / "small_parsing.png"})
    without_pose = read_single(**{**files, "pose": None})
    assert not without_pose["source_pose_keypoints"].any()


def test_grabcut_runs_on_a_downscaled_copy_and_refuses_tiny_or_empty_results(tmp_path):
    big = np.full((2400, 1800, 3), 255, np.uint8)
    big[300:2100, 400:1400] = (30, 60, 200)
    start = time.perf_counter()
    mask = compute_cloth_mask(big)
    seconds = time.perf_counter() - start
    expected = np.zeros(big.shape[:2], bool)
    expected[300:2100, 400:1400] = True
    assert mask.shape == big.shape[:2]
    assert ((mask == 255) & expected).sum() / ((mask == 255) | expected).sum() > 0.99
    assert seconds < 10, seconds
    with pytest.raises(DataError, match=r"white.png: GrabCut .*pass its mask with --cloth-mask"):
        mask_for_cloth(np.full((64, 48, 3), 255, np.uint8), "white.png")
    with pytest.raises(DataError, match=r"tiny.png: cloth photo is 4x4 pixels"):
        mask_for_cloth(np.zeros((4, 4, 3), np.uint8), "tiny.png")
    files = _person_files(tmp_path)
    Image.fromarray(np.full((64, 48, 3), 255, np.uint8)).save(tmp_path / "blank.png")
    with pytest.raises(DataError, match=r"blank.png: GrabCut"):
        read_single(**{**files, "cloth": tmp_path / "blank.png", "cloth_mask": None})


def test_other_formats_of_the_real_samples_read_as_the_mpv_files(mpv_root, tmp_path):
    """A colour parsing, a BODY_25 target pose and a 0/1 mask give exactly the raw inputs of the MPV files."""
    stem, cloth = "1LJ21D005-G11@10=person_half_front", "CO121D08G-O11@10=cloth_front"
    files = {"person": mpv_root / "images" / f"{stem}.jpg", "parsing": mpv_root / "parse_cihp" / f"{stem}.png",
             "pose": mpv_root / "pose_coco" / f"{stem}_keypoints.json",
             "target_pose": mpv_root / "pose_coco" / "AD121D0G7-A11@10=person_half_front_keypoints.json",
             "cloth": mpv_root / "cloth_image" / f"{cloth}.jpg",
             "cloth_mask": mpv_root / "cloth_mask" / f"{cloth}_mask.png"}
    reference = read_single(**files)
    coco18 = np.asarray(json.loads(files["target_pose"].read_text())["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    body25 = np.zeros((25, 3))
    body25[[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]] = coco18
    body25[8] = (coco18[8] + coco18[11]) / 2  # mid hip, dropped
    mask = np.asarray(Image.open(files["cloth_mask"])) // 255
    Image.fromarray(mask.astype(np.uint8)).save(tmp_path / "mask01.png")
    notes = []
    other = read_single(**{**files, "parsing": mpv_root / "parse_cihp" / f"{stem}_vis.png",
                           "target_pose": _pose(tmp_path / "body25.json", body25),
                           "cloth_mask": tmp_path / "mask01.png"}, log=notes.append)
    for key, value in reference.items():
        assert np.array_equal(other[key], value), key
    assert any("BODY_25" in note for note in notes) and any("colour rendering" in note for note in notes)
