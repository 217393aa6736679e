"""scripts/boot.py: the pexpect-driven scripted boot waits for each console stage, types the
answers, reports a time per stage, and fails with the transcript when a stage never comes."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from boot import Stage, scripted_boot  # noqa: E402

BOARD = ROOT / "tests" / "board"


@pytest.fixture(scope="module")
def board_args():
    subprocess.run(["make", "-s", "-C", str(BOARD)], check=True, capture_output=True)
    return ["--kernel", str(BOARD / "build" / "board.elf"), "--cpus", "2"]


@pytest.mark.cross
def test_stages_in_order_with_input(board_args):
    result = scripted_boot(board_args, [
        Stage("hello from EL2", timeout=60),
        Stage("type a line: ", send="scripted", timeout=60),
        Stage("you typed 'scripted'", timeout=60),
        Stage("SGI exchanged with cpu 1", timeout=60),
        Stage("powering off", timeout=60),
    ])
    assert result.ok, result.report()
    assert [p for p, _ in result.timings][-1] == "powering off"
    assert result.exit_status == 0


@pytest.mark.cross
def test_a_missing_stage_fails_with_the_transcript(board_args):
    result = scripted_boot(board_args, [Stage("hello from EL2", timeout=60),
                                        Stage("this never appears", timeout=3)])
    assert not result.ok and "this never appears" in result.failure
    report = result.report()
    assert "FAILED" in report and "board: hello from EL2" in report
