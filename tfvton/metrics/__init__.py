"""Evaluation metrics, defined exactly in docs/metrics.md: SSIM, mask-SSIM, IS, mask-IS, L1, PSNR."""
from tfvton.metrics.image_metrics import l1, psnr
from tfvton.metrics.ssim import mask_background, mask_ssim, ssim

__all__ = ["ssim", "mask_ssim", "mask_background", "l1", "psnr"]
