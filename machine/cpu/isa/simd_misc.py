"""Advanced SIMD one-source classes (C4.1.96): two-register miscellaneous, across lanes and
scalar pairwise, vector and scalar."""

from ..bits import BitReverse, Ones
from ..decode import Unallocated, encoding, insn
from ..vector import Lanes, lane_masks, replicated
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
from .simd_move import element_permutation

POPCOUNT = bytes(bin(i).count("1") for i in range(256))
BITREV8 = bytes(BitReverse(i, 8) for i in range(256))


def _byte_table(a, table):
    nb = a.count * a.esize // 8
    return insn("V[{d}] = int.from_bytes((V[{n}] & {dm}).to_bytes({nb}, 'little')"
                ".translate({tbl}), 'little')", d=a.d, n=a.n, dm=Ones(8 * nb), nb=nb, tbl=table)


def _rev(a, container):
    """REV16/REV32/REV64: reverse the order of the elements in each container."""
    r = container // a.esize
    order = [(e // r) * r + r - 1 - e % r for e in range(a.count)]
    return element_permutation(a.d, a.n, None, a.esize, order)


def _uaddlp(d, n, esize, datasize, accumulate):
    """UADDLP/UADALP: the even plus the odd esize-bit elements, each pair's sum fitting its
    2*esize-bit lane; UADALP adds the destination with the carry between lanes suppressed."""
    k = lane_masks(2 * esize, datasize)
    pairs = "(V[{n}] & {even}) + (V[{n}] >> {e} & {even})"
    if accumulate:
        src = f"_p = {pairs}\nV[{{d}}] = " + swar_add("_p", "V[{d}]")
    else:
        src = "V[{d}] = " + pairs
    return vinsn(src, d=d, n=n, e=esize, even=replicated(Ones(esize), 2 * esize, datasize),
                 low=k.low, msb=k.msb)


def _compare_zero(a, opcode):
    """CMGT, CMGE (01000), CMEQ, CMLE (01001), CMLT (01010) (zero)."""
    if opcode == 0b01000:            # x > 0, or x >= 0 as NOT(0 > x)
        return compare(a, "V[{n}]", "0", True, swap=a.U, invert=a.U, n=a.n)
    if opcode == 0b01001:
        if a.U:                      # x <= 0 as NOT(x > 0)
            return compare(a, "V[{n}]", "0", True, invert=True, n=a.n)
        return vinsn("V[{d}] = VecZero(V[{n}], {data}, {msb}, {low}, {top})", d=a.d, n=a.n,
                     **a.masks)
    if a.U:
        raise Unallocated("two-register miscellaneous U=1 opcode 01010")
    return compare(a, "0", "V[{n}]", True, n=a.n)


def _abs_neg(a, opcode):
    """NEG: 0 - x lane-wise; ABS picks it for the negative lanes."""
    if a.U:
        return vinsn("_a = V[{n}]\nV[{d}] = " + swar_sub("0", "_a"), d=a.d, n=a.n, **a.masks)
    return vinsn("_a = V[{n}] & {data}\n_s = _a & {msb}\n_s |= _s - (_s >> {top})\n"
                 f"V[{{d}}] = ({swar_sub('0', '_a')}) & _s | _a & ~_s", d=a.d, n=a.n,
                 **a.masks)


def _xtn(d, n, esize, upper):
    """XTN/XTN2: the low halves of the 2*esize-bit elements, a permutation of V[n]'s
    esize-bit elements (the even ones) after V[d]'s lower half with `upper`."""
    count = 64 // esize
    evens = [2 * i for i in range(count)]
    if upper:
        return element_permutation(d, d, n, esize, list(range(count)) +
                                   [128 // esize + e for e in evens])
    return element_permutation(d, n, None, esize, evens)


def _narrow(a, src_signed, sat, upper):
    """SQXTN, UQXTN, SQXTUN: 2*esize-bit elements saturated to esize bits."""
    return lanewise(a.d, "_a", [Src(a.n, 2 * a.esize, a.count, src_signed)], a.esize, a.count,
                    sat=sat, upper=upper)


def _suqadd(a, opcode):
    """SUQADD (U=0): V[d] signed + V[n] unsigned, saturated signed; USQADD the converse."""
    return lanewise(a.d, "_a + _d", [a.src(a.n, signed=bool(a.U))], a.esize, a.count,
                    sat=sat_kind(a.U), acc=True)


def _sqabs_sqneg(a, opcode):
    return lanewise(a.d, "-_a" if a.U else "abs(_a)", [a.src(a.n, True)], a.esize, a.count,
                    sat="s")


# The opcodes with the same vector and scalar forms, 64-bit elements included: opcode ->
# builder(a, opcode).
COMMON_MISC = {0b00011: _suqadd, 0b00111: _sqabs_sqneg, 0b01000: _compare_zero,
               0b01001: _compare_zero, 0b01010: _compare_zero, 0b01011: _abs_neg}
SCALAR_ANY_SIZE = (0b00011, 0b00111)     # the others have 64-bit scalars only


# Floating-point two-register miscellaneous by (U, size<1>, opcode).
FP_MISC = {
    (0, 0, 0b10110): "FCVTN", (0, 0, 0b10111): "FCVTL", (1, 0, 0b10110): "FCVTXN",
    (0, 0, 0b11000): "FRINTN", (0, 0, 0b11001): "FRINTM", (0, 0, 0b11010): "FCVTNS",
    (0, 0, 0b11011): "FCVTMS", (0, 0, 0b11100): "FCVTAS", (0, 0, 0b11101): "SCVTF",
    (0, 0, 0b11110): "FRINT32Z", (0, 0, 0b11111): "FRINT64Z",
    (0, 1, 0b01100): "FCMGT", (0, 1, 0b01101): "FCMEQ", (0, 1, 0b01110): "FCMLT",
    (0, 1, 0b01111): "FABS", (0, 1, 0b11000): "FRINTP", (0, 1, 0b11001): "FRINTZ",
    (0, 1, 0b11010): "FCVTPS", (0, 1, 0b11011): "FCVTZS", (0, 1, 0b11100): "URECPE",
    (0, 1, 0b11101): "FRECPE",
    (1, 0, 0b11000): "FRINTA", (1, 0, 0b11001): "FRINTX", (1, 0, 0b11010): "FCVTNU",
    (1, 0, 0b11011): "FCVTMU", (1, 0, 0b11100): "FCVTAU", (1, 0, 0b11101): "UCVTF",
    (1, 0, 0b11110): "FRINT32X", (1, 0, 0b11111): "FRINT64X",
    (1, 1, 0b01100): "FCMGE", (1, 1, 0b01101): "FCMLE", (1, 1, 0b01111): "FNEG",
    (1, 1, 0b11001): "FRINTI", (1, 1, 0b11010): "FCVTPU", (1, 1, 0b11011): "FCVTZU",
    (1, 1, 0b11100): "URSQRTE", (1, 1, 0b11101): "FRSQRTE", (1, 1, 0b11111): "FSQRT",
}
SCALAR_FP_MISC = {(0, 1, 0b11111): "FRECPX"} | {key: FP_MISC[key] for key in [
    (0, 1, 0b01100), (0, 1, 0b01101), (0, 1, 0b01110), (1, 1, 0b01100), (1, 1, 0b01101),
    (1, 0, 0b10110), (0, 0, 0b11010), (0, 0, 0b11011), (0, 0, 0b11100), (0, 0, 0b11101),
    (0, 1, 0b11010), (0, 1, 0b11011), (0, 1, 0b11101), (1, 0, 0b11010),
    (1, 0, 0b11011), (1, 0, 0b11100), (1, 0, 0b11101), (1, 1, 0b11010), (1, 1, 0b11011),
    (1, 1, 0b11101)]}


@encoding("0 Q U 01110 size:2 10000 opcode:5 10 Rn:5 Rd:5")
def AdvSIMD_two_reg_misc(Q, U, size, opcode, Rn, Rd):
    """REV16/32/64, SADDLP/UADDLP, SUQADD/USQADD, CLS/CLZ, CNT/NOT/RBIT, SADALP/UADALP,
    SQABS/SQNEG, CMGT/CMGE/CMEQ/CMLE/CMLT (zero), ABS/NEG, XTN/SQXTUN/SQXTN/UQXTN, SHLL
    (the floating-point opcodes 011xx, 1011x, 11xxx are simd_fp.py's)."""
    if size == 3 and (opcode not in COMMON_MISC or not Q):
        raise Unallocated("AdvSIMD two-register miscellaneous: 64-bit elements")
    esize = 8 << size
    datasize = 64 << Q
    a = Args(U, Rd, Rn, None, esize, datasize // esize)
    if opcode in COMMON_MISC:
        return COMMON_MISC[opcode](a, opcode)
    if opcode == 0b00000 and size < 2 + (not U):
        return _rev(a, 32 if U else 64)
    if opcode == 0b00001 and not U and size == 0:
        return _rev(a, 16)
    if opcode in (0b00010, 0b00110):         # SADDLP/UADDLP, SADALP/UADALP
        if U:
            return _uaddlp(Rd, Rn, esize, datasize, accumulate=opcode & 4)
        return lanewise(Rd, "_d + _a + _b" if opcode & 4 else "_a + _b",
                        [Src(Rn, esize, a.count, True)], 2 * esize, a.count // 2,
                        pairwise=True, acc=bool(opcode & 4))
    if opcode == 0b00100:                    # CLS / CLZ
        if U:
            return lanewise(Rd, "{e} - _a.bit_length()", [Src(Rn, esize, a.count)], esize,
                            a.count, e=esize)
        return lanewise(Rd, "{e1} - (_a ^ _a >> {e1}).bit_length()",
                        [Src(Rn, esize, a.count, True)], esize, a.count, e1=esize - 1)
    if opcode == 0b00101 and size <= U:      # CNT, NOT, RBIT
        if not U:
            return _byte_table(a, POPCOUNT)
        if size:
            return _byte_table(a, BITREV8)
        return insn("V[{d}] = ~V[{n}] & {dm}", d=Rd, n=Rn, dm=Ones(datasize))
    narrow = Args(U, Rd, Rn, None, esize, 64 // esize)
    if opcode == 0b10010:                    # XTN / SQXTUN
        return _narrow(narrow, True, "u", Q) if U else _xtn(Rd, Rn, esize, Q)
    if opcode == 0b10100:                    # SQXTN / UQXTN
        return _narrow(narrow, not U, sat_kind(U), Q)
    if opcode == 0b10011 and U:              # SHLL
        return lanewise(Rd, "_a << {e}", [Src(Rn, esize, narrow.count, False, 8 * Q)],
                        2 * esize, narrow.count, e=esize)
    raise Unallocated("AdvSIMD two-register miscellaneous")


@encoding("01 U 11110 size:2 10000 opcode:5 10 Rn:5 Rd:5")
def AdvSIMD_scalar_two_reg_misc(U, size, opcode, Rn, Rd):
    """SUQADD/USQADD, SQABS/SQNEG, CMGT/CMGE/CMEQ/CMLE/CMLT (zero), ABS/NEG, SQXTUN,
    SQXTN/UQXTN (scalar; the floating-point opcodes are simd_fp.py's)."""
    esize = 8 << size
    a = Args(U, Rd, Rn, None, esize, 1)
    if opcode in COMMON_MISC and (size == 3 or opcode in SCALAR_ANY_SIZE):
        return COMMON_MISC[opcode](a, opcode)
    if size < 3 and opcode == 0b10010 and U:
        return _narrow(a, True, "u", False)
    if size < 3 and opcode == 0b10100:
        return _narrow(a, not U, sat_kind(U), False)
    raise Unallocated("AdvSIMD scalar two-register miscellaneous")


# --- across lanes and scalar pairwise ---------------------------------------------------------

ACROSS = {0b00011: ("sum", True), 0b01010: ("max", False), 0b11010: ("min", False),
          0b11011: ("sum", False)}


@encoding("0 Q U 01110 size:2 11000 opcode:5 10 Rn:5 Rd:5")
def AdvSIMD_across_lanes(Q, U, size, opcode, Rn, Rd):
    """SADDLV/UADDLV, SMAXV/UMAXV, SMINV/UMINV, ADDV (FMAXV etc. are simd_fp.py's)."""
    entry = ACROSS.get(opcode)
    if entry is None or (U and opcode == 0b11011) or size == 3 or (size == 2 and not Q):
        raise Unallocated("AdvSIMD across lanes")
    fn, long = entry
    esize = 8 << size
    return insn(f"V[{{d}}] = {fn}({{L}}.unpack_from(V[{{n}}].to_bytes(16, 'little'))) & {{em}}",
                d=Rd, n=Rn, L=Lanes(esize, (64 << Q) // esize, not U), em=Ones(esize << long))


@encoding("01 U 11110 size:2 11000 opcode:5 10 Rn:5 Rd:5")
def AdvSIMD_scalar_pairwise(U, size, opcode, Rn, Rd):
    """ADDP (scalar); the floating-point pairwise forms are simd_fp.py's."""
    if U or opcode != 0b11011 or size != 3:
        raise Unallocated("AdvSIMD scalar pairwise")
    return insn("V[{d}] = (V[{n}] + (V[{n}] >> 64)) & 0xFFFFFFFFFFFFFFFF", d=Rd, n=Rn)
