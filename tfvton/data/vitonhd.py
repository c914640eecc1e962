"""The VITON-HD layout (Choi et al., CVPR 2021; public, 1024x768) read into tfvton's example dicts.

Layout (the `zalando-hd-resized` release used by VITON-HD and HR-VITON; also what
`tfvton synth --layout viton-hd` writes)::

    root/train_pairs.txt, root/test_pairs.txt     `person cloth` per line (e.g. `00000_00.jpg 00000_00.jpg`)
    root/<train|test>/image/<person>.jpg          person photos
    root/<train|test>/cloth/<cloth>.jpg           in-shop garments
    root/<train|test>/cloth-mask/<cloth>.jpg      garment masks (JPEG; `raw_io.read_mask` keeps >= 128, as VITON-HD)
    root/<train|test>/image-parse-v3/<stem>.png   palette ('P') PNGs of label ids 0-19
    root/<train|test>/openpose_json/<stem>_keypoints.json   OpenPose BODY_25 (COCO-18 also accepted)

A root without `train/` / `test/` sub folders holds one split directly. The older folder names
of the original VITON-HD code (`image-parse`, `openpose-json`) are accepted too.

Label set: HR-VITON's `Preprocessing.md` says the parsings were made with CIHP_PGN and saved as
'P' mode PNGs whose colours are "just for the visualization, it has 0~19 uint values"; their
readers (`cp_dataset.py`, VITON-HD `datasets.py`) use those values as CIHP ids (4/13 head,
5/6/7 upper clothes, 10 neck, 14/15 arms, 16/17 legs, 18/19 shoes). So the VITON-HD ids ARE
CIHP ids and the mapping to tfvton's labels is the identity; what needs care is reading the
palette index, not the colour (TF's PNG decoder would return colours): parsings are read by
`raw_io.read_parsing` as CIHP ids. Grey ('L') PNGs of the same ids are accepted as well.

Every file is read by the one raw-input reader (`tfvton.data.raw_io`, rules in docs/inputs.md):
parsings and masks through it (also inside `tf.data`, by `tf.numpy_function`), keypoints by
`mpv.load_keypoints` (BODY_25 mapped to COCO-18), photos by `transforms.decode_image`.

Pairs are same-pose: the target pose is the source pose. Modes:

- `train` / `test` (paired, HR-VITON's `paired` setting): the cloth is the person's own
  (`cloth/<person>`), so the person photo is the target image; `train_pairs.txt` /
  `test_pairs.txt`, whose cloth column is therefore not used.
- `demo` (unpaired try-on): the cloth of the second column, no target image; `test_pairs.txt`.

Images are resized to the model size by `transforms.preprocess` (keypoints scaled with them).
"""
from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from tfvton.data import raw_io, transforms
from tfvton.data.mpv import MODES, ON_BAD_SAMPLE, VALIDATE, load_keypoints
from tfvton.data.pair_list import FromDataConfig, PairFiles, PathLike, read_pair_list, resolve_rows
from tfvton.data.raw_io import DataError

logger = logging.getLogger(__name__)

LAYOUT = "viton-hd"
PAIR_FILES = {"train": "train_pairs.txt", "test": "test_pairs.txt", "demo": "test_pairs.txt"}
SPLIT_DIRS = {"train": "train", "test": "test", "demo": "test"}
# Folder names per input, newest release first (HR-VITON's `zalando-hd-resized`, then VITON-HD's code).
FOLDERS = {"image": ("image",), "cloth": ("cloth",), "cloth_mask": ("cloth-mask",),
           "parsing": ("image-parse-v3", "image-parse"), "pose": ("openpose_json", "openpose-json")}


def is_vitonhd_root(root: PathLike) -> bool:
    """True when `root` looks like a VITON-HD dataset (pair lists or split folders of its names)."""
    root = Path(root)
    if (root / "train_pairs.txt").is_file() or (root / "test_pairs.txt").is_file():
        return True
    return any((base / "image").is_dir() and any((base / p).is_dir() for p in FOLDERS["parsing"])
               for base in (root, root / "train", root / "test"))


def read_parsing(path: PathLike) -> np.ndarray:
    """A VITON-HD parsing (palette or grey PNG) -> uint8 (h, w) CIHP ids: its ids are CIHP's.

    Raises:
        DataError: naming the file (e.g. an RGB colour rendering, ids outside 0-19).
    """
    return raw_io.read_parsing(path, "person parsing", fmt="cihp")


def read_mask(path: PathLike) -> np.ndarray:
    """A cloth mask (JPEG or PNG) -> uint8 (h, w, 1) 0/255.

    VITON-HD's masks are JPEGs with noisy edges; `raw_io.read_mask` keeps values
    >= 128, the official readers' `(cm_array >= 128)`.
    """
    return raw_io.read_mask(path, "cloth mask")


def _numpy_reader(read):
    def run(path):
        return read(path.decode("utf-8") if isinstance(path, bytes) else str(path))
    return run


class VitonHDDataset(FromDataConfig):
    """A VITON-HD-layout dataset yielding the same example dicts as `tfvton.data.MPVDataset`.

    Args:
        root: dataset root (holds `train_pairs.txt` and `train/`, `test/`), or one split folder.
        pairs_file: pair list; default `train_pairs.txt` in train mode, else `test_pairs.txt`,
            looked up in `root` and its parent. A relative path that does not exist is looked
            up under `root`.
        mode: `train`, `test` (paired: own cloth, person photo as target) or `demo`
            (the listed cloth, no target image); see the module docstring.
        height, width, radius, shape_downsample, on_bad_sample, validate, progress:
            as for `MPVDataset`.

    Example:
        >>> ds = VitonHDDataset("zalando-hd-resized", mode="train", height=256, width=192)
        >>> ds[0]["source_image"].shape
        (256, 192, 3)
    """

    layout = LAYOUT

    def __init__(self, root: PathLike, pairs_file: Optional[PathLike] = None, mode: str = "train",
                 height: int = 256, width: int = 192, radius: int = 6, shape_downsample: int = 16,
                 on_bad_sample: str = "skip", validate: str = "headers", progress: bool = True):
        for name, value, allowed in (("mode", mode, MODES), ("on_bad_sample", on_bad_sample, ON_BAD_SAMPLE),
                                     ("validate", validate, VALIDATE)):
            if value not in allowed:
                raise ValueError(f"`{name}` must be one of {allowed}. Received: {name}={value!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(self.root, "dataset root is not a directory")
        self.mode, self.validate, self.on_bad_sample = mode, validate, on_bad_sample
        self.height, self.width, self.radius = int(height), int(width), int(radius)
        self.shape_downsample = int(shape_downsample)
        self.has_target = mode != "demo"
        split_dir = self.root / SPLIT_DIRS[mode]
        self.data_dir = split_dir if (split_dir / "image").is_dir() else self.root
        self.folders = {kind: self._folder(names) for kind, names in FOLDERS.items()}
        self.pairs_file = self._find_pairs_file(pairs_file)
        self._keypoints: Dict[str, np.ndarray] = {}
        self.samples: List[PairFiles] = []
        self.bad_samples: List[Tuple[int, DataError]] = []
        self._load_pairs(progress)

    # ------------------------------------------------------------------ building

    def _folder(self, names) -> Path:
        for name in names:
            if (self.data_dir / name).is_dir():
                return self.data_dir / name
        return self.data_dir / names[0]  # missing: each file then reports itself

    def _find_pairs_file(self, pairs_file) -> Path:
        if pairs_file is None:
            name = PAIR_FILES[self.mode]
            candidates = [self.root / name, self.root.parent / name]
        else:
            path = Path(pairs_file)
            candidates = [path] if path.is_absolute() or path.exists() else [self.root / path, path]
        for path in candidates:
            if path.is_file():
                return path
        raise DataError(candidates[0], f"pair list not found (VITON-HD layout, mode {self.mode!r})")

    def _load_pairs(self, progress: bool) -> None:
        self.samples, self.bad_samples = resolve_rows(read_pair_list(self.pairs_file), self._resolve,
                                                      self.pairs_file, self.on_bad_sample, progress, logger)
        if self.bad_samples:
            logger.warning("skipped %d of %d pairs listed in %s (see VitonHDDataset.bad_samples)",
                           len(self.bad_samples), len(self.bad_samples) + len(self.samples), self.pairs_file)
        if not self.samples:
            first = f"; first problem: {self.bad_samples[0][1]}" if self.bad_samples else ""
            raise DataError(self.pairs_file, f"no usable pairs for mode {self.mode!r}{first}")

    def _check_image(self, path: Path, what: str) -> None:
        if not path.is_file():
            raise DataError(path, "missing file")
        if self.validate == "none":
            return
        with raw_io.open_image(path, what) as image:  # existence, byte and pixel caps, a readable header
            if image.format not in ("JPEG", "PNG"):
                raise DataError(path, f"{what} must be a JPEG or PNG. Received: format {image.format}")
        if self.validate == "full":
            (read_mask if what == "cloth mask" else raw_io.read_photo)(path)

    def _check_parsing(self, path: Path) -> None:
        if self.validate == "full":
            read_parsing(path)
            return
        self._check_image(path, "a parsing")
        if self.validate != "none":
            with raw_io.open_image(path, "person parsing") as image:
                if image.mode not in ("P", "L"):
                    raise DataError(path, f"a VITON-HD parsing must be a palette ('P') or grey ('L') PNG of CIHP "
                                          f"ids 0-19. Received: mode {image.mode}")

    def _resolve(self, number: int, columns: List[str]) -> PairFiles:
        if len(columns) < 2:
            raise DataError(f"{self.pairs_file}:{number}", f"expected `person cloth` separated by spaces, got "
                                                           f"{len(columns)} column(s)")
        person, listed_cloth = columns[0], columns[1]
        cloth = listed_cloth if self.mode == "demo" else person  # paired: the person's own garment
        stem, cloth_stem = os.path.splitext(person)[0], os.path.splitext(cloth)[0]
        image = self.folders["image"] / person
        parsing = self.folders["parsing"] / f"{stem}.png"
        pose = self.folders["pose"] / f"{stem}_keypoints.json"
        cloth_image = self.folders["cloth"] / cloth
        cloth_mask = self.folders["cloth_mask"] / cloth
        if not cloth_mask.is_file() and (self.folders["cloth_mask"] / f"{cloth_stem}.png").is_file():
            cloth_mask = self.folders["cloth_mask"] / f"{cloth_stem}.png"
        self._check_image(image, "person photo")
        self._check_parsing(parsing)
        self._check_image(cloth_image, "cloth photo")
        self._check_image(cloth_mask, "cloth mask")
        self._keypoints[str(pose)] = load_keypoints(pose)
        target = str(image) if self.has_target else None
        return PairFiles(number, person, person, listed_cloth, SPLIT_DIRS[self.mode], str(image), str(parsing),
                         str(pose), str(cloth_image), str(cloth_mask), str(pose), target,
                         str(parsing) if self.has_target else None)

    # ------------------------------------------------------------------ access

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def keys(self) -> Tuple[str, ...]:
        """Names of the tensors in each example (as `MPVDataset.keys`)."""
        base = ("source_image", "source_parse", "source_shape", "source_head", "source_pose",
                "target_pose", "cloth_image", "cloth_mask")
        return base + (("target_image", "target_parse", "target_cloth", "target_cloth_mask")
                       if self.has_target else ())

    def files(self, index: int) -> Dict[str, str]:
        """The files one example is read from, by raw-input name (the target is the person's own photo)."""
        pair = self.samples[index]
        files = {"person_image": pair.person_image, "person_parsing": pair.person_parsing,
                 "cloth_image": pair.cloth_image, "cloth_mask": pair.cloth_mask}
        if self.has_target:
            files.update(target_image=pair.target_image, target_parsing=pair.target_parsing)
        return files

    def keypoints(self, index: int) -> Dict[str, np.ndarray]:
        """Source and target keypoints (COCO-18, pixels of the person photo); same pose, so equal."""
        points = self._keypoints[self.samples[index].source_pose]
        return {"source_pose_keypoints": points, "target_pose_keypoints": points}

    def raw(self, index: int) -> Dict[str, np.ndarray]:
        """Decoded raw inputs of one pair (uint8 images, label ids, keypoints), as numpy.

        Raises:
            DataError: naming the file that cannot be decoded or holds bad labels.
        """
        import tensorflow as tf

        files = self.files(index)
        raw = {"person_parsing": read_parsing(files["person_parsing"]), "cloth_mask": read_mask(files["cloth_mask"])}
        for key in ("person_image", "cloth_image"):
            try:
                raw[key] = transforms.decode_image(tf.io.read_file(files[key])).numpy()
            except (tf.errors.InvalidArgumentError, tf.errors.UnknownError, tf.errors.NotFoundError) as e:
                raise DataError(files[key], f"cannot decode image ({e.message.strip()})") from None
        if self.has_target:
            raw["target_image"], raw["target_parsing"] = raw["person_image"], raw["person_parsing"]
        raw.update(self.keypoints(index))
        return raw

    def encoded(self, index: int) -> Dict[str, object]:
        """File bytes and keypoints of one pair in the MPV encodings (what `tfvton prepare` stores).

        Parsings are re-encoded as grey PNGs of ids and masks as 0/255 PNGs, so the
        TFRecords decode with the MPV rules.
        """
        raw = self.raw(index)
        out: Dict[str, object] = {}
        for key, path in self.files(index).items():
            if key.endswith("parsing") or key == "cloth_mask":
                buffer = io.BytesIO()
                Image.fromarray(np.asarray(raw[key]).reshape(raw[key].shape[:2]), "L").save(buffer, "PNG")
                out[key] = buffer.getvalue()
            else:
                with open(path, "rb") as f:
                    out[key] = f.read()
        out.update(self.keypoints(index))
        return out

    def __getitem__(self, index: int) -> Dict[str, np.ndarray]:
        """One example as a dict of numpy float32 arrays (eager `transforms.preprocess`)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} examples")
        out = transforms.preprocess(self.raw(index % len(self)), self.height, self.width, self.radius,
                                    self.shape_downsample)
        return {key: value.numpy() for key, value in out.items()}

    # ------------------------------------------------------------------ tf.data

    def decode_and_preprocess(self, element):
        """The `tf.data` map function: file paths + keypoints -> model tensors.

        Parsings and masks go through `tf.numpy_function` (the one reader, `raw_io`,
        which reads a palette index where TF would return its colour); photos are
        decoded by TF ops exactly as PIL decodes them.
        """
        import tensorflow as tf

        parsing = tf.numpy_function(_numpy_reader(read_parsing), [element["person_parsing"]], tf.uint8,
                                    stateful=False)
        mask = tf.numpy_function(_numpy_reader(read_mask), [element["cloth_mask"]], tf.uint8, stateful=False)
        person = transforms.decode_image(tf.io.read_file(element["person_image"]))
        raw = {"person_image": person, "person_parsing": tf.ensure_shape(parsing, [None, None]),
               "cloth_image": transforms.decode_image(tf.io.read_file(element["cloth_image"])),
               "cloth_mask": tf.ensure_shape(mask, [None, None, 1])}
        if self.has_target:  # paired: the person photo and its parsing are the target
            raw["target_image"], raw["target_parsing"] = person, raw["person_parsing"]
        raw["source_pose_keypoints"] = element["source_pose_keypoints"]
        raw["target_pose_keypoints"] = element["target_pose_keypoints"]
        return transforms.preprocess(raw, self.height, self.width, self.radius, self.shape_downsample)

    def as_tf_dataset(self, batch_size: Optional[int] = None, shuffle: bool = False,
                      seed: Optional[int] = None, repeat: bool = False, drop_remainder: bool = False,
                      shuffle_buffer: Optional[int] = None, num_parallel_calls: Optional[int] = None):
        """A `tf.data` pipeline of example dicts; arguments as `MPVDataset.as_tf_dataset`."""
        import tensorflow as tf

        from tfvton.data.pipeline_tail import finish_pipeline, pair_table

        ds = tf.data.Dataset.from_tensor_slices(pair_table(self))
        if shuffle:
            ds = ds.shuffle(shuffle_buffer or len(self), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        ds = ds.map(self.decode_and_preprocess, num_parallel_calls=num_parallel_calls or tf.data.AUTOTUNE,
                    deterministic=True)
        return finish_pipeline(ds, self.on_bad_sample, batch_size, drop_remainder,
                               tf.data.experimental.AutoShardPolicy.DATA)

    def __repr__(self) -> str:
        return (f"VitonHDDataset(root={str(self.root)!r}, pairs_file={self.pairs_file.name!r}, "
                f"mode={self.mode!r}, examples={len(self)}, bad={len(self.bad_samples)}, "
                f"size={self.height}x{self.width})")
