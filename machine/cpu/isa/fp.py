"""Data processing - scalar floating-point (C4.1.96, the classes with op0 = x0x1): conversions
between floating-point and fixed-point or integer, FMOV (general, register, immediate),
1-source (FABS, FNEG, FSQRT, FCVT, FRINT*), compare, conditional compare, 2-source arithmetic,
conditional select and 3-source fused multiply-add.

The arithmetic is machine/cpu/softfloat.py. Single (ptype 00) and double (ptype 01) precision
only: the half-precision (ptype 11) forms are FEAT_FP16, not advertised, so UNALLOCATED --
except FCVT between half and single/double, which is baseline. ptype 10 is reserved. M and S
(bits 31 and 29) must be 0 in every class here: the patterns fix them, so other values decode
as UNALLOCATED.

A scalar write of an N-bit result sets the whole 128-bit V register (zeros above the element).
"""

from ..bits import COND_MASK, M32, M64
from ..decode import Unallocated, encoding, insn
from ..softfloat import (
    FPRounding_TIEAWAY,
    FPRounding_ZERO,
    VFPExpandImm,
)
from ..state import reg_zr, reg_zw

# ptype -> N for the single/double arithmetic forms
ARITH_SIZE = {0b00: 32, 0b01: 64}
# ptype/opc -> N for FCVT, where half precision is baseline (0b10 is BFCVT or reserved)
CVT_SIZE = {0b00: 32, 0b01: 64, 0b11: 16}

# FPRoundingMode(FPCR) inside a template
FPCR_ROUNDING = "(s.fpcr >> 22 & 3)"


def arith_size(ptype):
    if ptype not in ARITH_SIZE:
        raise Unallocated("FP16 (not advertised)" if ptype == 0b11 else "reserved ptype")
    return ARITH_SIZE[ptype]


def operand(reg, N):
    """Template text reading the N-bit scalar in V[reg]."""
    return f"(V[{reg}] & {(1 << N) - 1:#x})"


# --- conversions between floating-point and fixed-point / integer ------------------------------

def fp_to_int(sf, ptype, unsigned, rounding, fbits, Rn, Rd):
    """FCVT<N,P,M,Z,A><S,U> (scalar, integer) and FCVTZ<S,U> (scalar, fixed-point)."""
    N = arith_size(ptype)
    return insn(f"X[{{d}}] = FPToFixed({operand('{n}', N)}, {{fbits}}, {{unsigned}}, "
                f"{rounding}, {{N}}, {{isize}}, s)",
                d=reg_zw(Rd), n=Rn, fbits=fbits, unsigned=unsigned, N=N, isize=32 << sf)


def int_to_fp(sf, ptype, unsigned, fbits, Rn, Rd):
    """SCVTF/UCVTF (scalar, integer and fixed-point), rounded per FPCR.RMode."""
    N = arith_size(ptype)
    return insn(f"V[{{d}}] = FixedToFP(X[{{n}}] & {{imask}}, {{fbits}}, {{unsigned}}, "
                f"{FPCR_ROUNDING}, {{isize}}, {{N}}, s)",
                d=Rd, n=reg_zr(Rn), imask=M64 if sf else M32, fbits=fbits, unsigned=unsigned,
                isize=32 << sf, N=N)


def fixed_fbits(sf, scale):
    if not sf and scale < 32:
        raise Unallocated("32-bit fixed-point conversion with scale < 32")
    return 64 - scale


@encoding("sf 0 0 11110 ptype:2 0 11 00 U scale:6 Rn:5 Rd:5")
def FCVTZ_fixed(sf, ptype, U, scale, Rn, Rd):
    """FCVTZS/FCVTZU (scalar, fixed-point)."""
    return fp_to_int(sf, ptype, U, FPRounding_ZERO, fixed_fbits(sf, scale), Rn, Rd)


@encoding("sf 0 0 11110 ptype:2 0 00 01 U scale:6 Rn:5 Rd:5")
def CVTF_fixed(sf, ptype, U, scale, Rn, Rd):
    """SCVTF/UCVTF (scalar, fixed-point)."""
    return int_to_fp(sf, ptype, U, fixed_fbits(sf, scale), Rn, Rd)


@encoding("sf 0 0 11110 ptype:2 1 rmode:2 00 U 000000 Rn:5 Rd:5")
def FCVT_int(sf, ptype, rmode, U, Rn, Rd):
    """FCVTNS/FCVTNU, FCVTPS/FCVTPU, FCVTMS/FCVTMU, FCVTZS/FCVTZU (scalar, integer): rmode is
    FPDecodeRounding's encoding (N = TIEEVEN, P = POSINF, M = NEGINF, Z = ZERO)."""
    return fp_to_int(sf, ptype, U, rmode, 0, Rn, Rd)


@encoding("sf 0 0 11110 ptype:2 1 00 10 U 000000 Rn:5 Rd:5")
def FCVTA_int(sf, ptype, U, Rn, Rd):
    """FCVTAS/FCVTAU (scalar): round to nearest with ties away from zero."""
    return fp_to_int(sf, ptype, U, FPRounding_TIEAWAY, 0, Rn, Rd)


@encoding("sf 0 0 11110 ptype:2 1 00 01 U 000000 Rn:5 Rd:5")
def CVTF_int(sf, ptype, U, Rn, Rd):
    """SCVTF/UCVTF (scalar, integer)."""
    return int_to_fp(sf, ptype, U, 0, Rn, Rd)


@encoding("sf 0 0 11110 ptype:2 1 rmode:2 11 to_fp 000000 Rn:5 Rd:5")
def FMOV_general(sf, ptype, rmode, to_fp, Rn, Rd):
    """FMOV (general): Wd <-> Sn, Xd <-> Dn, and Xd <-> Vn.D[1] (which keeps the low half).
    sf=0 ptype=01 rmode=11 (opcode 110) is FJCVTZS: FEAT_JSCVT is not advertised."""
    form = (sf, ptype, rmode)
    if form == (0, 0b00, 0b00) or form == (1, 0b01, 0b00):
        mask = M64 if sf else M32
        if to_fp:
            return insn("V[{d}] = X[{n}] & {mask}", d=Rd, n=reg_zr(Rn), mask=mask)
        return insn("X[{d}] = V[{n}] & {mask}", d=reg_zw(Rd), n=Rn, mask=mask)
    if form == (1, 0b10, 0b01):
        if to_fp:
            return insn("V[{d}] = (V[{d}] & {low}) | (X[{n}] << 64)", d=Rd, n=reg_zr(Rn),
                        low=M64)
        return insn("X[{d}] = V[{n}] >> 64", d=reg_zw(Rd), n=Rn)
    raise Unallocated("FMOV (general) form")


# --- 1 source ---------------------------------------------------------------------------------

@encoding("0 0 0 11110 ptype:2 1 0000 opc:2 10000 Rn:5 Rd:5")
def FP_1src_bits(ptype, opc, Rn, Rd):
    """FMOV (register), FABS, FNEG, FSQRT (scalar)."""
    N = arith_size(ptype)
    src = operand("{n}", N)
    expr = (src, f"(V[{{n}}] & {(1 << (N - 1)) - 1:#x})", f"{src} ^ {1 << (N - 1):#x}",
            f"FPSqrt({src}, {N}, s)")[opc]
    return insn("V[{d}] = " + expr, d=Rd, n=Rn)


@encoding("0 0 0 11110 ptype:2 1 0001 opc:2 10000 Rn:5 Rd:5")
def FCVT(ptype, opc, Rn, Rd):
    """FCVT (scalar) between half, single and double precision (opc 10 is BFCVT: FEAT_BF16 is
    not advertised)."""
    if ptype not in CVT_SIZE or opc not in CVT_SIZE or ptype == opc:
        raise Unallocated("FCVT form")
    N, M = CVT_SIZE[ptype], CVT_SIZE[opc]
    return insn(f"V[{{d}}] = FPConvert({operand('{n}', N)}, {N}, {M}, s)", d=Rd, n=Rn)


@encoding("0 0 0 11110 ptype:2 1 001 rmode:3 10000 Rn:5 Rd:5")
def FRINT(ptype, rmode, Rn, Rd):
    """FRINTN/P/M/Z (rounding from rmode), FRINTA (ties away), FRINTX (FPCR rounding, signals
    Inexact), FRINTI (FPCR rounding)."""
    N = arith_size(ptype)
    if rmode == 0b101:
        raise Unallocated("FRINT rmode 101")
    rounding = {0b100: FPRounding_TIEAWAY, 0b110: FPCR_ROUNDING,
                0b111: FPCR_ROUNDING}.get(rmode, rmode)
    return insn(f"V[{{d}}] = FPRoundInt({operand('{n}', N)}, {N}, s, {rounding}, {{exact}})",
                d=Rd, n=Rn, exact=int(rmode == 0b110))


@encoding("0 0 0 11110 ptype:2 1 0100 op:2 10000 Rn:5 Rd:5")
def FRINT_N(ptype, op, Rn, Rd):
    """FRINT32Z, FRINT32X, FRINT64Z, FRINT64X (FEAT_FRINTTS)."""
    N = arith_size(ptype)
    rounding = FPCR_ROUNDING if op & 1 else FPRounding_ZERO
    return insn(f"V[{{d}}] = FPRoundIntN({operand('{n}', N)}, {N}, s, {rounding}, {{intsize}})",
                d=Rd, n=Rn, intsize=64 if op & 2 else 32)


# --- compare, conditional compare, conditional select ---------------------------------------------

def compare_src(N, signal, with_zero):
    """Template text: FPCompare() of V[{n}] with V[{m}] or with +0.0."""
    op2 = "0" if with_zero else operand("{m}", N)
    return f"FPCompare({operand('{n}', N)}, {op2}, {signal}, {N}, s)"


@encoding("0 0 0 11110 ptype:2 1 Rm:5 00 1000 Rn:5 E zero 000")
def FCMP(ptype, Rm, Rn, E, zero):
    """FCMP/FCMPE (register and #0.0; the #0.0 form ignores Rm, a should-be-zero field).
    FCMPE signals Invalid Operation on quiet NaNs too."""
    N = arith_size(ptype)
    regs = dict(n=Rn) if zero else dict(n=Rn, m=Rm)
    return insn("s.nzcv = " + compare_src(N, E, zero), **regs)


@encoding("0 0 0 11110 ptype:2 1 Rm:5 cond:4 01 Rn:5 E nzcv:4")
def FCCMP(ptype, Rm, cond, Rn, E, nzcv):
    """FCCMP/FCCMPE: compare if the condition holds, else set NZCV to the immediate."""
    N = arith_size(ptype)
    return insn("s.nzcv = " + compare_src(N, E, False) + " if {cmask} >> s.nzcv & 1 else {nzcv}",
                n=Rn, m=Rm, cmask=COND_MASK[cond], nzcv=nzcv)


@encoding("0 0 0 11110 ptype:2 1 Rm:5 cond:4 11 Rn:5 Rd:5")
def FCSEL(ptype, Rm, cond, Rn, Rd):
    N = arith_size(ptype)
    return insn(f"V[{{d}}] = {operand('{n}', N)} if {{cmask}} >> s.nzcv & 1 "
                f"else {operand('{m}', N)}", d=Rd, n=Rn, m=Rm, cmask=COND_MASK[cond])


# --- immediate, 2 source, 3 source ------------------------------------------------------------

@encoding("0 0 0 11110 ptype:2 1 imm8:8 100 00000 Rd:5")
def FMOV_imm(ptype, imm8, Rd):
    """FMOV (scalar, immediate): VFPExpandImm()."""
    return insn("V[{d}] = {imm}", d=Rd, imm=VFPExpandImm(imm8, arith_size(ptype)))


# opcode -> (function, negate the result)
FP_2SRC = {0b0000: ("FPMul", False), 0b0001: ("FPDiv", False), 0b0010: ("FPAdd", False),
           0b0011: ("FPSub", False), 0b0100: ("FPMax", False), 0b0101: ("FPMin", False),
           0b0110: ("FPMaxNum", False), 0b0111: ("FPMinNum", False),
           0b1000: ("FPMul", True)}


@encoding("0 0 0 11110 ptype:2 1 Rm:5 opcode:4 10 Rn:5 Rd:5")
def FP_2src(ptype, Rm, opcode, Rn, Rd):
    """FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL (scalar). FNMUL is FPNeg of
    the product, so a NaN result has its sign flipped too."""
    N = arith_size(ptype)
    if opcode not in FP_2SRC:
        raise Unallocated("FP 2-source opcode")
    func, negate = FP_2SRC[opcode]
    src = f"{func}({operand('{n}', N)}, {operand('{m}', N)}, {N}, s)"
    if negate:
        src += f" ^ {1 << (N - 1):#x}"
    return insn("V[{d}] = " + src, d=Rd, n=Rn, m=Rm)


@encoding("0 0 0 11111 ptype:2 o1 Rm:5 o0 Ra:5 Rn:5 Rd:5")
def FP_3src(ptype, o1, Rm, o0, Ra, Rn, Rd):
    """FMADD, FMSUB, FNMADD, FNMSUB: FPMulAdd() after FPNeg() of the addend (o1) and/or of the
    first multiplicand (o0 != o1). The negations are applied to the operands, so a NaN operand
    propagates with its sign flipped."""
    N = arith_size(ptype)
    sign = f" ^ {1 << (N - 1):#x}"
    addend = operand("{a}", N) + (sign if o1 else "")
    op1 = operand("{n}", N) + (sign if o0 != o1 else "")
    return insn(f"V[{{d}}] = FPMulAdd({addend}, {op1}, {operand('{m}', N)}, {N}, s)",
                d=Rd, a=Ra, n=Rn, m=Rm)
