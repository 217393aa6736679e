"""Interpreter benchmark: fixed workloads run to completion on fvp-rme and on Unicorn.

The workloads are the ELF images in the repository's images/bench (built reproducibly from
stubs/bench): each starts at its entry point at EL1 with the MMU off and SP = 0, and ends at
the BRK #0 labelled `bench_end`. An instruction count is the number of instructions retired
before that BRK (the BRK itself raises an exception and does not retire).

`run_all()` returns JSON-ready dicts (`fvp-rme bench --json` prints them); `format_table()`
renders them as the plain `fvp-rme bench` output. MIPS is millions of instructions per second
of wall-clock time (decoding included), with translated blocks and, as "tier-1 MIPS", without
them (`tier1` in JSON); `ratio` is Unicorn's MIPS divided by ours, i.e. how many times faster
Unicorn runs the workload.
"""

import platform
import subprocess
import time
from pathlib import Path

import machine
from machine.api import Cpu
from machine.cpu.exceptions import EC_BRK
from machine.images.elf import load_elf
from machine.memory.bus import BusError

REPO = Path(machine.__file__).resolve().parent.parent
IMAGES = REPO / "images"
WORKLOADS = {name: IMAGES / "bench" / f"{name}.elf" for name in ("intloop", "memcopy",
                                                                   "sort_crc")}
MAX_INSNS = 100_000_000       # a bound well above every workload's length


class WorkloadError(RuntimeError):
    """A workload did not run to its final BRK."""


def _measure(instructions, seconds, checksum):
    return {"instructions": instructions, "seconds": round(seconds, 4),
            "mips": round(instructions / seconds / 1e6, 3) if seconds else None,
            "checksum": f"{checksum:#018x}"}


def _check_name(name):
    if name not in WORKLOADS:
        raise KeyError(f"unknown workload {name!r} (known: {', '.join(WORKLOADS)})")


def _image(name):
    _check_name(name)
    return load_elf(WORKLOADS[name])


def run_ours(name, blocks=True):
    """Run workload `name` on machine.api.Cpu; returns dict(instructions, seconds, mips,
    checksum): the checksum is X0 at the final BRK, the workload's result. `blocks=False`
    measures tier 1 alone (one decoded closure per instruction, no translated blocks)."""
    image = _image(name)
    cpu = Cpu(el=1)
    cpu.core.blocks = blocks
    image.load_into(cpu)
    cpu.set_reg("pc", image.entry)
    cpu.set_reg("sp", 0)
    start = time.perf_counter()
    result = cpu.run(count=MAX_INSNS)
    seconds = time.perf_counter() - start
    end = image.symbols["bench_end"]
    if result.reason != "exception" or result.ec != EC_BRK or cpu.reg("elr_el1") != end:
        where = cpu.reg("elr_el1") if result.reason == "exception" else result.pc
        why = f"{result.reason}: {result.exception_name}" if result.ec is not None else \
            result.reason
        raise WorkloadError(f"{name}: stopped ({why}) at {where:#x} (instruction "
                            f"{_word_at(cpu, where)}) after {result.retired} instructions "
                            f"instead of at the BRK at {end:#x}")
    return _measure(result.retired, seconds, cpu.reg("x0"))


def _word_at(cpu, addr):
    try:
        return f"{int.from_bytes(cpu.read(addr, 4), 'little'):#010x}"
    except BusError:
        return "not in memory"


def _unicorn_run(image, count_hook):
    """One Unicorn run of `image` from its entry to `bench_end`; returns (instructions counted
    by a code hook or None, seconds, X0)."""
    from unicorn import UC_ARCH_ARM64, UC_HOOK_CODE, UC_MODE_ARM, Uc
    from unicorn import arm64_const as A

    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM64_MAX)        # the most complete feature set
    for start, end in image.page_ranges():
        uc.mem_map(start, end - start)
    for seg in image.segments:
        uc.mem_write(seg.addr, seg.data)
    uc.reg_write(A.UC_ARM64_REG_SP, 0)
    counted = [0]
    if count_hook:
        def count(_uc, _address, _size, _user):
            counted[0] += 1
        uc.hook_add(UC_HOOK_CODE, count)
    end = image.symbols["bench_end"]
    start = time.perf_counter()
    uc.emu_start(image.entry, end, count=MAX_INSNS)     # stops before executing `end`
    seconds = time.perf_counter() - start
    pc = uc.reg_read(A.UC_ARM64_REG_PC)
    if pc != end:
        raise WorkloadError(f"{image.path.stem}: Unicorn stopped at {pc:#x}, not at the BRK "
                            f"at {end:#x}")
    return (counted[0] if count_hook else None), seconds, uc.reg_read(A.UC_ARM64_REG_X0)


def run_unicorn(name):
    """Run workload `name` on Unicorn: instructions counted with a code hook in one run, time
    taken from a second run without hooks. Returns dict(instructions, seconds, mips,
    checksum), or None when the unicorn package is not installed."""
    try:
        import unicorn  # noqa: F401
    except ImportError:
        return None
    image = _image(name)
    instructions, _, _ = _unicorn_run(image, count_hook=True)
    _, seconds, checksum = _unicorn_run(image, count_hook=False)
    return _measure(instructions, seconds, checksum)


def git_commit():
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def run_all(names=None):
    """Run the workloads `names` (default: all) on both; a JSON-ready dict per workload."""
    names = list(names or WORKLOADS)
    for name in names:
        _check_name(name)
    commit = git_commit()
    results = []
    for name in names:
        ours = run_ours(name)
        tier1 = run_ours(name, blocks=False)
        theirs = run_unicorn(name)
        ratio = None
        if theirs is not None and ours["mips"] and theirs["mips"]:
            ratio = round(theirs["mips"] / ours["mips"], 1)
        results.append({"workload": name, **ours, "tier1": tier1, "unicorn": theirs,
                        "ratio": ratio, "commit": commit, "python": platform.python_version()})
    return results


def format_table(results):
    """A plain-text table of run_all() results."""
    rows = [("workload", "instructions", "seconds", "MIPS", "tier-1 MIPS", "Unicorn MIPS",
             "ratio")]
    for r in results:
        theirs = r["unicorn"]
        rows.append((r["workload"], f"{r['instructions']:,}", f"{r['seconds']:.3f}",
                     f"{r['mips']:.2f}" if r["mips"] else "-",
                     f"{r['tier1']['mips']:.2f}" if r["tier1"]["mips"] else "-",
                     f"{theirs['mips']:.1f}" if theirs else "unicorn not installed",
                     f"{r['ratio']:.1f}x" if r["ratio"] else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    if results:
        lines.append(f"commit {results[0]['commit']}, Python {results[0]['python']}")
    return "\n".join(lines)

