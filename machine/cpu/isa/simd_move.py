"""Advanced SIMD data movement (C4.1.96): modified immediate (MOVI/MVNI/ORR/BIC/FMOV), copy
(DUP/INS/UMOV/SMOV), permute (ZIP/UZP/TRN), extract (EXT) and table lookup (TBL/TBX)."""

from operator import itemgetter

from ..bits import Ones, Replicate
from ..decode import Unallocated, encoding, insn
from ..state import reg_zr, reg_zw

M64 = Ones(64)


def AdvSIMDExpandImm(op, cmode, imm8):
    """AdvSIMDExpandImm() (shared/functions/vector): the 64-bit immediate."""
    kind = cmode >> 1
    if kind <= 0b011:                        # 32-bit lanes, imm8 shifted by 0/8/16/24
        return Replicate(imm8 << (8 * kind), 32, 64)
    if kind <= 0b101:                        # 16-bit lanes, shifted by 0/8
        return Replicate(imm8 << (8 * (kind & 1)), 16, 64)
    if kind == 0b110:                        # 32-bit lanes, shifting ones in (MSL #8/#16)
        ones = 8 << (cmode & 1)
        return Replicate((imm8 << ones) | Ones(ones), 32, 64)
    if not cmode & 1:
        if not op:
            return Replicate(imm8, 8, 64)
        return sum(0xFF << (8 * i) for i in range(8) if imm8 >> i & 1)
    a, b, cdefgh = imm8 >> 7, (imm8 >> 6) & 1, imm8 & 0x3F
    if not op:                               # single precision: a:NOT(b):bbbbb:cdefgh:Zeros(19)
        imm32 = (a << 31) | ((b ^ 1) << 30) | ((Ones(5) * b) << 25) | (cdefgh << 19)
        return Replicate(imm32, 32, 64)
    # double precision: a:NOT(b):bbbbbbbb:cdefgh:Zeros(48)
    return (a << 63) | ((b ^ 1) << 62) | ((Ones(8) * b) << 54) | (cdefgh << 48)


@encoding("0 Q op 0111100000 abc:3 cmode:4 o2 1 defgh:5 Rd:5")
def AdvSIMD_modified_imm(Q, op, abc, cmode, o2, defgh, Rd):
    """MOVI, MVNI, ORR (vector, immediate), BIC (vector, immediate), FMOV (vector, immediate)."""
    if o2:
        raise Unallocated("FMOV (vector, immediate) half-precision: FEAT_FP16")
    if cmode == 0b1111 and op and not Q:
        raise Unallocated("FMOV (vector, immediate) double to a 64-bit vector")
    datasize = 64 << Q
    data = Ones(datasize)
    imm = Replicate(AdvSIMDExpandImm(op, cmode, (abc << 5) | defgh), 64, datasize)
    if cmode < 0b1100 and cmode & 1:         # ORR / BIC
        if op:
            return insn("V[{d}] = V[{d}] & {keep}", d=Rd, keep=data & ~imm)
        return insn("V[{d}] = V[{d}] & {data} | {imm}", d=Rd, data=data, imm=imm)
    if op and cmode < 0b1110:                # MVNI
        imm ^= data
    return insn("V[{d}] = {imm}", d=Rd, imm=imm)


# --- copy -------------------------------------------------------------------------------------

def _elem_size(imm5):
    """The element size from imm5's lowest set bit; imm5 = x0000 is unallocated."""
    if not imm5 & 0xF:
        raise Unallocated("copy with imm5 = x0000")
    return (imm5 & -imm5).bit_length() - 1


def _dup_element(d, n, size, index, datasize):
    esize = 8 << size
    return insn("V[{d}] = (V[{n}] >> {sh} & {em}) * {rep}", d=d, n=n, sh=index * esize,
                em=Ones(esize), rep=Replicate(1, esize, datasize))


@encoding("0 Q op 01110000 imm5:5 0 imm4:4 1 Rn:5 Rd:5")
def AdvSIMD_copy(Q, op, imm5, imm4, Rn, Rd):
    """DUP (element), DUP (general), INS (general), INS (element), SMOV, UMOV."""
    size = _elem_size(imm5)
    esize = 8 << size
    em = Ones(esize)
    index = imm5 >> (size + 1)
    if op:
        if not Q:
            raise Unallocated("INS (element) needs Q = 1")
        shd, shs = index * esize, (imm4 >> size) * esize
        return insn("V[{d}] = V[{d}] & {keep} | (V[{n}] >> {shs} & {em}) << {shd}", d=Rd,
                    n=Rn, keep=Ones(128) ^ (em << shd), shs=shs, shd=shd, em=em)
    if imm4 in (0b0000, 0b0001):
        if size == 3 and not Q:
            raise Unallocated("DUP of 64-bit elements to a 64-bit vector")
        if imm4 == 0b0000:
            return _dup_element(Rd, Rn, size, index, 64 << Q)
        return insn("V[{d}] = (X[{n}] & {em}) * {rep}", d=Rd, n=reg_zr(Rn), em=em,
                    rep=Replicate(1, esize, 64 << Q))
    if imm4 == 0b0011 and Q:                 # INS (general)
        sh = index * esize
        return insn("V[{d}] = V[{d}] & {keep} | (X[{n}] & {em}) << {sh}", d=Rd, n=reg_zr(Rn),
                    keep=Ones(128) ^ (em << sh), em=em, sh=sh)
    if imm4 == 0b0101 and size < 2 + Q:      # SMOV: to W from B/H, to X from B/H/S
        sign = 1 << (esize - 1)
        return insn("X[{d}] = ((V[{n}] >> {sh} & {em}) ^ {sign}) - {sign} & {rm}",
                    d=reg_zw(Rd), n=Rn, sh=index * esize, em=em, sign=sign, rm=Ones(32 << Q))
    if imm4 == 0b0111 and (size == 3 if Q else size < 3):    # UMOV: W from B/H/S, X from D
        return insn("X[{d}] = V[{n}] >> {sh} & {em}", d=reg_zw(Rd), n=Rn, sh=index * esize,
                    em=em)
    raise Unallocated("AdvSIMD copy")


@encoding("01 op 11110000 imm5:5 0 imm4:4 1 Rn:5 Rd:5")
def AdvSIMD_scalar_copy(op, imm5, imm4, Rn, Rd):
    """DUP (element), scalar: the MOV (scalar) alias."""
    if op or imm4:
        raise Unallocated("AdvSIMD scalar copy")
    size = _elem_size(imm5)
    return _dup_element(Rd, Rn, size, imm5 >> (size + 1), 8 << size)


# --- byte permutations ------------------------------------------------------------------------

ZEROS = -1      # as `m` of `permuted`: a source register of zeros


def permuted(n, m, esize, order):
    """The expression (and its params) for the elements of V[n] (indices 0..15 for bytes) and
    V[m] (16..31 for bytes) in `order`, a list of element indices of the concatenation; bits
    above them zero. A byte permutation: one itemgetter over the registers' bytes."""
    eb = esize // 8
    picks = [(e // (16 // eb)) * 16 + (e % (16 // eb)) * eb + b for e in order for b in range(eb)]
    second = {None: "", ZEROS: " + bytes(16)"}.get(m, " + V[{m}].to_bytes(16, 'little')")
    params = {"n": n, "g": itemgetter(*picks)}
    if m is not None and m != ZEROS:
        params["m"] = m
    return ("int.from_bytes(bytes({g}(V[{n}].to_bytes(16, 'little')" + second + ")), 'little')",
            params)


def element_permutation(d, n, m, esize, order):
    """V[d] = the permutation `order` of V[n]:V[m]'s elements (see `permuted`)."""
    expr, params = permuted(n, m, esize, order)
    return insn("V[{d}] = " + expr, d=d, **params)


@encoding("0 Q 001110 size:2 0 Rm:5 0 opcode:3 10 Rn:5 Rd:5")
def AdvSIMD_permute(Q, size, Rm, opcode, Rn, Rd):
    """UZP1, TRN1, ZIP1, UZP2, TRN2, ZIP2."""
    if opcode & 3 == 0 or (size == 3 and not Q):
        raise Unallocated("AdvSIMD permute")
    esize = 8 << size
    elements = (64 << Q) // esize
    stride = 128 // esize                  # index of V[m]'s element 0 in the concatenation
    part, kind = opcode >> 2, opcode & 3
    if kind == 1:                          # UZP: even (odd) elements of Vm:Vn
        both = list(range(elements)) + [stride + e for e in range(elements)]
        order = both[part::2]
    elif kind == 2:                        # TRN
        order = [e for p in range(elements // 2)
                 for e in (2 * p + part, stride + 2 * p + part)]
    else:                                  # ZIP: interleave the low (high) halves
        base = part * elements // 2
        order = [e for p in range(elements // 2) for e in (base + p, stride + base + p)]
    return element_permutation(Rd, Rn, Rm, esize, order)


@encoding("0 Q 101110 op2:2 0 Rm:5 0 imm4:4 0 Rn:5 Rd:5")
def AdvSIMD_extract(Q, op2, Rm, imm4, Rn, Rd):
    """EXT."""
    if op2 or (not Q and imm4 >> 3):
        raise Unallocated("AdvSIMD extract")
    datasize = 64 << Q
    return insn("V[{d}] = ((V[{m}] & {dm}) << {ds} | V[{n}] & {dm}) >> {pos} & {dm}", d=Rd,
                n=Rn, m=Rm, dm=Ones(datasize), ds=datasize, pos=8 * imm4)


@encoding("0 Q 001110 op2:2 0 Rm:5 0 len_:2 op 00 Rn:5 Rd:5")
def AdvSIMD_table_lookup(Q, op2, Rm, len_, op, Rn, Rd):
    """TBL, TBX: each index byte of V[m] selects a byte of the table V[n]..V[n+len]; an index
    out of range gives zero (TBL) or leaves the destination byte (TBX)."""
    if op2:
        raise Unallocated("AdvSIMD table lookup")
    regs = len_ + 1
    table = " + ".join(f"V[{{t{i}}}].to_bytes(16, 'little')" for i in range(regs))
    params = {f"t{i}": (Rn + i) % 32 for i in range(regs)}
    nb = 8 << Q
    lookup = f"int.from_bytes(_i.translate(({table}).ljust(256, bytes(1))), 'little')"
    src = "_i = (V[{m}] & {dm}).to_bytes({nb}, 'little')\nV[{d}] = " + lookup
    if op:
        src += " | V[{d}] & int.from_bytes(_i.translate({oor}), 'little')"
        params["oor"] = bytes(0xFF if i >= 16 * regs else 0 for i in range(256))
    return insn(src, d=Rd, m=Rm, dm=Ones(8 * nb), nb=nb, **params)
