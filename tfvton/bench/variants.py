"""The variants `tfvton bench` times, and their names.

A variant is a base (`keras`, `function`, `xla`, `savedmodel`,
`savedmodel-unfrozen`, `bf16`, `tflite-fp32`, `tflite-fp16`, `tflite-int8`)
with optional suffixes: `+crop`
runs the face generator on a crop around the face (`tfvton.layers.FaceCrop`,
a separate mode for models trained so), `+frozen` (on `function`, `xla`,
`bf16`) freezes the variables into constants, which lets grappler fold the
weight casts and the Tree-Block's kernel products once.
"""
from __future__ import annotations

from typing import Tuple

from tfvton.export import tflite

VARIANTS = ("keras", "function", "xla", "savedmodel", "savedmodel-unfrozen", "bf16", "tflite-fp32", "tflite-fp16",
            "tflite-int8")
# What `tfvton export` writes (frozen), and its `--no-freeze` form (variables).
SAVEDMODEL_VARIANTS = ("savedmodel", "savedmodel-unfrozen")
DEFAULT_VARIANTS = ("function", "savedmodel", "bf16")
CROP_SUFFIX = "+crop"
# Variables frozen into constants (convert_variables_to_constants_v2): grappler then folds the weight
# casts and the Tree-Block's kernel products once instead of at every call.
FROZEN_SUFFIX = "+frozen"
FREEZABLE = ("function", "xla", "bf16")
NETWORKS = ("gmm", "parsing_generator", "appearance_generator", "face_generator")
SHORT_NAMES = {"gmm": "gmm", "parsing_generator": "parsing", "appearance_generator": "appearance",
               "face_generator": "face"}
# Instance norm's ops and those every int8 model keeps float (a wrong or missing XNNPACK int8
# kernel), as the exporter keeps them (one home).
INT8_FLOAT_OPS = tflite.INT8_FLOAT_OPS + tflite.INT8_ALWAYS_FLOAT_OPS
# Outputs compared with fp32: the final image, the try-on before face refinement, the parsing.
QUALITY_KEYS = ("final", "tryon", "parsing")


def parse_variant(name: str) -> Tuple[str, bool, bool]:
    """'bf16+frozen+crop' -> ('bf16', crop=True, frozen=True); raises on unknown names."""
    base, *suffixes = name.split("+")
    tags = ["+" + suffix for suffix in suffixes]
    if base not in VARIANTS or any(t not in (CROP_SUFFIX, FROZEN_SUFFIX) for t in tags) or len(set(tags)) < len(tags):
        raise ValueError(f"tfvton bench: unknown variant {name!r}; expected one of {', '.join(VARIANTS)}, "
                         f"optionally with {CROP_SUFFIX} and/or {FROZEN_SUFFIX}")
    frozen = FROZEN_SUFFIX in tags
    if frozen and base not in FREEZABLE:
        raise ValueError(f"tfvton bench: {FROZEN_SUFFIX} applies to {', '.join(FREEZABLE)}, not {base!r}")
    return base, CROP_SUFFIX in tags, frozen
