"""Bit-level helpers named after the Arm ARM shared pseudocode (J1 / shared/functions)."""

M32 = 0xFFFF_FFFF
M64 = 0xFFFF_FFFF_FFFF_FFFF
M128 = (1 << 128) - 1


def Ones(n):
    return (1 << n) - 1


def SignExtend(x, n):
    """SignExtend(x<n-1:0>) to an unbounded Python int."""
    x &= (1 << n) - 1
    return x - (1 << n) if x >> (n - 1) else x


def SInt(x, n):
    return SignExtend(x, n)


def ROR(x, shift, n):
    shift %= n
    if shift == 0:
        return x
    return ((x >> shift) | (x << (n - shift))) & ((1 << n) - 1)


def Replicate(x, esize, n):
    out = 0
    for i in range(0, n, esize):
        out |= x << i
    return out


def HighestSetBit(x):
    return x.bit_length() - 1


def CountLeadingZeroBits(x, n):
    return n - x.bit_length()


def CountLeadingSignBits(x, n):
    return CountLeadingZeroBits((x >> 1) ^ (x & ((1 << (n - 1)) - 1)), n - 1)


def BitReverse(x, n):
    return int(format(x, f"0{n}b")[::-1], 2)


def NZCV(n, z, c, v):
    return (n << 3) | (z << 2) | (c << 1) | v


def AddWithCarry(x, y, carry, n):
    """AddWithCarry(): returns (result, nzcv) with nzcv packed as N<<3|Z<<2|C<<1|V."""
    mask = (1 << n) - 1
    unsigned_sum = x + y + carry
    result = unsigned_sum & mask
    sign = 1 << (n - 1)
    # V: operands have the same sign and the result's sign differs.
    v = ((x ^ result) & (y ^ result) & sign) != 0
    nzcv = ((result >> (n - 1)) << 3) | ((result == 0) << 2) | ((unsigned_sum > mask) << 1) | v
    return result, nzcv


def ConditionMasks():
    """For each condition code, a 16-bit mask: bit k is set when the condition holds for NZCV=k.

    ConditionHolds() (shared/functions/system/ConditionHolds).
    """
    masks = []
    for cond in range(16):
        m = 0
        for nzcv in range(16):
            n, z, c, v = (nzcv >> 3) & 1, (nzcv >> 2) & 1, (nzcv >> 1) & 1, nzcv & 1
            base = cond >> 1
            r = [z == 1, c == 1, n == 1, v == 1, c == 1 and z == 0, n == v, n == v and z == 0,
                 True][base]
            if cond & 1 and cond != 15:
                r = not r
            if r:
                m |= 1 << nzcv
        masks.append(m)
    return tuple(masks)


COND_MASK = ConditionMasks()


def ConditionHolds(cond, nzcv):
    return (COND_MASK[cond] >> nzcv) & 1


def DecodeBitMasks(immN, imms, immr, immediate, datasize):
    """DecodeBitMasks() (aarch64/instrs/integer/bitmasks). Returns (wmask, tmask) or None if the
    encoding is reserved."""
    length = HighestSetBit((immN << 6) | (~imms & 0x3F))
    if length < 1:
        return None
    levels = Ones(length)
    if immediate and (imms & levels) == levels:
        return None
    s = imms & levels
    r = immr & levels
    diff = (s - r) & levels
    esize = 1 << length
    if esize > datasize:
        return None
    d = diff & levels
    welem = Ones(s + 1)
    telem = Ones(d + 1)
    wmask = Replicate(ROR(welem, r, esize), esize, datasize)
    tmask = Replicate(telem, esize, datasize)
    return wmask, tmask


# ShiftType
LSL, LSR, ASR, ROR_ = 0, 1, 2, 3


def ShiftReg(value, shift_type, amount, n):
    """ShiftReg() on an already-read register value of n bits."""
    if shift_type == LSL:
        return (value << amount) & ((1 << n) - 1)
    if shift_type == LSR:
        return value >> amount
    if shift_type == ASR:
        return (SignExtend(value, n) >> amount) & ((1 << n) - 1)
    return ROR(value, amount, n)


def ExtendValue(value, extend_type, shift, n):
    """ExtendReg() on an already-read register value: extend_type is the 3-bit option field."""
    unsigned = extend_type < 4
    length = 8 << (extend_type & 3)
    v = value & ((1 << length) - 1)
    if not unsigned:
        v = SignExtend(v, length)
    return (v << shift) & ((1 << n) - 1)
