"""Branches (C4.1.87, the branch half of "Branches, exception generating and system
instructions"): B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR, BLR, RET, ERET.

Not advertised, so Unallocated: BC.cond (FEAT_HBC), the pointer authentication forms (BRAA,
BLRAA, RETAA, ERETAA, ... FEAT_PAuth) and DRPS (only in Debug state). A branch to a misaligned
address completes; the fetch at the target takes the PC alignment fault (core.py).
"""

from ..bits import COND_MASK, SignExtend
from ..decode import Unallocated, encoding, insn
from ..state import reg_zr

# Branch templates mask the target to 64 bits (pc + offset may wrap).
JUMP = "return (pc + {off}) & 0xFFFFFFFFFFFFFFFF"
LINK = "X[30] = (pc + 4) & 0xFFFFFFFFFFFFFFFF\n"


def branch_if(test, off, cond=None, **params):
    """Conditional branch template: to pc + off when the Python expression `test` holds
    (`cond`: the condition number of a B.cond, see decode.Op)."""
    branch = (test, off) if cond is None else (test, off, cond)
    return insn(f"if {test}:\n    {JUMP}", ends_block=True, branch=branch, off=off, **params)


@encoding("op 00101 imm26:26")
def B_BL(op, imm26):
    """B, BL: PC-relative by SignExtend(imm26:'00')."""
    off = SignExtend(imm26 << 2, 28)
    if op:
        return insn(LINK + JUMP, ends_block=True, off=off)
    return insn(JUMP, ends_block=True, branch=("True", off), off=off)


@encoding("0101010 o1 imm19:19 o0 cond:4")
def B_cond(o1, imm19, o0, cond):
    """B.cond. o0=1 is BC.cond (FEAT_HBC, not advertised); o1=1 is unallocated."""
    if o1 or o0:
        raise Unallocated()
    off = SignExtend(imm19 << 2, 21)
    if cond >= 14:                       # AL and NV: always taken (ConditionHolds)
        return insn(JUMP, ends_block=True, branch=("True", off), off=off)
    return branch_if("{cm} >> s.nzcv & 1", off, cond, cm=COND_MASK[cond])


@encoding("sf 011010 op imm19:19 Rt:5")
def CBZ_CBNZ(sf, op, imm19, Rt):
    value = "X[{t}]" if sf else "X[{t}] & 0xFFFFFFFF"
    return branch_if(value if op else f"not {value}", SignExtend(imm19 << 2, 21), t=reg_zr(Rt))


@encoding("b5 011011 op b40:5 imm14:14 Rt:5")
def TBZ_TBNZ(b5, op, b40, imm14, Rt):
    test = "X[{t}] & {bit}" if op else "not X[{t}] & {bit}"
    return branch_if(test, SignExtend(imm14 << 2, 16), t=reg_zr(Rt), bit=1 << (b5 << 5 | b40))


# Unconditional branch (register), opc -> template. op2=11111, op3=000000, op4=00000 only: the
# other op3/op4 values are the PAuth forms.
BR = "return X[{n}]"
BLR = "_t = X[{n}]\n" + LINK + "return _t"
# ERET: UNDEFINED at EL0. AArch64.ExceptionReturn also does SendEventLocal().
ERET = ("if not s.el:\n    raise Undefined()\n"
        "s.event_register = True\n"
        "return ExceptionReturn(s)")
BRANCH_REG = {0b0000: BR, 0b0001: BLR, 0b0010: BR}      # BR, BLR, RET


@encoding("1101011 opc:4 op2:5 op3:6 Rn:5 op4:5")
def BRANCH_register(opc, op2, op3, Rn, op4):
    """BR, BLR, RET and ERET (DRPS, opc=0101, is UNDEFINED outside Debug state)."""
    if op2 != 0b11111 or op3 or op4:
        raise Unallocated()
    if opc in BRANCH_REG:
        return insn(BRANCH_REG[opc], ends_block=True, n=reg_zr(Rn))
    if opc == 0b0100 and Rn == 0b11111:
        return insn(ERET, ends_block=True)
    raise Unallocated()
