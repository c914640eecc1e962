"""Quality cost of a cheaper variant: PSNR and SSIM of its final image against the fp32 one."""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np


def image_quality(reference: Sequence[np.ndarray], test: Sequence[np.ndarray], data_range: float = 2.0
                  ) -> Dict[str, float]:
    """PSNR (dB) and SSIM of test images against reference images, over examples.

    Args:
        reference: fp32 final images, each (H, W, 3) or (B, H, W, 3), in [-1, 1].
        test: the variant's final images, same shapes.
        data_range: 2 for images in [-1, 1].

    Returns:
        `psnr_db` (mean over images, each capped at 100 dB), `psnr_min_db`,
        `ssim` (mean), `ssim_min`, `max_abs_error`, `images`.
    """
    from tfvton.metrics.image_metrics import psnr
    from tfvton.metrics.ssim import ssim

    ref = np.concatenate([np.asarray(r, np.float32).reshape((-1,) + np.shape(r)[-3:]) for r in reference])
    got = np.concatenate([np.asarray(t, np.float32).reshape((-1,) + np.shape(t)[-3:]) for t in test])
    if ref.shape != got.shape:
        raise ValueError(f"image_quality: reference and test images must have the same shape. "
                         f"Received: {ref.shape} and {got.shape}")
    p = np.asarray(psnr(ref, got, data_range))
    s = np.asarray(ssim(ref, got, data_range))
    return {"psnr_db": float(p.mean()), "psnr_min_db": float(p.min()), "ssim": float(s.mean()),
            "ssim_min": float(s.min()), "max_abs_error": float(np.abs(ref - got).max()), "images": int(len(ref))}
