"""Exception generation and system instructions (C4.1.87, the half of "Branches, exception
generating and system instructions" that is not a branch): SVC, HVC, SMC, BRK (HLT and DCPS1-3
are UNDEFINED outside Debug state), hints, barriers, PSTATE writes (MSR immediate, CFINV,
XAFLAG, AXFLAG), MRS/MSR (register) through the table of sysregs.py, and SYS (DC, IC, TLBI, AT)
through the table below.

Instructions that unmask interrupts or change their routing raise Recheck when an interrupt
line is active, so that the run loop takes a now-pending interrupt before the next
instruction.

The access checks follow AArch64.CheckSystemAccess and the instructions' "Accessing"
pseudocode: UNDEFINED below the lowest EL, then the EL0 traps of SCTLR_EL1, then the traps of
HCR_EL2/MDCR_EL2 to EL2, then those of MDCR_EL3/SCR_EL3 to EL3 (sysregs.TrapControl). Not
advertised, so not modelled: the fine-grained traps (FEAT_FGT).
"""

from typing import NamedTuple

from ..at import AddressTranslate
from ..decode import Unallocated, encoding, insn, template_params
from ..exceptions import (
    EC_SYSREG,
    EC_WFX,
    DataAbort,
    GPCException,
    GuestException,
    HypervisorCall,
    SecureMonitorCall,
    Undefined,
)
from ..state import EL2Enabled, reg_zr, reg_zw
from ..sysregs import (
    BY_ENCODING,
    DCZ_BLOCK,
    HCR_TGE,
    SCTLR_DZE,
    SCTLR_UCI,
    SCTLR_UMA,
    TDZ,
    TGE_IGNORES,
    TGE_SETS,
    TIDCP,
    TPCP,
    TPU,
    TSW,
    TTLB,
    ImplementationDefined,
    encoding_name,
)
from ..translate import RUNTIME, runtime
from ..walk import READ, WRITE

SCR_SMD, SCR_HCE, SCR_EEL2 = 7, 8, 18       # SCR_EL3 (D24.2.125)
HCR_TSC = 19                                # HCR_EL2

RECHECK = "\nif s.core.interrupt_lines():\n    raise Recheck()"


def op(src, ends_block=False, **params):
    """insn() with only the params that `src` uses (the optional checks use some)."""
    used = template_params(src)
    return insn(src, ends_block, **{k: v for k, v in params.items() if k in used})


# --- access checks (AArch64.CheckSystemAccess) ---------------------------------------------------

@runtime
class SystemAccessTrap(GuestException):
    """AArch64.SystemAccessTrap(): an MSR, MRS or system instruction trapped (EC 0x18)."""

    ec = EC_SYSREG


def SystemAccessISS(op0, op1, crn, crm, op2, rt, read):
    """ISS of EC 0x18 (D24.2.40: exception from MSR, MRS or System instruction)."""
    return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read


runtime(EL2Enabled)


def TrapCheck(control, is_read):
    """The statement taking the trap of `control` (a sysregs.TrapControl) for a read or a
    write: the control bit is tested first, as it is almost always clear."""
    mask = control.read_mask if is_read else control.write_mask
    if not mask:
        return ""
    tge = f"s.sr.get('hcr_el2', 0) & {HCR_TGE:#x}"
    test = f"s.sr.get({control.control!r}, 0) & {mask:#x}"
    if control.tge == TGE_SETS:
        test = f"({test} or {tge})"
    conditions = [test, f"s.el < {control.target}",
                  "EL2Enabled(s)" if control.target == 2 else "s.have_el3"]
    if control.tge == TGE_IGNORES:
        conditions.append(f"not {tge}")
    return (f"if {' and '.join(conditions)}:\n"
            f"    raise SystemAccessTrap(iss={{iss}}, target_el={control.target})\n")


def guarded(src, min_el, el0_trap=None, register_trap=None, traps=(), is_read=False):
    """Prefix `src` with the access checks: UNDEFINED below `min_el`; for an access allowed
    at EL0, the trap to EL1 unless SCTLR_EL1 bit `el0_trap` is set (params: iss, trap); then
    the register's own trap function (`register_trap`, param: regtrap) and the higher ELs'
    trap controls `traps`, in order."""
    if min_el:
        check = "if s.el < {min_el}:\n    raise Undefined()\n"
    elif el0_trap is not None:
        check = ("if not s.el and not s.sr.get('sctlr_el1', 0) >> {trap} & 1:\n"
                 "    raise SystemAccessTrap(iss={iss})\n")
    else:
        check = ""
    if register_trap is not None:
        check += (f"_el = {{regtrap}}(s, {is_read})\nif _el is not None:\n"
                  "    raise SystemAccessTrap(iss={iss}, target_el=_el)\n")
    return check + "".join(TrapCheck(control, is_read) for control in traps) + src


# --- exception generation (C6.2: SVC, HVC, SMC, BRK; D1.3 routing) ------------------------------


@runtime
def HypervisorCallException(s, imm16):
    """The exception HVC #imm16 raises: UNDEFINED at EL0, at EL1 without EL2 enabled, or when
    SCR_EL3.HCE is 0; otherwise taken to EL2 (EL3 from EL3), returning after the HVC."""
    if s.el == 0 or not s.have_el2 or (s.el == 1 and not EL2Enabled(s)):
        return Undefined()
    if s.have_el3 and not (s.sr.get("scr_el3", 0) >> SCR_HCE) & 1:
        return Undefined()
    return HypervisorCall(iss=imm16, return_offset=4, target_el=3 if s.el == 3 else 2)


@runtime
def SecureMonitorCallException(s, imm16):
    """The exception SMC #imm16 raises (AArch64.CheckForSMCUndefOrTrap, CallSecureMonitor):
    UNDEFINED at EL0; trapped to EL2 by HCR_EL2.TSC at EL1 (returning to the SMC itself),
    which HCR_EL2.TGE makes the PE ignore; else UNDEFINED when SCR_EL3.SMD is 1 or there is
    no EL3; else taken to EL3."""
    if s.el == 0:
        return Undefined()
    hcr = s.sr.get("hcr_el2", 0)
    if s.el == 1 and EL2Enabled(s) and (hcr >> HCR_TSC) & 1 and not hcr & HCR_TGE:
        return SecureMonitorCall(iss=imm16, target_el=2)
    if not s.have_el3 or (s.sr.get("scr_el3", 0) >> SCR_SMD) & 1:
        return Undefined()
    return SecureMonitorCall(iss=imm16, return_offset=4, target_el=3)


EXCEPTION_GENERATION = {
    # (opc, LL) -> template
    (0b000, 0b01): "raise SupervisorCall(iss={imm16}, return_offset=4)",    # SVC
    (0b000, 0b10): "raise HypervisorCallException(s, {imm16})",             # HVC
    (0b000, 0b11): "raise SecureMonitorCallException(s, {imm16})",          # SMC
    (0b001, 0b00): "raise Breakpoint(iss={imm16})",                         # BRK
}


@encoding("11010100 opc:3 imm16:16 op2:3 LL:2")
def EXCEPTION(opc, imm16, op2, LL):
    """SVC, HVC, SMC, BRK. HLT (opc=010) is UNDEFINED as halting debug is never enabled,
    DCPS1-3 (opc=101) outside Debug state, TCANCEL (opc=011) without FEAT_TME."""
    src = EXCEPTION_GENERATION.get((opc, LL)) if op2 == 0 else None
    if src is None:
        raise Unallocated()
    return insn(src, ends_block=True, imm16=imm16)


# --- hints (C6.2 HINT) ---------------------------------------------------------------------------

# WFI/WFE wait for an interrupt/event: leave the run loop, unless trapped (WFxTrap).
# WFI completes at once when an interrupt is pending, even a masked one (a WFI wake-up event);
# WFE with the event register set clears it and continues. SEV also signals the other PEs: the
# board broadcasts it when it runs several (here only the local event register is set).
WFX_ISS = (1 << 24) | (0b1110 << 20)        # CV = 1, COND = AL; TI in bits [1:0]
SCTLR_NTWI, SCTLR_NTWE = 16, 18
HCR_TWI, HCR_TWE = 13, 14
SCR_TWI, SCR_TWE = 12, 13


@runtime
def WFxTrap(s, wfe):
    """AArch64.CheckForWFxTrap(): raise the trap of WFI (wfe=0) or WFE (wfe=1) if one of
    SCTLR_EL1.nTWx (EL0), HCR_EL2.TWx (EL0/EL1 with EL2 enabled), SCR_EL3.TWx (below EL3)
    applies, in that order."""
    sr = s.sr
    trap = GuestException(ec=EC_WFX, iss=WFX_ISS | wfe)
    if s.el == 0 and not (sr.get("sctlr_el1", 0) >> (SCTLR_NTWE if wfe else SCTLR_NTWI)) & 1:
        tge = EL2Enabled(s) and (sr.get("hcr_el2", 0) >> 27) & 1
        trap.target_el = 2 if tge else 1
        raise trap
    if s.el <= 1 and EL2Enabled(s) and (sr.get("hcr_el2", 0) >> (HCR_TWE if wfe else
                                                                 HCR_TWI)) & 1:
        trap.target_el = 2
        raise trap
    if s.el < 3 and (sr.get("scr_el3", 0) >> (SCR_TWE if wfe else SCR_TWI)) & 1:
        trap.target_el = 3
        raise trap


WFI = ("WFxTrap(s, 0)\n"
       "if not s.core.interrupt_lines():\n"
       "    s.halted = True\n"
       "    raise LoopExit(pc + 4, 'wfi')")
WFE = ("WFxTrap(s, 1)\n"
       "if getattr(s, 'event_register', False):\n"
       "    s.event_register = False\n"
       "else:\n"
       "    s.halted = True\n"
       "    raise LoopExit(pc + 4, 'wfe')")
SEV = "s.event_register = True"
HINTS = {
    2: insn(WFE, ends_block=True),
    3: insn(WFI, ends_block=True),
    4: insn(SEV),                   # SEV
    5: insn(SEV),                   # SEVL
}
# Every other hint is a NOP here: NOP, YIELD, DGH, ESB (no FEAT_RAS), PSB/TSB CSYNC (no SPE,
# no trace), CSDB, CLRBHB, BTI (no FEAT_BTI), the PAC/AUT/XPAC hint forms (no FEAT_PAuth),
# CHKFEAT, and the unallocated hints, which architecturally behave as NOP.
NOP = insn("")


@encoding("1101010100 0 00 011 0010 CRm:4 op2:3 11111")
def HINT(CRm, op2):
    return HINTS.get((CRm << 3) | op2, NOP)


# --- barriers and CLREX ----------------------------------------------------------------------

@encoding("1101010100 0 00 011 0011 CRm:4 op2:3 11111")
def BARRIER(CRm, op2):
    """CLREX, DSB (incl. SSBB, PSSBB), DMB, ISB, SB. Memory accesses complete in order in this
    model, so only ISB, a context synchronization event, does something: it leaves the run
    loop (Recheck), so that instructions after it are fetched through the current
    translation and pending interrupts are taken.
    DSB nXS (op2=001, FEAT_XS) and TCOMMIT (op2=011, FEAT_TME) are not advertised."""
    if op2 == 0b010:
        return insn("s.exclusive = None")                  # CLREX: ClearExclusiveLocal
    if op2 in (0b100, 0b101):
        return NOP                                         # DSB, DMB (every option)
    if op2 == 0b110:
        return insn("raise Recheck()", ends_block=True)    # ISB
    if op2 == 0b111 and CRm == 0:
        return NOP                                         # SB
    raise Unallocated()


# --- PSTATE (MSR immediate, CFINV, XAFLAG, AXFLAG) -----------------------------------------------

def _flags_table(fn):
    """NZCV -> NZCV lookup for a flag-format conversion given as fn(n, z, c, v)."""
    return tuple(fn(k >> 3 & 1, k >> 2 & 1, k >> 1 & 1, k & 1) for k in range(16))


# FEAT_FlagM2 (C6.2 XAFLAG, AXFLAG): between the Arm and the "external" floating-point
# comparison flag formats.
XAFLAG = _flags_table(lambda n, z, c, v: ((1 - c) & (1 - z)) << 3 | (z & c) << 2
                      | (c | z) << 1 | ((1 - c) & z))
AXFLAG = _flags_table(lambda n, z, c, v: (z | v) << 2 | (c & (1 - v)) << 1)

UNDEF_AT_EL0 = "if not s.el:\n    raise Undefined()\n"
# (op1, op2) -> template; for the MSR (immediate) forms {imm} is CRm<0>, {crm} is CRm.
PSTATE = {
    (0b000, 0b011): UNDEF_AT_EL0 + "s.uao = {imm}",                    # UAO
    (0b000, 0b100): UNDEF_AT_EL0 + "s.pan = {imm}\ns.core.regime_changed()",   # PAN
    (0b000, 0b101): UNDEF_AT_EL0 + "s.select_sp(s.el, {imm})",         # SPSel
    (0b011, 0b001): "s.ssbs = {imm}",                                  # SSBS
    (0b011, 0b010): "s.dit = {imm}",                                   # DIT
    (0b011, 0b110): "s.daif |= {crm}",                                 # DAIFSet
    (0b011, 0b111): "s.daif &= {keep}" + RECHECK,                      # DAIFClr
}
# Not advertised: ALLINT (001 000, FEAT_NMI), SVCR (011 011, FEAT_SME), TCO (011 100, FEAT_MTE).
FLAG_FORMAT = {
    0b000: insn("s.nzcv ^= 2"),                                        # CFINV
    0b001: insn("s.nzcv = {table}[s.nzcv]", table=XAFLAG),             # XAFLAG
    0b010: insn("s.nzcv = {table}[s.nzcv]", table=AXFLAG),             # AXFLAG
}


@encoding("1101010100 0 00 op1:3 0100 CRm:4 op2:3 11111")
def PSTATE_write(op1, CRm, op2):
    if op1 == 0 and op2 in FLAG_FORMAT:
        if CRm:
            raise Unallocated()
        return FLAG_FORMAT[op2]
    src = PSTATE.get((op1, op2))
    if src is None:
        raise Unallocated()
    if op1 == 0b011 and op2 >= 0b110:       # DAIFSet/DAIFClr: EL0 needs SCTLR_EL1.UMA
        src = guarded(src, 0, SCTLR_UMA)
    iss = SystemAccessISS(0, op1, 0b0100, CRm, op2, 0b11111, 0)
    return op(src, ends_block=True, imm=CRm & 1, crm=CRm, keep=~CRm & 0xF, trap=SCTLR_UMA,
              iss=iss)


# --- MRS, MSR (register) -----------------------------------------------------------------------

def _mrs(reg, t, iss):
    if reg.write_only:
        raise Unallocated()
    src = "X[{t}] = {read}(s)" if reg.read_fn is not None else \
        "X[{t}] = s.sr.get({name}, {reset})"
    return op(guarded(src, reg.min_el, reg.el0_trap, reg.trap, reg.traps, is_read=True), t=t,
              read=reg.read_fn, name=reg.name, reset=reg.reset, min_el=reg.min_el,
              trap=reg.el0_trap, iss=iss, regtrap=reg.trap)


def _msr(reg, t, iss):
    if reg.read_only:
        raise Unallocated()
    if reg.write_fn is None and reg.writable is None:
        src, write = "s.sr[{name}] = X[{t}]", None
    else:
        src, write = "{write}(s, X[{t}])", reg.write_fn if reg.writable is None else reg.set
    if reg.regime:
        src += "\ns.core.regime_changed()"
    if reg.recheck:
        src += RECHECK
    return op(guarded(src, reg.write_min_el, reg.el0_trap, reg.trap, reg.traps), ends_block=True,
              t=t, write=write, name=reg.name, min_el=reg.write_min_el, trap=reg.el0_trap,
              iss=iss, regtrap=reg.trap)


def unimplemented(what, key, rt, read):
    """Stop the machine at an encoding the model lacks, naming it (`what`: register or
    instruction). In the IMPLEMENTATION DEFINED space HCR_EL2.TIDCP traps first: its trap has
    priority over the encoding being UNDEFINED."""
    name = encoding_name(*key)
    if key[0] == 1:
        access = f"SYSL X{rt}, {name}" if read else f"SYS {name}, X{rt}"
    else:
        access = f"MRS X{rt}, {name} (read)" if read else f"MSR {name}, X{rt} (write)"
    traps = (TIDCP,) if ImplementationDefined(key[0], key[2]) else ()
    src = guarded("raise MachineStop({message})", 0, traps=traps, is_read=bool(read))
    return op(src, ends_block=True, message=f"{what} {name} is not implemented: {access}",
              iss=SystemAccessISS(*key, rt, read))


@encoding("1101010100 L 1 o0 op1:3 CRn:4 CRm:4 op2:3 Rt:5")
def MRS_MSR(L, o0, op1, CRn, CRm, op2, Rt):
    key = (2 + o0, op1, CRn, CRm, op2)
    reg = BY_ENCODING.get(key)
    if reg is None:
        return unimplemented("system register", key, Rt, L)
    iss = SystemAccessISS(*key, Rt, L)
    return _mrs(reg, reg_zw(Rt), iss) if L else _msr(reg, reg_zr(Rt), iss)


# --- SYS: cache maintenance, TLB maintenance, address translation -----------------------------

class SysOp(NamedTuple):
    name: str
    min_el: int
    action: str
    el0_trap: int | None = None     # SCTLR_EL1 bit enabling the operation at EL0
    traps: tuple = ()               # the HCR_EL2 controls trapping it (sysregs.TrapControl)


ZERO_BLOCK = bytes(DCZ_BLOCK)


@runtime
def DataCacheZeroVA(M, va):
    """DC ZVA: zero the naturally aligned DCZ_BLOCK bytes containing `va`. With a write TLB
    entry for the page it is one slice store; otherwise the checked accessors do it, so a
    fault leaves memory unchanged (the block is in one page) and FAR reports `va` itself ("the
    address specified in the register argument" of a DC instruction, FAR_ELx)."""
    base = va & ~(DCZ_BLOCK - 1)
    entry = M.wtlb.get(base >> 12)
    if entry is not None:
        offset = entry[1] + (base & 0xFFF)
        entry[0][offset:offset + DCZ_BLOCK] = ZERO_BLOCK
        return
    try:
        for offset in range(0, DCZ_BLOCK, 16):
            M.wr128(base + offset, 0)
    except (DataAbort, GPCException) as exc:
        exc.far = va
        raise


# The fast path of DataCacheZeroVA written out in the template (Xen and Linux clear pages
# with DC ZVA loops).
ZVA = (f"_va = X[{{t}}] & {~(DCZ_BLOCK - 1) & 0xFFFF_FFFF_FFFF_FFFF:#x}\n"
       "_e = wtlb_get(_va >> 12)\n"
       "if _e is not None:\n"
       "    _o = _e[1] + (_va & 0xFFF)\n"
       f"    _e[0][_o:_o + {DCZ_BLOCK}] = DCZ_ZERO_BLOCK\n"
       "else:\n"
       "    DataCacheZeroVA(M, X[{t}])")
RUNTIME["DCZ_ZERO_BLOCK"] = ZERO_BLOCK


@runtime
def AddressTranslateInstruction(s, operation, va):
    """AT <operation>, <Xt>: PAR_EL1 receives the result of the translation (at.py)."""
    s.sr["par_el1"] = AddressTranslate(s.core, operation, va)


@runtime
def DataCacheByVA(M, va, invalidate):
    """DC <op> by VA: there are no caches to maintain, but the address is translated, so the
    operation takes translation and access flag faults (and DC IVAC, which may discard data,
    permission faults as a write), reported with ISS.CM = 1 and WnR = 1 (ESR_ELx ISS). A
    soft-TLB entry for the page is a translation that allows the access: nothing to check."""
    if (M.wtlb if invalidate else M.rtlb).get((va & 0xFFFF_FFFF_FFFF_FFFF) >> 12) is not None:
        return
    try:
        M.translate(va, WRITE if invalidate else READ)
    except DataAbort as exc:
        exc.iss |= (1 << 8) | (1 << 6)
        raise


ACTIONS = {
    # Data cache maintenance by set/way is a no-op: memory is coherent and there are no caches.
    "nop": ("", False),
    "dcva": ("DataCacheByVA(M, X[{t}], False)", False),
    "dcivac": ("DataCacheByVA(M, X[{t}], True)", False),
    "zva": (ZVA, False),
    # The decode cache follows every write to a page it holds (core.py), so instruction fetch
    # is coherent with memory and instruction cache invalidation has nothing to drop.
    "ic": ("", False),
    # Every TLBI invalidates all cached translations (for now); the Inner/Outer Shareable
    # forms do so on every PE of the shareability domain.
    "tlbi": ("s.core.flush_tlb()", True),
    "tlbi_broadcast": ("s.core.flush_tlb_broadcast()", True),
    # By VA (VAE1, VAAE1, VALE1, VAALE1, VAE2, ..., Xt = ASID:VA[55:12]): the page's entries.
    "tlbi_va": ("s.core.invalidate_va(X[{t}])", True),
    "tlbi_va_broadcast": ("s.core.invalidate_va_broadcast(X[{t}])", True),
    "at": ("AddressTranslateInstruction(s, {at}, X[{t}])", True),
}

SYS_OPS = {
    # (op1, CRn, CRm, op2): SysOp
    (0, 7, 1, 0): SysOp("IC IALLUIS", 1, "ic", traps=(TPU,)),
    (0, 7, 5, 0): SysOp("IC IALLU", 1, "ic", traps=(TPU,)),
    (3, 7, 5, 1): SysOp("IC IVAU", 0, "ic", SCTLR_UCI, (TPU,)),
    (0, 7, 6, 1): SysOp("DC IVAC", 1, "dcivac", traps=(TPCP,)),
    (0, 7, 6, 2): SysOp("DC ISW", 1, "nop", traps=(TSW,)),
    (0, 7, 10, 2): SysOp("DC CSW", 1, "nop", traps=(TSW,)),
    (0, 7, 14, 2): SysOp("DC CISW", 1, "nop", traps=(TSW,)),
    (3, 7, 4, 1): SysOp("DC ZVA", 0, "zva", SCTLR_DZE, (TDZ,)),
    (3, 7, 10, 1): SysOp("DC CVAC", 0, "dcva", SCTLR_UCI, (TPCP,)),
    (3, 7, 11, 1): SysOp("DC CVAU", 0, "dcva", SCTLR_UCI, (TPU,)),
    (3, 7, 12, 1): SysOp("DC CVAP", 0, "dcva", SCTLR_UCI, (TPCP,)),
    (3, 7, 13, 1): SysOp("DC CVADP", 0, "dcva", SCTLR_UCI, (TPCP,)),
    (3, 7, 14, 1): SysOp("DC CIVAC", 0, "dcva", SCTLR_UCI, (TPCP,)),
    (6, 7, 14, 1): SysOp("DC CIPAPA", 3, "nop"),                        # FEAT_RME
}
OP1_MIN_EL = {0: 1, 4: 2, 6: 3}

# AT (op1, CRm, op2) names (CRn=7); S1E1RP/S1E1WP are FEAT_PAN2.
AT_OPS = {(0, 8, 0): "S1E1R", (0, 8, 1): "S1E1W", (0, 8, 2): "S1E0R", (0, 8, 3): "S1E0W",
          (0, 9, 0): "S1E1RP", (0, 9, 1): "S1E1WP",
          (4, 8, 0): "S1E2R", (4, 8, 1): "S1E2W", (4, 8, 4): "S12E1R", (4, 8, 5): "S12E1W",
          (4, 8, 6): "S12E0R", (4, 8, 7): "S12E0W", (6, 8, 0): "S1E3R", (6, 8, 1): "S1E3W"}
for (_op1, _crm, _op2), _name in AT_OPS.items():
    SYS_OPS[_op1, 7, _crm, _op2] = SysOp(f"AT {_name}", OP1_MIN_EL[_op1], "at")


# TLBI (CRn=8): op1, CRm, then the operation names for op2 = 0..7 ('.': unallocated).
# OS and range forms are FEAT_TLBIOS/FEAT_TLBIRANGE; RPAOS, RPALOS, PAALLOS, PAALL are FEAT_RME.
TLBI_OPS = [
    (0, 1, "VMALLE1OS VAE1OS ASIDE1OS VAAE1OS . VALE1OS . VAALE1OS"),
    (0, 2, ". RVAE1IS . RVAAE1IS . RVALE1IS . RVAALE1IS"),
    (0, 3, "VMALLE1IS VAE1IS ASIDE1IS VAAE1IS . VALE1IS . VAALE1IS"),
    (0, 5, ". RVAE1OS . RVAAE1OS . RVALE1OS . RVAALE1OS"),
    (0, 6, ". RVAE1 . RVAAE1 . RVALE1 . RVAALE1"),
    (0, 7, "VMALLE1 VAE1 ASIDE1 VAAE1 . VALE1 . VAALE1"),
    (4, 0, ". IPAS2E1IS RIPAS2E1IS . . IPAS2LE1IS RIPAS2LE1IS ."),
    (4, 1, "ALLE2OS VAE2OS . . ALLE1OS VALE2OS VMALLS12E1OS ."),
    (4, 2, ". RVAE2IS . . . RVALE2IS . ."),
    (4, 3, "ALLE2IS VAE2IS . . ALLE1IS VALE2IS VMALLS12E1IS ."),
    (4, 4, "IPAS2E1OS IPAS2E1 RIPAS2E1 RIPAS2E1OS IPAS2LE1OS IPAS2LE1 RIPAS2LE1 RIPAS2LE1OS"),
    (4, 5, ". RVAE2OS . . . RVALE2OS . ."),
    (4, 6, ". RVAE2 . . . RVALE2 . ."),
    (4, 7, "ALLE2 VAE2 . . ALLE1 VALE2 VMALLS12E1 ."),
    (6, 1, "ALLE3OS VAE3OS . . PAALLOS VALE3OS . ."),
    (6, 2, ". RVAE3IS . . . RVALE3IS . ."),
    (6, 3, "ALLE3IS VAE3IS . . . VALE3IS . ."),
    (6, 4, ". . . RPAOS . . . RPALOS"),
    (6, 5, ". RVAE3OS . . . RVALE3OS . ."),
    (6, 6, ". RVAE3 . . . RVALE3 . ."),
    (6, 7, "ALLE3 VAE3 . . PAALL VALE3 . ."),
]
for _op1, _crm, _names in TLBI_OPS:
    for _op2, _name in enumerate(_names.split()):
        if _name != ".":
            _shared = _name.endswith(("IS", "OS")) or _name in ("RPAOS", "RPALOS")
            _action = "tlbi_va" if _name.startswith("VA") else "tlbi"
            SYS_OPS[_op1, 8, _crm, _op2] = SysOp(f"TLBI {_name}", OP1_MIN_EL[_op1],
                                                 _action + "_broadcast" if _shared else _action,
                                                 traps=(TTLB,) if _op1 == 0 else ())


@encoding("1101010100 L 01 op1:3 CRn:4 CRm:4 op2:3 Rt:5")
def SYS_SYSL(L, op1, CRn, CRm, op2, Rt):
    """SYS (and its aliases DC, IC, TLBI, AT) and SYSL: no SYSL operation is implemented."""
    sysop = None if L else SYS_OPS.get((op1, CRn, CRm, op2))
    if sysop is None:
        return unimplemented("system instruction", (1, op1, CRn, CRm, op2), Rt, L)
    src, ends_block = ACTIONS[sysop.action]
    iss = SystemAccessISS(1, op1, CRn, CRm, op2, Rt, 0)
    return op(guarded(src, sysop.min_el, sysop.el0_trap, traps=sysop.traps), ends_block,
              t=reg_zr(Rt), min_el=sysop.min_el, trap=sysop.el0_trap, iss=iss,
              at=sysop.name.removeprefix("AT ").lower())
