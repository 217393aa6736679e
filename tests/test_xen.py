"""Debian's Xen 4.17 hypervisor boots on the machine with Debian's arm64 kernel as the dom0
module, through dom0 construction to the hand-over ("Freed ... init memory") and dom0 Linux's
first lines (its banner, the machine, Xen found, its memory), and the real
gdb-multiarch attached to `fvp-rme run --gdb` stops in Xen at EL2 and reads Xen's memory
through Xen's own page tables. Both images are real Debian packages fetched with apt-get
download (tests/debian_images.py)."""

import io
import re
import sys

import pexpect
import pytest
from debian_images import xen_boot_args, xen_image
from gdb.conftest import Gdb  # tests/gdb: the pygdbmi driver of gdb-multiarch

XEN_LOG = [                                     # in the order Xen prints them
    r"Xen version 4\.17",
    r"Processor: 00000000410fd0f0",
    r"Generic Timer IRQ: phys=30 hyp=26 virt=27",
    r"GICv3 initialization",
    r"P2M: 48-bit IPA with 48-bit PA and 16-bit VMID",
    r"\*\*\* LOADING DOMAIN 0 \*\*\*",
    r"Loading d0 kernel from boot module @ 0000000088000000",
    r"Allocating 1:1 mappings totalling 256MB for dom0",
    r"Loading d0 DTB",
    r"Freed \d+kB init memory",
]
DOM0_LOG = [                                    # then dom0 Linux, at EL1 under Xen's stage 2
    r"Booting Linux on physical CPU 0x0000000000 \[0x410fd0f0\]",
    r"Linux version 6\.1\.",
    r"Machine model: FVP Base RevC",
    r"Xen 4\.17 support found",
    r"Memory: \d+K/262144K available",
]
XEN_BANNER = b"Xen version %d.%d"               # the format string of Xen's first log line


def spawn_xen_boot(*extra, timeout):
    """`fvp-rme run` booting Xen with the dom0 kernel, its console (and stderr) on a pty."""
    child = pexpect.spawn(sys.executable, ["-m", "machine.cli", "run", *xen_boot_args(), *extra],
                          encoding="utf-8", codec_errors="replace", timeout=timeout)
    child.logfile_read = io.StringIO()
    return child


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_xen_boots_and_hands_over_to_dom0_linux():
    child = spawn_xen_boot("--max-insns", "150000000", timeout=1200)
    try:
        for line in XEN_LOG + DOM0_LOG:
            child.expect(line)
    finally:
        child.terminate(force=True)
    log = child.logfile_read.getvalue()
    assert "Panic" not in log and "fvp-rme:" not in log     # no Xen panic, no model stop
    assert "Kernel panic" not in log and "Internal error" not in log      # nor a dom0 oops


# --- gdb on Xen ----------------------------------------------------------------------------------
# Instruction encodings from the Arm ARM (C6.2): just enough to follow Xen's head.S.

def _signed(value, bits):
    return value - (1 << bits) if value >> (bits - 1) else value


def branch_target(word, at):
    """B imm26: the target of the branch at offset `at`, or None."""
    return at + 4 * _signed(word & 0x3FF_FFFF, 26) if word >> 26 == 0b000101 else None


def ldr_literal(word, at):
    """LDR Xt, label (64-bit literal): (t, the label's offset), or None."""
    if word >> 24 != 0x58:
        return None
    return word & 31, at + 4 * _signed((word >> 5) & 0x7FFFF, 19)


def adr_target(word, at):
    """ADR Xd, label: the label's offset, or None."""
    if word & 0x9F00_0000 != 0x1000_0000:
        return None
    return at + _signed(((word >> 5) & 0x7FFFF) << 2 | (word >> 29) & 3, 21)


def br_register(word):
    """BR Xn: n, or None."""
    return (word >> 5) & 31 if word & 0xFFFF_FC1F == 0xD61F_0000 else None


def xen_link_addresses(image):
    """(the address Xen is linked at, the address of `primary_switched`) read from the code of
    Xen 4.17's arm64 head.S in the Image -- no symbols, no constants from Xen's source.

    The Image header's second word branches to real_start, which computes Xen's physical
    offset with `ldr x0, =start; adr x19, start`: the literal pool holds the link address of
    the Image's first byte (XEN_VIRT_START). Once the MMU is on, `ldr x0, =primary_switched;
    br x0` jumps from the 1:1 map to the link address, and primary_switched is the
    instruction right after that BR: the first instruction Xen runs at its link address."""
    assert image[56:60] == b"ARM\x64", "not an arm64 Image"
    words = [int.from_bytes(image[at:at + 4], "little") for at in range(0, 0x2000, 4)]

    def literal(at):
        return int.from_bytes(image[at:at + 8], "little")

    start = branch_target(words[1], 4)
    base = None
    for i in range(start // 4, len(words) - 1):
        load, following = ldr_literal(words[i], 4 * i), words[i + 1]
        if load is None:
            continue
        register, pool = load
        if base is None and adr_target(following, 4 * i + 4) == 0:
            base = literal(pool)
        elif base is not None and br_register(following) == register:
            switched = literal(pool)
            assert switched == base + 4 * i + 8, "the jump to the link address is not to " \
                                                 "the instruction after it"
            return base, switched
    raise AssertionError("Xen's switch to its link address was not found in head.S")


def gdb_int(gdb, expression):
    return int(gdb.value(f"(unsigned long) {expression}"))


def gdb_bytes(gdb, address, count):
    """`x/COUNTxb ADDRESS` as bytes (each line: ADDRESS: 0xNN 0xNN ...)."""
    lines = gdb.console(f"x/{count}xb {address:#x}").splitlines()
    return bytes(int(value, 16) for line in lines for value in line.partition(":")[2].split())


@pytest.mark.slow
@pytest.mark.gdb
@pytest.mark.timeout(300)
def test_gdb_stops_in_xen_at_el2_and_reads_its_memory():
    image = xen_image().read_bytes()
    base, primary_switched = xen_link_addresses(image)
    banner = image.find(XEN_BANNER)
    assert banner > 0
    child = spawn_xen_boot("--gdb", "127.0.0.1:0", "--wait-gdb", timeout=120)
    g = Gdb()
    try:
        child.expect(r"listening on ([\d.]+:\d+)")
        entry = int(g.connect(child.match.group(1))["frame"]["addr"], 16)
        assert entry != base        # Xen is loaded elsewhere: its link addresses are virtual
        g.console(f"hbreak *{primary_switched:#x}")
        g.mi("-exec-continue")
        stop = g.wait_stopped(120)
        assert stop["reason"] == "breakpoint-hit" and stop["thread-id"] == "1"
        assert gdb_int(g, "$pc") == primary_switched
        assert gdb_int(g, "$CurrentEL") == 2 << 2
        # Xen's code and its banner's format string, read at their link addresses through
        # the page tables Xen has just turned on, are the Image's bytes
        code = primary_switched - base
        assert gdb_bytes(g, primary_switched, 16) == image[code:code + 16]
        text = g.console(f"x/s {base + banner:#x}")
        assert f'"{XEN_BANNER.decode()}' in text
        assert re.search(rf"^cpu0: EL2 Non-secure, pc {primary_switched:#x}$",
                         g.console("monitor el"), re.M)
        g.console("kill")
        child.expect(pexpect.EOF)
    finally:
        g.close()
        child.terminate(force=True)
    child.close()
    assert child.exitstatus == 1 and "fvp-rme: killed by gdb" in child.logfile_read.getvalue()
