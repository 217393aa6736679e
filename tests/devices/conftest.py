"""Shared set-up for the GIC and timer tests: the devices' system register rows installed in
the sysreg table, a small multi-CPU system on one physical bus, and A64 encoders."""

import pytest

from machine.board.clock import VirtualClock
from machine.cpu import sysregs
from machine.cpu.core import Core
from machine.cpu.state import NONSECURE, SECURE
from machine.devices.generic_timer import GenericTimer
from machine.devices.gicv3 import Gicv3
from machine.memory.bus import PhysicalBus

RAM, RAM_SIZE = 0x8000_0000, 0x10_0000
GICD, GICR = 0x2F00_0000, 0x2F10_0000
SCR_NS, SCR_IRQ, SCR_FIQ, SCR_HCE, SCR_RW = 1, 2, 4, 1 << 8, 1 << 10
HCR_FMO, HCR_IMO, HCR_RW = 1 << 3, 1 << 4, 1 << 31
SCTLR_NTWI, SCTLR_NTWE = 1 << 16, 1 << 18


class System:
    """`n` cores on one bus with RAM, a GICv3 mapped at the FVP addresses and a timer per
    core, every core at Non-secure `el` (SP_ELx), DAIF masked."""

    def __init__(self, n=2, el=1, security=NONSECURE, spis=224):
        self.bus = PhysicalBus()
        self.bus.add_ram("ram", RAM, RAM_SIZE)
        self.clock = VirtualClock()
        self.cores = [Core(self.bus) for _ in range(n)]
        for core in self.cores:
            s = core.s
            s.sr["scr_el3"] = (0 if security == SECURE else SCR_NS) | SCR_HCE | SCR_RW
            s.select_sp(el, 1)
            s.security = security
            s.sr["sctlr_el1"] = SCTLR_NTWI | SCTLR_NTWE   # EL0 may wait (the tests' end marker)
        self.gic = Gicv3(self.cores, spis=spis)
        self.bus.add_mmio("gicd", GICD, 0x1_0000, self.gic.distributor)
        self.bus.add_mmio("gicr", GICR, 0x20_0000, self.gic.redistributor_region(0x20_0000))
        self.timers = [GenericTimer(core, self.clock, self.gic, i)
                       for i, core in enumerate(self.cores)]

    def reg(self, cpu, name):
        return sysregs.BY_NAME[name].get(self.cores[cpu].s)

    def set_reg(self, cpu, name, value):
        sysregs.BY_NAME[name].set(self.cores[cpu].s, value)

    def load(self, addr, words):
        self.bus.write_bytes(addr, b"".join(w.to_bytes(4, "little") for w in words))

    def run(self, cpu, pc, count=1000):
        core = self.cores[cpu]
        core.s.pc = pc
        return core.run(count)

    def gicd(self, offset, value=None, size=4, secure=False):
        dev = self.gic.distributor
        if value is None:
            return dev.read(offset, size, secure=secure)
        dev.write(offset, size, value, secure=secure)
        return None

    def gicr(self, cpu, offset, value=None, size=4, secure=False):
        dev = self.gic.redistributors[cpu]
        if value is None:
            return dev.read(offset, size, secure=secure)
        dev.write(offset, size, value, secure=secure)
        return None

    def enable_nonsecure(self, pmr=0xFF):
        """Firmware configuration, then what a Non-secure OS does: Group 1 NS enabled in the
        distributor and in every CPU interface, priority mask open."""
        self.gic.configure_for_nonsecure()
        self.gicd(0x0, 0x13)                         # ARE_NS | EnableGrp1A | EnableGrp1
        for i in range(len(self.cores)):
            self.set_reg(i, "icc_sre_el1", 7)
            self.set_reg(i, "icc_igrpen1_el1", 1)
            self.set_reg(i, "icc_pmr_el1", pmr)


@pytest.fixture
def system():
    return System()


# --- A64 encoders -------------------------------------------------------------------------------

def mrs(rt, name):
    op0, op1, crn, crm, op2 = sysregs.BY_NAME[name].key
    return (0xD530_0000 | ((op0 & 1) << 19) | (op1 << 16) | (crn << 12) | (crm << 8)
            | (op2 << 5) | rt)


def msr(name, rt):
    return mrs(rt, name) & ~(1 << 21)


def movz(rd, imm16, hw=0):
    return 0xD280_0000 | (hw << 21) | (imm16 << 5) | rd


def movk(rd, imm16, hw=0):
    return 0xF280_0000 | (hw << 21) | (imm16 << 5) | rd


def mov64(rd, value):
    """MOVZ + MOVKs loading a 64-bit constant."""
    words = [movz(rd, value & 0xFFFF)]
    words += [movk(rd, (value >> (16 * hw)) & 0xFFFF, hw) for hw in (1, 2, 3)
              if (value >> (16 * hw)) & 0xFFFF]
    return words


def subs_imm(rd, rn, imm):
    return 0xF100_0000 | (imm << 10) | (rn << 5) | rd


def b_ne(offset_insns):
    return 0x5400_0001 | ((offset_insns & 0x7_FFFF) << 5)


def daifclr(bits):
    return 0xD500_401F | (3 << 16) | (bits << 8) | (7 << 5)


WFI, NOP, ERET, ISB = 0xD503_207F, 0xD503_201F, 0xD69F_03E0, 0xD503_3FDF
