"""What an export costs in quality on real inputs: each variant against the reference model.

`tfvton bench` measures quality on the inputs it times; this compares whole
models as users load them (`load_predictor`: a run directory, a shipped name,
a SavedModel, a `.tflite`) on a dataset's test pairs, so the int8 or bf16 cost
is measured on trained weights and on the data they were trained for:

    python -m tfvton.bench.exported_quality --reference synthmpv-small \\
        --data-root data/synthmpv200-128 --limit 40 EXPORT/tflite/1/tfvton_int8.tflite

Per variant: PSNR and SSIM of its output image against the reference's
(`tfvton.bench.quality.image_quality`) and the share of pixels whose parsing
label (arg-max) agrees.
"""
from __future__ import annotations

import argparse
import json
from typing import Dict, Iterable, Mapping, Optional, Sequence

import numpy as np

from tfvton.bench.quality import image_quality

__all__ = ["compare_predictors", "main"]


def compare_predictors(reference, variants: Mapping[str, object], raws: Iterable[Mapping[str, np.ndarray]]
                       ) -> Dict[str, Dict[str, float]]:
    """Runs the reference and every variant on each raw input, one at a time.

    Args:
        reference: a predictor (`predict([raw]) -> {"output", "parsing_labels"}`).
        variants: name -> predictor.
        raws: raw input dicts (`tfvton.data.MPVDataset.raw`).
    Returns:
        name -> `image_quality` fields plus `parsing_agreement` (mean over pixels of all images)
        and `parsing_agreement_min` (the worst image's).
    """
    outputs = {name: [] for name in variants}
    agreements = {name: [] for name in variants}
    references = []
    for raw in raws:
        expected = reference.predict([raw])
        references.append(np.asarray(expected["output"], np.float32))
        labels = np.asarray(expected["parsing_labels"])
        for name, predictor in variants.items():
            got = predictor.predict([raw])
            outputs[name].append(np.asarray(got["output"], np.float32))
            agreements[name].append(float(np.mean(np.asarray(got["parsing_labels"]) == labels)))
    if not references:
        raise ValueError("compare_predictors: no inputs to compare on")
    return {name: {**image_quality(references, outputs[name]),
                   "parsing_agreement": float(np.mean(agreements[name])),
                   "parsing_agreement_min": float(np.min(agreements[name]))} for name in variants}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Quality of exported variants against a reference model.")
    parser.add_argument("variants", nargs="+", help="models to compare (run dir, shipped name, SavedModel, .tflite)")
    parser.add_argument("--reference", required=True, help="the reference model (e.g. the fp32 run directory)")
    parser.add_argument("--data-root", required=True, help="dataset root; its test pairs are the inputs")
    parser.add_argument("--limit", type=int, default=40, help="first N test pairs (default 40)")
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args(argv)

    from tfvton.data import MPVDataset
    from tfvton.inference.predictor import load_predictor, read_source_config

    config = read_source_config(args.reference)
    data = MPVDataset.from_config(args.data_root, None, "test", config.data, progress=False)
    raws = (data.raw(i) for i in range(min(args.limit, len(data))))
    result = compare_predictors(load_predictor(args.reference),
                                {name: load_predictor(name) for name in args.variants}, raws)
    for name, row in result.items():
        print(f"{name}: {row['images']} images, PSNR {row['psnr_db']:.2f} dB (min {row['psnr_min_db']:.2f}), "
              f"SSIM {row['ssim']:.4f} (min {row['ssim_min']:.4f}), parsing agreement "
              f"{row['parsing_agreement']:.4f} (min {row['parsing_agreement_min']:.4f})")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
