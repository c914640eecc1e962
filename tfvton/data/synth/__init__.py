"""SynthMPV: a procedural multi-pose try-on dataset in the exact MPV layout.

Each identity (skin, hair, face, trousers, shoes, one upper garment) is
rendered in several poses wearing the same garment, with the exact CIHP
parsing of every render, OpenPose COCO-18 keypoints, and the in-shop garment
(front view on white) with its mask. Only numpy, OpenCV and PIL are used.

Modules: `identity` (who), `garment` (in-shop garment: shape, texture, mask),
`pose` (skeleton sampling), `render` (back-to-front rendering with labels),
`raster` (aliasing-free part maps, homographies), `writer` (the MPV files),
`vitonhd_writer` (the same renders in the VITON-HD layout), `sheet` (a contact sheet for
people to look at).

Determinism: identity `i` draws from `SeedSequence(seed, spawn_key=(i,))` and
its pose `k` from `spawn_key=(i, k)`, so files do not depend on the number of
workers, and an identity is the same whatever the number of identities.

Example:
    >>> from tfvton.data.synth import generate
    >>> summary = generate("/tmp/synthmpv", identities=20, poses_per_identity=3, seed=1)
"""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

GENERATOR = "tfvton.data.synth"
VERSION = "1.0"
DEFAULT_TEST_FRACTION = 0.1
LAYOUTS = ("mpv", "viton-hd")

__all__ = ["generate", "make_identity", "render_identity", "GENERATOR", "VERSION"]


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def make_identity(index: int, seed: int, height: int, width: int):
    """The identity `index` of a dataset and its built in-shop garment.

    Returns:
        (`identity.Identity`, `garment.Garment`).
    """
    from tfvton.data.synth.garment import build_garment
    from tfvton.data.synth.identity import sample_identity

    identity = sample_identity(index, _rng(seed, index))
    return identity, build_garment(identity.garment, height, width)


def render_identity(index: int, seed: int, poses: int, height: int, width: int):
    """Renders all poses of identity `index` in memory.

    Returns:
        (identity, garment, list of (`pose.Pose`, `render.Rendering`)).
    """
    from tfvton.data.synth.pose import sample_pose
    from tfvton.data.synth.render import render_person

    identity, garment = make_identity(index, seed, height, width)
    out = []
    for k in range(1, poses + 1):
        rng = _rng(seed, index, k)
        pose = sample_pose(rng, identity.body, height, width)
        out.append((pose, render_person(identity, garment, pose, height, width, rng)))
    return identity, garment, out


def _write_identity(task: Tuple) -> Dict:
    """Worker: renders identity `index` and writes its files; returns its metadata record."""
    from tfvton.data.synth import writer

    root, index, seed, poses, height, width, split, vis, layout = task
    root = Path(root)
    identity, garment, renders = render_identity(index, seed, poses, height, width)
    if layout == "viton-hd":
        from tfvton.data.synth import vitonhd_writer

        persons = vitonhd_writer.write_identity(root, split, index, garment, renders)
        return {"name": identity.name, "split": split, "cloth": persons[0]["image"], "persons": persons,
                **identity.summary()}
    cloth = writer.cloth_stem(identity.name)
    writer.write_cloth(root, cloth, garment.image, garment.mask)
    persons = []
    for k, (pose, r) in enumerate(renders, start=1):
        stem = writer.person_stem(identity.name, k, pose.crop)
        writer.write_person(root, stem, r.image, r.parsing, r.keypoints, vis=vis)
        persons.append({"image": f"{stem}.jpg", "pose": f"{stem}_keypoints.json", "crop": pose.crop,
                        "arms": list(pose.arms), "crossing": pose.crossing})
    return {"name": identity.name, "split": split, "cloth": f"{cloth}.jpg", "persons": persons,
            **identity.summary()}


def _worker_init():
    import cv2

    cv2.setNumThreads(1)  # one process per core; OpenCV threads would only contend


def _split(identities: int, test_fraction: float) -> Sequence[str]:
    n_test = min(max(int(round(identities * test_fraction)), 1), identities - 1)
    return ["train"] * (identities - n_test) + ["test"] * n_test


def generate(out_dir: Union[str, Path], identities: int = 200, poses_per_identity: int = 3,
             size: Tuple[int, int] = (256, 192), seed: int = 0, workers: int = 1,
             test_fraction: float = DEFAULT_TEST_FRACTION, vis: bool = True,
             progress: bool = False, layout: str = "mpv") -> Dict:
    """Writes a SynthMPV dataset in the MPV layout (or the VITON-HD one).

    Args:
        out_dir: dataset root (created; existing files of the same names are overwritten).
        identities: number of identities (at least 2: demo triplets need another identity's garment).
        poses_per_identity: renderings per identity (at least 2 for train pairs).
        size: (height, width) of every image, at least 32 each (multiples of 32 for the networks).
        seed: non-negative seed; the same seed gives byte-identical files.
        workers: processes (0 = all cores); the files do not depend on it.
        test_fraction: share of identities held out as the test split (the last ones).
        vis: also write `parse_cihp/<person>_vis.png` colour renderings.
        progress: show a tqdm progress bar.
        layout: `mpv` (`writer`) or `viton-hd` (`vitonhd_writer`); the renders are the same.
    Returns:
        The metadata written to `synthmpv.json` (counts, seed, per-identity records),
        plus `seconds` (wall time, not written).
    """
    from tfvton.data.synth import writer

    height, width = (int(v) for v in size)
    if identities < 2:
        raise ValueError(f"generate: identities must be >= 2. Received: identities={identities}")
    if poses_per_identity < 2:
        raise ValueError(f"generate: poses_per_identity must be >= 2. "
                         f"Received: poses_per_identity={poses_per_identity}")
    if height < 32 or width < 32:
        raise ValueError(f"generate: size must be at least 32x32. Received: size={height}x{width}")
    if seed < 0:
        raise ValueError(f"generate: seed must be >= 0. Received: seed={seed}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"generate: test_fraction must be in (0, 1). Received: test_fraction={test_fraction}")
    if layout not in LAYOUTS:
        raise ValueError(f"generate: layout must be one of {', '.join(LAYOUTS)}. Received: layout={layout!r}")
    if layout == "viton-hd":
        from tfvton.data.synth import vitonhd_writer as writer
    root = Path(out_dir)
    splits = _split(identities, test_fraction)
    if layout == "viton-hd":
        for split in sorted(set(splits)):
            writer.make_dirs(root, split)
    else:
        writer.make_dirs(root)
    tasks = [(str(root), i, int(seed), poses_per_identity, height, width, splits[i], vis, layout)
             for i in range(identities)]
    workers = workers or os.cpu_count() or 1
    workers = max(1, min(workers, identities))
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=identities * poses_per_identity, unit="person", desc="synth")
    records = []
    if workers == 1:
        import cv2

        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            for task in tasks:
                records.append(_write_identity(task))
                if bar is not None:
                    bar.update(poses_per_identity)
        finally:
            cv2.setNumThreads(threads)
    else:
        # `spawn`: the caller may hold threads (TF, OpenCV) that a fork would copy mid-flight.
        ctx = multiprocessing.get_context("spawn")
        chunk = max(1, min(8, identities // (workers * 4)))
        with ctx.Pool(workers, initializer=_worker_init) as pool:
            for rec in pool.imap(_write_identity, tasks, chunksize=chunk):  # ordered: deterministic lists
                records.append(rec)
                if bar is not None:
                    bar.update(poses_per_identity)
    if bar is not None:
        bar.close()
    counts = writer.write_lists(root, records)
    from tfvton.data.synth import labels

    meta = {
        "generator": GENERATOR, "version": VERSION, "seed": int(seed), "height": height, "width": width,
        "identities": identities, "poses": poses_per_identity, "persons": identities * poses_per_identity,
        "test_fraction": test_fraction, "labels": list(labels.SYNTH_LABELS), "counts": counts,
        "records": records, **({"layout": layout} if layout != "mpv" else {}),
    }
    writer.write_metadata(root, meta)
    meta = dict(meta)
    meta["seconds"] = time.perf_counter() - start
    return meta
