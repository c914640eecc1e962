"""Draws docs/images/own_photo.png, the README's "Bring your own photo" walk-through picture.

From one real MPV sample (../shared/data/mpv_samples): the photo, its skeleton drawn from its
OpenPose JSON, its parsing in the CIHP colours, the in-shop cloth, the cloth's GrabCut mask
(`tfvton.data.cloth_mask`, what `tryon` computes when no mask is given) and the target pose.
Run once from the repository root:

    PYTHONPATH=$PWD python docs/images/make_own_photo.py [MPV_SAMPLES] [OUT.png]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tfvton.data import raw_io
from tfvton.data.cloth_mask import compute_cloth_mask
from tfvton.data.formats.parsing import CIHP_PALETTE
from tfvton.data.mpv import read_pair_list
from tfvton.data.synth.sheet import draw_skeleton

PANEL_H, PANEL_W, CAPTION = 256, 192, 34
STEPS = ("1 photo", "2 pose (COCO-18 keypoints)", "3 parsing (CIHP ids)", "4 in-shop cloth", "5 mask (GrabCut)",
         "6 target pose")


def _panel(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image).convert("RGB").resize((PANEL_W, PANEL_H), Image.BILINEAR)


def build(samples: Path) -> Image.Image:
    _, (person, target_pose, cloth, _split) = read_pair_list(samples / "demo.txt")[0]
    stem = Path(person).stem
    photo = raw_io.read_photo(samples / "images" / person)
    keypoints = raw_io.read_keypoints(samples / "pose_coco" / f"{stem}_keypoints.json")
    parsing = raw_io.read_parsing(samples / "parse_cihp" / f"{stem}.png", fmt="cihp")
    cloth_image = raw_io.read_photo(samples / "cloth_image" / cloth)
    mask = compute_cloth_mask(cloth_image)
    target = raw_io.read_keypoints(samples / "pose_coco" / target_pose)
    thick = max(2, photo.shape[0] // 128)
    panels = [photo, draw_skeleton(photo, keypoints, thick), CIHP_PALETTE[parsing], cloth_image,
              np.repeat(mask.reshape(mask.shape[:2] + (1,)), 3, axis=-1),
              draw_skeleton(np.full_like(photo, 255), target, thick)]
    sheet = Image.new("RGB", (PANEL_W * len(panels), PANEL_H + CAPTION), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, caption) in enumerate(zip(panels, STEPS)):
        sheet.paste(_panel(np.asarray(image, np.uint8)), (i * PANEL_W, 0))
        draw.text((i * PANEL_W + 6, PANEL_H + 10), caption, fill=(0, 0, 0))
    return sheet


def main(argv) -> int:
    samples = Path(argv[1]) if len(argv) > 1 else Path("../shared/data/mpv_samples")
    out = Path(argv[2]) if len(argv) > 2 else Path("docs/images/own_photo.png")
    # 256 colours: a photo strip that stays well under the README's 300 KB budget.
    build(samples).quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
