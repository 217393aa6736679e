"""Advanced SIMD shift by immediate (C4.1.96), vector and scalar: SSHR/USHR, SSRA/USRA,
SRSHR/URSHR, SRSRA/URSRA, SRI, SHL, SLI, SQSHLU, SQSHL/UQSHL (immediate), SHRN/RSHRN,
SQSHRN/UQSHRN, SQRSHRN/UQRSHRN, SQSHRUN/SQRSHRUN, SSHLL/USHLL (SXTL/UXTL).

The element size is 8 << HighestSetBit(immh); immh:immb encodes a right shift as
2*esize - immh:immb and a left shift as immh:immb - esize."""

from ..bits import HighestSetBit, Ones
from ..decode import Unallocated, encoding
from ..vector import lane_masks, replicated
from .simd import Src, lanewise, sat_kind, swar_add, vinsn
from .simd_move import ZEROS, permuted


def _right(kind, U, d, n, esize, count, sh):
    """SSHR/USHR, SSRA/USRA, SRI (whole register); SRSHR/URSHR, SRSRA/URSRA (per element,
    rounding)."""
    if kind in ("rshr", "rsra"):
        return lanewise(d, "_d + (_a + {rc} >> {sh})" if kind == "rsra" else "_a + {rc} >> {sh}",
                        [Src(n, esize, count, not U)], esize, count, acc=kind == "rsra",
                        rc=1 << (sh - 1), sh=sh)
    datasize = esize * count
    k = lane_masks(esize, datasize)
    keep = replicated(Ones(esize - sh), esize, datasize)
    # A logical shift keeping the esize - sh low bits of each lane (which also drops the bits
    # above a 64-bit vector); for signed elements the sign bit (_s) is then copied into the
    # `sh` bits vacated at the top of each lane.
    src, shifted = "", "V[{n}] >> {sh} & {keep}"
    if not U and kind != "sri":
        src = "_s = V[{n}] & {msb}\n"
        shifted = f"({shifted} | (_s | _s - (_s >> {{top}})) & ~{{keep}})"
    if kind == "shr":
        src += "V[{d}] = " + shifted
    elif kind == "sra":
        src += f"_r = {shifted}\nV[{{d}}] = " + swar_add("_r", "V[{d}]")
    else:
        src += "V[{d}] = V[{d}] & {hold} | " + shifted
    return vinsn(src, d=d, n=n, sh=sh, keep=keep, hold=k.data & ~keep, msb=k.msb, low=k.low,
                 top=k.top)


def _left(kind, U, d, n, esize, count, sh):
    """SHL, SLI (whole register); SQSHL, UQSHL, SQSHLU (per element, saturating)."""
    if kind == "qshl":
        return lanewise(d, "_a << {sh}", [Src(n, esize, count, not U)], esize, count,
                        sat=sat_kind(U), sh=sh)
    if kind == "qshlu":
        return lanewise(d, "_a << {sh}", [Src(n, esize, count, True)], esize, count, sat="u",
                        sh=sh)
    datasize = esize * count
    keep = replicated(Ones(esize) ^ Ones(sh), esize, datasize)
    shifted = "V[{n}] << {sh} & {keep}"      # keep: the lanes' shifted bits, in datasize
    src = "V[{d}] = " + ("V[{d}] & {hold} | " if kind == "sli" else "") + shifted
    return vinsn(src, d=d, n=n, sh=sh, keep=keep, hold=replicated(Ones(sh), esize, datasize))


def _narrow(kind, U, d, n, esize, count, sh, upper):
    """SHRN/RSHRN, SQSHRUN/SQRSHRUN, SQSHRN/UQSHRN, SQRSHRN/UQRSHRN: 2*esize-bit elements
    shifted right into esize bits."""
    rounding, sat, signed = kind
    return lanewise(d, "_a + {rc} >> {sh}", [Src(n, 2 * esize, count, signed)], esize, count,
                    sat=sat, upper=upper, rc=(1 << (sh - 1)) if rounding else 0, sh=sh)


def _shll(U, d, n, esize, part, sh):
    """SSHLL/USHLL (SXTL/UXTL): the elements of one half of V[n] zero-extended to 2*esize
    bits by a byte permutation; SSHLL then fills bits esize..2*esize-1 of each lane with the
    sign bit, as (sign << esize+1) - (sign << 1), before the lanes are shifted left."""
    count = 64 // esize
    widen = [e for i in range(count) for e in (part * count + i, 128 // esize)]
    value, params = permuted(n, ZEROS, esize, widen)
    if U:
        return vinsn(f"V[{{d}}] = {value} << {{sh}}", d=d, sh=sh, **params)
    return vinsn(f"_x = {value}\n_m = _x & {{sign}}\n"
                 "V[{d}] = (_x | (_m << {e1}) - (_m << 1)) << {sh} & {keep}", d=d,
                 sign=replicated(1 << (esize - 1), 2 * esize, 128), e1=esize + 1, sh=sh,
                 keep=replicated(Ones(2 * esize) ^ Ones(sh), 2 * esize, 128), **params)


# opcode -> (U=0 form, U=1 form); None is unallocated
SHIFTS = {
    0b00000: ("shr", "shr"), 0b00010: ("sra", "sra"), 0b00100: ("rshr", "rshr"),
    0b00110: ("rsra", "rsra"), 0b01000: (None, "sri"), 0b01010: ("shl", "sli"),
    0b01100: (None, "qshlu"), 0b01110: ("qshl", "qshl"),
}
LEFT = {"shl", "sli", "qshl", "qshlu"}
# opcode -> (rounding, saturation, signed source) for U=0 and U=1
NARROW = {
    0b10000: ((False, None, False), (False, "u", True)),      # SHRN, SQSHRUN
    0b10001: ((True, None, False), (True, "u", True)),        # RSHRN, SQRSHRUN
    0b10010: ((False, "s", True), (False, "u", False)),       # SQSHRN, UQSHRN
    0b10011: ((True, "s", True), (True, "u", False)),         # SQRSHRN, UQRSHRN
}


@encoding("0 Q U 011110 immh:4 immb:3 opcode:5 1 Rn:5 Rd:5")
def AdvSIMD_shift_by_immediate(Q, U, immh, immb, opcode, Rn, Rd):
    """Advanced SIMD shift by immediate (immh = 0000 is the modified immediate class; the
    fixed-point conversions are simd_fp.py's)."""
    esize = 8 << HighestSetBit(immh)
    imm = (immh << 3) | immb
    if opcode in NARROW or opcode == 0b10100:
        if immh >> 3:
            raise Unallocated("AdvSIMD shift: reserved immh for a narrowing/lengthening shift")
        count = 64 // esize
        if opcode == 0b10100:
            return _shll(U, Rd, Rn, esize, Q, imm - esize)
        return _narrow(NARROW[opcode][U], U, Rd, Rn, esize, count, 2 * esize - imm, Q)
    kind = SHIFTS.get(opcode, (None, None))[U]
    if kind is None or (immh >> 3 and not Q):
        raise Unallocated("AdvSIMD shift by immediate")
    count = (64 << Q) // esize
    if kind in LEFT:
        return _left(kind, U, Rd, Rn, esize, count, imm - esize)
    return _right(kind, U, Rd, Rn, esize, count, 2 * esize - imm)


@encoding("01 U 111110 immh:4 immb:3 opcode:5 1 Rn:5 Rd:5")
def AdvSIMD_scalar_shift_by_immediate(U, immh, immb, opcode, Rn, Rd):
    """Advanced SIMD scalar shift by immediate."""
    if not immh:
        raise Unallocated("AdvSIMD scalar shift with immh = 0000")
    esize = 8 << HighestSetBit(immh)
    imm = (immh << 3) | immb
    if opcode in NARROW:
        if immh >> 3 or not (U or NARROW[opcode][0][1]):
            raise Unallocated("AdvSIMD scalar shift: SHRN/RSHRN or a reserved immh")
        return _narrow(NARROW[opcode][U], U, Rd, Rn, esize, 1, 2 * esize - imm, False)
    kind = SHIFTS.get(opcode, (None, None))[U]
    if kind is None or (esize != 64 and kind not in ("qshl", "qshlu")):
        raise Unallocated("AdvSIMD scalar shift by immediate")
    if kind in LEFT:
        return _left(kind, U, Rd, Rn, esize, 1, imm - esize)
    return _right(kind, U, Rd, Rn, esize, 1, 2 * esize - imm)
