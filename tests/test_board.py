"""The FVP RevC machine end to end: a bare-metal NS-EL2 program (tests/board, built with the
Debian cross toolchain) prints on UART0, reads a line from it, takes a generic-timer
interrupt through the GICv3, starts CPU 1 with PSCI CPU_ON, exchanges SGIs with it and powers
off with PSCI SYSTEM_OFF. And the generated device tree, checked with Debian's dtc."""

import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from machine.board import registry
from machine.board.boot import BootConfig, build

HERE = pathlib.Path(__file__).parent
BOARD = HERE / "board"
ELF = BOARD / "build" / "board.elf"

TRANSCRIPT = (
    "board: hello from EL2\n"
    "board: type a line: \n"
    "board: you typed 'hello world'\n"
    "board: timer interrupt\n"
    "board: CPU_ON returned 0x0000000000000000\n"
    "board: SGI exchanged with cpu 1\n"
    "board: powering off\n"
)


@pytest.fixture(scope="module")
def board_elf():
    subprocess.run(["make", "-s", "-C", str(BOARD)], check=True, capture_output=True)
    return ELF


def run_board(elf, *extra):
    return subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel", str(elf),
                           "--cpus", "2", "--stats", *extra], input=b"hello world\n",
                          capture_output=True, timeout=300)


@pytest.mark.cross
def test_bare_metal_program_runs_to_system_off(board_elf):
    out = run_board(board_elf)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode() == TRANSCRIPT


@pytest.mark.cross
def test_runs_are_deterministic(board_elf):
    first, second = run_board(board_elf), run_board(board_elf)
    counts = [re.search(rb"instructions: ([\d,]+)", r.stderr).group(1) for r in (first, second)]
    assert first.stdout == second.stdout and counts[0] == counts[1]
    cpu_lines = [re.findall(rb"cpu\d: [\d,]+", r.stderr) for r in (first, second)]
    assert cpu_lines[0] == cpu_lines[1] and len(cpu_lines[0]) == 2


@pytest.mark.cross
def test_instruction_limit_is_reported(board_elf):
    limited = run_board(board_elf, "--max-insns", "2000")
    assert limited.returncode == 4 and b"instruction limit" in limited.stderr


def test_a_guest_waiting_for_nothing_is_a_hang(tmp_path):
    image = tmp_path / "wfi.bin"          # raw: WFI; B .-4 (interrupts masked, no timer)
    image.write_bytes((0xD503207F).to_bytes(4, "little") + (0x17FFFFFF).to_bytes(4, "little"))
    out = subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel", str(image)],
                         capture_output=True, timeout=60)
    assert out.returncode == 5 and b"hangs" in out.stderr


def test_bad_images_give_one_line_and_status_2(tmp_path):
    bad = tmp_path / "junk.bin"
    bad.write_bytes(b"")
    out = subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel", str(bad)],
                         capture_output=True, timeout=60)
    assert out.returncode == 2 and out.stderr.decode().count("\n") == 1
    missing = subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel",
                              str(tmp_path / "nope")], capture_output=True, timeout=60)
    assert missing.returncode == 2 and b"nope" in missing.stderr


def test_machine_help_lists_the_fvp():
    out = subprocess.run([sys.executable, "-m", "machine.cli", "run", "--machine", "help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("fvp-base-revc")


@pytest.mark.skipif(shutil.which("dtc") is None, reason="needs dtc (device-tree-compiler)")
def test_generated_device_tree_decompiles_with_dtc(tmp_path, board_elf):
    dtb = tmp_path / "fvp.dtb"
    build(BootConfig(kernel=str(board_elf), definition=registry.lookup("fvp-base-revc"),
                     cpus=2, append="console=ttyAMA0", dump_dtb=str(dtb)))
    dts = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(dtb)], capture_output=True,
                         text=True, check=True).stdout
    for node in ("cpu@0 {", "cpu@100 {", "psci {", "memory@80000000 {",
                 "interrupt-controller@2f000000 {", "timer {", "uart@1c090000 {", "chosen {"):
        assert node in dts, node
    assert 'compatible = "arm,gic-v3";' in dts
    assert 'bootargs = "console=ttyAMA0";' in dts
    assert 'enable-method = "psci";' in dts
    assert "interrupts = <0x01 0x0d 0x08 0x01 0x0e 0x08 0x01 0x0b 0x08 0x01 0x0a 0x08>;" in dts


def test_machine_documentation_is_generated_from_the_definition():
    from machine.board.describe import markdown

    docs = (HERE.parent / "docs" / "machine.md").read_text()
    assert docs == markdown(registry.lookup("fvp-base-revc"))
    assert "| uart0 | pl011 | 0x1c090000 | 4 KB | SPI 5 (INTID 37) |" in docs


@pytest.mark.cross
def test_an_el3_image_is_entered_at_el3(board_elf):
    out = subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel",
                          str(BOARD / "build" / "el3.elf"), "--stats"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "EL3\n" and "EL3 " in out.stderr
