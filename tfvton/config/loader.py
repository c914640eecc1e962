"""YAML <-> frozen dataclasses, with strict keys and `a.b=value` overrides."""
from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

import yaml

from tfvton.config.schema import Config
from tfvton.errors import ConfigError

PRESET_NAMES = ("paper", "small", "mobile", "smoke")


def presets_dir() -> Path:
    """Where the preset YAML files live: $TFVTON_CONFIGS or the checkout's `configs/`."""
    env = os.environ.get("TFVTON_CONFIGS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "configs"


def _field_types(cls) -> dict:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping for section {tp.__name__}, got {value!r}")
        return _build(tp, value, where)
    if origin is typing.Union:  # Optional[X]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _coerce(value, args[0], where)
    if origin in (tuple, typing.Tuple):
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
        try:
            converted = tp(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}") from None
        if tp is int and isinstance(value, float) and value != converted:
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return converted
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def _build(cls, data: Mapping, where: str):
    types = _field_types(cls)
    unknown = sorted(set(data) - set(types))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(types))}")
    kwargs = {k: _coerce(v, types[k], f"{where}.{k}" if where else k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ValueError as err:
        raise ConfigError(f"{where or 'config'}: {err}") from None


def config_from_dict(data: Mapping, where: str = "config") -> Config:
    """Builds a `Config` from nested mappings; unknown keys are errors."""
    return _build(Config, data, where)


def config_to_dict(config) -> dict:
    """Plain nested dict (tuples as lists) for YAML output."""
    def plain(value):
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value
    return plain(config)


def _merge(base: dict, update: Mapping) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict:
    try:
        with open(path) as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return dict(data)


def _resolve_source(source: Union[str, Path]) -> dict:
    path = Path(source)
    if not path.exists() and not path.suffix:  # a bare name is a preset
        path = presets_dir() / f"{source}.yaml"
        if not path.exists():
            raise ConfigError(f"unknown preset {str(source)!r}; presets: {', '.join(PRESET_NAMES)} "
                              f"(looked in {presets_dir()})")
    data = _read_yaml(path)
    parent = data.pop("inherit", None)  # a YAML may start from another preset or file
    if parent:
        parent_path = path.parent / str(parent)
        data = _merge(_resolve_source(parent_path if parent_path.suffix else parent), data)
    return data


def parse_override(text: str) -> tuple:
    """Splits `a.b=value`; the value is parsed as YAML (numbers, lists, booleans)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected the form section.key=value")
    key, raw = text.split("=", 1)
    return key.strip().split("."), yaml.safe_load(raw) if raw.strip() else ""


def load_config(source: Union[str, Path, None] = "paper", overrides: Iterable[str] = ()) -> Config:
    """Loads a preset name or YAML path, then applies `--set a.b=value` overrides.

    Args:
        source: a preset name (`paper`, `small`, `mobile`, `smoke`), a YAML path,
            or None for the built-in defaults (the paper).
        overrides: strings of the form `section.key=value`.

    Returns:
        A frozen `Config`.

    Example:
        >>> cfg = load_config("smoke", ["train.batch_size=2"])
    """
    data = {} if source is None else _resolve_source(source)
    for text in overrides:
        keys, value = parse_override(text)
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {text!r}: {key} is not a section")
        node[keys[-1]] = value
    return config_from_dict(data)


def save_config(config: Config, path: Union[str, Path]) -> Path:
    """Writes the resolved config as YAML (done for every run directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        yaml.safe_dump(config_to_dict(config), handle, sort_keys=False)
    return path
