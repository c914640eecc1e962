"""YAML <-> frozen dataclasses, with strict keys and `a.b=value` overrides."""
from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

import yaml

from tfvton.config.schema import Config
from tfvton.config.validation import validate
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


def _received(where: str, value: Any) -> str:
    return f"Received: {where}={value!r}"


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a mapping (the {tp.__name__} section). {_received(where, value)}")
        return _build(tp, value, where)
    if origin is typing.Union:  # Optional[X]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _coerce(value, args[0], where)
    if origin in (tuple, typing.Tuple):
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list. {_received(where, value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where} must be a list of {len(args)} items. {_received(where, value)}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{where} must be true or false. {_received(where, value)}")
    if tp in (int, float):
        what = "an integer" if tp is int else "a number"
        if isinstance(value, bool):
            raise ConfigError(f"{where} must be {what}. {_received(where, value)}")
        try:
            converted = tp(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{where} must be {what}. {_received(where, value)}") from None
        if tp is int and isinstance(value, float) and value != converted:
            raise ConfigError(f"{where} must be an integer. {_received(where, value)}")
        return converted
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string. {_received(where, value)}")
        return value
    return value


def _build(cls, data: Mapping, where: str):
    types = _field_types(cls)
    unknown = sorted(set(data) - set(types))
    if unknown:
        section = f"section {where}" if where else "the top level of a config"
        raise ConfigError(f"unknown key(s) in {section}: {', '.join(unknown)}. "
                          f"Valid keys: {', '.join(sorted(types))}")
    kwargs = {k: _coerce(v, types[k], f"{where}.{k}" if where else k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ValueError as err:  # the sections' own checks name their key
        raise ConfigError(str(err)) from None


def config_from_dict(data: Mapping, where: str = "") -> Config:
    """Builds a `Config` from nested mappings and checks every range (`tfvton.config.validation`).

    Raises:
        ConfigError: an unknown key, a value of the wrong type or out of range (the message names the key).
    """
    config = _build(Config, data, where)
    validate(config)
    return config


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
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: expected a YAML config file, got a directory") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    if data is None:  # an empty file would otherwise silently mean the built-in (paper) defaults
        raise ConfigError(f"{path}: the config file is empty; expected a mapping of sections "
                          f"(data, model, loss, optimizer, train), e.g. `inherit: small`")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level. "
                          f"Received: {type(data).__name__}")
    return dict(data)


def _resolve_source(source: Union[str, Path], chain: tuple = ()) -> dict:
    path = Path(source)
    if not path.exists() and not path.suffix:  # a bare name is a preset
        path = presets_dir() / f"{source}.yaml"
        if not path.exists():
            raise ConfigError(f"unknown preset {str(source)!r}; presets: {', '.join(PRESET_NAMES)} "
                              f"(looked in {presets_dir()})")
    here = path.resolve()
    if here in chain:
        cycle = " -> ".join(str(p) for p in chain[chain.index(here):] + (here,))
        raise ConfigError(f"{path}: `inherit:` forms a cycle: {cycle}")
    data = _read_yaml(path)
    parent = data.pop("inherit", None)  # a YAML may start from another preset or file
    if parent:
        parent_path = path.parent / str(parent)
        data = _merge(_resolve_source(parent_path if parent_path.suffix else parent, chain + (here,)), data)
    return data


def parse_override(text: str) -> tuple:
    """Splits `a.b=value`; the value is parsed as YAML (numbers, lists, booleans)."""
    if "=" not in text:
        raise ConfigError(f"--set must have the form section.key=value. Received: --set {text}")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {text}: the value is not valid YAML ({' '.join(str(err).split())})") from None
    return key.strip().split("."), value


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
                raise ConfigError(f"--set {text}: {key} is not a section")
        node[keys[-1]] = value
    return config_from_dict(data)


def save_config(config: Config, path: Union[str, Path]) -> Path:
    """Writes the resolved config as YAML (done for every run directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        yaml.safe_dump(config_to_dict(config), handle, sort_keys=False)
    return path
