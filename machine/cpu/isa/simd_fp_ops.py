"""The floating-point pseudocode the AdvSIMD instructions need beyond machine/cpu/softfloat.py
(shared/functions/float/*): FPMulX, FPRecipStepFused, FPRSqrtStepFused, FPRecpX, the
reciprocal and reciprocal square root estimates (RecipEstimate, RecipSqrtEstimate,
FPRecipEstimate, FPRSqrtEstimate, UnsignedRecipEstimate, UnsignedRSqrtEstimate) and FCVTXN's
conversion with rounding to odd.

Operands and results are bit patterns; `st` is the CpuState (FPCR read, FPSR flags ORed in),
as in softfloat.py. FEAT_AFP (FPCR.AH) and FEAT_RPRES are not implemented, so the estimates
always produce 8-bit results and signal their exceptions.
"""

from math import isqrt

from ..softfloat import (
    FORMATS,
    FPCR_FZ,
    FPExc_DivideByZero,
    FPExc_Inexact,
    FPExc_InvalidOp,
    FPExc_Overflow,
    FPExc_Underflow,
    FPInfinity,
    FPMul,
    FPProcessException,
    FPProcessNaN,
    FPProcessNaNs,
    FPRound,
    FPRounding_NEGINF,
    FPRounding_POSINF,
    FPRounding_TIEEVEN,
    FPRoundingMode,
    FPType_Infinity,
    FPType_QNaN,
    FPType_SNaN,
    FPType_Zero,
    FPUnpack,
    FPZero,
)
from ..translate import runtime


def FPTwo(sign, N):
    f = FORMATS[N]
    return (sign << (N - 1)) | ((f.bias + 1) << f.F)


def FPOnePointFive(sign, N):
    f = FORMATS[N]
    return (sign << (N - 1)) | (f.bias << f.F) | (1 << (f.F - 1))


def _infinity_times_zero(type1, type2):
    return ((type1 == FPType_Infinity and type2 == FPType_Zero)
            or (type1 == FPType_Zero and type2 == FPType_Infinity))


@runtime
def FPMulX(op1, op2, N, st):
    """FPMulX(): FPMul, except that infinity times zero is 2.0 with the product's sign."""
    type1, sign1, _, _ = FPUnpack(op1, N, st)
    type2, sign2, _, _ = FPUnpack(op2, N, st)
    if _infinity_times_zero(type1, type2):
        return FPTwo(sign1 ^ sign2, N)
    return FPMul(op1, op2, N, st)


def _FPStepFused(op1, op2, N, st, constant, halve, inf_times_zero):
    """FPRecipStepFused()/FPRSqrtStepFused(): (constant - op1 * op2) / 2^halve with a single
    rounding. op1 is negated first, so a NaN op1 propagates with its sign flipped."""
    op1 ^= 1 << (N - 1)
    type1, sign1, m1, e1 = FPUnpack(op1, N, st)
    type2, sign2, m2, e2 = FPUnpack(op2, N, st)
    result = FPProcessNaNs(type1, type2, op1, op2, N, st)
    if result is not None:
        return result
    if _infinity_times_zero(type1, type2):
        return inf_times_zero
    if type1 == FPType_Infinity or type2 == FPType_Infinity:
        return FPInfinity(sign1 ^ sign2, N)
    rounding = FPRoundingMode(st.fpcr)
    e = min(0, e1 + e2)
    product = m1 * m2 << (e1 + e2 - e)
    v = (constant << -e) + (-product if sign1 ^ sign2 else product)
    if v == 0:          # the sign of an exact zero result depends on the rounding mode
        return FPZero(int(rounding == FPRounding_NEGINF), N)
    return FPRound(int(v < 0), abs(v), e - halve, N, st, rounding)


@runtime
def FPRecipStepFused(op1, op2, N, st):
    """FPRecipStepFused(): 2.0 - op1 * op2 (FRECPS)."""
    return _FPStepFused(op1, op2, N, st, 2, 0, FPTwo(0, N))


@runtime
def FPRSqrtStepFused(op1, op2, N, st):
    """FPRSqrtStepFused(): (3.0 - op1 * op2) / 2.0 (FRSQRTS)."""
    return _FPStepFused(op1, op2, N, st, 3, 1, FPOnePointFive(0, N))


@runtime
def FPRecpX(op, N, st):
    """FPRecpX(): the exponent inverted and the fraction cleared; zeros and denormals give the
    largest normal exponent."""
    f = FORMATS[N]
    fptype = FPUnpack(op, N, st)[0]
    if fptype == FPType_SNaN or fptype == FPType_QNaN:
        return FPProcessNaN(fptype, op, N, st)
    exp = (op >> f.F) & f.exp_ones
    new_exp = f.exp_ones - 1 if exp == 0 else ~exp & f.exp_ones
    return (op >> (N - 1) << (N - 1)) | (new_exp << f.F)


# --- estimates --------------------------------------------------------------------------------

def RecipEstimate(a):
    """RecipEstimate() for 256 <= a < 512 (a fixed-point value in [0.5, 1.0)): an estimate in
    256..511 of its reciprocal in [1.0, 2.0), rounded to nearest."""
    a = a * 2 + 1
    b = (1 << 19) // a
    return (b + 1) // 2


def RecipSqrtEstimate(a):
    """RecipSqrtEstimate() for 128 <= a < 512 (a fixed-point value in [0.25, 1.0)): b is the
    largest integer, at least 512, with a * b^2 < 2^28."""
    if a < 256:                        # 0.25 .. 0.5: a in units of 1/512, rounded to nearest
        a = a * 2 + 1
    else:                              # 0.5 .. 1.0: a in units of 1/256, rounded to nearest
        a = ((a >> 1 << 1) + 1) * 2
    b = max(512, isqrt(((1 << 28) - 1) // a))
    return (b + 1) // 2


RECIP_ESTIMATE = [0] * 256 + [RecipEstimate(a) for a in range(256, 512)]
RSQRT_ESTIMATE = [0] * 128 + [RecipSqrtEstimate(a) for a in range(128, 512)]

FRACTION_BITS = 52         # the estimates work on the operand's fraction widened to 52 bits
FRACTION_MASK = (1 << FRACTION_BITS) - 1


def _estimate_operand(op, N):
    """The operand's biased exponent and its fraction widened to 52 bits."""
    f = FORMATS[N]
    return (op >> f.F) & f.exp_ones, (op & f.frac_mask) << (FRACTION_BITS - f.F)


@runtime
def FPRecipEstimate(op, N, st):
    """FPRecipEstimate() (FRECPE)."""
    f = FORMATS[N]
    fptype, sign, m, e = FPUnpack(op, N, st)
    if fptype == FPType_SNaN or fptype == FPType_QNaN:
        return FPProcessNaN(fptype, op, N, st)
    if fptype == FPType_Infinity:
        return FPZero(sign, N)
    if fptype == FPType_Zero:
        FPProcessException(FPExc_DivideByZero, st)
        return FPInfinity(sign, N)
    magnitude_exp = m.bit_length() - 1 + e          # Abs(value) in [2^k, 2^(k+1))
    if magnitude_exp < -(f.bias + 1):               # the reciprocal overflows
        rounding = FPRoundingMode(st.fpcr)
        overflow_to_inf = {FPRounding_TIEEVEN: True, FPRounding_POSINF: not sign,
                           FPRounding_NEGINF: bool(sign)}.get(rounding, False)
        FPProcessException(FPExc_Overflow, st)
        FPProcessException(FPExc_Inexact, st)
        return FPInfinity(sign, N) if overflow_to_inf else (sign << (N - 1)) | f.max_normal
    if st.fpcr & FPCR_FZ and magnitude_exp >= f.bias - 1:
        st.fpsr |= FPExc_Underflow                  # flushed to zero: never trapped
        return FPZero(sign, N)
    exp, fraction = _estimate_operand(op, N)
    if exp == 0:
        if not fraction >> 51:
            exp = -1
            fraction = (fraction << 2) & FRACTION_MASK
        else:
            fraction = (fraction << 1) & FRACTION_MASK
    # scaled: '1':fraction<51:44>, a fixed-point value in [0.5, 1.0)
    estimate = RECIP_ESTIMATE[256 | fraction >> 44]
    result_exp = 2 * f.bias - 1 - exp
    fraction = (estimate & 0xFF) << 44
    if result_exp == 0:
        fraction = (1 << 51) | fraction >> 1
    elif result_exp == -1:
        fraction = (1 << 50) | fraction >> 2
        result_exp = 0
    return (sign << (N - 1)) | (result_exp << f.F) | fraction >> (FRACTION_BITS - f.F)


@runtime
def FPRSqrtEstimate(op, N, st):
    """FPRSqrtEstimate() (FRSQRTE)."""
    f = FORMATS[N]
    fptype, sign, _, _ = FPUnpack(op, N, st)
    if fptype == FPType_SNaN or fptype == FPType_QNaN:
        return FPProcessNaN(fptype, op, N, st)
    if fptype == FPType_Zero:
        FPProcessException(FPExc_DivideByZero, st)
        return FPInfinity(sign, N)
    if sign:
        FPProcessException(FPExc_InvalidOp, st)
        return f.default_nan
    if fptype == FPType_Infinity:
        return 0
    exp, fraction = _estimate_operand(op, N)
    if exp == 0:                                     # denormal: normalise
        shift = FRACTION_BITS - fraction.bit_length()
        fraction = (fraction << (shift + 1)) & FRACTION_MASK
        exp -= shift
    # scaled: '1':fraction<51:44> for an even biased exponent (an odd power of two: the value
    # in [0.5, 1.0)), '01':fraction<51:45> for an odd one (in [0.25, 0.5))
    scaled = 128 | fraction >> 45 if exp & 1 else 256 | fraction >> 44
    result_exp = (3 * f.bias - 1 - exp) // 2
    estimate = RSQRT_ESTIMATE[scaled]
    return (result_exp << f.F) | (estimate & 0xFF) << (f.F - 8)


@runtime
def UnsignedRecipEstimate(op):
    """UnsignedRecipEstimate() of a 32-bit operand (URECPE)."""
    if not op >> 31:
        return 0xFFFF_FFFF
    return RECIP_ESTIMATE[op >> 23] << 23


@runtime
def UnsignedRSqrtEstimate(op):
    """UnsignedRSqrtEstimate() of a 32-bit operand (URSQRTE)."""
    if not op >> 30:
        return 0xFFFF_FFFF
    return RSQRT_ESTIMATE[op >> 23] << 23

