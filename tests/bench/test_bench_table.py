"""The printed tables: the official release's figures appear as a dated reference, never rescaled."""
from tfvton.bench import table, train
from tfvton.bench.reference import OFFICIAL_RELEASE


def _measured(gflops, seconds):
    return {"gflops": gflops, "median_s": seconds, "min_s": seconds, "cpu_min_s": 2 * seconds,
            "fraction_of_machine": 0.5, "cpu_fraction_of_machine": 0.25}


def _report(reference):
    return {"function": {"networks": {"face": _measured(10.0, 0.5)}, "end_to_end": _measured(40.0, 2.0)},
            "machine": {"matmul_gflops": 100.0, "matmul_gflops_median": 90.0, "matmul_cpu_gflops": 50.0,
                        "threads": 2},
            "meta": {"reference": reference, "skipped": {}}}


def test_reference_printed_with_machine_and_date_only_when_present():
    text = table.format_table(_report(OFFICIAL_RELEASE.as_dict()))
    face_row = next(line for line in text.splitlines() if line.startswith("function") and " face " in line)
    assert face_row.split()[-1] == str(OFFICIAL_RELEASE.inference_seconds["face"])
    end_row = next(line for line in text.splitlines() if "end-to-end" in line)
    assert end_row.split()[-1] == str(OFFICIAL_RELEASE.inference_seconds["end_to_end"])
    assert f"reference measured on {OFFICIAL_RELEASE.machine}, {OFFICIAL_RELEASE.measured}" in text
    assert "est. s" not in text and "vs off." not in text

    bare = table.format_table(_report({}))
    assert "reference measured" not in bare
    assert next(line for line in bare.splitlines() if "end-to-end" in line).split()[-1] == "-"


def test_reference_applies_to_the_paper_geometry_only():
    from tfvton.config import load_config

    assert OFFICIAL_RELEASE.applies_to(load_config("paper"))
    assert not OFFICIAL_RELEASE.applies_to(load_config("smoke"))
    assert OFFICIAL_RELEASE.measured and "AMD EPYC" in OFFICIAL_RELEASE.machine


def test_training_table_names_the_reference_machine():
    step = {"median_s": 1.0, "min_s": 0.9, "cpu_min_s": 1.8}
    report = {"batch": 1, "appearance": {"none": step},
              "reference": {"appearance_step_s": [8.2, 8.8], "what": "official", "machine": "box", "measured": "2026"}}
    text = train.format_table(report)
    assert "appearance   none" in text and "reference measured on box, 2026" in text
    assert "reference measured" not in train.format_table({"batch": 1, "appearance": {"none": step}})


def test_same_run_official_column():
    report = _report(OFFICIAL_RELEASE.as_dict())
    report["official"] = {"what": "official PyTorch release (torch 2)", "commit": "abc",
                          "networks": {"face": _measured(10.0, 1.0)}, "end_to_end": _measured(40.0, 3.0)}
    text = table.format_table(report)
    assert "vs official" in text and "(commit abc)" in text
    end_row = next(line for line in text.splitlines() if line.startswith("function") and "end-to-end" in line)
    assert end_row.split()[-1] == "1.50x"
    face_row = next(line for line in text.splitlines() if line.startswith("function") and " face " in line)
    assert face_row.split()[-1] == "2.00x"
