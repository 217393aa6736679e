"""AdvSIMD vector values.

A SIMD&FP register is one 128-bit int; element `e` of size `esize` is its bits
[e*esize + esize-1 : e*esize], the pseudocode's Elem[vector, e, esize].

Two ways to operate on all the elements of a vector:
- whole-register (SWAR) expressions with per-lane masks (`LaneMasks`), where a mask trick
  exists: additions with the carry between lanes suppressed, lane-wise compares from the
  borrow out of each lane's top bit;
- lane lists: `Lanes` gives the struct format that splits a register's bytes into elements
  (signed or unsigned) and joins a list of elements back.
"""

import struct
from functools import cache
from typing import NamedTuple

from .bits import Ones, Replicate


def Elem(vector, e, esize):
    """Elem[vector, e, esize] (read)."""
    return (vector >> (e * esize)) & Ones(esize)


def ElemSet(vector, e, esize, value):
    """Elem[vector, e, esize] = value: the vector with element e replaced."""
    mask = Ones(esize) << (e * esize)
    return (vector & ~mask) | ((value << (e * esize)) & mask)


class LaneMasks(NamedTuple):
    """Masks over the `datasize` low bits of a vector of `esize`-bit lanes."""

    data: int       # every bit of the vector
    msb: int        # the top bit of each lane
    low: int        # every bit but the top one of each lane
    lsb: int        # the bottom bit of each lane
    top: int        # esize - 1: shifting a lane's top bit down to its bottom bit


@cache
def lane_masks(esize, datasize):
    data = Ones(datasize)
    msb = Replicate(1 << (esize - 1), esize, datasize)
    return LaneMasks(data, msb, data & ~msb, Replicate(1, esize, datasize), esize - 1)


def replicated(value, esize, datasize):
    """`value` (esize bits) in every lane: the per-lane mask for a per-lane constant."""
    return Replicate(value & Ones(esize), esize, datasize)


_FORMAT = {8: "B", 16: "H", 32: "I", 64: "Q"}


@cache
def Lanes(esize, count, signed=False):
    """The struct that reads `count` little-endian elements of `esize` bits from a register's
    bytes (`unpack_from(V[n].to_bytes(16, 'little'), byte_offset)`) and packs them back."""
    code = _FORMAT[esize]
    return struct.Struct(f"<{count}{code.lower() if signed else code}")


def SatRange(esize, unsigned):
    """The integer range SatQ() clamps to for an esize-bit result."""
    if unsigned:
        return 0, Ones(esize)
    return -(1 << (esize - 1)), (1 << (esize - 1)) - 1


# --- whole-register lane operations (runtime helpers; masks from lane_masks) -----------------

def VecHigher(a, b, data, msb, low, top):
    """All ones in each lane where a > b as unsigned lane values, else zeros.

    The lane difference b - a is formed with the borrow between lanes suppressed; the borrow
    out of a lane's top bit is (~b & a) | (~(b ^ a) & diff) at that bit."""
    a &= data
    b &= data
    diff = ((b | msb) - (a & low)) ^ ((b ^ ~a) & msb)
    m = ((~b & a) | (~(a ^ b) & diff)) & msb
    return m | (m - (m >> top))


def VecZero(x, data, msb, low, top):
    """All ones in each lane of x that is zero, else zeros."""
    x &= data
    m = msb & ~(((x & low) + low) | x)
    return m | (m - (m >> top))


def PolynomialMult(op1, op2):
    """PolynomialMult(): carry-less product of two bit strings."""
    result = 0
    while op2:
        if op2 & 1:
            result ^= op1
        op1 <<= 1
        op2 >>= 1
    return result


def ShiftElement(element, shift_byte, rounding):
    """The element shift of SSHL/USHL/SRSHL/SQSHL...: the shift is the signed bottom byte of
    the second operand's element; a negative shift is a right shift, rounded if `rounding`."""
    shift = ((shift_byte & 0xFF) ^ 0x80) - 0x80
    if shift >= 0:
        return element << shift
    if rounding:
        element += 1 << (-shift - 1)
    return element >> -shift
