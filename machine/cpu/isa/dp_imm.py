"""Data processing - immediate (C4.1.86): PC-relative addressing, add/subtract, logical, move
wide, bitfield, extract."""

from ..decode import encoding, insn
from ..state import reg_sp, reg_zw

MASK = {0: 0xFFFF_FFFF, 1: 0xFFFF_FFFF_FFFF_FFFF}


@encoding("sf op S 100010 sh imm12:12 Rn:5 Rd:5")
def ADD_SUB_imm(sf, op, S, sh, imm12, Rn, Rd):
    """ADD/ADDS/SUB/SUBS (immediate)."""
    imm = imm12 << (12 * sh)
    n = reg_sp(Rn)
    m = MASK[sf]
    if not S:
        expr = "X[{n}] - {imm}" if op else "X[{n}] + {imm}"
        return insn("X[{d}] = (" + expr + ") & {m}", d=reg_sp(Rd), n=n, imm=imm, m=m)
    operand = (~imm & m) if op else imm
    return insn("X[{d}], s.nzcv = AddWithCarry(X[{n}] & {m}, {operand}, {carry}, {bits})",
                d=reg_zw(Rd), n=n, m=m, operand=operand, carry=op, bits=32 << sf)
