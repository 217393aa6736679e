"""Advanced SIMD floating point (C4.1.96): the floating-point encodings of the AdvSIMD three
same, two-register miscellaneous, across lanes, scalar pairwise, shift by immediate and by
element classes, vector and scalar.

Each class's floating-point opcodes are carved out of helper D's integer pattern by a more
specific pattern (the opcode bits fixed), so the decode tree's names for them come from D's
tables (FP_THREE_SAME, FP_MISC, BY_ELEMENT, ...). Single (sz = 0) and double (sz = 1)
precision only: the half-precision forms are FEAT_FP16, not advertised, and live in other
classes (not in the decode table) or are reserved sizes here; a vector of doubles needs Q = 1.
FCVTL/FCVTN convert to and from half precision, which is baseline.

Every element goes through machine/cpu/softfloat.py (and simd_fp_ops.py) with the CpuState, so
FPCR.{RMode, FZ, DN, AHP} apply and FPSR's cumulative flags accumulate over the lanes.
"""

from ..decode import ENCODINGS, Encoding, Unallocated, encoding, insn
from ..softfloat import (
    FPRounding_NEGINF,
    FPRounding_ODD,
    FPRounding_POSINF,
    FPRounding_TIEAWAY,
    FPRounding_TIEEVEN,
    FPRounding_ZERO,
)
from ..vector import Lanes, lane_masks
from . import simd_fp_ops  # noqa: F401  (registers the runtime helpers)
from .fp import FPCR_ROUNDING
from .simd import Src, lanewise, vinsn
from .simd_arith import BY_ELEMENT, FP_THREE_SAME, SCALAR_FP_THREE_SAME
from .simd_misc import FP_MISC, SCALAR_FP_MISC


def encodings(pattern, field, values):
    """Register the decorated handler for `pattern` (with `{}` where the named field `field`
    goes) once for each of the fixed `values` of that field, as <handler name>_<value>."""
    def register(handler):
        for value in values:
            spec = pattern.format(f"{field}={value}")
            ENCODINGS.append(Encoding(f"{handler.__name__}_{value}", spec, handler))
        return handler
    return register


def fp_esize(sz, Q, scalar):
    """The element size; sz:Q = 10 (a 64-bit vector of doubles) is reserved."""
    if sz and not Q and not scalar:
        raise Unallocated("AdvSIMD floating point: 64-bit vector of doubles")
    return 32 << sz


def element_count(esize, Q, scalar):
    return 1 if scalar else (64 << Q) // esize


def fp_lanewise(name, table, d, srcs, esize, count, **kw):
    """V[d] = table[name] per element: a format string over {N} (the element size), {sign}
    and {abs} (its sign bit and the other bits) in which _a, _b (and _d) are the elements."""
    sign = 1 << (esize - 1)
    expr = table[name].format(N=esize, sign=hex(sign), abs=hex(sign - 1))
    return lanewise(d, expr, srcs, esize, count, acc="_d" in expr, **kw)


# FPCompareEQ/GE/GT() as template text: FPCompare's NZCV is 0110 for equal, 0010 for greater,
# 1000 for less and 0011 for unordered; GE and GT signal Invalid Operation on any NaN.
def FPCompareEQ(x, y):
    return f"-(FPCompare({x}, {y}, 0, {{N}}, s) == 6)"


def FPCompareGE(x, y):
    return f"-(FPCompare({x}, {y}, 1, {{N}}, s) & 3 == 2)"


def FPCompareGT(x, y):
    return f"-(FPCompare({x}, {y}, 1, {{N}}, s) == 2)"


# --- three same -------------------------------------------------------------------------------

BINARY = {name: f"{fn}(_a, _b, {{N}}, s)" for name, fn in [
    ("FADD", "FPAdd"), ("FSUB", "FPSub"), ("FMUL", "FPMul"), ("FDIV", "FPDiv"),
    ("FMAX", "FPMax"), ("FMIN", "FPMin"), ("FMAXNM", "FPMaxNum"), ("FMINNM", "FPMinNum"),
    ("FMULX", "FPMulX"), ("FRECPS", "FPRecipStepFused"), ("FRSQRTS", "FPRSqrtStepFused")]}
BINARY |= {
    "FABD": "FPSub(_a, _b, {N}, s) & {abs}",
    "FMLA": "FPMulAdd(_d, _a, _b, {N}, s)",
    "FMLS": "FPMulAdd(_d, _a ^ {sign}, _b, {N}, s)",
    "FCMEQ": FPCompareEQ("_a", "_b"),
    "FCMGE": FPCompareGE("_a", "_b"),
    "FCMGT": FPCompareGT("_a", "_b"),
    "FACGE": FPCompareGE("_a & {abs}", "_b & {abs}"),
    "FACGT": FPCompareGT("_a & {abs}", "_b & {abs}"),
}
# The pairwise forms: the operation on adjacent elements of the concatenation Vm:Vn.
PAIRWISE = {"FADDP": "FADD", "FMAXP": "FMAX", "FMINP": "FMIN", "FMAXNMP": "FMAXNM",
            "FMINNMP": "FMINNM"}


def three_same(table, Q, U, a, sz, Rm, opcode, Rn, Rd, scalar):
    name = table.get((U, a, opcode))
    if name is None:
        raise Unallocated("AdvSIMD three same floating point (FEAT_FHM FMLAL/FMLSL or a gap)")
    esize = fp_esize(sz, Q, scalar)
    count = element_count(esize, Q, scalar)
    srcs = [Src(Rn, esize, count), Src(Rm, esize, count)]
    return fp_lanewise(PAIRWISE.get(name, name), BINARY, Rd, srcs, esize, count,
                       pairwise=name in PAIRWISE)


@encoding("0 Q U 01110 a sz 1 Rm:5 opcode=11xxx 1 Rn:5 Rd:5")
def AdvSIMD_three_same_fp(Q, U, a, sz, Rm, opcode, Rn, Rd):
    """FADD, FSUB, FMUL, FDIV, FMAX, FMIN, FMAXNM, FMINNM, FABD, FMLA, FMLS, FMULX, FRECPS,
    FRSQRTS, FCMEQ, FCMGE, FCMGT, FACGE, FACGT, FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP
    (vector)."""
    return three_same(FP_THREE_SAME, Q, U, a, sz, Rm, opcode, Rn, Rd, scalar=False)


@encoding("01 U 11110 a sz 1 Rm:5 opcode=11xxx 1 Rn:5 Rd:5")
def AdvSIMD_scalar_three_same_fp(U, a, sz, Rm, opcode, Rn, Rd):
    """FMULX, FRECPS, FRSQRTS, FABD, FCMEQ, FCMGE, FCMGT, FACGE, FACGT (scalar)."""
    return three_same(SCALAR_FP_THREE_SAME, 0, U, a, sz, Rm, opcode, Rn, Rd, scalar=True)


# --- two-register miscellaneous -----------------------------------------------------------------

# FPRoundInt() rounding and exactness; FRINTX and FRINTI round per FPCR.RMode
ROUND_INT = {"FRINTN": (FPRounding_TIEEVEN, 0), "FRINTP": (FPRounding_POSINF, 0),
             "FRINTM": (FPRounding_NEGINF, 0), "FRINTZ": (FPRounding_ZERO, 0),
             "FRINTA": (FPRounding_TIEAWAY, 0), "FRINTX": (FPCR_ROUNDING, 1),
             "FRINTI": (FPCR_ROUNDING, 0)}
# FPRoundIntN() rounding and integer size (FEAT_FRINTTS)
ROUND_INT_N = {"FRINT32Z": (FPRounding_ZERO, 32), "FRINT32X": (FPCR_ROUNDING, 32),
               "FRINT64Z": (FPRounding_ZERO, 64), "FRINT64X": (FPCR_ROUNDING, 64)}
# FPToFixed() rounding of FCVT<N,P,M,A,Z><S,U>
FP_TO_INT = {"N": FPRounding_TIEEVEN, "P": FPRounding_POSINF, "M": FPRounding_NEGINF,
             "A": FPRounding_TIEAWAY, "Z": FPRounding_ZERO}

UNARY = {
    "FSQRT": "FPSqrt(_a, {N}, s)",
    "FRECPE": "FPRecipEstimate(_a, {N}, s)",
    "FRSQRTE": "FPRSqrtEstimate(_a, {N}, s)",
    "FRECPX": "FPRecpX(_a, {N}, s)",
    "URECPE": "UnsignedRecipEstimate(_a)",
    "URSQRTE": "UnsignedRSqrtEstimate(_a)",
    "SCVTF": f"FixedToFP(_a, 0, 0, {FPCR_ROUNDING}, {{N}}, {{N}}, s)",
    "UCVTF": f"FixedToFP(_a, 0, 1, {FPCR_ROUNDING}, {{N}}, {{N}}, s)",
    "FCMGT": FPCompareGT("_a", "0"),
    "FCMGE": FPCompareGE("_a", "0"),
    "FCMEQ": FPCompareEQ("_a", "0"),
    "FCMLE": FPCompareGE("0", "_a"),
    "FCMLT": FPCompareGT("0", "_a"),
}
UNARY |= {name: f"FPRoundInt(_a, {{N}}, s, {rounding}, {exact})"
          for name, (rounding, exact) in ROUND_INT.items()}
UNARY |= {name: f"FPRoundIntN(_a, {{N}}, s, {rounding}, {intsize})"
          for name, (rounding, intsize) in ROUND_INT_N.items()}
UNARY |= {f"FCVT{r}{su}": f"FPToFixed(_a, 0, {unsigned}, {rounding}, {{N}}, {{N}}, s)"
          for r, rounding in FP_TO_INT.items() for su, unsigned in (("S", 0), ("U", 1))}


def convert_precision(name, Q, sz, Rn, Rd, scalar):
    """FCVTL/FCVTL2 (half to single, single to double, from the lower or upper half of V[n]),
    FCVTN/FCVTN2 (the reverse, into the lower or upper half of V[d]) and FCVTXN/FCVTXN2
    (double to single, rounding to odd)."""
    esize = 16 << sz                          # the narrow elements
    count = element_count(2 * esize, 1, scalar)
    if name == "FCVTL":
        return lanewise(Rd, f"FPConvert(_a, {esize}, {2 * esize}, s)",
                        [Src(Rn, esize, count, offset=8 * Q)], 2 * esize, count)
    if name == "FCVTXN":
        if not sz:
            raise Unallocated("FCVTXN from single precision")
        expr = f"FPConvert(_a, 64, 32, s, {FPRounding_ODD})"
    else:
        expr = f"FPConvert(_a, {2 * esize}, {esize}, s)"
    return lanewise(Rd, expr, [Src(Rn, 2 * esize, count)], esize, count, upper=Q)


def abs_neg(name, Q, sz, Rn, Rd):
    """FABS/FNEG (vector): clear or flip each lane's sign bit, a whole-register operation."""
    k = lane_masks(32 << sz, 64 << Q)
    if name == "FABS":
        return vinsn("V[{d}] = V[{n}] & {low}", d=Rd, n=Rn, low=k.low)
    return vinsn("V[{d}] = (V[{n}] ^ {msb}) & {data}", d=Rd, n=Rn, msb=k.msb, data=k.data)


def two_reg_misc(table, Q, U, a, sz, opcode, Rn, Rd, scalar):
    name = table.get((U, a, opcode))
    if name is None:
        raise Unallocated("AdvSIMD two-register miscellaneous floating point")
    if name in ("FCVTL", "FCVTN", "FCVTXN"):
        return convert_precision(name, Q, sz, Rn, Rd, scalar)
    if name in ("URECPE", "URSQRTE") and sz:
        raise Unallocated(f"{name} of 64-bit elements")
    esize = fp_esize(sz, Q, scalar)
    if name in ("FABS", "FNEG"):
        return abs_neg(name, Q, sz, Rn, Rd)
    count = element_count(esize, Q, scalar)
    return fp_lanewise(name, UNARY, Rd, [Src(Rn, esize, count)], esize, count)


FP_MISC_OPCODES = ("011xx", "1011x", "11xxx")


@encodings("0 Q U 01110 a sz 10000 {} 10 Rn:5 Rd:5", "opcode", FP_MISC_OPCODES)
def AdvSIMD_two_reg_misc_fp(Q, U, a, sz, opcode, Rn, Rd):
    """FABS, FNEG, FSQRT, FRECPE, FRSQRTE, URECPE, URSQRTE, FRINTN/P/M/Z/A/X/I,
    FRINT32Z/32X/64Z/64X, FCVTNS/NU/PS/PU/MS/MU/AS/AU/ZS/ZU, SCVTF, UCVTF, FCMGT/FCMGE/
    FCMEQ/FCMLE/FCMLT (zero), FCVTL(2), FCVTN(2), FCVTXN(2) (vector)."""
    return two_reg_misc(FP_MISC, Q, U, a, sz, opcode, Rn, Rd, scalar=False)


@encodings("01 U 11110 a sz 10000 {} 10 Rn:5 Rd:5", "opcode", FP_MISC_OPCODES)
def AdvSIMD_scalar_two_reg_misc_fp(U, a, sz, opcode, Rn, Rd):
    """FRECPE, FRSQRTE, FRECPX, FCVTNS/NU/PS/PU/MS/MU/AS/AU/ZS/ZU, SCVTF, UCVTF,
    FCMGT/FCMGE/FCMEQ/FCMLE/FCMLT (zero), FCVTXN (scalar)."""
    return two_reg_misc(SCALAR_FP_MISC, 0, U, a, sz, opcode, Rn, Rd, scalar=True)


# --- across lanes and scalar pairwise ---------------------------------------------------------

# (a, opcode<1:0>) -> the operation of FMAXNMV/FMINNMV/FMAXV/FMINV and of the scalar
# FMAXNMP/FMINNMP/FMAXP/FMINP, FADDP
REDUCE = {(0, 0b00): "FPMaxNum", (1, 0b00): "FPMinNum", (0, 0b11): "FPMax", (1, 0b11): "FPMin"}
SCALAR_PAIRWISE = REDUCE | {(0, 0b01): "FPAdd"}


@encoding("0 Q 1 01110 a sz 11000 opcode=011xx 10 Rn:5 Rd:5")
def AdvSIMD_across_lanes_fp(Q, a, sz, opcode, Rn, Rd):
    """FMAXNMV, FMINNMV, FMAXV, FMINV (4S only): Reduce() halves the vector recursively, so
    the result is op(op(e0, e1), op(e2, e3))."""
    fn = REDUCE.get((a, opcode & 3))
    if fn is None or sz or not Q:
        raise Unallocated("AdvSIMD floating-point across lanes")
    return insn("_e = {L}.unpack_from(V[{n}].to_bytes(16, 'little'))\n"
                f"V[{{d}}] = {fn}({fn}(_e[0], _e[1], 32, s), {fn}(_e[2], _e[3], 32, s), 32, s)",
                d=Rd, n=Rn, L=Lanes(32, 4))


@encoding("01 1 11110 a sz 11000 opcode=011xx 10 Rn:5 Rd:5")
def AdvSIMD_scalar_pairwise_fp(a, sz, opcode, Rn, Rd):
    """FMAXNMP, FMINNMP, FADDP, FMAXP, FMINP (scalar): the two elements of V[n]."""
    fn = SCALAR_PAIRWISE.get((a, opcode & 3))
    if fn is None:
        raise Unallocated("AdvSIMD scalar pairwise floating point")
    esize = 32 << sz
    return insn(f"V[{{d}}] = {fn}(V[{{n}}] & {{em}}, V[{{n}}] >> {esize} & {{em}}, {esize}, s)",
                d=Rd, n=Rn, em=(1 << esize) - 1)


# --- fixed-point conversions (shift by immediate) ---------------------------------------------

# opcode<1:0> -> the conversion, a format string over {N} and {U} (fbits is a parameter)
FIXED_POINT = {0b00: "FixedToFP(_a, {{fbits}}, {U}, " + FPCR_ROUNDING + ", {N}, {N}, s)",
               0b11: "FPToFixed(_a, {{fbits}}, {U}, " + str(FPRounding_ZERO) + ", {N}, {N}, s)"}


def fixed_point(Q, U, immh, immb, opcode, Rn, Rd, scalar):
    """SCVTF/UCVTF and FCVTZS/FCVTZU (fixed-point), fbits = 2 * esize - immh:immb."""
    if opcode & 3 not in FIXED_POINT:
        raise Unallocated("AdvSIMD shift by immediate opcode 11101/11110")
    esize = fp_esize(immh >> 3, Q, scalar)
    count = element_count(esize, Q, scalar)
    expr = FIXED_POINT[opcode & 3].format(N=esize, U=U)
    return lanewise(Rd, expr, [Src(Rn, esize, count)], esize, count,
                    fbits=2 * esize - ((immh << 3) | immb))


# immh = 0000 is the modified immediate class and 00xx are half precision (FEAT_FP16) or
# reserved: only 1xxx (doubles) and 01xx (singles) are carved out.
FIXED_IMMH = ("1xxx", "01xx")


@encodings("0 Q U 011110 {} immb:3 opcode=111xx 1 Rn:5 Rd:5", "immh", FIXED_IMMH)
def AdvSIMD_fixed_point_fp(Q, U, immh, immb, opcode, Rn, Rd):
    """SCVTF, UCVTF, FCVTZS, FCVTZU (vector, fixed-point)."""
    return fixed_point(Q, U, immh, immb, opcode, Rn, Rd, scalar=False)


@encodings("01 U 111110 {} immb:3 opcode=111xx 1 Rn:5 Rd:5", "immh", FIXED_IMMH)
def AdvSIMD_scalar_fixed_point_fp(U, immh, immb, opcode, Rn, Rd):
    """SCVTF, UCVTF, FCVTZS, FCVTZU (scalar, fixed-point)."""
    return fixed_point(0, U, immh, immb, opcode, Rn, Rd, scalar=True)


# --- by element -------------------------------------------------------------------------------

def by_element(Q, U, sz, L, M, Rm, opcode, H, Rn, Rd, scalar):
    """The second operand is element H:L (singles) or H (doubles; L = 1 is reserved) of V[M:Rm],
    for every lane."""
    name = BY_ELEMENT[opcode][U]
    if name is None:
        raise Unallocated("AdvSIMD by element (FCMLA: FEAT_FCMA not implemented)")
    if sz and L:
        raise Unallocated("AdvSIMD floating-point by element: doubles with L = 1")
    esize = fp_esize(sz, Q, scalar)
    count = element_count(esize, Q, scalar)
    index = H if sz else (H << 1) | L
    element = Src((M << 4) | Rm, esize, 1, offset=index * esize // 8, bcast=True)
    return fp_lanewise(name, BINARY, Rd, [Src(Rn, esize, count), element], esize, count)


# opcode 0001 FMLA, 1001 FMUL (U=0) / FMULX (U=1), 0101 FMLS; size<1> = 1 (size 00 is FP16)
BY_ELEMENT_OPCODES = ("x001", "0101")


@encodings("0 Q U 01111 1 sz L M Rm:4 {} H 0 Rn:5 Rd:5", "opcode", BY_ELEMENT_OPCODES)
def AdvSIMD_vector_x_indexed_element_fp(Q, U, sz, L, M, Rm, opcode, H, Rn, Rd):
    """FMLA, FMLS, FMUL, FMULX (by element)."""
    return by_element(Q, U, sz, L, M, Rm, opcode, H, Rn, Rd, scalar=False)


@encodings("01 U 11111 1 sz L M Rm:4 {} H 0 Rn:5 Rd:5", "opcode", BY_ELEMENT_OPCODES)
def AdvSIMD_scalar_x_indexed_element_fp(U, sz, L, M, Rm, opcode, H, Rn, Rd):
    """FMLA, FMLS, FMUL, FMULX (by element, scalar)."""
    return by_element(0, U, sz, L, M, Rm, opcode, H, Rn, Rd, scalar=True)
