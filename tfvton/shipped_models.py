"""Models shipped in the repository's `models/` folder, usable by name (`--model synthmpv-small`).

Maintainers make one from a trained run directory with

    python -m tfvton.shipped_models RUN_DIR NAME [--card CARD.md]

A shipped model is an ordinary run directory (`config.yaml`, `weights/<network>.weights.h5`,
generators only, float16 to stay small) plus `SHA256SUMS`, one `<hex>  <relative path>` line
per file. A name is resolved only when no file or folder of that name exists, and its files
are checked against `SHA256SUMS` before anything loads them, so a truncated or edited copy
fails with the file's name instead of producing a wrong try-on.

`models/` sits next to the `tfvton` package in a source checkout (`pip install -e .`); a
wheel does not carry it (pass the folder's path instead).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Union

from tfvton.errors import ModelError
from tfvton.checksums import sha256_of

SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CHECKSUM_FILE = "SHA256SUMS"

__all__ = ["SHIPPED_MODELS_DIR", "CHECKSUM_FILE", "shipped_model_names", "resolve_model_source",
           "write_checksums", "verify_checksums", "pack_run"]

_verified: Dict[Path, bool] = {}


def shipped_model_names(root: Path = SHIPPED_MODELS_DIR) -> List[str]:
    """Names of the shipped models (folders of `root` with a `SHA256SUMS`)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CHECKSUM_FILE).is_file())


def write_checksums(model_dir: Union[str, Path]) -> Path:
    """Writes `SHA256SUMS` over every file of `model_dir` (sorted, relative paths)."""
    model_dir = Path(model_dir)
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name != CHECKSUM_FILE)
    lines = [f"{sha256_of(p)}  {p.relative_to(model_dir).as_posix()}" for p in files]
    out = model_dir / CHECKSUM_FILE
    out.write_text("\n".join(lines) + "\n")
    return out


def verify_checksums(model_dir: Union[str, Path]) -> None:
    """Checks every file listed in `model_dir/SHA256SUMS`.

    Raises:
        ModelError: a listed file is missing or its SHA-256 differs (the message names it).
    """
    model_dir = Path(model_dir)
    listing = model_dir / CHECKSUM_FILE
    for number, line in enumerate(listing.read_text().splitlines(), 1):
        if not line.strip():
            continue
        expected, _, name = line.partition("  ")
        if not name:
            raise ModelError(f"{listing}:{number}: expected '<sha256>  <file>'. Received: {line!r}")
        path = model_dir / name
        if not path.is_file():
            raise ModelError(f"{path}: missing from the shipped model (listed in {listing})")
        actual = sha256_of(path)
        if actual != expected:
            raise ModelError(f"{path}: SHA-256 {actual} does not match {expected} in {listing}; "
                             f"the file is damaged or was changed (restore it with `git checkout -- {path}`)")


def resolve_model_source(source: Union[str, Path], root: Path = SHIPPED_MODELS_DIR) -> Path:
    """`source` itself when it exists, else the shipped model of that name (checksums verified once).

    Raises:
        ModelError: the shipped model's files do not match their checksums.
    """
    path = Path(source)
    if path.exists() or path.name != str(source) or not (root / str(source) / CHECKSUM_FILE).is_file():
        return path
    model_dir = (root / str(source)).resolve()
    if not _verified.get(model_dir):
        verify_checksums(model_dir)
        _verified[model_dir] = True
    return model_dir


def _copy_weights_as_float16(src: Path, dst: Path) -> None:
    """Copies a Keras `.weights.h5`, storing float32 arrays as float16 (Keras casts them back at load)."""
    import h5py
    import numpy as np

    with h5py.File(src, "r") as fin, h5py.File(dst, "w") as fout:
        for key, value in fin.attrs.items():
            fout.attrs[key] = value

        def copy(name, obj):
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                fout.create_dataset(name, data=data.astype(np.float16) if data.dtype == np.float32 else data)
            else:
                fout.require_group(name)
            for key, value in obj.attrs.items():
                fout[name].attrs[key] = value

        fin.visititems(copy)


def pack_run(run_dir: Union[str, Path], out_dir: Union[str, Path], card: Union[str, Path, None] = None) -> Path:
    """Writes a shipped model from a trained run: config, the generators' weights in float16, checksums.

    Args:
        run_dir: a run directory with `weights/<generator>.weights.h5` for the four generators.
        out_dir: the model folder to write (e.g. `models/synthmpv-small`); replaced if present.
        card: optional Markdown model card copied as `README.md`.
    Returns:
        the `SHA256SUMS` path.
    """
    import shutil

    from tfvton.networks.factory import GENERATOR_NAMES
    from tfvton.run_dir import RunDir

    run = RunDir(run_dir)
    config = run.load_config()
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "weights").mkdir(parents=True)
    shutil.copy(Path(run_dir) / "config.yaml", out_dir / "config.yaml")
    names = [n for n in GENERATOR_NAMES if n != "face_generator" or config.model.face_refinement]
    for name in names:
        src = Path(run_dir) / "weights" / f"{name}.weights.h5"
        if not src.is_file():
            raise ModelError(f"{src}: missing; a shipped model needs the trained weights of {', '.join(names)}")
        _copy_weights_as_float16(src, out_dir / "weights" / src.name)
    if card is not None:
        shutil.copy(card, out_dir / "README.md")
    return write_checksums(out_dir)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Pack a trained run directory as a shipped model.")
    parser.add_argument("run_dir")
    parser.add_argument("name")
    parser.add_argument("--card", default=None, help="Markdown model card (copied as README.md)")
    parser.add_argument("--root", default=str(SHIPPED_MODELS_DIR))
    args = parser.parse_args()
    listing = pack_run(args.run_dir, Path(args.root) / args.name, args.card)
    print(f"{listing.parent}: {sum(p.stat().st_size for p in listing.parent.rglob('*')) / 2 ** 20:.1f} MB")
