"""Synchronous exceptions as Python exceptions, and AArch64.TakeException / ERET.

An instruction raises a `GuestException` subclass; the execution loop catches it and takes the
exception architecturally. `MachineStop` is different: the model reached a path it does not
implement, and the whole machine stops with a message naming it.
"""

from .state import NONSECURE, REALM, ROOT, SECURE, EL2Enabled

# Exception classes (ESR_ELx.EC), D24.2.40
EC_UNKNOWN = 0x00
EC_WFX = 0x01
EC_FP_ACCESS = 0x07
EC_ILLEGAL_STATE = 0x0E
EC_GPC = 0x1E
EC_SVC = 0x15
EC_HVC = 0x16
EC_SMC = 0x17
EC_SYSREG = 0x18
EC_INSN_ABORT_LOWER = 0x20
EC_INSN_ABORT = 0x21
EC_PC_ALIGN = 0x22
EC_DATA_ABORT_LOWER = 0x24
EC_DATA_ABORT = 0x25
EC_SP_ALIGN = 0x26
EC_FP_EXC = 0x2C
EC_SERROR = 0x2F
EC_BRK = 0x3C

EC_NAMES = {
    EC_UNKNOWN: "undefined instruction", EC_WFX: "WFI/WFE trap",
    EC_FP_ACCESS: "SIMD/FP access trap", EC_ILLEGAL_STATE: "illegal execution state",
    EC_GPC: "granule protection check",
    EC_SVC: "SVC", EC_HVC: "HVC", EC_SMC: "SMC", EC_SYSREG: "system register trap",
    EC_INSN_ABORT_LOWER: "instruction abort from a lower EL", EC_INSN_ABORT: "instruction abort",
    EC_PC_ALIGN: "PC alignment fault", EC_DATA_ABORT_LOWER: "data abort from a lower EL",
    EC_DATA_ABORT: "data abort", EC_SP_ALIGN: "SP alignment fault", EC_SERROR: "SError",
    EC_BRK: "BRK",
}

# Vector offsets from VBAR_ELx (D1.3.2)
VEC_SYNC, VEC_IRQ, VEC_FIQ, VEC_SERROR = 0x000, 0x080, 0x100, 0x180


class MachineStop(Exception):
    """The model cannot continue: an unimplemented path, named in the message."""


class LoopExit(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by an instruction that must leave the run loop (WFI, a state change the loop must
    see); `next_pc` is where execution resumes."""

    def __init__(self, next_pc, reason):
        super().__init__(reason)
        self.next_pc = next_pc
        self.reason = reason


class Recheck(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by an instruction that has completed and changed what may interrupt the CPU
    (PSTATE.{A,I,F}, routing controls, ERET): the run loop re-evaluates pending interrupts
    before the next instruction, at `next_pc` (None: the next instruction in sequence)."""

    def __init__(self, next_pc=None):
        super().__init__("interrupt recheck")
        self.next_pc = next_pc


class GuestException(Exception):
    """A synchronous exception raised by the instruction being executed.

    ec/iss form the syndrome; `far` is the faulting virtual address where the exception sets FAR;
    `return_offset` is added to the instruction's address to form the preferred return address
    (4 for SVC/HVC/SMC, which return to the next instruction); `target_el` is None for the
    default routing (the current EL, or EL1 from EL0).
    """

    ec = EC_UNKNOWN

    def __init__(self, iss=0, far=None, target_el=None, return_offset=0, ec=None, il=1):
        super().__init__()
        if ec is not None:
            self.ec = ec
        self.iss = iss
        self.far = far
        self.target_el = target_el
        self.return_offset = return_offset
        self.il = il

    @property
    def esr(self):
        return (self.ec << 26) | (self.il << 25) | (self.iss & 0x1FFFFFF)

    def __str__(self):
        text = f"{EC_NAMES.get(self.ec, 'exception')} (EC {self.ec:#04x}, ESR {self.esr:#010x}"
        if self.far is not None:
            text += f", FAR {self.far:#x}"
        return text + ")"


class Undefined(GuestException):
    ec = EC_UNKNOWN


class SupervisorCall(GuestException):
    ec = EC_SVC


class HypervisorCall(GuestException):
    ec = EC_HVC


class SecureMonitorCall(GuestException):
    ec = EC_SMC


class Breakpoint(GuestException):
    ec = EC_BRK


class PCAlignment(GuestException):
    ec = EC_PC_ALIGN


class SPAlignment(GuestException):
    ec = EC_SP_ALIGN


class Abort(GuestException):
    """An instruction or data abort; `ipa` is set for stage 2 faults (HPFAR_EL2)."""

    def __init__(self, iss=0, far=None, target_el=None, ipa=None):
        super().__init__(iss=iss, far=far, target_el=target_el)
        self.ipa = ipa


class DataAbort(Abort):
    ec = EC_DATA_ABORT


class InstructionAbort(Abort):
    ec = EC_INSN_ABORT


class GPCException(GuestException):
    """Granule protection check exception to EL3; `mfar` is the MFAR_EL3 value."""

    ec = EC_GPC

    def __init__(self, iss=0, far=None, target_el=3, mfar=0):
        super().__init__(iss=iss, far=far, target_el=target_el)
        self.mfar = mfar


class FPAccessTrap(GuestException):
    ec = EC_FP_ACCESS


def security_state(s, el):
    """The security state of `el` under SCR_EL3.{NSE,NS} (FEAT_RME); None if reserved."""
    if el == 3:
        return ROOT
    scr = s.sr.get("scr_el3", 0)
    return {(0, 0): SECURE, (0, 1): NONSECURE, (1, 1): REALM}.get(((scr >> 62) & 1, scr & 1))


def exception_target(s, exc):
    """The EL a synchronous exception is taken to (D1.3.4): the current EL, or EL1 from EL0
    unless HCR_EL2.TGE routes EL0's exceptions to EL2."""
    if exc.target_el is not None:
        return exc.target_el
    if s.el == 0:
        tge = (s.sr.get("hcr_el2", 0) >> 27) & 1
        return 2 if tge and EL2Enabled(s) else 1
    return s.el


def _enter(s, el, spsel, old_pan):
    """Change EL/SP and the security state that goes with the EL; the translation regime
    changes with them (and with PSTATE.PAN, which the caller may have changed)."""
    old = (s.el, s.security, old_pan)
    s.select_sp(el, spsel)
    s.security = security_state(s, el) or s.security
    if (s.el, s.security, s.pan) != old and s.core is not None:
        s.core.regime_changed()


def TakeException(s, target_el, exc, pc, vect_offset=VEC_SYNC):
    """AArch64.TakeException(): enter `target_el` for exception `exc` raised at `pc`.

    For an asynchronous exception `exc` is None and `pc` is the preferred return address.
    """
    from_el = s.el
    if target_el > from_el:
        vect_offset += 0x400          # lower EL, using AArch64
    elif s.spsel:
        vect_offset += 0x200          # current EL with SP_ELx
    suffix = f"_el{target_el}"
    sr = s.sr
    if exc is not None:
        lower_abort = target_el > from_el and exc.ec in (EC_INSN_ABORT, EC_DATA_ABORT)
        if lower_abort:
            exc.ec -= 1        # the "from a lower Exception level" class (0x20 / 0x24)
        sr["esr" + suffix] = exc.esr
        if exc.far is not None:
            sr["far" + suffix] = exc.far
        if target_el == 2 and getattr(exc, "ipa", None) is not None:
            sr["hpfar_el2"] = ((exc.ipa >> 12) << 4) & 0xFFFF_FFFF_FFF0   # HPFAR_EL2.FIPA
        if isinstance(exc, GPCException):
            sr["mfar_el3"] = exc.mfar
        preferred = (pc + exc.return_offset) & 0xFFFF_FFFF_FFFF_FFFF
    else:
        preferred = pc
    sr["spsr" + suffix] = s.spsr_value()
    sr["elr" + suffix] = preferred
    old_pan = s.pan
    sctlr = sr.get("sctlr" + suffix, 0)
    if target_el == 1 and not (sctlr >> 23) & 1:      # SCTLR_EL1.SPAN
        s.pan = 1
    _enter(s, target_el, 1, old_pan)
    s.ss = 0
    s.daif = 0b1111
    s.il = 0
    s.uao = 0
    s.btype = 0
    s.ssbs = (sctlr >> 44) & 1                           # SCTLR_ELx.DSSBS
    s.exclusive = None
    s.halted = False
    return (sr.get("vbar" + suffix, 0) & ~0x7FF) | vect_offset


def IllegalReturn(s, spsr):
    """AArch64.ExceptionReturn() illegal-return checks (D1.4.4) for an AArch64 target."""
    if (spsr >> 4) & 1:
        return True                   # AArch32 is not implemented
    if (spsr >> 1) & 1:
        return True                   # M[1] is reserved
    target_el = (spsr >> 2) & 3
    if target_el > s.el:
        return True
    if target_el == 0 and spsr & 1:
        return True                   # EL0 with SP_ELx
    if target_el == 2 and not s.have_el2:
        return True
    if s.el == 3 and target_el < 3 and security_state(s, target_el) is None:
        return True                   # SCR_EL3.{NSE,NS} = {1,0} is reserved
    if target_el == 1 and s.have_el2 and (s.sr.get("hcr_el2", 0) >> 27) & 1 and \
            (security_state(s, 1) != SECURE or (s.sr.get("scr_el3", 0) >> 18) & 1):
        return True                   # HCR_EL2.TGE with EL2 enabled for the target: no EL1
    return target_el == 2 and s.el == 3 and security_state(s, 2) == SECURE and \
        not (s.sr.get("scr_el3", 0) >> 18) & 1    # Secure EL2 not enabled


def ExceptionReturn(s):
    """ERET: returns the new PC."""
    suffix = f"_el{s.el}"
    spsr = s.sr.get("spsr" + suffix, 0)
    elr = s.sr.get("elr" + suffix, 0)
    s.exclusive = None
    old_pan = s.pan
    if IllegalReturn(s, spsr):
        # PSTATE.IL set, EL and SP unchanged, the rest restored (D1.4.4): the next
        # instruction takes the Illegal Execution state exception, which the run loop raises.
        s.restore_spsr(spsr)
        s.il = 1
        _enter(s, s.el, s.spsel, old_pan)
        raise Recheck(elr)
    s.restore_spsr(spsr)
    _enter(s, (spsr >> 2) & 3, spsr & 1, old_pan)
    # Leave the run loop: an interrupt the return unmasks is taken first, and the loop
    # accounts instructions to the EL that ran them.
    raise Recheck(elr)
