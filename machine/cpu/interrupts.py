"""Asynchronous exceptions: IRQ, FIQ, SError and their virtual forms.

Routing follows SCR_EL3.{IRQ,FIQ,EA} and HCR_EL2.{IMO,FMO,AMO,TGE} (D1.3.6); masking follows
PSTATE.{I,F,A} (D1.3.7): an interrupt routed to a higher EL than the current one is taken
whatever PSTATE says, one routed to the current EL only when unmasked, one routed to a lower EL
never. Virtual interrupts (HCR_EL2.{VI,VF,VSE}, or the GIC's virtual CPU interface through
`virq_line`/`vfiq_line`) are taken to EL1 from EL1/EL0 when the matching xMO bit is set.

The interrupt controller drives the physical lines (`irq_line`, `fiq_line`, `serror_line`) in
the CPU state.
"""

from .exceptions import VEC_FIQ, VEC_IRQ, VEC_SERROR
from .state import EL2Enabled

IRQ, FIQ, SERROR = "irq", "fiq", "serror"
VECTOR = {IRQ: VEC_IRQ, FIQ: VEC_FIQ, SERROR: VEC_SERROR}
DAIF_BIT = {IRQ: 1, FIQ: 0, SERROR: 2}          # bit in s.daif (D=3, A=2, I=1, F=0)
SCR_BIT = {IRQ: 1, FIQ: 2, SERROR: 3}           # SCR_EL3.IRQ / FIQ / EA
HCR_MO_BIT = {IRQ: 4, FIQ: 3, SERROR: 5}        # HCR_EL2.IMO / FMO / AMO
HCR_V_BIT = {IRQ: 7, FIQ: 6, SERROR: 8}         # HCR_EL2.VI / VF / VSE
HCR_TGE = 27
ORDER = (SERROR, FIQ, IRQ)


def physical_line(s, kind):
    return {IRQ: s.irq_line, FIQ: s.fiq_line, SERROR: s.serror_line}[kind]


def virtual_line(s, kind):
    hcr = s.sr.get("hcr_el2", 0)
    line = {IRQ: s.virq_line, FIQ: s.vfiq_line, SERROR: False}[kind]
    return line or bool((hcr >> HCR_V_BIT[kind]) & 1)


def physical_target(s, kind):
    """AArch64.TakePhysicalIRQException() and friends: EL3 if SCR_EL3 routes it there, EL2
    when executing at EL2 or when HCR_EL2 routes EL0/EL1's interrupts to it, else EL1."""
    if (s.sr.get("scr_el3", 0) >> SCR_BIT[kind]) & 1:
        return 3
    hcr = s.sr.get("hcr_el2", 0)
    if s.el == 2 or s.el < 2 and EL2Enabled(s) and ((hcr >> HCR_MO_BIT[kind]) & 1 or
                                                    (hcr >> HCR_TGE) & 1):
        return 2
    return 1


def _unmasked(s, target, kind):
    if target < s.el:
        return False
    if target > s.el:
        return True
    return not (s.daif >> DAIF_BIT[kind]) & 1


def pending(s):
    """(kind, target EL) of the asynchronous exception to take now, or None."""
    for kind in ORDER:
        if physical_line(s, kind):
            target = physical_target(s, kind)
            if _unmasked(s, target, kind):
                return kind, target
    if s.el <= 1 and EL2Enabled(s):
        hcr = s.sr.get("hcr_el2", 0)
        if not (hcr >> HCR_TGE) & 1:
            for kind in ORDER:
                if (hcr >> HCR_MO_BIT[kind]) & 1 and virtual_line(s, kind) and \
                        not (s.daif >> DAIF_BIT[kind]) & 1:
                    return kind, 1
    return None


def any_line(s):
    """Something could interrupt or wake the CPU (used by WFI and to decide whether a PSTATE
    or routing change must end the run loop)."""
    hcr = s.sr.get("hcr_el2", 0)
    return bool(s.irq_line or s.fiq_line or s.serror_line or s.virq_line or s.vfiq_line
                or hcr & 0x1C0)
