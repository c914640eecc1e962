"""Keypoint and parsing format mappings, with hand-made inputs, through the one reader."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tfvton.data import DataError, raw_io
from tfvton.data.formats import keypoints as kp
from tfvton.data.formats import parsing as ps


def _write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def _points(count):
    """Distinct, recognisable joints: x = 100 + j, y = 200 + j, confidence 0.9."""
    j = np.arange(count, dtype=np.float64)
    return np.stack([100 + j, 200 + j, np.full(count, 0.9)], axis=1)


# ----------------------------------------------------------------------------- keypoints

def test_coco18_json_reads_unchanged(tmp_path):
    points = _points(18)
    path = _write_json(tmp_path / "p.json", {"people": [{"pose_keypoints_2d": points.ravel().tolist()}]})
    notes = []
    assert np.array_equal(raw_io.read_keypoints(path, log=notes.append), points.astype(np.float32))
    assert "OpenPose COCO-18" in notes[0] and "p.json" in notes[0]


def test_body25_maps_to_coco18(tmp_path):
    points = _points(25)
    path = _write_json(tmp_path / "b.json", {"people": [{"pose_keypoints_2d": points.ravel().tolist()}]})
    notes = []
    got = raw_io.read_keypoints(path, log=notes.append)
    # BODY_25 0-7 are COCO-18 0-7; 8 is mid_hip (dropped); hips, knees, ankles, eyes, ears are 9-18.
    expected_source = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    assert np.array_equal(got[:, 0], 100 + np.array(expected_source, np.float32))
    assert got[8, 0] == 109 and got[11, 0] == 112  # r_hip = BODY_25 9, l_hip = BODY_25 12
    assert "BODY_25" in notes[0]


def test_coco17_flat_list_synthesises_the_neck(tmp_path):
    points = np.zeros((17, 3))
    points[0] = (50, 20, 2)  # nose
    points[1] = (55, 18, 2)  # left eye
    points[4] = (40, 19, 1)  # right ear, occluded but labelled
    points[5] = (60, 40, 2)  # left shoulder
    points[6] = (40, 44, 2)  # right shoulder
    points[9] = (70, 80, 0)  # left wrist, not labelled
    path = _write_json(tmp_path / "c.json", points.ravel().tolist())  # 51 numbers
    got = raw_io.read_keypoints(path, log=lambda _: None)
    assert got.tolist()[:2] == [[50, 20, 1], [50, 42, 1]]  # neck: midpoint of the shoulders
    assert got[2].tolist() == [40, 44, 1] and got[5].tolist() == [60, 40, 1]  # r / l shoulder
    assert got[15].tolist() == [55, 18, 1] and got[16].tolist() == [40, 19, 1]  # l_eye, r_ear
    assert got[7].tolist() == [0, 0, 0]  # the unlabelled wrist is unseen, as OpenPose writes it
    points[6, 2] = 0  # one shoulder unseen: no neck
    path = _write_json(tmp_path / "c2.json", points.ravel().tolist())
    assert raw_io.read_keypoints(path, log=lambda _: None)[1].tolist() == [0, 0, 0]


def test_mmpose_keypoints_with_scores(tmp_path):
    xy = _points(17)[:, :2]
    scores = np.full(17, 0.8)
    scores[3] = 0.1  # left ear, below the visibility threshold
    data = {"meta_info": {}, "instance_info": [{"keypoints": xy.tolist(), "keypoint_scores": scores.tolist()}]}
    got = raw_io.read_keypoints(_write_json(tmp_path / "m.json", data), log=lambda _: None)
    assert got[0].tolist() == pytest.approx([100, 200, 0.8])
    assert got[17].tolist() == [0, 0, 0]  # l_ear = COCO-17 3
    assert got[1].tolist() == pytest.approx([105.5, 205.5, 0.8])  # between COCO-17 5 and 6


def test_mediapipe_landmarks_are_scaled_and_thresholded(tmp_path):
    marks = [{"x": 0.5, "y": 0.5, "z": 0.0, "visibility": 0.9} for _ in range(33)]
    marks[11] = {"x": 0.6, "y": 0.3, "z": 0.1, "visibility": 0.9}  # left shoulder
    marks[12] = {"x": 0.4, "y": 0.3, "z": 0.1, "visibility": 0.8}  # right shoulder
    marks[16] = {"x": 0.2, "y": 0.6, "z": 0.0, "visibility": 0.2}  # right wrist, hardly visible
    path = _write_json(tmp_path / "mp.json", {"landmarks": marks})
    notes = []
    got = raw_io.read_keypoints(path, image_hw=(200, 100), log=notes.append)
    assert got[5].tolist() == pytest.approx([60, 60, 0.9]) and got[2].tolist() == pytest.approx([40, 60, 0.8])
    assert got[1].tolist() == pytest.approx([50, 60, 0.8])
    assert got[4].tolist() == [0, 0, 0]
    assert "MediaPipe" in notes[0] and "scaled to 100x200" in notes[0]
    with pytest.raises(DataError, match="mp.json: .*normalised"):
        raw_io.read_keypoints(path)  # no photo size to scale by


def test_explicit_format_must_match_and_unknown_layouts_are_named(tmp_path):
    path = _write_json(tmp_path / "b.json", {"people": [{"pose_keypoints_2d": _points(25).ravel().tolist()}]})
    with pytest.raises(DataError, match=r"b.json: pose: pose format coco18 has 18 joints, the file holds 25 "
                                        r"\(that is body25\)"):
        raw_io.read_keypoints(path, fmt="coco18")
    path = _write_json(tmp_path / "x.json", {"people": [{"pose_keypoints_2d": _points(20).ravel().tolist()}]})
    with pytest.raises(DataError, match="x.json: .*20 joints match no known layout"):
        raw_io.read_keypoints(path)


# ----------------------------------------------------------------------------- parsing


def test_lip_and_atr_ids_map_to_cihp(tmp_path):
    lip = np.repeat(np.array([[0, 5, 10, 19]] * 16, np.uint8), 4, axis=1)
    Image.fromarray(lip).save(tmp_path / "lip.png")
    assert raw_io.read_parsing(tmp_path / "lip.png", fmt="lip")[0, ::4].tolist() == [0, 5, 6, 19]  # jumpsuit: dress
    atr = np.array([[4, 5, 6, 7, 8, 11, 16, 17, 9, 10, 14, 15, 3, 12, 13, 0]] * 16, np.uint8)
    Image.fromarray(atr).save(tmp_path / "atr.png")
    # upper clothes, skirt, pants, dress, belt->pants, face, bag->background, scarf, shoes, arms, sunglasses, legs
    assert raw_io.read_parsing(tmp_path / "atr.png", fmt="atr")[0].tolist() == [
        5, 12, 9, 6, 9, 13, 0, 11, 18, 19, 14, 15, 4, 16, 17, 0]
    atr[0, 0] = 18
    Image.fromarray(atr).save(tmp_path / "atr.png")
    with pytest.raises(DataError, match=r"atr.png: person parsing: ATR label ids must be within 0-17; found \[18\]"):
        raw_io.read_parsing(tmp_path / "atr.png", fmt="atr")


def test_colour_renderings_grey_palette_and_rgb_alike(tmp_path):
    ids = np.tile(np.arange(20, dtype=np.uint8), (16, 1))
    Image.fromarray(ps.CIHP_PALETTE[ids]).save(tmp_path / "vis_rgb.png")
    Image.fromarray(ids).save(tmp_path / "grey.png")
    Image.fromarray(np.repeat(ids[..., None], 3, axis=-1)).save(tmp_path / "grey_rgb.png")
    # A palette PNG whose indices are not the ids (index 100 + id), only its colours are: a rendering.
    palette = Image.fromarray(ids + 100, mode="L").convert("P")
    table = np.zeros((256, 3), np.uint8)
    table[100:120] = ps.CIHP_PALETTE
    palette.putpalette(table.ravel().tolist())
    palette.save(tmp_path / "vis_palette.png")
    indexed = Image.fromarray(ids, mode="L").convert("P")  # indices 0-19 are the ids
    indexed.putpalette(np.zeros((256, 3), np.uint8).ravel().tolist())
    indexed.save(tmp_path / "indexed.png")
    for name, detected in (("vis_rgb", "colour rendering"), ("grey", "CIHP label ids"),
                           ("grey_rgb", "CIHP label ids"), ("vis_palette", "colour rendering"),
                           ("indexed", "CIHP label ids")):
        notes = []
        assert np.array_equal(raw_io.read_parsing(tmp_path / f"{name}.png", log=notes.append), ids), name
        assert detected in notes[0], (name, notes)
    assert np.array_equal(raw_io.read_parsing(tmp_path / "vis_palette.png", fmt="vis"), ids)
    with pytest.raises(DataError, match="vis_rgb.png: .*colour image.*not a label map of CIHP ids"):
        raw_io.read_parsing(tmp_path / "vis_rgb.png", fmt="cihp")


def test_unknown_colour_names_the_file_and_the_colour(tmp_path):
    rgb = ps.CIHP_PALETTE[np.zeros((16, 16), np.int64)].copy()
    rgb[3:5, 3:5] = (1, 2, 3)
    Image.fromarray(rgb).save(tmp_path / "odd_vis.png")
    with pytest.raises(DataError, match=r"odd_vis.png: person parsing: .*\(1, 2, 3\) at 4 pixels") as info:
        raw_io.read_parsing(tmp_path / "odd_vis.png")
    assert "docs/inputs.md" in str(info.value)


def test_mpv_colour_renderings_equal_their_label_maps(mpv_root):
    for vis in sorted((mpv_root / "parse_cihp").glob("*_vis.png")):
        labels = mpv_root / "parse_cihp" / vis.name.replace("_vis", "")
        assert np.array_equal(raw_io.read_parsing(vis), np.asarray(Image.open(labels))), vis.name


def test_mapping_tables_cover_each_label_set():
    assert len(ps.LIP_TO_CIHP) == 20 and len(ps.ATR_TO_CIHP) == 18
    assert np.count_nonzero(ps.LIP_TO_CIHP != np.arange(20)) == 1  # LIP differs from CIHP only at 10
    assert len({tuple(c) for c in ps.CIHP_PALETTE}) == 20
    assert [kp.format_for_count(n) for n in (18, 25, 17, 33, 5)] == ["coco18", "body25", "coco17",
                                                                    "mediapipe33", None]
