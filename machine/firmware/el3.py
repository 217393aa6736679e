"""The EL3 firmware, modelled in Python: what TF-A's BL31 does on the FVP for the software
above it. It establishes each CPU's EL3 state (fact sheet 3.5), owns the granule protection
table, enters the boot image at Non-secure EL2, and answers SMCs: PSCI, SMCCC, the RMI
(routed to the RMM engine when one is attached) and SMC_UNK for anything else.

It runs as the cores' exception hook: an exception that the architecture takes to EL3 (an
SMC, a GPC exception, an interrupt routed by SCR_EL3) is handled here instead of at a
VBAR_EL3 vector, and the core resumes where the firmware says.
"""

from machine.cpu.exceptions import (
    EC_SMC,
    LoopExit,
    MachineStop,
    exception_target,
)
from machine.cpu.state import NONSECURE

from . import smccc
from .gpt import GPCCR_EL3
from .psci import Psci, is_psci

# SCR_EL3 for the Non-secure world (D24.2.169): NS, RES1 bits 5:4, SMD=0, HCE, RW, ST=0,
# FGTEn/HXEn are not set because FEAT_FGT/FEAT_HCX are not advertised.
SCR_NS, SCR_RES1, SCR_HCE, SCR_RW = 1 << 0, 0x30, 1 << 8, 1 << 10
SCR_EL3_NS_WORLD = SCR_NS | SCR_RES1 | SCR_HCE | SCR_RW
ICC_SRE_EL3_VALUE = 0xF          # SRE, DFB, DIB, Enable
CNTFRQ = 100_000_000
SPSR_EL2H_MASKED = 0x3C9         # EL2h, DAIF masked

RMI_RANGES = ((0xC400_0150, 0xC400_018F), (0xC400_01D0, 0xC400_02CF))


def is_rmi(fid):
    return any(lo <= fid <= hi for lo, hi in RMI_RANGES)


class El3Firmware:
    def __init__(self, machine, gpt):
        self.machine = machine
        self.gpt = gpt
        self.psci = Psci(machine)
        self.rmm = None              # the RMM engine, when the machine has one
        self.native = False          # an EL3 image runs: exceptions to EL3 go to its vectors
        self.rmm_platform = None

    # --- per-CPU state the firmware establishes ------------------------------------------------

    def reset_core(self, core):
        sr = core.s.sr
        sr["scr_el3"] = SCR_EL3_NS_WORLD
        sr["gpccr_el3"] = GPCCR_EL3
        sr["gptbr_el3"] = self.gpt.gptbr
        sr["cntfrq_el0"] = CNTFRQ
        sr["icc_sre_el3"] = ICC_SRE_EL3_VALUE
        sr["cptr_el3"] = 0
        sr["mdcr_el3"] = 0
        core.flush_tlb()             # nothing cached from before (GPC results included)

    def enter_nonsecure(self, core, entry, args=(0, 0, 0, 0), el=2):
        """Enter `entry` at Non-secure EL2 (or EL1) with MMU and caches off, DAIF masked, and
        x0-x3 = `args` (the arm64 boot protocol; PSCI CPU_ON's context id in x0)."""
        s = core.s
        for i in range(31):
            s.x[i] = 0
        s.x[0:4] = [a & 0xFFFF_FFFF_FFFF_FFFF for a in args]
        s.sr["scr_el3"] = SCR_EL3_NS_WORLD
        s.security = NONSECURE
        s.select_sp(el, 1)
        s.daif = 0b1111
        s.nzcv = 0
        s.pc = entry
        s.halted = False
        core.regime_changed()

    # --- exceptions taken to EL3 ---------------------------------------------------------------

    def on_exception(self, core, exc, pc):
        """The cores' exception hook: returns the PC to resume at, or None to let the
        architecture take the exception."""
        if self.native or exc is None or exception_target(core.s, exc) != 3:
            return None
        if exc.ec == EC_SMC:
            resume = self.smc(core)
            if resume is not None:          # REC_ENTER switched this CPU to a realm
                return resume
            return (pc + exc.return_offset) & 0xFFFF_FFFF_FFFF_FFFF
        raise MachineStop(f"EL3 firmware: unexpected {exc} at {pc:#x} on CPU {core.index} "
                          "(TF-A would panic here)")

    def smc(self, core):
        """Serve the SMC in core's x0..x17; returns None when the caller resumes after its SMC
        with the results in x0.., or the PC to resume at after a world switch."""
        s = core.s
        regs = s.x[0:18]
        fid = regs[0] & 0xFFFF_FFFF
        if fid == smccc.SMCCC_VERSION:
            result = [smccc.SMCCC_VERSION_1_2]
        elif fid == smccc.SMCCC_ARCH_FEATURES:
            result = [self.arch_features(regs[1] & 0xFFFF_FFFF)]
        elif is_psci(fid):
            x0 = self.psci.call(core, regs[0:4])
            if x0 is None:
                raise LoopExit(s.pc, "power")       # this CPU does not return
            result = [x0]
        elif is_rmi(fid) and self.rmm is not None and s.security == NONSECURE:
            self.rmm_platform.core = core
            result = self.rmm.handle(regs)
            if result is None:                  # the REC runs on this CPU now
                return s.pc
        else:
            result = [smccc.SMC_UNK]
        s.x[0:len(result)] = [r & 0xFFFF_FFFF_FFFF_FFFF for r in result]
        return None

    def arch_features(self, fid):
        if fid in (smccc.SMCCC_VERSION, smccc.SMCCC_ARCH_FEATURES):
            return 0
        if is_psci(fid):
            return 0 if self.psci.features(None, fid) == 0 else smccc.SMC_NOT_SUPPORTED
        return smccc.SMC_NOT_SUPPORTED
