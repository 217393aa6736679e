"""Debian's Xen 4.17 hypervisor boots on the machine with Debian's arm64 kernel as the dom0
module, through dom0 construction to the hand-over ("Freed ... init memory"). Both images are
real Debian packages fetched with apt-get download (tests/debian_images.py)."""

import io
import sys

import pexpect
import pytest
from debian_images import linux_image, xen_image

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


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_xen_boots_to_the_dom0_hand_over():
    xen, linux = xen_image(), linux_image()
    child = pexpect.spawn(sys.executable, [
        "-m", "machine.cli", "run", "--kernel", str(xen),
        "--append", "console=dtuart dtuart=serial0 dom0_mem=256M loglvl=all",
        "--module", str(linux), "--module-args", "console=hvc0 earlycon=xenboot",
        "--max-insns", "150000000"], encoding="utf-8", codec_errors="replace", timeout=1200)
    child.logfile_read = io.StringIO()
    try:
        for line in XEN_LOG:
            child.expect(line)
    finally:
        child.terminate(force=True)
    log = child.logfile_read.getvalue()
    assert "Panic" not in log and "fvp-rme:" not in log     # no Xen panic, no model stop
