"""Traps of SIMD and floating-point instructions and of MRS/MSR FPCR/FPSR: CPACR_EL1.FPEN,
CPTR_EL2.TFP, CPTR_EL3.TFP (AArch64.CheckFPAdvSIMDEnabled, D1.4 / D24.2 CPACR_EL1, CPTR_EL2,
CPTR_EL3).

Whether FP is enabled is part of the key of the decode cache (core.py): an instruction that
uses the SIMD&FP registers decodes to a trap while FP is disabled, so enabled FP costs nothing
per instruction. Writes to the three registers, and EL changes, drop the instruction TLB,
which re-evaluates the key. MRS/MSR FPCR/FPSR check at run time (FPRegisterTrap).
"""

import re

from .decode import insn
from .exceptions import FPAccessTrap, Undefined
from .state import EL2Enabled
from .translate import runtime

# ESR_ELx.ISS for a trapped AArch64 instruction: CV = 1, COND = 0b1110
FP_TRAP_ISS = (1 << 24) | (0b1110 << 20)
HCR_TGE = 27

_USES_FP = re.compile(r"\bV\[|\bs\.fp(cr|sr)\b|\bSIMD|\bFP[A-Z]")


@runtime
def FPTrapTarget(s):
    """The EL a SIMD&FP access at the current EL traps to, or None if it is enabled. With
    HCR_EL2.E2H RES0 (no FEAT_VHE) CPACR_EL1 applies at EL0 and EL1 whatever HCR_EL2.TGE."""
    el, sr = s.el, s.sr
    if el <= 1:
        fpen = (sr.get("cpacr_el1", 0) >> 20) & 3
        if fpen in (0b00, 0b10) or (fpen == 0b01 and el == 0):
            return 1
    if el <= 2 and EL2Enabled(s) and (sr.get("cptr_el2", 0) >> 10) & 1:
        return 2
    if (sr.get("cptr_el3", 0) >> 10) & 1:
        return 3
    return None


@runtime
def AdvSIMDFPAccessTrap(s):
    """The exception of a SIMD&FP access FPTrapTarget traps (AArch64.AdvSIMDFPAccessTrap):
    EC 0x07, except that a CPACR_EL1 trap of EL0 that HCR_EL2.TGE routes to EL2 is reported
    as EC 0x00, "uncategorized" (as the MRS FPCR pseudocode's SystemAccessTrap(EL2, 0x00))."""
    target = FPTrapTarget(s)
    if target == 1 and s.el == 0 and EL2Enabled(s) and (s.sr.get("hcr_el2", 0) >> HCR_TGE) & 1:
        return Undefined(target_el=2)
    return FPAccessTrap(iss=FP_TRAP_ISS, target_el=target)


def FPRegisterTrap(s, is_read):
    """The `trap` of FPCR and FPSR (sysregs.py): raise the SIMD&FP access trap if disabled."""
    if FPTrapTarget(s) is not None:
        raise AdvSIMDFPAccessTrap(s)


def uses_fp(op):
    """The decoded instruction reads or writes the SIMD&FP registers, FPCR or FPSR."""
    return bool(_USES_FP.search(op.src))


FP_TRAPPED = insn("raise AdvSIMDFPAccessTrap(s)", ends_block=True)
