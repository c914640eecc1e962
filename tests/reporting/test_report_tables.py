"""The demo report's metric tables: image metrics with FID / KID, structure and per-class IoU."""
from __future__ import annotations

from tfvton.demo.report import class_iou_rows, metrics_header, metrics_rows, structure_rows
from tfvton.reporting.html import Report

METRICS = {
    "model": {"ssim": 0.5, "mask_ssim": 0.6, "l1": 0.1, "psnr": 20.0, "fid": 123.456, "kid": 0.01234,
              "kid_std": 0.002, "parsing_pixel_accuracy": 0.84, "parsing_miou": 0.24, "parsing_classes_present": 2,
              "parsing_iou": {"background": 0.9, "left_arm": 0.0}, "warped_cloth_iou": 0.7,
              "warped_cloth_iou_nonwhite": 0.67},
    "baseline_source": {"ssim": 0.4, "mask_ssim": 0.6, "l1": 0.1, "psnr": 19.0, "fid": 80.0, "kid": 0.005,
                        "kid_std": 0.001, "parsing_pixel_accuracy": 0.7, "parsing_miou": 0.3,
                        "parsing_classes_present": 2, "parsing_iou": {"background": 0.8, "left_arm": 0.25}},
    "baseline_paste": {"ssim": 0.45, "mask_ssim": 0.6, "l1": 0.1, "psnr": 19.5, "warped_cloth_iou": 0.5,
                       "warped_cloth_iou_nonwhite": 0.45},
}


def test_image_table_has_fid_and_kid_columns_and_dashes_where_missing():
    header = metrics_header(METRICS)
    assert header[-2:] == ["FID", "KID"] and "IS" not in header
    rows = metrics_rows(METRICS)
    assert rows[0][-2:] == ["123.46", "0.0123 ± 0.0020"]
    assert rows[2][-2:] == ["–", "–"]  # the paste baseline row without Inception numbers
    assert all(len(r) == len(header) for r in rows)


def test_structure_and_class_iou_tables(tmp_path):
    header, rows = structure_rows(METRICS)
    assert header[1:3] == ["parsing pixel accuracy", "parsing mIoU"]
    assert rows[0][1:] == ["0.8400", "0.2400", "2", "0.7000", "0.6700"]
    assert rows[1][4:] == ["–", "–"] and rows[2][1:4] == ["–", "–", "–"]
    header, rows = class_iou_rows(METRICS)
    assert header[:2] == ["CIHP label", "class"] and len(header) == 4
    assert rows == [[0, "background", "0.9000", "0.8000"], [14, "left_arm", "0.0000", "0.2500"]]
    report = Report(tmp_path, "t")
    report.table(header, rows)
    html = report.write().read_text()
    assert "<td>left_arm</td><td>0.0000</td><td>0.2500</td>" in html
