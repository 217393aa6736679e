"""Loads and stores (C4.1.88): single register (unsigned offset, pre/post-index, unscaled,
unprivileged, register offset, literal) and register pairs, for general-purpose and SIMD&FP
registers alike, plus the address computation that every load/store class shares.

Every form follows the shape of the Arm ARM pseudocode: compute the address, make all the
memory accesses, then write the registers (the transfer registers, then the base on writeback),
so a fault leaves the registers unchanged. Memory is reached only through the accessors
rd8..rd128 / wr8..wr128, which raise the abort themselves.

CONSTRAINED UNPREDICTABLE choices (where QEMU's choice is one the Arm ARM allows):
- Load with writeback and Rn == Rt (Unpredictable_WBOVERLAPLD): Constraint_UNKNOWN, the
  UNKNOWN value being the written-back address (the writeback is the last register write).
- Store with writeback and Rn == Rt (Unpredictable_WBOVERLAPST): Constraint_NONE, the value
  stored is the register's original value.
- LDP with Rt == Rt2 (Unpredictable_LDPOVERLAP): Constraint_UNKNOWN, the value left being the
  first element for general-purpose registers and the second one for SIMD&FP registers.
"""

import struct
from typing import NamedTuple

from machine.memory.bus import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE

from ..bits import SignExtend
from ..decode import Unallocated, encoding, insn, template_params
from ..state import reg_sp, reg_zr, reg_zw
from ..translate import RUNTIME, runtime

M64 = "0xFFFFFFFFFFFFFFFF"


def ldst_insn(src, **params):
    """insn() keeping only the params `src` uses, so that callers can pass a superset."""
    used = template_params(src)
    return insn(src, **{k: v for k, v in params.items() if k in used})


# --- address computation ----------------------------------------------------------------------

class Addressing(NamedTuple):
    """An addressing mode as template fragments: `setup` statements, the address expression
    `addr`, and the `wback` statements that run after every access has completed."""

    setup: str
    addr: str
    wback: str


def Address(offset="", wback=False, postindex=False, bind=False, base="X[{n}]"):
    """The address computation of the Arm ARM load/store pseudocode:

        address = base; if !postindex then address = address + offset
        ... the accesses ...
        if wback then (if postindex then address = address + offset); X[n] = address

    `offset` is a template expression ("" for none); `base` defaults to the base register {n}
    (SP when 31). With `bind` the address is held in `_a`, for forms making several accesses.
    """
    def plus(x):
        return f"({x} + {offset}) & {M64}" if offset else x
    if postindex:
        return Addressing(f"_a = {base}\n", "_a", "X[{n}] = " + plus("_a") + "\n")
    addr = plus(base)
    if not (wback or bind):
        return Addressing("", addr, "")
    return Addressing(f"_a = {addr}\n", "_a", "X[{n}] = _a\n" if wback else "")


def ImmOffset(imm):
    return "{imm}" if imm else ""


def ExtendReg(option, shift):
    """ExtendReg(m, option, shift, 64) as a template expression on {m}: UXTW, SXTW, or
    LSL/UXTX/SXTX (identical on a 64-bit register once the address wraps to 64 bits)."""
    if option == 0b010:
        value = "(X[{m}] & 0xFFFFFFFF)"
    elif option == 0b110:
        value = "(((X[{m}] & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000)"
    else:
        value = "X[{m}]"
    return f"({value} << {shift})" if shift else value


# --- what is transferred ----------------------------------------------------------------------

class MemOp(NamedTuple):
    """One register's transfer: `size` bytes, load or store, a SIMD&FP register if `fp`; a
    load sign-extends to `signed` bits when non-zero. `prefetch` marks PRFM."""

    size: int
    load: bool
    fp: bool = False
    signed: int = 0
    prefetch: bool = False


PRFM = MemOp(8, False, prefetch=True)


def SingleMemOp(size, V, opc):
    """The (size, V, opc) table of the load/store register classes."""
    if V:
        if opc >> 1:
            if size:
                raise Unallocated
            return MemOp(16, bool(opc & 1), fp=True)      # STR/LDR (Q)
        return MemOp(1 << size, bool(opc), fp=True)      # STR/LDR (B, H, S, D)
    if opc < 2:
        return MemOp(1 << size, bool(opc))                # STR*, LDR* (zero-extending)
    if size == 3:
        if opc == 0b10:
            return PRFM
        raise Unallocated
    if size == 2 and opc == 0b11:
        raise Unallocated
    return MemOp(1 << size, True, signed=64 if opc == 0b10 else 32)     # LDRS*


@runtime
def UnprivilegedAccess(s):
    """LDTR/STTR access memory as EL0 when executed at EL1 with PSTATE.UAO clear (and at EL2
    only with HCR_EL2.{E2H,TGE} = {1,1}, which needs FEAT_VHE: not implemented)."""
    return s.el == 1 and not s.uao


def Extended(op, value):
    """The register value of a load of `op` that read `value` (sign-extended for LDRS*)."""
    if not op.signed:
        return value
    sign = 1 << (8 * op.size - 1)
    return f"(({value} ^ {sign:#x}) - {sign:#x}) & {(1 << op.signed) - 1:#x}"


def LoadValue(op, addr, unprivileged=False):
    """Expression for the register value `op` loads from `addr`."""
    if unprivileged:
        return Extended(op, f"M.slow_read({addr}, {op.size}, UnprivilegedAccess(s))")
    return Extended(op, f"rd{8 * op.size}({addr})")


# An access of up to 8 bytes is written out inline where it hits the soft TLB aligned (what
# the MMU's rd/wr accessors would do, without the call); anything else calls them.
LE_FORMAT = {2: "H", 4: "I", 8: "Q"}
LE_UNPACK = {size: f"LE_U{8 * size}" for size in LE_FORMAT}
LE_PACK = {size: f"LE_P{8 * size}" for size in LE_FORMAT}
PAIR_UNPACK = {size: f"LE_U{8 * size}X2" for size in (4, 8)}     # LDP/STP of W, X registers
PAIR_PACK = {size: f"LE_P{8 * size}X2" for size in (4, 8)}
for _size, _code in LE_FORMAT.items():
    RUNTIME[LE_UNPACK[_size]] = struct.Struct("<" + _code).unpack_from
    RUNTIME[LE_PACK[_size]] = struct.Struct("<" + _code).pack_into
    if _size in PAIR_UNPACK:
        RUNTIME[PAIR_UNPACK[_size]] = struct.Struct("<" + 2 * _code).unpack_from
        RUNTIME[PAIR_PACK[_size]] = struct.Struct("<" + 2 * _code).pack_into


def TlbHit(size):
    """The condition under which `_e`, the soft-TLB entry of `_va` (see mmu.py), serves a
    `size`-byte access directly."""
    return "_e is not None" + (f" and not _va & {size - 1}" if size > 1 else "")


HOST = f"_e[0], _e[1] + (_va & {PAGE_MASK:#x})"     # the access's buffer and offset in it


def InlineLoad(op, addr, target):
    size = op.size
    fast = f"_e[0][_e[1] + (_va & {PAGE_MASK:#x})]" if size == 1 else \
        f"{LE_UNPACK[size]}({HOST})[0]"
    value = f"({fast} if {TlbHit(size)} else rd{8 * size}(_va))"
    return (f"_va = {addr}\n_e = rtlb_get(_va >> {PAGE_SHIFT})\n"
            f"{target} = {Extended(op, value)}\n")


def InlineStore(op, addr, value):
    size = op.size
    if op.fp or size < 8:
        value = f"{value} & {(1 << 8 * size) - 1:#x}"
    fast = f"_e[0][_e[1] + (_va & {PAGE_MASK:#x})] = {value}" if size == 1 else \
        f"{LE_PACK[size]}({HOST}, {value})"
    return (f"_va = {addr}\n_e = wtlb_get(_va >> {PAGE_SHIFT})\n"
            f"if {TlbHit(size)}:\n    {fast}\nelse:\n    wr{8 * size}(_va, {value})\n")


def Reg(op, field="t"):
    return ("V[{%s}]" if op.fp else "X[{%s}]") % field


def RegIndex(op, r):
    """The list index of register field `r` as a transfer register of `op`."""
    if op.fp:
        return r
    return reg_zw(r) if op.load else reg_zr(r)


def Transfer(op, addr, field="t", unprivileged=False):
    """The statements moving register `field` to or from memory at `addr`."""
    if unprivileged:
        if op.load:
            return f"{Reg(op, field)} = {LoadValue(op, addr, unprivileged)}\n"
        return f"M.slow_write({addr}, {op.size}, {Reg(op, field)}, UnprivilegedAccess(s))\n"
    if op.size > 8:
        if op.load:
            return f"{Reg(op, field)} = {LoadValue(op, addr)}\n"
        return f"wr{8 * op.size}({addr}, {Reg(op, field)})\n"
    if op.load:
        return InlineLoad(op, addr, Reg(op, field))
    return InlineStore(op, addr, Reg(op, field))


def SingleRegister(op, Rt, Rn, mode, unprivileged=False, **params):
    if op.prefetch:
        return insn("pass")        # PRFM/PRFUM: a hint, no access and no fault (C6.2.x PRFM)
    src = mode.setup + Transfer(op, mode.addr, unprivileged=unprivileged) + mode.wback
    return ldst_insn(src, t=RegIndex(op, Rt), n=reg_sp(Rn), **params)


# --- single register --------------------------------------------------------------------------

@encoding("size:2 111 V 01 opc:2 imm12:12 Rn:5 Rt:5")
def LDST_unsigned_imm(size, V, opc, imm12, Rn, Rt):
    """LDR/STR/LDRB/STRB/LDRH/STRH/LDRS*/PRFM (immediate, unsigned offset), W/X/B/H/S/D/Q."""
    op = SingleMemOp(size, V, opc)
    imm = imm12 * op.size
    return SingleRegister(op, Rt, Rn, Address(ImmOffset(imm)), imm=imm)


@encoding("size:2 111 V 00 opc:2 0 imm9:9 idx:2 Rn:5 Rt:5")
def LDST_imm9(size, V, opc, imm9, idx, Rn, Rt):
    """idx 00: LDUR/STUR/PRFUM (unscaled); 01: post-index; 10: LDTR/STTR (unprivileged);
    11: pre-index."""
    op = SingleMemOp(size, V, opc)
    if op.prefetch and idx:
        raise Unallocated
    if idx == 0b10 and V:
        raise Unallocated
    imm = SignExtend(imm9, 9)
    mode = Address(ImmOffset(imm), wback=idx & 1, postindex=idx == 0b01)
    return SingleRegister(op, Rt, Rn, mode, unprivileged=idx == 0b10, imm=imm)


@encoding("size:2 111 V 00 opc:2 1 Rm:5 option:3 S 10 Rn:5 Rt:5")
def LDST_register(size, V, opc, Rm, option, S, Rn, Rt):
    """LDR/STR/LDRB/.../PRFM (register offset): [Xn, Rm{, extend/LSL {#amount}}]."""
    if not option & 0b010:
        raise Unallocated
    op = SingleMemOp(size, V, opc)
    shift = S * (op.size.bit_length() - 1)
    return SingleRegister(op, Rt, Rn, Address(ExtendReg(option, shift)), m=reg_zr(Rm))


LITERAL_GPR = (MemOp(4, True), MemOp(8, True), MemOp(4, True, signed=64), PRFM)


@encoding("opc:2 011 V 00 imm19:19 Rt:5")
def LDR_literal(opc, V, imm19, Rt):
    """LDR (literal) W/X/S/D/Q, LDRSW (literal), PRFM (literal)."""
    if V:
        if opc == 0b11:
            raise Unallocated
        op = MemOp(4 << opc, True, fp=True)
    else:
        op = LITERAL_GPR[opc]
    imm = SignExtend(imm19, 19) * 4
    return SingleRegister(op, Rt, 0, Address("{imm}", base="pc"), imm=imm)


# --- register pairs ---------------------------------------------------------------------------

def PairMemOp(opc, V, L, idx):
    if opc == 0b11:
        raise Unallocated
    if V:
        return MemOp(4 << opc, bool(L), fp=True)           # S, D, Q
    if opc == 0b01:
        if not L or idx == 0b00:
            raise Unallocated                              # STGP (FEAT_MTE); no LDNPSW
        return MemOp(4, True, signed=64)                   # LDPSW
    return MemOp(4 << (opc >> 1), bool(L))                 # W, X


def PairHit(size):
    """As TlbHit, for the two `size`-byte elements of a pair at `_va` (one page, aligned)."""
    return f"{TlbHit(size)} and (_va & {PAGE_MASK:#x}) <= {PAGE_SIZE - 2 * size}"


def InlinePairLoad(size):
    return (f"_va = _a\n_e = rtlb_get(_va >> {PAGE_SHIFT})\n"
            f"_v1, _v2 = {PAIR_UNPACK[size]}({HOST}) if {PairHit(size)} else "
            f"rd{8 * size}x2(_va)\n")


def InlinePairStore(size, first, second):
    if size < 8:
        first, second = f"{first} & 0xFFFFFFFF", f"{second} & 0xFFFFFFFF"
    return (f"_va = _a\n_e = wtlb_get(_va >> {PAGE_SHIFT})\n"
            f"if {PairHit(size)}:\n    {PAIR_PACK[size]}({HOST}, {first}, {second})\n"
            f"else:\n    wr{8 * size}x2(_va, {first}, {second})\n")


def PairTransfer(op):
    """Statements moving registers {t} and {t2} to or from memory at `_a` (general-purpose
    W/X pairs through the MMU's pair accessors: the same accesses in the same order)."""
    second = f"(_a + {op.size}) & {M64}"
    gpr_pair = not op.fp and not op.signed
    if not op.load:
        if gpr_pair:
            return InlinePairStore(op.size, "X[{t}]", "X[{t2}]")
        return Transfer(op, "_a") + Transfer(op, second, "t2")
    if gpr_pair:
        loads = InlinePairLoad(op.size)
    else:
        loads = f"_v1 = {LoadValue(op, '_a')}\n_v2 = {LoadValue(op, second)}\n"
    first, then = f"{Reg(op)} = _v1\n", f"{Reg(op, 't2')} = _v2\n"
    # The register written last is the one whose value an Rt == Rt2 load leaves (see above).
    return loads + (first + then if op.fp else then + first)


@encoding("opc:2 101 V 0 idx:2 L imm7:7 Rt2:5 Rn:5 Rt:5")
def LDST_pair(opc, V, idx, L, imm7, Rt2, Rn, Rt):
    """idx 00: LDNP/STNP; 01: post-index; 10: signed offset; 11: pre-index. LDP/STP (W, X,
    S, D, Q) and LDPSW. The non-temporal hint of LDNP/STNP has no effect in this model."""
    op = PairMemOp(opc, V, L, idx)
    imm = SignExtend(imm7, 7) * op.size
    mode = Address(ImmOffset(imm), wback=idx & 1, postindex=idx == 0b01, bind=True)
    src = mode.setup + PairTransfer(op) + mode.wback
    return ldst_insn(src, t=RegIndex(op, Rt), t2=RegIndex(op, Rt2), n=reg_sp(Rn), imm=imm)


# --- instruction syndrome for data aborts (ESR_ELx.ISS when ISV is 1, D24.2.40) ----------------

_ISV_FORMS = (
    # (mask, value) of single general-purpose register loads/stores without writeback
    (0x3F00_0000, 0x3900_0000),    # unsigned offset (V = 0)
    (0x3F20_0C00, 0x3800_0000),    # unscaled (LDUR/STUR)
    (0x3F20_0C00, 0x3800_0800),    # unprivileged (LDTR/STTR)
    (0x3F20_0C00, 0x3820_0800),    # register offset
)
_ORDERED = (0x3F80_0000, 0x0880_0000)     # LDAR/STLR/LDLAR/STLLR (o2=1, no pair)
_RCPC2 = (0x3F20_0C00, 0x1900_0000)       # LDAPUR/STLUR family


def DataAbortSyndrome(word):
    """The ISV/SAS/SSE/SRT/SF/AR fields describing the load or store `word`, for an abort a
    hypervisor can emulate; 0 when the instruction has no such syndrome (SIMD&FP, pairs,
    writeback, exclusives, atomics, PRFM)."""
    size, rt = word >> 30, word & 0x1F
    if any(word & mask == value for mask, value in _ISV_FORMS):
        opc = (word >> 22) & 3
        acquire_release = 0
    elif word & _ORDERED[0] == _ORDERED[1]:
        opc = (word >> 22) & 1                       # L: 1 load, 0 store
        acquire_release = 1
    elif word & _RCPC2[0] == _RCPC2[1]:
        opc = (word >> 22) & 3
        acquire_release = 1
    else:
        return 0
    if size == 3 and opc >= 2:                       # PRFM and unallocated
        return 0
    sign_extend = opc >> 1
    sixty_four = (size == 3) if opc < 2 else (opc == 0b10)
    return ((1 << 24) | (size << 22) | (sign_extend << 21) | (rt << 16) | (sixty_four << 15)
            | (acquire_release << 14))
