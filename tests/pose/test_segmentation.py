"""Person mask vs the parsing's foreground: IoU, and the mismatch warning on the real samples."""
from __future__ import annotations

import numpy as np
import pytest

from tfvton.data.raw_io import read_parsing, read_photo
from tfvton.pose.segmentation import (MISMATCH_IOU, MISMATCH_WARNING, ParsingCheck, PersonSegmenter,
                                      check_parsing_matches_photo, mask_iou, parsing_mismatch_warning)


def test_mask_iou_hand_values():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2], b[1:3] = True, True  # 8 and 8 pixels, 4 shared
    assert mask_iou(a, b) == pytest.approx(4 / 12)
    assert mask_iou(a, a) == 1.0 and mask_iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0
    with pytest.raises(ValueError, match="one shape"):
        mask_iou(a, np.zeros((3, 3)))


def test_warning_text_only_below_the_threshold():
    assert ParsingCheck(0.95, 0.88).warning() is None
    text = ParsingCheck(0.41, 0.88).warning("p.png", "me.jpg")
    assert MISMATCH_WARNING in text and "p.png" in text and "me.jpg" in text and "0.41" in text


def test_own_parsing_matches_and_another_samples_does_not(mpv_root, pose_models):
    segmenter = PersonSegmenter()
    stems = sorted(p.stem for p in (mpv_root / "images").glob("*.jpg"))
    photos = {s: read_photo(mpv_root / "images" / f"{s}.jpg") for s in stems}
    parsings = {s: read_parsing(mpv_root / "parse_cihp" / f"{s}.png") for s in stems}
    for stem in stems:
        assert check_parsing_matches_photo(photos[stem], parsings[stem], segmenter).matches, stem
        for other in stems:
            if other != stem:
                check = check_parsing_matches_photo(photos[stem], parsings[other], segmenter)
                assert not check.matches and check.iou < MISMATCH_IOU, (stem, other)
    # A parsing of the right photo at another size is compared after a nearest resize.
    small = parsings[stems[0]][::2, ::2]
    assert check_parsing_matches_photo(photos[stems[0]], small, segmenter).matches
    assert parsing_mismatch_warning(photos[stems[0]], parsings[stems[1]], "a.jpg", "b.png").startswith("warning")


def test_no_warning_without_the_cached_model(tmp_path, monkeypatch):
    monkeypatch.setenv("TFVTON_HOME", str(tmp_path))
    assert parsing_mismatch_warning(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.uint8)) is None


def test_a_broken_cached_model_gives_a_warning_not_a_failure(tmp_path, monkeypatch):
    from tfvton.pose import cache

    monkeypatch.setenv("TFVTON_HOME", str(tmp_path))
    cache.pose_model_dir().mkdir(parents=True)
    (cache.pose_model_dir() / "selfie_segmentation.tflite").write_bytes(b"not a model")
    text = parsing_mismatch_warning(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.uint8))
    assert text.startswith("warning: parsing check skipped") and "tfvton models fetch pose" in text
