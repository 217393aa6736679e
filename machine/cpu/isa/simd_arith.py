"""Advanced SIMD integer arithmetic (C4.1.96): the three same, three different and
by-element classes, vector and scalar."""

from ..bits import Ones
from ..decode import Unallocated, encoding, insn
from .simd import (
    Args,
    Src,
    compare,
    lanewise,
    sat_kind,
    swar_add,
    swar_sub,
    vinsn,
)

# --- whole-register forms ---------------------------------------------------------------------

def _cmp_gt(a):
    return compare(a, "V[{n}]", "V[{m}]", not a.U, n=a.n, m=a.m)


def _cmp_ge(a):
    return compare(a, "V[{n}]", "V[{m}]", not a.U, swap=True, invert=True, n=a.n, m=a.m)


def _cmp_eq_tst(a):
    """CMEQ (U=1) / CMTST (U=0)."""
    k = a.masks
    if a.U:
        return vinsn("V[{d}] = VecZero(V[{n}] ^ V[{m}], {data}, {msb}, {low}, {top})", d=a.d,
                     n=a.n, m=a.m, **k)
    return vinsn("V[{d}] = {data} ^ VecZero(V[{n}] & V[{m}], {data}, {msb}, {low}, {top})",
                 d=a.d, n=a.n, m=a.m, **k)


def _add_sub(a):
    """ADD/SUB, lane-wise on the whole register."""
    expr = swar_sub("_a", "_b") if a.U else swar_add("_a", "_b")
    return vinsn("_a = V[{n}]\n_b = V[{m}]\nV[{d}] = " + expr, d=a.d, n=a.n, m=a.m, **a.masks)


def _max_min(maximum):
    def build(a):
        k = a.masks
        pick = "_a & _g | _b & ~_g" if maximum else "_b & _g | _a & ~_g"
        x, y = ("_a", "_b") if a.U else ("_a ^ {msb}", "_b ^ {msb}")
        return vinsn("_a = V[{n}] & {data}\n_b = V[{m}] & {data}\n"
                     f"_g = VecHigher({x}, {y}, {{data}}, {{msb}}, {{low}}, {{top}})\n"
                     f"V[{{d}}] = {pick}", d=a.d, n=a.n, m=a.m, **k)
    return build


# AND, BIC, ORR, ORN (U=0) and EOR, BSL, BIT, BIF (U=1) by U:size
LOGIC = ("V[{n}] & V[{m}]", "V[{n}] & ~V[{m}]", "V[{n}] | V[{m}]", "V[{n}] | ~V[{m}]",
         "V[{n}] ^ V[{m}]", "V[{m}] ^ (V[{m}] ^ V[{n}]) & V[{d}]",
         "V[{d}] ^ (V[{d}] ^ V[{n}]) & V[{m}]", "V[{d}] ^ (V[{d}] ^ V[{n}]) & ~V[{m}]")


# --- lane-by-lane forms -----------------------------------------------------------------------

def per_lane(expr, sat=False, acc=False, pairwise=False, signed=True):
    """A three-same instruction computing `expr` per element (signed elements when U=0 and
    `signed`), saturating to the element's signedness with `sat`."""
    def build(a):
        sign = signed and not a.U
        return lanewise(a.d, expr, [a.src(a.n, sign), a.src(a.m, sign)], a.esize, a.count,
                        sat=sat_kind(a.U) if sat else None, acc=acc, pairwise=pairwise)
    return build


def _mla_mls(a):
    return per_lane("_d - _a * _b" if a.U else "_d + _a * _b", acc=True, signed=False)(a)


def _pmul_or_mul(a):
    if a.U:
        if a.esize != 8:
            raise Unallocated("PMUL is for bytes")
        return per_lane("PolynomialMult(_a, _b)")(a)
    return per_lane("_a * _b")(a)


def _addp(a):
    if a.U:
        raise Unallocated("three same U=1 opcode 10111")
    return per_lane("_a + _b", pairwise=True, signed=False)(a)


def sqdmulh(d, a_src, b_src, esize, count, rounding):
    """SQDMULH/SQRDMULH: the high half of the doubled product, saturated (only the product
    of two most negative elements does)."""
    return lanewise(d, "(2 * _a * _b + {rc}) >> {e}", [a_src, b_src], esize, count, sat="s",
                    rc=(1 << (esize - 1)) if rounding else 0, e=esize)


def _sqdmulh(a):
    """SQDMULH (U=0) / SQRDMULH (U=1)."""
    return sqdmulh(a.d, a.src(a.n, True), a.src(a.m, True), a.esize, a.count, a.U)


# Size rules: "any" every size; "q64" 64-bit elements only in a 128-bit vector; "no64" no
# 64-bit elements; "hs" 16- and 32-bit elements only.
THREE_SAME = {
    0b00000: ("no64", per_lane("(_a + _b) >> 1")),                   # SHADD / UHADD
    0b00001: ("q64", per_lane("_a + _b", sat=True)),                 # SQADD / UQADD
    0b00010: ("no64", per_lane("(_a + _b + 1) >> 1")),               # SRHADD / URHADD
    0b00100: ("no64", per_lane("(_a - _b) >> 1")),                   # SHSUB / UHSUB
    0b00101: ("q64", per_lane("_a - _b", sat=True)),                 # SQSUB / UQSUB
    0b00110: ("q64", _cmp_gt),                                       # CMGT / CMHI
    0b00111: ("q64", _cmp_ge),                                       # CMGE / CMHS
    0b01000: ("q64", per_lane("ShiftElement(_a, _b, 0)")),           # SSHL / USHL
    0b01001: ("q64", per_lane("ShiftElement(_a, _b, 0)", sat=True)),  # SQSHL / UQSHL
    0b01010: ("q64", per_lane("ShiftElement(_a, _b, 1)")),           # SRSHL / URSHL
    0b01011: ("q64", per_lane("ShiftElement(_a, _b, 1)", sat=True)),  # SQRSHL / UQRSHL
    0b01100: ("no64", _max_min(True)),                               # SMAX / UMAX
    0b01101: ("no64", _max_min(False)),                              # SMIN / UMIN
    0b01110: ("no64", per_lane("abs(_a - _b)")),                     # SABD / UABD
    0b01111: ("no64", per_lane("_d + abs(_a - _b)", acc=True)),      # SABA / UABA
    0b10000: ("q64", _add_sub),                                      # ADD / SUB
    0b10001: ("q64", _cmp_eq_tst),                                   # CMTST / CMEQ
    0b10010: ("no64", _mla_mls),                                     # MLA / MLS
    0b10011: ("no64", _pmul_or_mul),                                 # MUL / PMUL
    0b10100: ("no64", per_lane("max(_a, _b)", pairwise=True)),       # SMAXP / UMAXP
    0b10101: ("no64", per_lane("min(_a, _b)", pairwise=True)),       # SMINP / UMINP
    0b10110: ("hs", _sqdmulh),                                       # SQDMULH / SQRDMULH
    0b10111: ("q64", _addp),                                         # ADDP
}

# The opcodes with a scalar form, and the element sizes it has ("d": 64-bit only).
SCALAR_THREE_SAME = {0b00001: "any", 0b00101: "any", 0b00110: "d", 0b00111: "d", 0b01000: "d",
                     0b01001: "any", 0b01010: "d", 0b01011: "any", 0b10000: "d", 0b10001: "d",
                     0b10110: "hs"}

# Floating-point three same by (U, size<1>, opcode); the FEAT_FHM FMLAL/FMLSL forms and the
# gaps are unallocated.
FP_THREE_SAME = {
    (0, 0, 0b11000): "FMAXNM", (0, 0, 0b11001): "FMLA", (0, 0, 0b11010): "FADD",
    (0, 0, 0b11011): "FMULX", (0, 0, 0b11100): "FCMEQ", (0, 0, 0b11110): "FMAX",
    (0, 0, 0b11111): "FRECPS", (0, 1, 0b11000): "FMINNM", (0, 1, 0b11001): "FMLS",
    (0, 1, 0b11010): "FSUB", (0, 1, 0b11110): "FMIN", (0, 1, 0b11111): "FRSQRTS",
    (1, 0, 0b11000): "FMAXNMP", (1, 0, 0b11010): "FADDP", (1, 0, 0b11011): "FMUL",
    (1, 0, 0b11100): "FCMGE", (1, 0, 0b11101): "FACGE", (1, 0, 0b11110): "FMAXP",
    (1, 0, 0b11111): "FDIV", (1, 1, 0b11000): "FMINNMP", (1, 1, 0b11010): "FABD",
    (1, 1, 0b11100): "FCMGT", (1, 1, 0b11101): "FACGT", (1, 1, 0b11110): "FMINP",
}
SCALAR_FP_THREE_SAME = {key: FP_THREE_SAME[key] for key in [
    (0, 0, 0b11011), (0, 0, 0b11100), (0, 0, 0b11111), (0, 1, 0b11111), (1, 0, 0b11100),
    (1, 0, 0b11101), (1, 1, 0b11010), (1, 1, 0b11100), (1, 1, 0b11101)]}


def size_allowed(rule, size, Q):
    return {"any": True, "q64": size != 3 or Q, "no64": size != 3, "hs": size in (1, 2),
            "d": size == 3}[rule]


@encoding("0 Q U 01110 size:2 1 Rm:5 opcode:5 1 Rn:5 Rd:5")
def AdvSIMD_three_same(Q, U, size, Rm, opcode, Rn, Rd):
    """Advanced SIMD three same (integer; the floating-point opcodes 11xxx are simd_fp.py's)."""
    datasize = 64 << Q
    if opcode == 0b00011:
        return insn(f"V[{{d}}] = ({LOGIC[U * 4 + size]}) & {{dm}}", d=Rd, n=Rn, m=Rm,
                    dm=Ones(datasize))
    rule, build = THREE_SAME[opcode]
    if not size_allowed(rule, size, Q):
        raise Unallocated("AdvSIMD three same: reserved size")
    esize = 8 << size
    return build(Args(U, Rd, Rn, Rm, esize, datasize // esize))


@encoding("01 U 11110 size:2 1 Rm:5 opcode:5 1 Rn:5 Rd:5")
def AdvSIMD_scalar_three_same(U, size, Rm, opcode, Rn, Rd):
    """Advanced SIMD scalar three same (the floating-point opcodes 11xxx are simd_fp.py's)."""
    rule = SCALAR_THREE_SAME.get(opcode)
    if rule is None or not size_allowed(rule, size, 1):
        raise Unallocated("AdvSIMD scalar three same")
    return THREE_SAME[opcode][1](Args(U, Rd, Rn, Rm, 8 << size, 1))


# --- three different and by element: long, wide and narrowing forms ---------------------------

# name -> (expression, accumulate, saturate signed)
LONG_OPS = {
    "ADDL": ("_a + _b", False, False), "SUBL": ("_a - _b", False, False),
    "ABAL": ("_d + abs(_a - _b)", True, False), "ABDL": ("abs(_a - _b)", False, False),
    "MLAL": ("_d + _a * _b", True, False), "MLSL": ("_d - _a * _b", True, False),
    "MULL": ("_a * _b", False, False), "PMULL": ("PolynomialMult(_a, _b)", False, False),
    "SQDMLAL": ("_d + SatQSetQC(2 * _a * _b, {plo}, {phi}, s)", True, True),
    "SQDMLSL": ("_d - SatQSetQC(2 * _a * _b, {plo}, {phi}, s)", True, True),
    "SQDMULL": ("2 * _a * _b", False, True),
}


def long_op(name, d, a_src, b_src, esize, count):
    """A 2*esize-bit result per element from esize-bit (or, for the W forms, 2*esize-bit
    first) operands. SQDMLAL/SQDMLSL saturate the doubled product, then the sum (C7.2)."""
    expr, acc, sat = LONG_OPS[name]
    wide = 2 * esize
    bounds = {"plo": -(1 << (wide - 1)), "phi": (1 << (wide - 1)) - 1} if acc and sat else {}
    return lanewise(d, expr, [a_src, b_src], wide, count, sat="s" if sat else None, acc=acc,
                    **bounds)


# opcode -> (name, wide first operand, U=1 form exists)
THREE_DIFFERENT = {
    0b0000: ("ADDL", False, True), 0b0001: ("ADDL", True, True), 0b0010: ("SUBL", False, True),
    0b0011: ("SUBL", True, True), 0b0101: ("ABAL", False, True), 0b0111: ("ABDL", False, True),
    0b1000: ("MLAL", False, True), 0b1001: ("SQDMLAL", False, False),
    0b1010: ("MLSL", False, True), 0b1011: ("SQDMLSL", False, False),
    0b1100: ("MULL", False, True), 0b1101: ("SQDMULL", False, False),
    0b1110: ("PMULL", False, False),
}


@encoding("0 Q U 01110 size:2 1 Rm:5 opcode:4 00 Rn:5 Rd:5")
def AdvSIMD_three_different(Q, U, size, Rm, opcode, Rn, Rd):
    """Advanced SIMD three different: SADDL...UMULL, SQDMLAL/SQDMLSL/SQDMULL, PMULL,
    ADDHN/RADDHN/SUBHN/RSUBHN; Q selects the upper halves of the narrow operands."""
    esize = 8 << size
    count = 64 // esize
    if opcode in (0b0100, 0b0110):           # ADDHN / SUBHN (U: rounding) into half of Vd
        if size == 3:
            raise Unallocated("ADDHN/SUBHN with 64-bit elements")
        op = "+" if opcode == 0b0100 else "-"
        return lanewise(Rd, f"(_a {op} _b + {{rc}}) >> {{e}}",
                        [Src(Rn, 2 * esize, count), Src(Rm, 2 * esize, count)], esize, count,
                        upper=Q, rc=(1 << (esize - 1)) if U else 0, e=esize)
    entry = THREE_DIFFERENT.get(opcode)
    if entry is None or (U and not entry[2]):
        raise Unallocated("AdvSIMD three different")
    name, wide, _ = entry
    if name == "PMULL":
        if size == 3:
            raise Unallocated("PMULL 64x64: FEAT_PMULL not implemented")
        if size:
            raise Unallocated("PMULL: reserved size")
    elif size == 3 or (name.startswith("SQD") and size == 0):
        raise Unallocated("AdvSIMD three different: reserved size")
    signed = not U and name != "PMULL"
    a_src = (Src(Rn, 2 * esize, count, signed) if wide
             else Src(Rn, esize, count, signed, 8 * Q))
    return long_op(name, Rd, a_src, Src(Rm, esize, count, signed, 8 * Q), esize, count)


@encoding("01 U 11110 size:2 1 Rm:5 opcode:4 00 Rn:5 Rd:5")
def AdvSIMD_scalar_three_different(U, size, Rm, opcode, Rn, Rd):
    """SQDMLAL, SQDMLSL, SQDMULL (scalar)."""
    name = {0b1001: "SQDMLAL", 0b1011: "SQDMLSL", 0b1101: "SQDMULL"}.get(opcode)
    if name is None or U or size not in (1, 2):
        raise Unallocated("AdvSIMD scalar three different")
    esize = 8 << size
    return long_op(name, Rd, Src(Rn, esize, 1, True), Src(Rm, esize, 1, True), esize, 1)


# By element: opcode -> name for U=0 and U=1 (None: unallocated or an unimplemented feature:
# FEAT_FHM, FEAT_FCMA, FEAT_DotProd, FEAT_RDM, FEAT_I8MM, FEAT_BF16).
BY_ELEMENT = {
    0b0000: (None, "MLA"), 0b0001: ("FMLA", None), 0b0010: ("MLAL", "MLAL"),
    0b0011: ("SQDMLAL", None), 0b0100: (None, "MLS"), 0b0101: ("FMLS", None),
    0b0110: ("MLSL", "MLSL"), 0b0111: ("SQDMLSL", None), 0b1000: ("MUL", None),
    0b1001: ("FMUL", "FMULX"), 0b1010: ("MULL", "MULL"), 0b1011: ("SQDMULL", None),
    0b1100: ("SQDMULH", None), 0b1101: ("SQRDMULH", None),
}
SAME_SIZE_BY_ELEMENT = {"MLA": "_d + _a * _b", "MLS": "_d - _a * _b", "MUL": "_a * _b"}
SCALAR_BY_ELEMENT = {"FMLA", "FMLS", "FMUL", "FMULX", "SQDMLAL", "SQDMLSL", "SQDMULL",
                     "SQDMULH", "SQRDMULH"}


def by_element(Q, U, size, L, M, Rm, opcode, H, Rn, Rd, scalar):
    """The by-element forms: the second operand is element `index` of V[m], which for 16-bit
    elements is one of V0-V15 (M is then the index's low bit)."""
    entry = BY_ELEMENT.get(opcode)
    name = entry and entry[U]
    if name is None or (scalar and name not in SCALAR_BY_ELEMENT):
        raise Unallocated("AdvSIMD by element")
    if name.startswith("F"):                 # sizes 1x are simd_fp.py's; 00 is FEAT_FP16
        raise Unallocated(name)
    if size not in (1, 2):
        raise Unallocated("AdvSIMD by element: reserved size")
    esize = 8 << size
    if size == 1:
        index, m = (H << 2) | (L << 1) | M, Rm
    else:
        index, m = (H << 1) | L, (M << 4) | Rm
    signed = not U
    element = Src(m, esize, 1, signed, index * esize // 8, bcast=True)
    if name in SAME_SIZE_BY_ELEMENT or name in ("SQDMULH", "SQRDMULH"):
        count = 1 if scalar else (64 << Q) // esize
        if name in SAME_SIZE_BY_ELEMENT:
            expr = SAME_SIZE_BY_ELEMENT[name]
            return lanewise(Rd, expr, [Src(Rn, esize, count), element], esize, count,
                            acc="_d" in expr)
        return sqdmulh(Rd, Src(Rn, esize, count, True), element, esize, count,
                       name == "SQRDMULH")
    count = 1 if scalar else 64 // esize
    return long_op(name, Rd, Src(Rn, esize, count, signed, 0 if scalar else 8 * Q), element,
                   esize, count)


@encoding("0 Q U 01111 size:2 L M Rm:4 opcode:4 H 0 Rn:5 Rd:5")
def AdvSIMD_vector_x_indexed_element(Q, U, size, L, M, Rm, opcode, H, Rn, Rd):
    """MUL, MLA, MLS, SMULL/UMULL, SMLAL/UMLAL, SMLSL/UMLSL, SQDMULL, SQDMLAL, SQDMLSL,
    SQDMULH, SQRDMULH (by element)."""
    return by_element(Q, U, size, L, M, Rm, opcode, H, Rn, Rd, scalar=False)


@encoding("01 U 11111 size:2 L M Rm:4 opcode:4 H 0 Rn:5 Rd:5")
def AdvSIMD_scalar_x_indexed_element(U, size, L, M, Rm, opcode, H, Rn, Rd):
    """SQDMULL, SQDMLAL, SQDMLSL, SQDMULH, SQRDMULH (by element, scalar)."""
    return by_element(1, U, size, L, M, Rm, opcode, H, Rn, Rd, scalar=True)
