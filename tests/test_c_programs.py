"""Compiled C programs (tests/c) run on fvp-rme and on Unicorn from the same ELF image.

Each program starts at its entry point at EL1 with the MMU off and SP = 0, and stops with
BRK #0 after main returns: the value in X0, the program's `results` array and the address of
the BRK must agree. When fvp-rme stops anywhere else, the failure names the instruction it
stopped on (address, word, disassembly and the machine's 'unimplemented instruction' log line).
"""

import functools
import struct
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from machine.api import Cpu
from machine.cpu.exceptions import EC_BRK, EC_NAMES, EC_UNKNOWN
from machine.images.elf import load_elf

C_DIR = Path(__file__).resolve().parent / "c"
BUILD = C_DIR / "build"
PROGRAMS = ["arith", "bits", "crc32", "sort", "string", "fib", "switch", "float", "atomics",
            "atomics_lse"]
OPTS = ["O0", "O2"]
NRESULTS = 64                 # common.h
MAX_INSNS = 20_000_000        # every program needs well under 1M
QEMU_EXCP_BKPT = 7

pytestmark = pytest.mark.cross


@functools.cache
def build_programs():
    """Run make in tests/c once; returns the build directory."""
    done = subprocess.run(["make", "-C", str(C_DIR), "-j4", "--no-print-directory"],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"building tests/c failed:\n{done.stdout}{done.stderr}")
    return BUILD


@pytest.fixture(scope="session")
def c_build():
    return build_programs()


def disassemble(path, addr):
    """objdump's text for the instruction at `addr` of the ELF file `path`."""
    out = subprocess.run(["aarch64-linux-gnu-objdump", "-d", f"--start-address={addr:#x}",
                          f"--stop-address={addr + 4:#x}", str(path)],
                         capture_output=True, text=True).stdout
    lines = [line for line in out.splitlines() if line.strip().startswith(f"{addr:x}:")]
    if not lines:
        return "?"
    text = lines[0].split("\t", 2)[-1].split("//")[0]
    return " ".join(text.split())


class Outcome(NamedTuple):
    """How a run ended: `ok` when it stopped on BRK; `stop_pc` is the BRK's address (or the
    instruction's that stopped it), `detail` says what went wrong otherwise."""

    x0: int
    stop_pc: int
    results: tuple | None
    ok: bool
    detail: str = ""


def read_results(read, image):
    return struct.unpack(f"<{NRESULTS}Q", bytes(read(image.symbols["results"], 8 * NRESULTS)))


def run_ours(image):
    cpu = Cpu(el=1)
    image.load_into(cpu)
    cpu.set_reg("pc", image.entry)
    cpu.set_reg("sp", 0)
    result = cpu.run(count=MAX_INSNS)
    if result.reason != "exception":
        return Outcome(cpu.reg("x0"), cpu.reg("pc"), None, False,
                       f"stopped ({result.reason}) at pc {result.pc:#x} after {result.retired} "
                       f"instructions {result.message}")
    elr = cpu.reg("elr_el1")
    results = read_results(cpu.read, image)
    if result.ec == EC_BRK:
        return Outcome(cpu.reg("x0"), elr, results, True)
    return Outcome(cpu.reg("x0"), elr, results, False, describe_stop(cpu, image, result, elr))


def describe_stop(cpu, image, result, elr):
    """Why fvp-rme stopped at `elr` instead of the final BRK, for the failure message."""
    if not any(start <= elr < end for start, end in image.page_ranges()):
        word = None
        where = f"at {elr:#x} (outside the image) after {result.retired} instructions"
    else:
        word = int.from_bytes(cpu.read(elr, 4), "little")
        where = (f"at {elr:#x}: {word:#010x} ({disassemble(image.path, elr)}) after "
                 f"{result.retired} instructions")
    if result.ec != EC_UNKNOWN or word is None:
        far = f", FAR {result.far:#x}" if result.far is not None else ""
        return f"{EC_NAMES.get(result.ec, 'exception')} (ESR {result.esr:#010x}{far}) {where}"
    logged = [m for m in cpu.core.warned if m.startswith(f"unimplemented instruction {word:#010x}")]
    reason = logged[0] if logged else "not in the decode table"
    return f"first unimplemented instruction {where} [{reason}]"


def run_unicorn(image):
    from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_MODE_ARM, Uc
    from unicorn import arm64_const as A

    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM64_MAX)      # the default Cortex-A72 model lacks FEAT_LSE
    for start, end in image.page_ranges():
        uc.mem_map(start, end - start)
    for seg in image.segments:
        uc.mem_write(seg.addr, seg.data)
    uc.reg_write(A.UC_ARM64_REG_SP, 0)
    stops = []

    def on_exception(uc, intno, _user):
        stops.append(intno)
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, on_exception)       # called on exceptions only, not per insn
    uc.emu_start(image.entry, 0, count=MAX_INSNS)
    pc = uc.reg_read(A.UC_ARM64_REG_PC)
    ok = stops == [QEMU_EXCP_BKPT]
    return Outcome(uc.reg_read(A.UC_ARM64_REG_X0), pc, read_results(uc.mem_read, image), ok,
                   "" if ok else f"Unicorn stopped at {pc:#x} with QEMU exception {stops}")


def first_difference(ours, theirs):
    i = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
    return f"results[{i}]: ours {ours[i]:#x} unicorn {theirs[i]:#x}"


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_program_matches_unicorn(c_build, program, opt):
    path = c_build / f"{program}-{opt}.elf"
    image = load_elf(path)
    theirs = run_unicorn(image)
    if not theirs.ok:
        pytest.fail(f"{path.name}: {theirs.detail}")
    ours = run_ours(image)
    if not ours.ok:
        pytest.fail(f"{path.name}: {ours.detail}")
    if ours.stop_pc != theirs.stop_pc:
        pytest.fail(f"{path.name}: BRK at {ours.stop_pc:#x}, unicorn {theirs.stop_pc:#x}")
    if ours.results != theirs.results:
        pytest.fail(f"{path.name}: {first_difference(ours.results, theirs.results)}")
    if ours.x0 != theirs.x0:
        pytest.fail(f"{path.name}: x0 ours {ours.x0:#x} unicorn {theirs.x0:#x}")
