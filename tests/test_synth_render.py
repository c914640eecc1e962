"""SynthMPV renderer in memory: exact labels, keypoints on the body, sides, garment warp, pose variety."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tfvton.data.synth import labels as L
from tfvton.data.synth import render_identity

H, W = 256, 192
SEED = 4


@pytest.fixture(scope="module")
def rendered():
    """24 identities x 3 poses at the MPV size (about a second)."""
    return [render_identity(i, SEED, 3, H, W) for i in range(24)]


def _all(rendered):
    for identity, garment, renders in rendered:
        for pose, r in renders:
            yield identity, garment, pose, r


def test_label_map_and_colour_agree_pixel_for_pixel(rendered):
    """Flat-coloured parts: every pixel is its part's colour times a grey shading factor.

    No antialiasing: a pixel whose label says `pants` is never a mix of trouser and
    skin colour, so the parsing is the exact ground truth of the image.
    """
    for identity, _, _, r in _all(rendered):
        image = r.image.astype(np.float64)
        for labels, colour in (((L.TORSO_SKIN, L.LEFT_ARM, L.RIGHT_ARM, L.LEFT_LEG, L.RIGHT_LEG), identity.skin),
                               ((L.PANTS,), identity.pants), ((L.LEFT_SHOE, L.RIGHT_SHOE), identity.shoes)):
            pix = image[np.isin(r.parsing, labels)]
            if not len(pix):
                continue
            c = np.asarray(colour, np.float64)
            scale = pix @ c / max(c @ c, 1.0)  # best grey factor per pixel
            assert scale.min() > 0.6 and scale.max() < 1.06, (labels, scale.min(), scale.max())
            residual = np.abs(pix - scale[:, None] * c).max()
            assert residual <= 2.0, (identity.name, labels, residual)
        background = image[r.parsing == 0]
        assert background.min() > 190 and np.ptp(background.mean(0)) < 40


def test_parsing_is_the_part_map(rendered):
    for _, _, _, r in _all(rendered):
        lut = np.zeros(256, np.uint8)
        names = r.part_names
        for i, name in enumerate(names):
            lut[i] = {"hair": L.HAIR, "hair_back": L.HAIR, "face": L.FACE, "torso_skin": L.TORSO_SKIN,
                      "pants_waist": L.PANTS}.get(name, 0)
            if name.startswith(("garment", "sleeve")):
                lut[i] = L.UPPER_CLOTHES
            elif name.startswith("pants"):
                lut[i] = L.PANTS
            elif name.endswith("arm_left"):
                lut[i] = L.LEFT_ARM
            elif name.endswith("arm_right"):
                lut[i] = L.RIGHT_ARM
            elif name in ("leg_left", "leg_right", "shoe_left", "shoe_right"):
                lut[i] = {"leg_left": L.LEFT_LEG, "leg_right": L.RIGHT_LEG, "shoe_left": L.LEFT_SHOE,
                          "shoe_right": L.RIGHT_SHOE}[name]
        np.testing.assert_array_equal(r.parsing, lut[r.parts])
        assert set(np.unique(r.parsing).tolist()) <= set(L.SYNTH_LABELS)


def test_keypoints_lie_on_the_right_body_parts(rendered):
    allowed = {
        "nose": {L.FACE, L.HAIR}, "r_eye": {L.FACE, L.HAIR}, "l_eye": {L.FACE, L.HAIR},
        "r_ear": {L.FACE, L.HAIR}, "l_ear": {L.FACE, L.HAIR},
        "neck": {L.UPPER_CLOTHES, L.TORSO_SKIN, L.FACE, L.HAIR},
        "r_ankle": {L.PANTS, L.RIGHT_LEG, L.RIGHT_SHOE, L.LEFT_SHOE},
        "l_ankle": {L.PANTS, L.LEFT_LEG, L.LEFT_SHOE, L.RIGHT_SHOE},
        "r_knee": {L.PANTS, L.RIGHT_LEG, L.LEFT_LEG}, "l_knee": {L.PANTS, L.LEFT_LEG, L.RIGHT_LEG},
    }
    for _, _, _, r in _all(rendered):
        for j, (x, y, c) in enumerate(r.keypoints):
            if c == 0:
                continue
            label = int(r.parsing[int(round(y)), int(round(x))])
            assert label != 0, (L.KEYPOINT_NAMES[j], x, y)
            name = L.KEYPOINT_NAMES[j]
            if name in allowed:
                assert label in allowed[name], (name, label)


def _distance_to_polyline(points, polyline):
    best = np.full(len(points), np.inf)
    for a, b in zip(polyline[:-1], polyline[1:]):
        ab = b - a
        t = np.clip(((points - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * ab), axis=1))
    return best


def test_left_and_right_follow_the_keypoint_sides(rendered):
    """CIHP 14/16/18 (left arm, leg, shoe) are drawn along the OpenPose `l_*` joints."""
    sides = ((L.LEFT_ARM, L.RIGHT_ARM, (L.L_SHOULDER, L.L_ELBOW, L.L_WRIST), (L.R_SHOULDER, L.R_ELBOW, L.R_WRIST)),
             (L.LEFT_LEG, L.RIGHT_LEG, (L.L_HIP, L.L_KNEE, L.L_ANKLE), (L.R_HIP, L.R_KNEE, L.R_ANKLE)),
             (L.LEFT_SHOE, L.RIGHT_SHOE, (L.L_KNEE, L.L_ANKLE), (L.R_KNEE, L.R_ANKLE)))
    fractions = []
    for identity, _, pose, r in _all(rendered):
        def chain(joints):
            points = pose.joints[list(joints)]
            if joints[-1] in (L.L_WRIST, L.R_WRIST):  # the hand continues the forearm
                d = points[-1] - points[-2]
                tip = points[-1] + d / max(np.linalg.norm(d), 1e-9) * identity.body.hand_len * pose.unit * 1.1
                points = np.concatenate([points, tip[None]])
            return points

        for left_label, right_label, left_chain, right_chain in sides:
            for label, own, other in ((left_label, left_chain, right_chain), (right_label, right_chain, left_chain)):
                ys, xs = np.nonzero(r.parsing == label)
                if len(xs) < 20:
                    continue
                pts = np.stack([xs, ys], 1).astype(np.float64)
                closer = _distance_to_polyline(pts, chain(own)) <= _distance_to_polyline(pts, chain(other))
                # A crossing forearm can pass close to the other arm, so a few pixels may be nearer to
                # it; a swapped side would put almost all of them there.
                assert closer.mean() > 0.8, (label, closer.mean())
                fractions.append(closer.mean())
    assert len(fractions) > 100 and np.mean(fractions) > 0.97


def test_garment_on_the_body_is_the_warped_in_shop_garment(rendered):
    """Each garment piece equals the in-shop image warped by its homography, up to shading."""
    correlations, gains, impostor = [], [], []
    for index, (identity, garment, renders) in enumerate(rendered):
        other = rendered[(index + 1) % len(rendered)][1]
        for pose, r in renders:
            grey = cv2.cvtColor(r.image, cv2.COLOR_RGB2GRAY).astype(np.float64)
            for name, matrix in r.garment_warps.items():
                region = cv2.erode((r.parts == r.part_names.index(name)).astype(np.uint8),
                                   np.ones((5, 5), np.uint8)) > 0
                if region.sum() < 100:
                    continue
                expected = cv2.cvtColor(cv2.warpPerspective(garment.image, matrix, (W, H)),
                                        cv2.COLOR_RGB2GRAY)[region].astype(np.float64)
                actual = grey[region]
                gains.append(np.median(actual / np.maximum(expected, 1.0)))
                if expected.std() > 8:  # enough texture for a correlation to mean something
                    correlations.append(np.corrcoef(actual, expected)[0, 1])
                    wrong = cv2.cvtColor(cv2.warpPerspective(other.image, matrix, (W, H)),
                                         cv2.COLOR_RGB2GRAY)[region].astype(np.float64)
                    if wrong.std() > 8:
                        impostor.append(np.corrcoef(actual, wrong)[0, 1])
    correlations, gains = np.array(correlations), np.array(gains)
    assert len(correlations) > 100
    assert correlations.min() > 0.75 and np.median(correlations) > 0.95
    assert 0.8 < gains.min() and gains.max() < 1.06  # shading only darkens a little
    assert np.median(impostor) < 0.5  # another garment under the same warp does not match


def test_sleeve_length_shows_at_the_elbow(rendered):
    """Long sleeves cover the elbow (label 5); sleeveless and short-sleeved arms show skin there."""
    seen = set()
    for identity, _, pose, r in _all(rendered):
        sleeve = identity.garment.sleeve
        seen.add(sleeve)
        for elbow, arm in ((L.L_ELBOW, L.LEFT_ARM), (L.R_ELBOW, L.RIGHT_ARM)):
            x, y, c = r.keypoints[elbow]
            if c == 0:
                continue
            label = int(r.parsing[int(round(y)), int(round(x))])
            if sleeve == "long":
                assert label == L.UPPER_CLOTHES
            elif label != arm:  # the other arm may be in front of this elbow
                assert label in (L.LEFT_ARM, L.RIGHT_ARM), (sleeve, label)
    assert seen == {"none", "short", "long"}


def test_pose_variety(rendered):
    poses = [pose for _, _, pose, _ in _all(rendered)]
    crops = {p.crop for p in poses}
    assert crops == {"whole", "half"}
    for p in poses:
        if p.crop == "half":  # the lower legs are out of the frame and reported missing
            assert p.confidence[L.R_ANKLE] == 0 and p.confidence[L.L_ANKLE] == 0
        if p.crossing != "none":  # the crossing wrist ends past the body's midline
            wrist = L.R_WRIST if p.crossing == "right" else L.L_WRIST
            towards_left = p.joints[L.L_SHOULDER] - p.joints[L.R_SHOULDER]
            offset = (p.joints[wrist] - p.joints[L.NECK]) @ towards_left
            assert offset > 0 if p.crossing == "right" else offset < 0
    assert sum(p.crossing != "none" for p in poses) >= 5
    assert any("raised" in p.arms for p in poses)
    # Poses of one identity differ.
    for _, _, renders in rendered:
        joints = [pose.joints for pose, _ in renders]
        assert np.abs(joints[0] - joints[1]).max() > 5


def test_identity_is_the_same_in_every_pose(rendered):
    for identity, garment, renders in rendered:
        for pose, r in renders:
            face = r.image[r.parsing == L.FACE].astype(np.float64)
            assert np.abs(np.median(face, 0) - identity.skin).max() < 40
        again = render_identity(identity.index, SEED, 1, H, W)
        np.testing.assert_array_equal(again[1].image, garment.image)
        np.testing.assert_array_equal(again[2][0][1].image, renders[0][1].image)
        break


def test_faces_have_eyes_and_a_mouth(rendered):
    """Face refinement needs something to refine: dark pupils and lips inside the face label."""
    checked = 0
    for identity, _, pose, r in _all(rendered):
        face = r.parsing == L.FACE
        if face.sum() < 150:
            continue
        grey = cv2.cvtColor(r.image, cv2.COLOR_RGB2GRAY).astype(np.float64)
        assert grey[face].min() < 0.5 * np.median(grey[face])  # pupils
        for eye in (L.R_EYE, L.L_EYE):
            x, y, _ = r.keypoints[eye]
            window = grey[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3]
            assert window.min() < 0.6 * np.median(grey[face]), "no pupil at the eye keypoint"
        lips = np.abs(r.image[face].astype(np.float64) - identity.lips).max(1) < 30
        assert lips.sum() >= 3
        checked += 1
    assert checked > 30
