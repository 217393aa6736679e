"""Data processing - register (C4.1.88): logical and add/subtract (shifted and extended
register), add/subtract with carry, rotate right into flags and evaluate into flags
(FEAT_FlagM), conditional compare and select, data-processing 1, 2 and 3 source.

Not implemented, so left out of the table and UNDEFINED: FEAT_PAuth (PAC*/AUT*/XPAC*, PACGA),
FEAT_MTE (SUBP/SUBPS, IRG, GMI), FEAT_CSSC (ABS, CNT, CTZ, SMAX/SMIN/UMAX/UMIN (register)) and
FEAT_CPA (ADDPT/SUBPT, MADDPT/MSUBPT).
"""

from ..bits import ASR, COND_MASK, LSL, LSR, BitReverse, Ones, Replicate
from ..decode import Unallocated, encoding
from ..state import reg_sp, reg_zr, reg_zw
from ..translate import runtime
from .dp_imm import (
    MASK,
    AddSub,
    AddWithCarryArgs,
    Logical,
    RotateMasked,
    SIntExpr,
    UIntExpr,
    insn_of,
)


def ShiftRegExpr(shift_type, amount, sf):
    """ShiftReg(m, shift_type, amount, datasize) with a decode-time amount: (expression reading
    X[{m}], its parameters, whether the value is clean)."""
    if amount == 0:
        return "X[{m}]", {}, bool(sf)
    datasize = 32 << sf
    if shift_type == LSL:
        return "(X[{m}] << {amount})", {"amount": amount}, False
    if shift_type == LSR:
        return f"({UIntExpr('X[{m}]', datasize)} >> {{amount}})", {"amount": amount}, True
    if shift_type == ASR:
        return f"({SIntExpr('X[{m}]', datasize)} >> {{amount}})", {"amount": amount}, False
    if sf:      # ROR of a (clean) 64-bit register: one read, one mask
        return (f"(((_rot := X[{{m}}]) >> {{amount}} | _rot << {64 - amount}) & {Ones(64):#x})",
                {"amount": amount}, True)
    expr, params = RotateMasked("X[{m}]", "X[{m}]", amount, datasize, Ones(datasize))
    return f"({expr})", params, True


def ExtendRegExpr(option, shift, sf):
    """ExtendReg(m, option, shift, datasize) with decode-time option and shift: (expression
    reading X[{m}], its parameters, whether the value is clean)."""
    datasize = 32 << sf
    length = 8 << (option & 3)
    unsigned = option < 4
    if length >= datasize:   # the extension is above the result
        expr, clean = "X[{m}]", bool(sf)
    elif unsigned:
        expr, clean = UIntExpr("X[{m}]", length), True
    else:
        expr, clean = SIntExpr("X[{m}]", length), False
    if not shift:
        return expr, {}, clean
    return f"({expr} << {{shift}})", {"shift": shift}, clean and length + shift <= datasize


@encoding("sf opc:2 01010 shift:2 N Rm:5 imm6:6 Rn:5 Rd:5")
def LOGICAL_shifted(sf, opc, shift, N, Rm, imm6, Rn, Rd):
    """AND, BIC, ORR, ORN, EOR, EON, ANDS, BICS (shifted register)."""
    if imm6 >> (5 + sf):
        raise Unallocated()
    y, params, clean = ShiftRegExpr(shift, imm6, sf)
    if N:
        y, clean = "~" + y, False
    return Logical(opc, sf, reg_zw(Rd), y, clean, n=reg_zr(Rn), m=reg_zr(Rm), **params)


@encoding("sf op S 01011 shift:2 0 Rm:5 imm6:6 Rn:5 Rd:5")
def ADD_SUB_shifted(sf, op, S, shift, Rm, imm6, Rn, Rd):
    """ADD, ADDS, SUB, SUBS (shifted register)."""
    if shift == 3 or imm6 >> (5 + sf):
        raise Unallocated()
    y, params, clean = ShiftRegExpr(shift, imm6, sf)
    return AddSub(op, S, sf, reg_zw(Rd), y, clean, n=reg_zr(Rn), m=reg_zr(Rm), **params)


@encoding("sf op S 01011 opt:2 1 Rm:5 option:3 imm3:3 Rn:5 Rd:5")
def ADD_SUB_extended(sf, op, S, opt, Rm, option, imm3, Rn, Rd):
    """ADD, ADDS, SUB, SUBS (extended register)."""
    if opt or imm3 > 4:
        raise Unallocated()
    y, params, clean = ExtendRegExpr(option, imm3, sf)
    return AddSub(op, S, sf, reg_zw(Rd) if S else reg_sp(Rd), y, clean, n=reg_sp(Rn),
                  m=reg_zr(Rm), **params)


@encoding("sf op S 11010000 Rm:5 000000 Rn:5 Rd:5")
def ADC_SBC(sf, op, S, Rm, Rn, Rd):
    """ADC, ADCS, SBC, SBCS."""
    return AddSub(op, S, sf, reg_zw(Rd), "X[{m}]", bool(sf), carry="(s.nzcv >> 1 & 1)",
                  n=reg_zr(Rn), m=reg_zr(Rm))


@encoding("sf op S 11010000 imm6:6 00001 Rn:5 o2 mask:4")
def RMIF(sf, op, S, imm6, Rn, o2, mask):
    """RMIF (FEAT_FlagM): NZCV bits selected by mask from ROR(X[n], imm6)<3:0>."""
    if (sf, op, S, o2) != (1, 0, 1, 0):
        raise Unallocated()
    expr, params = RotateMasked("X[{n}]", "X[{n}]", imm6, 64, mask)
    return insn_of("s.nzcv = s.nzcv & {keep} | " + expr, keep=~mask & 0xF, n=reg_zr(Rn), **params)


@encoding("sf op S 11010000 opcode2:6 sz 0010 Rn:5 o3 mask:4")
def SETF(sf, op, S, opcode2, sz, Rn, o3, mask):
    """SETF8, SETF16 (FEAT_FlagM): N, Z, V from the low 8 or 16 bits of W[n]; C unchanged."""
    if (sf, op, S, opcode2, o3, mask) != (0, 0, 1, 0, 0, 0b1101):
        raise Unallocated()
    msb = 7 + 8 * sz
    return insn_of("_v = X[{n}]\n"
                   "s.nzcv = (_v >> {msb} & 1) << 3 | ((_v & {low}) == 0) << 2 | s.nzcv & 2"
                   " | (_v >> {msb} ^ _v >> {above}) & 1",
                   n=reg_zr(Rn), msb=msb, low=Ones(msb + 1), above=msb + 1)


@encoding("sf op S 11010010 Rm:5 cond:4 i o2 Rn:5 o3 nzcv:4")
def CCMN_CCMP(sf, op, S, Rm, cond, i, o2, Rn, o3, nzcv):
    """CCMN, CCMP (register and immediate; i selects the form, Rm is then imm5)."""
    if not S or o2 or o3:
        raise Unallocated()
    params = {"n": reg_zr(Rn), "m": reg_zr(Rm), "cm": COND_MASK[cond], "nzcv": nzcv}
    args = AddWithCarryArgs(op, sf, Rm if i else "X[{m}]", bool(sf), params)
    return insn_of(f"s.nzcv = AddWithCarry({args})[1] if {{cm}} >> s.nzcv & 1 else {{nzcv}}",
                   **params)


CSEL_ALTERNATIVES = ("X[{m}]", "(X[{m}] + 1)", "~X[{m}]", "-X[{m}]")


@encoding("sf op S 11010100 Rm:5 cond:4 op2:2 Rn:5 Rd:5")
def CSEL(sf, op, S, Rm, cond, op2, Rn, Rd):
    """CSEL, CSINC, CSINV, CSNEG (and CSET/CSETM/CINC/CINV/CNEG)."""
    if S or op2 >> 1:
        raise Unallocated()
    kind = op << 1 | op2
    taken = UIntExpr("X[{n}]", 32 << sf)
    other = CSEL_ALTERNATIVES[kind]
    if kind or not sf:
        other = f"{other} & {MASK[sf]}"
    return insn_of(f"X[{{d}}] = {taken} if {{cm}} >> s.nzcv & 1 else {other}",
                   d=reg_zw(Rd), n=reg_zr(Rn), m=reg_zr(Rm), cm=COND_MASK[cond])


# --- data-processing (1 source) ----------------------------------------------------------------

BIT_REVERSED_BYTES = bytes(BitReverse(b, 8) for b in range(256))


@runtime
def dp_BitReverse(x, nbytes):
    """BitReverse(x<8*nbytes-1:0>): reverse the bytes and the bits in each byte."""
    return int.from_bytes(x.to_bytes(nbytes, "little").translate(BIT_REVERSED_BYTES), "big")


def ReverseSteps(datasize, container):
    """Reverse(operand, 8) within each container (REV16, REV32, REV) as expressions, each
    reading the previous one's value as `_v`: one byte reversal when the container is the whole
    register, else swaps of ever-smaller halves within every container."""
    if container == datasize:
        return [f"int.from_bytes({UIntExpr('X[{n}]', datasize)}.to_bytes({datasize // 8}, "
                "'little'), 'big')"]
    steps, src, width = [], "X[{n}]", container // 2
    while width >= 8:
        lanes = hex(Replicate(Ones(width), 2 * width, datasize))
        steps.append(f"{src} >> {width} & {lanes} | ({src} & {lanes}) << {width}")
        src, width = "_v", width // 2
    return steps


@encoding("sf 1 S 11010110 opcode2:5 0000 opc:2 Rn:5 Rd:5")
def RBIT_REV(sf, S, opcode2, opc, Rn, Rd):
    """RBIT, REV16, REV32, REV (opc 0-3; at 32 bits opc 2 is REV and opc 3 is unallocated)."""
    if S or opcode2 or (opc == 3 and not sf):
        raise Unallocated()
    datasize = 32 << sf
    if opc == 0:
        steps = [f"dp_BitReverse({UIntExpr('X[{n}]', datasize)}, {datasize // 8})"]
    else:
        steps = ReverseSteps(datasize, 8 << opc)
    src = "".join(f"_v = {step}\n" for step in steps[:-1]) + "X[{d}] = " + steps[-1]
    return insn_of(src, d=reg_zw(Rd), n=reg_zr(Rn))


@encoding("sf 1 S 11010110 opcode2:5 00010 op Rn:5 Rd:5")
def CLZ_CLS(sf, S, opcode2, op, Rn, Rd):
    """CLZ, CLS. CountLeadingSignBits(x) = CountLeadingZeroBits(x<N-1:1> EOR x<N-2:0>)."""
    if S or opcode2:
        raise Unallocated()
    datasize = 32 << sf
    x = UIntExpr("X[{n}]", datasize)
    if op:
        src = (f"X[{{d}}] = {datasize - 1} - ({x} >> 1 ^ X[{{n}}] & {Ones(datasize - 1):#x})"
               ".bit_length()")
    else:
        src = f"X[{{d}}] = {datasize} - {x}.bit_length()"
    return insn_of(src, d=reg_zw(Rd), n=reg_zr(Rn))


# --- data-processing (2 source) ----------------------------------------------------------------

@encoding("sf 0 S 11010110 Rm:5 00001 o1 Rn:5 Rd:5")
def UDIV_SDIV(sf, S, Rm, o1, Rn, Rd):
    """UDIV, SDIV: the quotient rounds towards zero; division by zero gives 0 and the one
    overflow, INT_MIN / -1, wraps to INT_MIN."""
    if S:
        raise Unallocated()
    datasize = 32 << sf
    regs = {"d": reg_zw(Rd), "n": reg_zr(Rn), "m": reg_zr(Rm)}
    if not o1:
        return insn_of(f"_b = {UIntExpr('X[{m}]', datasize)}\n"
                       f"X[{{d}}] = {UIntExpr('X[{n}]', datasize)} // _b if _b else 0", **regs)
    return insn_of(f"_b = {SIntExpr('X[{m}]', datasize)}\n"
                   "if _b:\n"
                   f"    _a = {SIntExpr('X[{n}]', datasize)}\n"
                   "    _q = abs(_a) // abs(_b)\n"
                   f"    X[{{d}}] = (-_q if (_a ^ _b) < 0 else _q) & {MASK[sf]}\n"
                   "else:\n"
                   "    X[{d}] = 0", **regs)


@encoding("sf 0 S 11010110 Rm:5 0010 op2:2 Rn:5 Rd:5")
def SHIFTV(sf, S, Rm, op2, Rn, Rd):
    """LSLV, LSRV, ASRV, RORV: the shift amount is X[m] MOD datasize."""
    if S:
        raise Unallocated()
    datasize, m = 32 << sf, MASK[sf]
    x = UIntExpr("X[{n}]", datasize)
    result = (f"X[{{n}}] << _s & {m}", f"{x} >> _s", f"{SIntExpr('X[{n}]', datasize)} >> _s & {m}",
              f"(_v >> _s | _v << {datasize} - _s) & {m}")[op2]
    setup = f"_v = {x}\n" if op2 == 3 else ""
    return insn_of(f"_s = X[{{m}}] & {datasize - 1}\n{setup}X[{{d}}] = {result}",
                   d=reg_zw(Rd), n=reg_zr(Rn), m=reg_zr(Rm))


def Crc32Table(poly):
    """Byte-at-a-time table for the CRC of the pseudocode: BitReverse(Poly32Mod2(
    BitReverse(acc):Zeros(size) EOR BitReverse(val):Zeros(32), poly)) is the reflected CRC
    update, with the polynomial bit-reversed and no pre- or post-inversion."""
    reflected = BitReverse(poly, 32)
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = crc >> 1 ^ (reflected if crc & 1 else 0)
        table.append(crc)
    return tuple(table)


CRC32_TABLES = (Crc32Table(0x04C11DB7), Crc32Table(0x1EDC6F41))   # CRC32*, CRC32C*


@encoding("sf 0 S 11010110 Rm:5 010 C sz:2 Rn:5 Rd:5")
def CRC32(sf, S, Rm, C, sz, Rn, Rd):
    """CRC32B/H/W/X, CRC32CB/H/W/X (FEAT_CRC32): one table step per byte of X[m]."""
    if S or sf != (sz == 3):
        raise Unallocated()
    steps = ["_c = X[{n}] & 0xFFFFFFFF"]
    for i in range(1 << sz):
        byte = f"_v >> {8 * i}" if i else "_v"
        steps.append(f"_c = {{table}}[(_c ^ {byte}) & 0xFF] ^ _c >> 8")
    src = "_v = X[{m}]\n" + "\n".join(steps) + "\nX[{d}] = _c"
    return insn_of(src, d=reg_zw(Rd), n=reg_zr(Rn), m=reg_zr(Rm), table=CRC32_TABLES[C])


# --- data-processing (3 source) ----------------------------------------------------------------

def MulAdd(o0, Ra, product, datasize, **params):
    """X[d] = X[a] + product (o0: X[a] - product), modulo 2^datasize; MUL/MNEG when Ra is ZR."""
    if Ra == 31:
        expr = f"-({product})" if o0 else product
    else:
        expr = f"X[{{a}}] {'-' if o0 else '+'} {product}"
        params["a"] = Ra
    return insn_of(f"X[{{d}}] = ({expr}) & {MASK[datasize == 64]}", **params)


@encoding("sf 00 11011 000 Rm:5 o0 Ra:5 Rn:5 Rd:5")
def MADD_MSUB(sf, Rm, o0, Ra, Rn, Rd):
    """MADD, MSUB (and MUL, MNEG)."""
    return MulAdd(o0, Ra, "X[{n}] * X[{m}]", 32 << sf, d=reg_zw(Rd), n=reg_zr(Rn), m=reg_zr(Rm))


@encoding("1 00 11011 U 01 Rm:5 o0 Ra:5 Rn:5 Rd:5")
def MADDL_MSUBL(U, Rm, o0, Ra, Rn, Rd):
    """SMADDL, SMSUBL, UMADDL, UMSUBL (and SMULL, SMNEGL, UMULL, UMNEGL)."""
    ext = UIntExpr if U else SIntExpr
    return MulAdd(o0, Ra, f"{ext('X[{n}]', 32)} * {ext('X[{m}]', 32)}", 64,
                  d=reg_zw(Rd), n=reg_zr(Rn), m=reg_zr(Rm))


@encoding("1 00 11011 U 10 Rm:5 0 xxxxx Rn:5 Rd:5")
def MULH(U, Rm, Rn, Rd):
    """SMULH, UMULH: the high 64 bits of the 128-bit product (Ra is should-be-one, ignored)."""
    if U:
        src = "X[{d}] = X[{n}] * X[{m}] >> 64"
    else:
        src = f"X[{{d}}] = {SIntExpr('X[{n}]', 64)} * {SIntExpr('X[{m}]', 64)} >> 64 & {MASK[1]}"
    return insn_of(src, d=reg_zw(Rd), n=reg_zr(Rn), m=reg_zr(Rm))
