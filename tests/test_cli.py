import subprocess
import sys

import pytest

from machine.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "machine.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_help_lists_the_four_subcommands():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("run", "inspect", "measure", "bench"):
        assert command in out.stdout


@pytest.mark.parametrize("command", ["run", "inspect", "measure", "bench"])
def test_each_subcommand_has_help(command):
    out = run_cli(command, "--help")
    assert out.returncode == 0
    assert out.stdout.startswith("usage: fvp-rme " + command)


@pytest.mark.parametrize("args", [["frobnicate"], ["run", "--no-such-option"], []])
def test_bad_command_line_gives_usage_and_status_2(args):
    out = run_cli(*args)
    assert out.returncode == 2
    assert "usage:" in out.stderr
    assert out.stdout == ""


def test_inspect_reports_each_file_and_fails_for_bad_ones(tmp_path, capsys):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not an image")
    good = tmp_path / "good.dtb"
    from machine.board import registry
    from machine.board.devicetree import build as build_dtb
    from machine.board.machine import Machine
    good.write_bytes(build_dtb(Machine(registry.lookup("fvp-base-revc"))))
    assert main(["inspect", str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "not a recognised image" in captured.err
    assert f"{good}: device tree" in captured.out


def test_measure_prints_the_predicted_rim(tmp_path, capsys):
    from machine.rmm.predict import RealmLayout, predict_rim

    image = tmp_path / "realm.bin"
    image.write_bytes(bytes(range(256)) * 20)
    assert main(["measure", "--image", str(image), "--hash", "sha512", "--vcpus", "2"]) == 0
    rim, _ = predict_rim(image.read_bytes(), RealmLayout(ipa=0x8000_0000, algorithm="sha512",
                                                         vcpus=2))
    assert capsys.readouterr().out.strip() == f"RIM (sha512): {rim.hex()}"
    assert main(["measure", "--image", str(tmp_path / "missing")]) == 2
