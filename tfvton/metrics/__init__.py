"""Evaluation metrics, defined exactly in docs/metrics.md.

Image metrics: SSIM, mask-SSIM, L1, PSNR (weight-free); IS, mask-IS, FID, KID
(InceptionV3, `inception_score`, `fid_kid`). Structure metrics: parsing pixel
accuracy, per-class IoU and mIoU (`parsing_metrics`), warped-cloth IoU
(`cloth_metrics`), and `evaluate_structure` for a pipeline on a split
(`structure`).
"""
from tfvton.metrics.cloth_metrics import MaskIoU
from tfvton.metrics.fid_kid import fid, kid
from tfvton.metrics.image_metrics import l1, psnr
from tfvton.metrics.parsing_metrics import ParsingConfusion, confusion_matrix, parsing_scores
from tfvton.metrics.ssim import mask_background, mask_ssim, ssim
from tfvton.metrics.structure import evaluate_structure

__all__ = ["ssim", "mask_ssim", "mask_background", "l1", "psnr", "fid", "kid", "confusion_matrix",
           "parsing_scores", "ParsingConfusion", "MaskIoU", "evaluate_structure"]
