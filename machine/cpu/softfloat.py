"""IEEE 754 arithmetic as the Arm ARM's shared pseudocode defines it (shared/functions/float/*).

Floating-point values travel as bit patterns (ints of N = 16, 32 or 64 bits). Every operation
works on exact values -- an unpacked value is `mant * 2**exp` with an integer `mant` -- and
rounds once, in FPRound, so that all four FPCR.RMode rounding modes and every cumulative
exception flag come out exactly as the pseudocode says. Division and square root, whose exact
result need not be dyadic, compute a quotient/root several bits wider than the format and fold
the remainder into a "sticky" least significant bit, which rounds identically.

`st` is anything with `fpcr` and `fpsr` int attributes (a CpuState): FPCR is read from it and
FPProcessException() ORs the cumulative flags into its FPSR. The trapped-exception enables
(FPCR.IOE..IDE) are RAZ/WI on this CPU, so no exception is ever trapped. FEAT_FP16 arithmetic,
FEAT_AFP (FPCR.AH/FIZ/NEP) and FPCR.FZ16 are not implemented: half precision only appears in
conversions, which treat FZ16 as 0 anyway (FPUnpackCV/FPRoundCV).

For the default FPCR (round to nearest even, no FZ, no DN), double-precision add, subtract,
multiply, divide and square root of finite operands first try the host's IEEE double
arithmetic (`_fast_*`): each fast path proves its flags from the exact result and returns None
to fall back to the exact path whenever it cannot.
"""

import math
import struct

from .translate import runtime

# FPType
FPType_Zero, FPType_Denormal, FPType_Nonzero, FPType_Infinity, FPType_QNaN, FPType_SNaN = range(6)

# FPRounding: the first four are FPDecodeRounding(FPCR.RMode)
FPRounding_TIEEVEN, FPRounding_POSINF, FPRounding_NEGINF, FPRounding_ZERO = range(4)
FPRounding_TIEAWAY, FPRounding_ODD = 4, 5

# FPSR cumulative exception bits (FPExc_*)
FPExc_InvalidOp, FPExc_DivideByZero, FPExc_Overflow = 0x01, 0x02, 0x04
FPExc_Underflow, FPExc_Inexact, FPExc_InputDenorm = 0x08, 0x10, 0x80

# FPCR fields
FPCR_AHP = 1 << 26
FPCR_DN = 1 << 25
FPCR_FZ = 1 << 24
FPCR_RMODE_SHIFT = 22
# FPCR bits that make the host-float fast paths inapplicable: DN, FZ, RMode
FPCR_SLOW = FPCR_DN | FPCR_FZ | (3 << FPCR_RMODE_SHIFT)


class Format:
    """Format parameters of an N-bit IEEE binary format: E exponent bits, F fraction bits."""

    __slots__ = ("N", "E", "F", "bias", "minimum_exp", "exp_ones", "frac_mask", "sign_bit",
                 "quiet_bit", "default_nan", "infinity", "max_normal")

    def __init__(self, N, E):
        self.N, self.E, self.F = N, E, N - E - 1
        self.bias = (1 << (E - 1)) - 1
        self.minimum_exp = 1 - self.bias
        self.exp_ones = (1 << E) - 1
        self.frac_mask = (1 << self.F) - 1
        self.sign_bit = 1 << (N - 1)
        self.quiet_bit = 1 << (self.F - 1)
        self.default_nan = (self.exp_ones << self.F) | self.quiet_bit
        self.infinity = self.exp_ones << self.F
        self.max_normal = self.infinity - 1


FORMATS = {16: Format(16, 5), 32: Format(32, 8), 64: Format(64, 11)}


def FPRoundingMode(fpcr):
    return (fpcr >> FPCR_RMODE_SHIFT) & 3


def FPProcessException(exc, st):
    """Trapping is not implemented (FPCR.xxE are RAZ/WI): only the cumulative flag is set."""
    st.fpsr |= exc


def FPZero(sign, N):
    return sign << (N - 1)


def FPInfinity(sign, N):
    return (sign << (N - 1)) | FORMATS[N].infinity


def FPDefaultNaN(N):
    return FORMATS[N].default_nan


# --- unpacking ------------------------------------------------------------------------------

def FPUnpackBase(fpval, N, st, ahp=False):
    """(fptype, sign, mant, exp) with value = (-1)^sign * mant * 2^exp (0 for zeros, infinities
    and NaNs).

    FPCR.FZ flushes single/double denormals to zero with FPExc_InputDenorm; `ahp` selects the
    Arm alternative half-precision format (FPUnpackCV with FPCR.AHP set)."""
    f = FORMATS[N]
    F = f.F
    sign = fpval >> (N - 1)
    exp = (fpval >> F) & f.exp_ones
    frac = fpval & f.frac_mask
    if exp == 0:
        if frac == 0:
            return FPType_Zero, sign, 0, 0
        if N != 16 and st.fpcr & FPCR_FZ:
            FPProcessException(FPExc_InputDenorm, st)
            return FPType_Zero, sign, 0, 0
        return FPType_Denormal, sign, frac, f.minimum_exp - F
    if exp == f.exp_ones and not ahp:
        if frac == 0:
            return FPType_Infinity, sign, 0, 0
        return (FPType_QNaN if frac & f.quiet_bit else FPType_SNaN), sign, 0, 0
    return FPType_Nonzero, sign, frac | (1 << F), exp - f.bias - F


def FPUnpack(fpval, N, st):
    """FPUnpack(): data-processing operands, FPCR.AHP ignored."""
    return FPUnpackBase(fpval, N, st)


def FPUnpackCV(fpval, N, st):
    """FPUnpackCV(): conversion operands, FPCR.AHP honoured (FZ16 is 0 on this CPU anyway)."""
    return FPUnpackBase(fpval, N, st, N == 16 and bool(st.fpcr & FPCR_AHP))


# --- rounding -------------------------------------------------------------------------------

def FPRoundBase(sign, mant, exp, N, st, rounding, ahp=False):
    """FPRoundBase() of the nonzero real (-1)^sign * mant * 2^exp (mant > 0).

    Underflow is detected before rounding (tininess before rounding) and only signalled when
    the result is inexact, as no exception is trapped."""
    f = FORMATS[N]
    F = f.F
    minimum_exp = f.minimum_exp
    exponent = mant.bit_length() - 1 + exp
    if exponent < minimum_exp:
        if N != 16 and st.fpcr & FPCR_FZ:
            # Flush-to-zero never generates a trapped exception
            FPProcessException(FPExc_Underflow, st)
            return sign << (N - 1)
        biased_exp = 0
        shift = exp + F - minimum_exp
    else:
        biased_exp = exponent - minimum_exp + 1
        shift = exp + F - exponent
    # int_mant = RoundDown(mantissa * 2^F); error = rem / 2^-shift
    if shift >= 0:
        int_mant = mant << shift
        rem = 0
    else:
        int_mant = mant >> -shift
        rem = mant & ((1 << -shift) - 1)
        if biased_exp == 0 and rem:
            FPProcessException(FPExc_Underflow, st)
    if rounding == FPRounding_TIEEVEN:
        overflow_to_inf = True
        if rem:
            half = 1 << (-shift - 1)
            round_up = rem > half or (rem == half and int_mant & 1)
        else:
            round_up = False
    elif rounding == FPRounding_POSINF:
        round_up = rem and not sign
        overflow_to_inf = not sign
    elif rounding == FPRounding_NEGINF:
        round_up = rem and sign
        overflow_to_inf = sign
    else:                           # FPRounding_ZERO, FPRounding_ODD
        round_up = False
        overflow_to_inf = False
    if round_up:
        int_mant += 1
        if int_mant == 1 << F:      # rounded up from denormalized to normalized
            biased_exp = 1
        if int_mant == 2 << F:      # rounded up to next exponent
            biased_exp += 1
            int_mant >>= 1
    if rem and rounding == FPRounding_ODD:
        int_mant |= 1
    inexact = rem != 0
    if not ahp:                     # single, double or IEEE half precision
        if biased_exp >= f.exp_ones:
            result = (sign << (N - 1)) | (f.infinity if overflow_to_inf else f.max_normal)
            FPProcessException(FPExc_Overflow, st)
            inexact = True
        else:
            result = (sign << (N - 1)) | (biased_exp << F) | (int_mant & f.frac_mask)
    elif biased_exp > f.exp_ones:   # alternative half precision
        result = (sign << (N - 1)) | 0x7FFF
        FPProcessException(FPExc_InvalidOp, st)
        inexact = False
    else:
        result = (sign << (N - 1)) | (biased_exp << F) | (int_mant & f.frac_mask)
    if inexact:
        FPProcessException(FPExc_Inexact, st)
    return result


def FPRound(sign, mant, exp, N, st, rounding):
    return FPRoundBase(sign, mant, exp, N, st, rounding)


def FPRoundCV(sign, mant, exp, N, st, rounding):
    return FPRoundBase(sign, mant, exp, N, st, rounding,
                       N == 16 and bool(st.fpcr & FPCR_AHP))


def _round_signed(sign, mant, exp, N, st, rounding):
    """FPRound() of a signed exact value that may be zero: an exact zero result is +0, or -0
    when rounding towards minus infinity (the pseudocode's 'Sign of exact zero result')."""
    if mant == 0:
        return (rounding == FPRounding_NEGINF) << (N - 1)
    return FPRound(sign, mant, exp, N, st, rounding)


def RoundToIntegral(v, k, rounding):
    """The integer part of v / 2^k (v signed, k >= 0) rounded per `rounding` the way
    FPRoundInt, FPRoundIntN and FPToFixed do it: returns (int_result, inexact)."""
    if k <= 0:
        return v << -k, False
    int_result = v >> k                        # RoundDown
    error = v - (int_result << k)
    if not error:
        return int_result, False
    half = 1 << (k - 1)
    if rounding == FPRounding_TIEEVEN:
        round_up = error > half or (error == half and int_result & 1)
    elif rounding == FPRounding_POSINF:
        round_up = True
    elif rounding == FPRounding_NEGINF:
        round_up = False
    elif rounding == FPRounding_ZERO:
        round_up = int_result < 0
    else:                                      # FPRounding_TIEAWAY
        round_up = error > half or (error == half and int_result >= 0)
    return int_result + round_up, True


# --- NaNs -----------------------------------------------------------------------------------

def FPProcessNaN(fptype, op, N, st):
    f = FORMATS[N]
    result = op
    if fptype == FPType_SNaN:
        result |= f.quiet_bit
        FPProcessException(FPExc_InvalidOp, st)
    if st.fpcr & FPCR_DN:
        result = f.default_nan
    return result


def FPProcessNaNs(type1, type2, op1, op2, N, st):
    """The NaN result of a two-operand operation, or None when neither operand is a NaN."""
    if type1 == FPType_SNaN:
        return FPProcessNaN(type1, op1, N, st)
    if type2 == FPType_SNaN:
        return FPProcessNaN(type2, op2, N, st)
    if type1 == FPType_QNaN:
        return FPProcessNaN(type1, op1, N, st)
    if type2 == FPType_QNaN:
        return FPProcessNaN(type2, op2, N, st)
    return None


def FPProcessNaNs3(type1, type2, type3, op1, op2, op3, N, st):
    for fptype in (FPType_SNaN, FPType_QNaN):
        for t, op in ((type1, op1), (type2, op2), (type3, op3)):
            if t == fptype:
                return FPProcessNaN(t, op, N, st)
    return None


def FPConvertNaN(op, N, M):
    """FPConvertNaN(): the N-bit NaN `op` as a quiet M-bit NaN keeping the top payload bits."""
    fn, fm = FORMATS[N], FORMATS[M]
    payload = op & (fn.quiet_bit - 1)          # fraction below the quiet bit
    if fm.F > fn.F:
        payload <<= fm.F - fn.F
    else:
        payload >>= fn.F - fm.F
    return ((op >> (N - 1)) << (M - 1)) | fm.default_nan | payload


# --- arithmetic -----------------------------------------------------------------------------

_QQ = struct.Struct("<QQ")
_DD = struct.Struct("<dd")
_Q = struct.Struct("<Q")
_D = struct.Struct("<d")

_F64_EXP = 0x7FF0_0000_0000_0000
_F64_FRAC = 0x000F_FFFF_FFFF_FFFF
_F64_MAG = 0x7FFF_FFFF_FFFF_FFFF
_F64_SIGN = 0x8000_0000_0000_0000
_F64_HUGE = 0x7FE0_0000_0000_0000     # magnitudes >= 2^1023
_MANT53 = (1 << 53) - 1


def _significand64(x):
    return (x & _F64_FRAC) | (1 << 52) if x & _F64_EXP else x & _F64_FRAC


def _odd_part(x):
    return x >> ((x & -x).bit_length() - 1)


# The host results the fast paths keep are normal doubles above the smallest normal
# (1 < biased exponent < 0x7FF): an exact value that rounds to one was neither tiny nor
# overflowing, so only Inexact remains to be decided.

def _fast_add64(a, b, st):
    """Host RNE a + b for operands of magnitude below 2^1023 (TwoSum's intermediates then
    cannot overflow), with Inexact from the exact TwoSum error. A sum of doubles that is tiny
    is exact (Hauser), so Underflow never arises; an infinite sum is left to the exact path.
    Returns None to fall back."""
    if a & _F64_MAG >= _F64_HUGE or b & _F64_MAG >= _F64_HUGE:
        return None
    x, y = _DD.unpack(_QQ.pack(a, b))
    r = x + y
    if r - r:                                  # infinite (inf - inf is a NaN)
        return None
    t = r - x
    if (x - (r - t)) + (y - t):                # TwoSum error term (exact for RNE)
        st.fpsr |= FPExc_Inexact
    return _Q.unpack(_D.pack(r))[0]


def _fast_sub64(a, b, st):
    return _fast_add64(a, b ^ _F64_SIGN, st)         # no NaN reaches the fast path


def _exact_add(op1, op2, N, st):
    return _exact_addsub(op1, op2, N, st, 0)


def _exact_sub(op1, op2, N, st):
    return _exact_addsub(op1, op2, N, st, 1)


def _exact_addsub(op1, op2, N, st, sub):
    rounding = FPRoundingMode(st.fpcr)
    type1, sign1, m1, e1 = FPUnpack(op1, N, st)
    type2, sign2, m2, e2 = FPUnpack(op2, N, st)
    result = FPProcessNaNs(type1, type2, op1, op2, N, st)
    if result is not None:
        return result
    sign2 ^= sub
    inf1, inf2 = type1 == FPType_Infinity, type2 == FPType_Infinity
    if inf1 and inf2 and sign1 != sign2:
        FPProcessException(FPExc_InvalidOp, st)
        return FPDefaultNaN(N)
    if inf1 or inf2:
        return FPInfinity(sign1 if inf1 else sign2, N)
    if type1 == FPType_Zero and type2 == FPType_Zero and sign1 == sign2:
        return FPZero(sign1, N)
    e = min(e1, e2)
    v = ((-m1 if sign1 else m1) << (e1 - e)) + ((-m2 if sign2 else m2) << (e2 - e))
    return _round_signed(v < 0, abs(v), e, N, st, rounding)


def _fast_mul64(a, b, st):
    """Host RNE a * b when it is a normal double above the smallest normal; it is exact iff the
    integer product of the significands has at most 53 significant bits. Returns None to fall
    back."""
    if a & _F64_MAG >= _F64_EXP or b & _F64_MAG >= _F64_EXP:
        return None
    x, y = _DD.unpack(_QQ.pack(a, b))
    bits = _Q.unpack(_D.pack(x * y))[0]
    if not 1 < (bits >> 52) & 0x7FF < 0x7FF:
        return None
    if _odd_part(_significand64(a) * _significand64(b)) > _MANT53:
        st.fpsr |= FPExc_Inexact
    return bits


def _fast_or_exact(name, fast64, exact):
    """The operation `name`: `fast64` (host double arithmetic) for doubles with the default
    FPCR when it can be exact about the result and flags (it returns None otherwise), else
    the exact pseudocode."""
    def operation(op1, op2, N, st):
        if N == 64 and not st.fpcr & FPCR_SLOW:
            result = fast64(op1, op2, st)
            if result is not None:
                return result
        return exact(op1, op2, N, st)
    operation.__name__ = name
    return runtime(operation)


def _exact_mul(op1, op2, N, st):
    type1, sign1, m1, e1 = FPUnpack(op1, N, st)
    type2, sign2, m2, e2 = FPUnpack(op2, N, st)
    result = FPProcessNaNs(type1, type2, op1, op2, N, st)
    if result is not None:
        return result
    inf1, inf2 = type1 == FPType_Infinity, type2 == FPType_Infinity
    zero1, zero2 = type1 == FPType_Zero, type2 == FPType_Zero
    if (inf1 and zero2) or (zero1 and inf2):
        FPProcessException(FPExc_InvalidOp, st)
        return FPDefaultNaN(N)
    if inf1 or inf2:
        return FPInfinity(sign1 ^ sign2, N)
    if zero1 or zero2:
        return FPZero(sign1 ^ sign2, N)
    return FPRound(sign1 ^ sign2, m1 * m2, e1 + e2, N, st, FPRoundingMode(st.fpcr))


def _fast_div64(a, b, st):
    """Host RNE a / b (b finite nonzero) when it is a normal double above the smallest normal;
    it is exact iff quotient * b == a, i.e. the odd parts of the significand product and of
    a's significand agree (the quotient is within an ulp, so the powers of two agree too).
    Returns None to fall back."""
    if a & _F64_MAG >= _F64_EXP or not 0 < b & _F64_MAG < _F64_EXP:
        return None
    x, y = _DD.unpack(_QQ.pack(a, b))
    bits = _Q.unpack(_D.pack(x / y))[0]
    if not 1 < (bits >> 52) & 0x7FF < 0x7FF:
        return None
    if _odd_part(_significand64(bits) * _significand64(b)) != _odd_part(_significand64(a)):
        st.fpsr |= FPExc_Inexact
    return bits




def _exact_div(op1, op2, N, st):
    type1, sign1, m1, e1 = FPUnpack(op1, N, st)
    type2, sign2, m2, e2 = FPUnpack(op2, N, st)
    result = FPProcessNaNs(type1, type2, op1, op2, N, st)
    if result is not None:
        return result
    inf1, inf2 = type1 == FPType_Infinity, type2 == FPType_Infinity
    zero1, zero2 = type1 == FPType_Zero, type2 == FPType_Zero
    if (inf1 and inf2) or (zero1 and zero2):
        FPProcessException(FPExc_InvalidOp, st)
        return FPDefaultNaN(N)
    if inf1 or zero2:
        if not inf1:
            FPProcessException(FPExc_DivideByZero, st)
        return FPInfinity(sign1 ^ sign2, N)
    if zero1 or inf2:
        return FPZero(sign1 ^ sign2, N)
    # quotient with at least F+3 significant bits, remainder folded into a sticky bit
    k = FORMATS[N].F + 3 + m2.bit_length()
    q, r = divmod(m1 << k, m2)
    return FPRound(sign1 ^ sign2, (q << 1) | (r != 0), e1 - e2 - k - 1, N, st,
                   FPRoundingMode(st.fpcr))


FPAdd = _fast_or_exact("FPAdd", _fast_add64, _exact_add)
FPSub = _fast_or_exact("FPSub", _fast_sub64, _exact_sub)
FPMul = _fast_or_exact("FPMul", _fast_mul64, _exact_mul)
FPDiv = _fast_or_exact("FPDiv", _fast_div64, _exact_div)


def _fast_sqrt64(a, st):
    """Host sqrt (correctly rounded to nearest even) of a positive finite double: the root is
    always a normal double, exact iff root^2 == a (compared as for division)."""
    bits = _Q.unpack(_D.pack(math.sqrt(_D.unpack(_Q.pack(a))[0])))[0]
    root = _significand64(bits)
    if _odd_part(root * root) != _odd_part(_significand64(a)):
        st.fpsr |= FPExc_Inexact
    return bits


@runtime
def FPSqrt(op, N, st):
    if N == 64 and not st.fpcr & FPCR_SLOW and 0 < op < _F64_EXP:
        return _fast_sqrt64(op, st)
    return _exact_sqrt(op, N, st)


def _exact_sqrt(op, N, st):
    fptype, sign, m, e = FPUnpack(op, N, st)
    if fptype == FPType_SNaN or fptype == FPType_QNaN:
        return FPProcessNaN(fptype, op, N, st)
    if fptype == FPType_Zero:
        return FPZero(sign, N)
    if fptype == FPType_Infinity and not sign:
        return FPInfinity(0, N)
    if sign:
        FPProcessException(FPExc_InvalidOp, st)
        return FPDefaultNaN(N)
    if e & 1:
        m <<= 1
        e -= 1
    k = FORMATS[N].F + 3                       # root with at least F+3 significant bits
    scaled = m << (2 * k)
    root = math.isqrt(scaled)
    return FPRound(0, (root << 1) | (root * root != scaled), e // 2 - k - 1, N, st,
                   FPRoundingMode(st.fpcr))


@runtime
def FPMulAdd(addend, op1, op2, N, st):
    """FPMulAdd(): addend + op1 * op2 with a single rounding."""
    rounding = FPRoundingMode(st.fpcr)
    typeA, signA, mA, eA = FPUnpack(addend, N, st)
    type1, sign1, m1, e1 = FPUnpack(op1, N, st)
    type2, sign2, m2, e2 = FPUnpack(op2, N, st)
    inf1, inf2 = type1 == FPType_Infinity, type2 == FPType_Infinity
    zero1, zero2 = type1 == FPType_Zero, type2 == FPType_Zero
    if typeA >= FPType_QNaN or type1 >= FPType_QNaN or type2 >= FPType_QNaN:
        result = FPProcessNaNs3(typeA, type1, type2, addend, op1, op2, N, st)
        if typeA == FPType_QNaN and ((inf1 and zero2) or (zero1 and inf2)):
            FPProcessException(FPExc_InvalidOp, st)
            return FPDefaultNaN(N)
        return result
    infA, zeroA = typeA == FPType_Infinity, typeA == FPType_Zero
    signP = sign1 ^ sign2
    infP = inf1 or inf2
    zeroP = zero1 or zero2
    if (inf1 and zero2) or (zero1 and inf2) or (infA and infP and signA != signP):
        FPProcessException(FPExc_InvalidOp, st)
        return FPDefaultNaN(N)
    if (infA and not signA) or (infP and not signP):
        return FPInfinity(0, N)
    if infA or infP:
        return FPInfinity(1, N)
    if zeroA and zeroP and signA == signP:
        return FPZero(signA, N)
    eP = e1 + e2
    e = min(eA, eP)
    v = ((-mA if signA else mA) << (eA - e)) + ((-(m1 * m2) if signP else m1 * m2) << (eP - e))
    return _round_signed(v < 0, abs(v), e, N, st, rounding)


# --- maximum, minimum, comparison -------------------------------------------------------------

def _order_key(fptype, fpval, N):
    """An int ordered like the value of an unpacked non-NaN operand (flushed denormals are 0)."""
    if fptype == FPType_Zero:
        return 0
    magnitude = fpval & ((1 << (N - 1)) - 1)
    return -magnitude if fpval >> (N - 1) else magnitude


def _FPMaxMin(op1, op2, N, st, is_max):
    """FPMax()/FPMin(). For a nonzero finite winner FPRound(value) is the operand itself: its
    value is exact (denormals reaching here are not flushed, and Underflow is untrapped)."""
    type1, sign1, _, _ = FPUnpack(op1, N, st)
    type2, sign2, _, _ = FPUnpack(op2, N, st)
    result = FPProcessNaNs(type1, type2, op1, op2, N, st)
    if result is not None:
        return result
    k1, k2 = _order_key(type1, op1, N), _order_key(type2, op2, N)
    first = k1 > k2 if is_max else k1 < k2
    fptype, value = (type1, op1) if first else (type2, op2)
    if fptype == FPType_Zero:
        # Use the most positive (FPMax) or most negative (FPMin) sign
        return FPZero((sign1 & sign2) if is_max else (sign1 | sign2), N)
    return value


@runtime
def FPMax(op1, op2, N, st):
    return _FPMaxMin(op1, op2, N, st, True)


@runtime
def FPMin(op1, op2, N, st):
    return _FPMaxMin(op1, op2, N, st, False)


def _FPMaxMinNum(op1, op2, N, st, is_max):
    """FPMaxNum()/FPMinNum(): a single quiet NaN operand is treated as -Inf (max) / +Inf (min)."""
    type1 = FPUnpack(op1, N, st)[0]
    type2 = FPUnpack(op2, N, st)[0]
    replacement = FPInfinity(1 if is_max else 0, N)
    if type1 == FPType_QNaN and type2 != FPType_QNaN:
        op1 = replacement
    elif type1 != FPType_QNaN and type2 == FPType_QNaN:
        op2 = replacement
    return _FPMaxMin(op1, op2, N, st, is_max)


@runtime
def FPMaxNum(op1, op2, N, st):
    return _FPMaxMinNum(op1, op2, N, st, True)


@runtime
def FPMinNum(op1, op2, N, st):
    return _FPMaxMinNum(op1, op2, N, st, False)


@runtime
def FPCompare(op1, op2, signal_nans, N, st):
    """FPCompare(): the NZCV result of comparing op1 with op2."""
    type1 = FPUnpack(op1, N, st)[0]
    type2 = FPUnpack(op2, N, st)[0]
    if type1 >= FPType_QNaN or type2 >= FPType_QNaN:
        if type1 == FPType_SNaN or type2 == FPType_SNaN or signal_nans:
            FPProcessException(FPExc_InvalidOp, st)
        return 0b0011
    k1, k2 = _order_key(type1, op1, N), _order_key(type2, op2, N)
    if k1 == k2:
        return 0b0110
    return 0b1000 if k1 < k2 else 0b0010


# --- rounding to integral, conversions ------------------------------------------------------

def _integral_to_fp(int_result, sign, N, st):
    """Re-encode an integer value: exact, no exception; zero keeps the operand's sign."""
    if int_result == 0:
        return FPZero(sign, N)
    return FPRound(int_result < 0, abs(int_result), 0, N, st, FPRounding_ZERO)


@runtime
def FPRoundInt(op, N, st, rounding, exact):
    """FPRoundInt(): FRINT<N,P,M,Z,A,X,I>; `exact` raises Inexact when the value changes."""
    fptype, sign, m, e = FPUnpack(op, N, st)
    if fptype == FPType_SNaN or fptype == FPType_QNaN:
        return FPProcessNaN(fptype, op, N, st)
    if fptype == FPType_Infinity:
        return FPInfinity(sign, N)
    if fptype == FPType_Zero:
        return FPZero(sign, N)
    int_result, inexact = RoundToIntegral(-m if sign else m, -e, rounding)
    result = _integral_to_fp(int_result, sign, N, st)
    if inexact and exact:
        FPProcessException(FPExc_Inexact, st)
    return result


@runtime
def FPRoundIntN(op, N, st, rounding, intsize):
    """FPRoundIntN(): FRINT32/FRINT64; out-of-range results and NaNs/infinities give the most
    negative integer of `intsize` bits with InvalidOp."""
    f = FORMATS[N]
    most_negative = (1 << (N - 1)) | ((f.bias + intsize - 1) << f.F)
    fptype, sign, m, e = FPUnpack(op, N, st)
    if fptype >= FPType_Infinity:
        FPProcessException(FPExc_InvalidOp, st)
        return most_negative
    if fptype == FPType_Zero:
        return FPZero(sign, N)
    int_result, inexact = RoundToIntegral(-m if sign else m, -e, rounding)
    limit = 1 << (intsize - 1)
    if int_result >= limit or int_result < -limit:
        FPProcessException(FPExc_InvalidOp, st)
        return most_negative                   # this case does not set Inexact
    result = _integral_to_fp(int_result, sign, N, st)
    if inexact:
        FPProcessException(FPExc_Inexact, st)
    return result


@runtime
def FPToFixed(op, fbits, unsigned, rounding, N, M, st):
    """FPToFixed(): the M-bit (two's complement) fixed-point value of `op` with `fbits`
    fraction bits, saturated, with InvalidOp on saturation or NaN and Inexact otherwise."""
    fptype, sign, m, e = FPUnpack(op, N, st)
    if fptype >= FPType_QNaN:
        FPProcessException(FPExc_InvalidOp, st)
        return 0
    if fptype == FPType_Infinity:
        int_result, inexact = (-1 if sign else 1) << M, False
    else:
        int_result, inexact = RoundToIntegral(-m if sign else m, -(e + fbits), rounding)
    # SatQ()
    lo, hi = (0, (1 << M) - 1) if unsigned else (-(1 << (M - 1)), (1 << (M - 1)) - 1)
    if int_result > hi or int_result < lo:
        FPProcessException(FPExc_InvalidOp, st)
        return (hi if int_result > hi else lo) & ((1 << M) - 1)
    if inexact:
        FPProcessException(FPExc_Inexact, st)
    return int_result & ((1 << M) - 1)


@runtime
def FixedToFP(op, fbits, unsigned, rounding, M, N, st):
    """FixedToFP(): the M-bit fixed-point `op` with `fbits` fraction bits as an N-bit value."""
    if not unsigned and op >> (M - 1):
        op -= 1 << M
    if op == 0:
        return FPZero(0, N)
    return FPRound(op < 0, abs(op), -fbits, N, st, rounding)


@runtime
def FPConvert(op, N, M, st, rounding=None):
    """FPConvert(): the N-bit `op` as an M-bit value, rounded per FPCR.RMode (or `rounding`,
    e.g. FPRounding_ODD for FCVTXN); FPCR.AHP selects the alternative half-precision format
    for a 16-bit operand or result."""
    fptype, sign, m, e = FPUnpackCV(op, N, st)
    alt_hp = M == 16 and bool(st.fpcr & FPCR_AHP)
    if fptype >= FPType_QNaN:
        if alt_hp:
            result = FPZero(sign, M)
        elif st.fpcr & FPCR_DN:
            result = FPDefaultNaN(M)
        else:
            result = FPConvertNaN(op, N, M)
        if fptype == FPType_SNaN or alt_hp:
            FPProcessException(FPExc_InvalidOp, st)
        return result
    if fptype == FPType_Infinity:
        if alt_hp:
            FPProcessException(FPExc_InvalidOp, st)
            return (sign << (M - 1)) | ((1 << (M - 1)) - 1)
        return FPInfinity(sign, M)
    if fptype == FPType_Zero:
        return FPZero(sign, M)
    return FPRoundCV(sign, m, e, M, st, FPRoundingMode(st.fpcr) if rounding is None else
                     rounding)


def VFPExpandImm(imm8, N):
    """VFPExpandImm(): the N-bit value of an 8-bit floating-point immediate."""
    f = FORMATS[N]
    b6 = (imm8 >> 6) & 1
    exp = ((b6 ^ 1) << (f.E - 1)) | (((1 << (f.E - 3)) - 1) * b6 << 2) | ((imm8 >> 4) & 3)
    return ((imm8 >> 7) << (N - 1)) | (exp << f.F) | ((imm8 & 0xF) << (f.F - 4))
