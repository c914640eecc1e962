"""The data layer: the one raw-input reader, the dataset layouts (MPV, VITON-HD), the one preprocessing,
TFRecords, previews.

    from tfvton.data import MPVDataset, VitonHDDataset, open_dataset, DataError, transforms

Attributes are imported lazily, so `import tfvton.data.synth` (numpy / PIL only)
does not pay for TensorFlow.
"""
from __future__ import annotations

import importlib

__all__ = ["MPVDataset", "VitonHDDataset", "open_dataset", "DataError", "PairFiles", "MPVRecords",
           "write_tfrecords", "transforms", "mpv", "vitonhd", "layouts", "tfrecords", "preview", "raw_io",
           "formats", "tryon_inputs"]

_ATTRIBUTES = {
    "MPVDataset": "tfvton.data.mpv",
    "DataError": "tfvton.errors",
    "PairFiles": "tfvton.data.pair_list",
    "VitonHDDataset": "tfvton.data.vitonhd",
    "open_dataset": "tfvton.data.layouts",
    "MPVRecords": "tfvton.data.tfrecords",
    "write_tfrecords": "tfvton.data.tfrecords",
}
_MODULES = ("transforms", "mpv", "vitonhd", "layouts", "tfrecords", "preview", "raw_io", "formats",
            "tryon_inputs")


def __getattr__(name):
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"tfvton.data.{name}")
    raise AttributeError(f"module 'tfvton.data' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
