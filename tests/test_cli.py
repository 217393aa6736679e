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


@pytest.mark.parametrize("args", [["inspect", "x.elf"], ["measure", "--image", "x.elf"]])
def test_feature_not_landed_says_so_in_one_line(args, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "not implemented yet" in captured.err
