"""Traps of SIMD and floating-point instructions: CPACR_EL1.FPEN, CPTR_EL2.TFP, CPTR_EL3.TFP
(AArch64.CheckFPAdvSIMDEnabled, D1.4 / D24.2 CPACR_EL1, CPTR_EL2, CPTR_EL3).

Whether FP is enabled is part of the key of the decode cache (core.py): an instruction that
uses the SIMD&FP registers or FPCR/FPSR decodes to a trap while FP is disabled, so enabled FP
costs nothing per instruction. Writes to the three registers, and EL changes, drop the
instruction TLB, which re-evaluates the key.
"""

import re

from .decode import insn
from .state import EL2Enabled
from .translate import runtime

# ESR_ELx.ISS for a trapped AArch64 instruction: CV = 1, COND = 0b1110
FP_TRAP_ISS = (1 << 24) | (0b1110 << 20)
HCR_TGE = 27

_USES_FP = re.compile(r"\bV\[|\bs\.fp(cr|sr)\b|\bSIMD|\bFP[A-Z]")


@runtime
def FPTrapTarget(s):
    """The EL a SIMD&FP instruction at the current EL traps to, or None if it is enabled."""
    el, sr = s.el, s.sr
    if el <= 1 and not (EL2Enabled(s) and (sr.get("hcr_el2", 0) >> HCR_TGE) & 1):
        fpen = (sr.get("cpacr_el1", 0) >> 20) & 3
        if fpen in (0b00, 0b10) or (fpen == 0b01 and el == 0):
            return 1
    if el <= 2 and EL2Enabled(s) and (sr.get("cptr_el2", 0) >> 10) & 1:
        return 2
    if (sr.get("cptr_el3", 0) >> 10) & 1:
        return 3
    return None


def uses_fp(op):
    """The decoded instruction reads or writes the SIMD&FP registers, FPCR or FPSR."""
    return bool(_USES_FP.search(op.src))


FP_TRAPPED = insn("raise FPAccessTrap(iss={iss}, target_el=FPTrapTarget(s))", ends_block=True,
                  iss=FP_TRAP_ISS)
