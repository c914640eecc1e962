"""Dataset layouts on disk: which one a folder holds, and one way to open any of them.

    from tfvton.data.layouts import open_dataset
    dataset = open_dataset("zalando-hd-resized", mode="train", data_config=config.data)

`mpv` is the official release's layout (`tfvton.data.mpv`), `viton-hd` the public VITON-HD
release's (`tfvton.data.vitonhd`). Both datasets yield the same example dicts, so `train`,
`evaluate`, `tryon`, `preview` and `prepare` take either through `--data-root`; the layout is
detected from the folders.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

from tfvton.data import mpv, pair_list, vitonhd
from tfvton.data.pair_list import PathLike

LAYOUTS = ("mpv", "viton-hd")


def detect_layout(root: PathLike) -> str:
    """`viton-hd` when `root` holds VITON-HD's pair lists or folders (and no MPV ones), else `mpv`."""
    root = Path(root)
    if (root / "images").is_dir() or (root / "data_pair.txt").is_file() or (root / "demo.txt").is_file():
        return "mpv"
    return "viton-hd" if vitonhd.is_vitonhd_root(root) else "mpv"


def _check_layout(layout: Optional[str], root: PathLike) -> str:
    if layout in (None, "auto"):
        return detect_layout(root)
    if layout not in LAYOUTS:
        raise ValueError(f"`layout` must be one of {LAYOUTS} or 'auto'. Received: layout={layout!r}")
    return layout


def choose_pairs_and_mode(root: PathLike, pairs_file: Optional[PathLike] = None, mode: Optional[str] = None,
                          prefer: str = "data_pair.txt", layout: Optional[str] = None
                          ) -> Tuple[Optional[Path], str]:
    """Fills in a missing pair list and / or mode, as `pair_list.choose_pairs_and_mode` for either layout.

    For VITON-HD, `prefer="demo.txt"` (the try-on commands) means the unpaired `demo` mode
    on `test_pairs.txt`, anything else `train`; a missing pair list stays None (the dataset
    takes its layout's default for the mode).
    """
    if _check_layout(layout, root) == "mpv":
        return pair_list.choose_pairs_and_mode(root, pairs_file, mode, prefer=prefer)
    if mode is None:
        named = Path(pairs_file).name if pairs_file is not None else ""
        mode = "train" if "train" in named else ("demo" if prefer == "demo.txt" else "train")
    return (Path(pairs_file) if pairs_file is not None else None), mode


def open_dataset(root: PathLike, pairs_file: Optional[PathLike] = None, mode: str = "train", data_config=None,
                 layout: Optional[str] = None, **kwargs):
    """An `MPVDataset` or a `VitonHDDataset`, whichever layout `root` holds.

    Args:
        root: dataset root.
        pairs_file: pair list (None: the layout's default for `mode`).
        mode: `train`, `test` or `demo`.
        data_config: a `DataConfig` giving size, pose radius, blur and bad-sample policy
            (None: pass them in `kwargs`).
        layout: `mpv`, `viton-hd`, or None / `auto` to detect it.
        **kwargs: the dataset's other arguments (`validate`, `progress`, ...).
    Returns:
        The dataset (both expose `files`, `keypoints`, `raw`, `[i]`, `as_tf_dataset`, ...).
    """
    cls = vitonhd.VitonHDDataset if _check_layout(layout, root) == "viton-hd" else mpv.MPVDataset
    if data_config is not None:
        return cls.from_config(root, pairs_file, mode, data_config, **kwargs)
    return cls(root, pairs_file, mode, **kwargs)
