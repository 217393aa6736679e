"""Exclusives, load-acquire/store-release and atomics (C4.1.88): LDXR/STXR and their pair and
acquire/release forms, LDAR/STLR, LDLAR/STLLR (FEAT_LOR), LDAPR (FEAT_LRCPC), LDAPUR/STLUR
(FEAT_LRCPC2), and the FEAT_LSE atomics CAS, CASP, SWP and LD<op> (ST<op> are their aliases
with Rt = ZR).

Memory ordering is trivially satisfied: this model executes one PE's accesses in program order
with no buffering, so the acquire/release/ordered semantics need nothing more than the access.

Without FEAT_LSE2 all of these must be naturally aligned, pairs to the size of the pair, else
they take an Alignment fault (AArch64.CheckAlignment: atomic, exclusive and ordered accesses
are always checked).

The local exclusive monitor is s.exclusive = (virtual address, size), set by a load-exclusive
and checked and cleared by a store-exclusive (AArch64.ExclusiveMonitorsPass checks alignment
first, then the marked address, AArch64.IsExclusiveVA). Rs of the loads and Rt2 of the
non-pair forms are should-be-one fields; other values are CONSTRAINED UNPREDICTABLE and here
behave as if they were all ones (the choice QEMU makes).
"""

from ..bits import SignExtend
from ..decode import Unallocated, encoding
from ..mmu import READ, WRITE
from ..state import reg_sp, reg_zr, reg_zw
from .ldst import Address, ImmOffset, MemOp, RegIndex, SingleMemOp, Transfer, ldst_insn


def Aligned(size, acc):
    """Statement raising the Alignment fault when `_a` is not `size`-byte aligned."""
    if size == 1:
        return ""
    return f"if _a & {size - 1}: M.check_alignment(_a, {size}, {acc})\n"


def Mask(reg, size):
    """Template expression for the low `size` bytes of X register field `reg`."""
    return f"X[{{{reg}}}]" if size == 8 else f"(X[{{{reg}}}] & {(1 << 8 * size) - 1:#x})"


def Ordered(op, Rn, Rt, offset="", imm=0):
    """A load-acquire or store-release of one register at [Xn{, #imm}]."""
    mode = Address(offset, bind=True)
    src = mode.setup + Aligned(op.size, READ if op.load else WRITE) + Transfer(op, "_a")
    return ldst_insn(src, t=RegIndex(op, Rt), n=reg_sp(Rn), imm=imm)


# --- exclusives -------------------------------------------------------------------------------

def LoadExclusive(size, Rn, Rt, Rt2=None):
    """LDXR/LDAXR (one register of `size` bytes) or, with Rt2, LDXP/LDAXP (two of `size`)."""
    total = size if Rt2 is None else 2 * size
    src = "_a = X[{n}]\n" + Aligned(total, READ)
    if Rt2 is None:
        src += Transfer(MemOp(size, True), "_a")
    else:
        # One access of the whole pair (it is aligned to its size); an Rt == Rt2 load
        # (CONSTRAINED UNPREDICTABLE, Unpredictable_LDPOVERLAP) leaves the second element.
        src += (f"_v = rd{16 * size}(_a)\nX[{{t}}] = _v & {(1 << 8 * size) - 1:#x}\n"
                f"X[{{t2}}] = _v >> {8 * size}\n")
    src += f"s.exclusive = (_a, {total})\n"
    return ldst_insn(src, n=reg_sp(Rn), t=reg_zw(Rt), t2=reg_zw(Rt2 or 0))


def StoreExclusive(size, Rs, Rn, Rt, Rt2=None):
    """STXR/STLXR or, with Rt2, STXP/STLXP: status 0 into Ws when the store is made, 1 when the
    monitor does not hold (address, size); either way the monitor is cleared."""
    total = size if Rt2 is None else 2 * size
    if Rt2 is None:
        value = "X[{t}]"
    else:
        value = f"{Mask('t', size)} | {Mask('t2', size)} << {8 * size}"
    src = ("_a = X[{n}]\n" + Aligned(total, WRITE)
           + f"if s.exclusive == (_a, {total}):\n"
           f"    wr{8 * total}(_a, {value})\n"
           "    X[{st}] = 0\n"
           "else:\n"
           "    X[{st}] = 1\n"
           "s.exclusive = None\n")
    return ldst_insn(src, n=reg_sp(Rn), t=reg_zr(Rt), t2=reg_zr(Rt2 or 0), st=reg_zw(Rs))


@encoding("size:2 001000 0 L 0 Rs:5 o0 Rt2:5 Rn:5 Rt:5")
def LDST_exclusive(size, L, Rs, o0, Rt2, Rn, Rt):
    """STXR/STLXR/LDXR/LDAXR (B, H, W, X); o0 selects acquire/release."""
    if L:
        return LoadExclusive(1 << size, Rn, Rt)
    return StoreExclusive(1 << size, Rs, Rn, Rt)


@encoding("1 sz 001000 0 L 1 Rs:5 o0 Rt2:5 Rn:5 Rt:5")
def LDST_exclusive_pair(sz, L, Rs, o0, Rt2, Rn, Rt):
    """STXP/STLXP/LDXP/LDAXP (W, X)."""
    if L:
        return LoadExclusive(4 << sz, Rn, Rt, Rt2)
    return StoreExclusive(4 << sz, Rs, Rn, Rt, Rt2)


# --- ordered ----------------------------------------------------------------------------------

@encoding("size:2 001000 1 L 0 Rs:5 o0 Rt2:5 Rn:5 Rt:5")
def LDST_ordered(size, L, Rs, o0, Rt2, Rn, Rt):
    """LDAR/STLR (o0 = 1) and LDLAR/STLLR (o0 = 0, FEAT_LOR: with no LORegions configured they
    are LDAR/STLR), B/H/W/X."""
    return Ordered(MemOp(1 << size, bool(L)), Rn, Rt)


@encoding("size:2 011001 opc:2 0 imm9:9 00 Rn:5 Rt:5")
def LDAPUR_STLUR(size, opc, imm9, Rn, Rt):
    """STLUR/LDAPUR/LDAPURS* (FEAT_LRCPC2): the size/opc table of LDUR/STUR without PRFUM."""
    op = SingleMemOp(size, 0, opc)
    if op.prefetch:
        raise Unallocated
    imm = SignExtend(imm9, 9)
    return Ordered(op, Rn, Rt, ImmOffset(imm), imm)


# --- compare and swap -------------------------------------------------------------------------

def CompareAndSwap(size, compare, new, old_writes, **regs):
    """MemAtomicCompareAndSwap of `size` bytes at [Xn]: the template expressions `compare` and
    `new` are read before the access; `old_writes` stores the old value `_o` to registers."""
    src = ("_a = X[{n}]\n" + Aligned(size, READ) + f"_c = {compare}\n_w = {new}\n"
           f"_o = rd{8 * size}(_a)\n"
           f"if _o == _c:\n    wr{8 * size}(_a, _w)\n" + old_writes)
    return ldst_insn(src, **regs)


@encoding("size:2 001000 1 L 1 Rs:5 o0 Rt2:5 Rn:5 Rt:5")
def CAS(size, L, Rs, o0, Rt2, Rn, Rt):
    """CAS/CASA/CASL/CASAL (B, H, W, X): L acquires, o0 releases."""
    if Rt2 != 31:
        raise Unallocated
    nbytes = 1 << size
    return CompareAndSwap(nbytes, Mask("sr", nbytes), "X[{t}]", "X[{sw}] = _o\n",
                          n=reg_sp(Rn), t=reg_zr(Rt), sr=reg_zr(Rs), sw=reg_zw(Rs))


@encoding("0 sz 001000 0 L 1 Rs:5 o0 Rt2:5 Rn:5 Rt:5")
def CASP(sz, L, Rs, o0, Rt2, Rn, Rt):
    """CASP/CASPA/CASPL/CASPAL (W, X): compare (Rs, Rs+1) with the pair at [Xn] and store
    (Rt, Rt+1) if equal; (Rs, Rs+1) receive the old pair. Odd Rs or Rt are UNDEFINED."""
    if Rt2 != 31 or Rs & 1 or Rt & 1:
        raise Unallocated
    size = 4 << sz
    bits = 8 * size

    def pair(lo, hi):
        return f"{Mask(lo, size)} | {Mask(hi, size)} << {bits}"
    writes = f"X[{{s1}}] = _o & {(1 << bits) - 1:#x}\nX[{{s2}}] = _o >> {bits}\n"
    return CompareAndSwap(2 * size, pair("r1", "r2"), pair("t1", "t2"), writes,
                          n=reg_sp(Rn), r1=Rs, r2=reg_zr(Rs + 1), t1=Rt, t2=reg_zr(Rt + 1),
                          s1=Rs, s2=reg_zw(Rs + 1))


# --- atomic memory operations -----------------------------------------------------------------

# LD<op> (C6.2): the value written to memory from the old memory value _o and the register
# operand _v (both zero-extended); the signed comparisons flip the sign bit {sb}, which maps
# two's complement order onto unsigned order.
ATOMIC_OPS = (
    "(_o + _v) & {em}",                       # LDADD
    "_o & ~_v",                               # LDCLR
    "_o ^ _v",                                # LDEOR
    "_o | _v",                                # LDSET
    "_o if _o ^ {sb} > _v ^ {sb} else _v",    # LDSMAX
    "_o if _o ^ {sb} < _v ^ {sb} else _v",    # LDSMIN
    "_o if _o > _v else _v",                  # LDUMAX
    "_o if _o < _v else _v",                  # LDUMIN
)
SWP = "_v"


@encoding("size:2 111 V 00 A R 1 Rs:5 o3 opc:3 00 Rn:5 Rt:5")
def LDST_atomic(size, V, A, R, Rs, o3, opc, Rn, Rt):
    """LD<op>{A}{L} and SWP{A}{L} (B, H, W, X): A acquires, R releases; and LDAPR (FEAT_LRCPC)
    at o3:opc = 1:100 with A = 1, R = 0. LDAPR's Rs is should-be-one; other values are
    CONSTRAINED UNPREDICTABLE and UNDEFINED here (the choice QEMU makes)."""
    if V:
        raise Unallocated
    nbytes = 1 << size
    if o3:
        if opc == 0b100 and A and not R and Rs == 31:
            return Ordered(MemOp(nbytes, True), Rn, Rt)
        if opc:
            raise Unallocated                 # LD64B/ST64B* (FEAT_LS64), RCW* (FEAT_THE)
        operation = SWP
    else:
        operation = ATOMIC_OPS[opc]
    bits = 8 * nbytes
    src = ("_a = X[{n}]\n" + Aligned(nbytes, READ) + f"_v = {Mask('rs', nbytes)}\n"
           f"_o = rd{bits}(_a)\nwr{bits}(_a, {operation})\nX[{{t}}] = _o\n")
    return ldst_insn(src, n=reg_sp(Rn), rs=reg_zr(Rs), t=reg_zw(Rt), em=(1 << bits) - 1,
                     sb=1 << (bits - 1))

