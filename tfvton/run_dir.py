"""`RunDir`: the one place that knows the layout of a run directory.

A run directory is what `tfvton train` and `tfvton convert-official` write and
what `tryon`, `evaluate`, `export` and `bench` read:

    config.yaml                             the resolved config
    weights/<network>.weights.h5            latest weights of every network
    weights/<stage>/<network>.weights.h5    what each training stage exported
    weights/<stage>/stage.json              marks the stage complete (steps, networks, time)
    checkpoints/<stage>/ckpt-<step>/        crash-safe checkpoints (`AtomicCheckpointManager`)
    logs/<stage>/train.csv, events.*        training scalars, TensorBoard events
    samples/<stage>/step-<step>.png         image grids during training

Every file `RunDir` writes goes to a temporary name in the same directory
(`.tmp-<pid>-<name>`) and is renamed over the final name when complete, so a
process killed mid-write leaves the previous file intact. Temporaries left by
dead processes are removed when a `RunDir` is opened.

Example:
    >>> run = RunDir("runs/official")          # written by `tfvton convert-official`
    >>> pipeline = run.load_pipeline()
    >>> run.save(config, {"face_generator": face_generator})
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Union

import keras

from tfvton.atomic_file import atomic_write, remove_stale_scratch
from tfvton.config import load_config, save_config
from tfvton.networks.factory import GENERATOR_NAMES, NETWORK_NAMES, build_networks, build_pipeline
from tfvton.networks.pipeline import TryOnPipeline

PathLike = Union[str, Path]

CONFIG_FILE = "config.yaml"
WEIGHTS_DIR = "weights"
CHECKPOINTS_DIR = "checkpoints"
LOGS_DIR = "logs"
SAMPLES_DIR = "samples"
STAGE_MARKER = "stage.json"
WEIGHTS_SUFFIX = ".weights.h5"
RUN_FILE = "run-directory file"  # how write errors name a run directory's files


class RunDir:
    """A run directory: its paths, and atomic reads and writes of its config and weights.

    Args:
        path: the run directory (need not exist yet; written files create it).

    Attributes:
        path: the directory as a `Path`.
    """

    def __init__(self, path: PathLike):
        if isinstance(path, RunDir):
            path = path.path
        self.path = Path(path)
        self.clean_stale_temporaries()

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    # === Paths ===
    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def weights_dir(self) -> Path:
        return self.path / WEIGHTS_DIR

    def weights_path(self, network: str) -> Path:
        """The latest weights of one network: `weights/<network>.weights.h5`."""
        return self.weights_dir / f"{network}{WEIGHTS_SUFFIX}"

    def stage_dir(self, stage: str) -> Path:
        return self.weights_dir / stage

    def stage_weights_path(self, stage: str, network: str) -> Path:
        """What a stage exported for one network: `weights/<stage>/<network>.weights.h5`."""
        return self.stage_dir(stage) / f"{network}{WEIGHTS_SUFFIX}"

    def stage_marker_path(self, stage: str) -> Path:
        return self.stage_dir(stage) / STAGE_MARKER

    def checkpoints_dir(self, stage: str) -> Path:
        return self.path / CHECKPOINTS_DIR / stage

    def logs_dir(self, stage: str) -> Path:
        return self.path / LOGS_DIR / stage

    def samples_dir(self, stage: str) -> Path:
        return self.path / SAMPLES_DIR / stage

    # === Queries ===
    @staticmethod
    def looks_like_run_dir(path: PathLike) -> bool:
        """True when `path` holds a `config.yaml` and a `weights/` directory."""
        path = Path(path)
        return (path / CONFIG_FILE).is_file() and (path / WEIGHTS_DIR).is_dir()

    def networks_with_weights(self) -> list:
        """Names (from `NETWORK_NAMES`) of the networks that have a latest-weights file."""
        return [name for name in NETWORK_NAMES if self.weights_path(name).is_file()]

    # === Config ===
    def save_config(self, config) -> Path:
        """Writes the resolved config to `config.yaml` (atomically)."""
        return atomic_write(self.config_path, lambda scratch: save_config(config, scratch), RUN_FILE)

    def load_config(self):
        """The resolved `Config` stored in the run directory.

        Raises:
            FileNotFoundError: there is no `config.yaml`.
        """
        if not self.config_path.is_file():
            raise FileNotFoundError(f"{self.path} is not a run directory: it has no {CONFIG_FILE}. A run directory "
                                    f"is written by `tfvton train` or `tfvton convert-official`")
        return load_config(self.config_path)

    # === Weights ===
    def save_weights(self, network: keras.Model, path: PathLike) -> Path:
        """`network.save_weights(path)`, atomically."""
        return atomic_write(path, lambda scratch: network.save_weights(scratch), RUN_FILE)

    def save(self, config, networks: Dict[str, keras.Model]) -> "RunDir":
        """Writes `config.yaml` and `weights/<name>.weights.h5` for each given network.

        Args:
            config: the resolved `Config` the networks were built from.
            networks: name -> network, names from `NETWORK_NAMES`.
        Returns:
            self.
        """
        unknown = sorted(set(networks) - set(NETWORK_NAMES))
        if unknown:
            raise ValueError(f"cannot save network(s) {', '.join(unknown)} in a run directory. "
                             f"Known names: {', '.join(NETWORK_NAMES)}")
        self.save_config(config)
        for name, network in networks.items():
            self.save_weights(network, self.weights_path(name))
        return self

    def load_networks(self, names: Optional[Iterable[str]] = None, config=None) -> Dict[str, keras.Model]:
        """Rebuilds networks from the run's config and loads their latest weights.

        Args:
            names: networks to load (default: every network with a weights file).
            config: use this config instead of the run's `config.yaml`.
        Raises:
            FileNotFoundError: a requested network has no weights file.
        """
        config = config or self.load_config()
        names = self.networks_with_weights() if names is None else list(names)
        absent = [str(self.weights_path(name)) for name in names if not self.weights_path(name).is_file()]
        if absent:
            raise FileNotFoundError(f"the run directory {self.path} lacks weights file(s): {', '.join(absent)}")
        networks = build_networks(config, names)
        for name, network in networks.items():
            network.load_weights(self.weights_path(name))
        return networks

    def load_pipeline(self, config=None) -> TryOnPipeline:
        """The `TryOnPipeline` on the run's four generators.

        Without face refinement (`model.face_refinement: false`) the face generator is not run, so a
        run that never trained it (the face stage skipped) still loads; it is built untrained.
        """
        config = config or self.load_config()
        names = list(GENERATOR_NAMES)
        if not config.model.face_refinement and not self.weights_path("face_generator").is_file():
            names.remove("face_generator")
        networks = self.load_networks(names, config)
        networks.update(build_networks(config, [n for n in GENERATOR_NAMES if n not in networks]))
        return build_pipeline(config, networks)

    # === Stages ===
    def stage_marker(self, stage: str) -> Optional[dict]:
        """The stage's `stage.json` as a dict, None when absent or unreadable."""
        try:
            return json.loads(self.stage_marker_path(stage).read_text())
        except (OSError, ValueError):
            return None

    def stage_is_complete(self, stage: str, budget: int) -> bool:
        """True when the stage's marker records at least `budget` steps."""
        marker = self.stage_marker(stage)
        try:
            return marker is not None and int(marker.get("steps", 0)) >= budget
        except (TypeError, ValueError):
            return False

    def save_stage(self, stage: str, networks: Dict[str, keras.Model], steps: int) -> Dict[str, Path]:
        """Writes a finished stage: each network's stage copy and latest weights, then the marker.

        The marker goes last, so a stage counts as complete only once all its weights are on disk.

        Returns:
            name -> the stage copy's path.
        """
        written = {}
        for name, network in networks.items():
            written[name] = self.save_weights(network, self.stage_weights_path(stage, name))
            self.save_weights(network, self.weights_path(name))
        marker = json.dumps({"stage": stage, "steps": int(steps), "networks": sorted(written),
                             "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2)
        atomic_write(self.stage_marker_path(stage), lambda scratch: scratch.write_text(marker), RUN_FILE)
        return written

    # === Housekeeping ===
    def clean_stale_temporaries(self) -> list:
        """Removes `.tmp-<pid>-*` files of dead processes from the directories `RunDir` writes.

        A temporary of a process still running (another writer) is left alone.

        Returns:
            The removed paths.
        """
        removed = remove_stale_scratch(self.path, keep_own=True)
        removed += remove_stale_scratch(self.weights_dir, recursive=True, keep_own=True)
        return removed

