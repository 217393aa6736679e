"""Data processing - immediate (C4.1.86): PC-relative addressing, add/subtract, logical, move
wide, bitfield, extract.

Not implemented, so left out of the table and UNDEFINED: add/subtract immediate with tags
(ADDG/SUBG, FEAT_MTE) and min/max immediate (SMAX/SMIN/UMAX/UMIN, FEAT_CSSC).

Templates are built from operand expressions: text reading `X[{n}]` and friends in which the
decode-time constants of an encoding (shift amounts, field masks, immediates) are parameters and
those of a whole form (datasize masks, sign bits) are written in. The builders below are shared
with dp_reg.py. A register read is in [0, 2**64), so for a W-sized operation it may hold
bits above 31: each builder says whether its value is "clean" (already within datasize bits),
and results are masked only where it is not.
"""

from ..bits import DecodeBitMasks, Ones, SignExtend
from ..decode import Unallocated, encoding, insn, template_params
from ..state import reg_sp, reg_zr, reg_zw

MASK = {0: "0xFFFFFFFF", 1: "0xFFFFFFFFFFFFFFFF"}


def insn_of(src, flags=None, **params):
    """insn() given only the parameters that src uses: operand builders offer all theirs."""
    used = template_params(src)
    return insn(src, flags=flags, **{name: value for name, value in params.items()
                                     if name in used})


def UIntExpr(reg, bits):
    """UInt(reg<bits-1:0>) as an expression."""
    return reg if bits == 64 else f"({reg} & {hex(Ones(bits))})"


def SIntExpr(reg, bits):
    """SInt(reg<bits-1:0>) as an expression."""
    sign = hex(1 << (bits - 1))
    return f"(({UIntExpr(reg, bits)} ^ {sign}) - {sign})"


def RotateMasked(hi, lo, shift, datasize, mask):
    """(hi:lo)<shift+datasize-1:shift> AND mask as an expression, with the parameters it uses.

    With hi == lo == x this is ROR(x<datasize-1:0>, shift) AND mask. Neither source needs masking
    first: result bits below datasize-shift come from lo >> shift, the others from
    hi << (datasize-shift), and mask is split between the two at that boundary.
    """
    low_bits = Ones(datasize - shift)
    lo_mask, hi_mask = mask & low_bits, mask & Ones(datasize) & ~low_bits
    terms, params = [], {}
    if lo_mask:
        terms.append(f"{lo} >> {{rsh}} & {{lo_mask}}" if shift else f"{lo} & {{lo_mask}}")
        params.update(rsh=shift, lo_mask=lo_mask)
    if hi_mask:
        terms.append(f"{hi} << {{lsh}} & {{hi_mask}}")
        params.update(lsh=datasize - shift, hi_mask=hi_mask)
    return " | ".join(terms) or "0", params


def AddWithCarryArgs(sub, sf, y, y_clean, params, carry=None):
    """The arguments of AddWithCarry(X[n], sub ? NOT(y) : y, carry, datasize) as text.

    y is an operand expression (y_clean: already within datasize bits) or a decode-time int,
    which is folded into the parameter `imm`. carry is an expression; by default `sub`.
    """
    datasize, m = 32 << sf, MASK[sf]
    if isinstance(y, int):
        params["imm"] = (~y & Ones(datasize)) if sub else y
        operand = "{imm}"
    elif sub:
        operand = f"~{y} & {m}"
    else:
        operand = y if y_clean else f"{y} & {m}"
    x = "X[{n}]" if sf else f"X[{{n}}] & {m}"
    return f"{x}, {operand}, {int(sub) if carry is None else carry}, {datasize}"


# NZCV from the operands and result of an addition / subtraction with the signs as comparisons
# (cheaper on CPython's 64-bit integers than shifts and masks): V is set when the operands'
# signs agree (add) or differ (subtract) and the result's sign differs from x's.
NZCV_OF_ADD = ("(_r >= {sign}) * 8 + (_r == 0) * 4 + ({carry}) * 2 + "
               "((_x >= {sign}) == (_y >= {sign}) != (_r >= {sign}))")
NZCV_OF_SUB = ("(_r >= {sign}) * 8 + (_r == 0) * 4 + (_x >= _y) * 2 + "
               "((_y >= {sign}) != (_x >= {sign}) != (_r >= {sign}))")


def AddWithCarryInline(args, datasize, use_result):
    """AddWithCarry(x, y, carry, N) written out inline (a function call costs more than the
    arithmetic): `args` is the "x, y, carry, N" text of AddWithCarryArgs; `use_result` the
    statement that consumes the result _r (empty for compares that only set NZCV)."""
    x, y, carry, _ = (part.strip() for part in args.rsplit(",", 3))
    top = datasize - 1
    return (f"_x = {x}\n_y = {y}\n_u = _x + _y + {carry}\n_r = _u & {Ones(datasize)}\n"
            f"{use_result}"
            f"s.nzcv = {NZCV_OF_ADD.format(sign=1 << top, carry=f'_u >> {datasize}')}")


def FlagSettingAddSub(sub, sf, y, y_clean, params, use_result):
    """ADDS/SUBS (and CMN/CMP): AddWithCarry(x, y, 0, N) or AddWithCarry(x, NOT(y), 1, N)
    specialised so that C is the unsigned comparison and V the sign test, with no carry-in
    arithmetic. y is an expression or a decode-time int (folded into `imm`)."""
    datasize, m = 32 << sf, MASK[sf]
    top = datasize - 1
    if isinstance(y, int):
        params["imm"], y = y, "{imm}"
    elif not y_clean:
        y = f"({y}) & {m}"
    x = "X[{n}]" if sf else f"X[{{n}}] & {m}"
    if sub:
        return (f"_x = {x}\n_y = {y}\n_r = (_x - _y) & {m}\n{use_result}"
                f"s.nzcv = {NZCV_OF_SUB.format(sign=1 << top)}")
    return (f"_x = {x}\n_y = {y}\n_u = _x + _y\n_r = _u & {m}\n{use_result}"
            f"s.nzcv = {NZCV_OF_ADD.format(sign=1 << top, carry=f'_u >> {datasize}')}")


def AddSub(sub, setflags, sf, d, y, y_clean=True, carry=None, **params):
    """X[d] = X[n] + y (sub: X[n] + NOT(y) + 1, or + carry when given), setting NZCV through
    AddWithCarry when setflags. params holds n and whatever y refers to."""
    if setflags:
        if carry is None:
            return insn_of(FlagSettingAddSub(sub, sf, y, y_clean, params, "X[{d}] = _r\n"),
                           flags=("sub" if sub else "add", 31 + 32 * sf), d=d, **params)
        args = AddWithCarryArgs(sub, sf, y, y_clean, params, carry)
        return insn_of(AddWithCarryInline(args, 32 << sf, "X[{d}] = _r\n"), d=d, **params)
    if isinstance(y, int):
        params["imm"], y = y, "{imm}"
    if carry is None:
        expr = f"X[{{n}}] {'-' if sub else '+'} {y}"
    else:
        expr = f"X[{{n}}] + {'~' if sub else ''}{y} + {carry}"
    return insn_of(f"X[{{d}}] = ({expr}) & {MASK[sf]}", d=d, **params)


def Logical(opc, sf, d, y, y_clean=True, **params):
    """AND/ORR/EOR/ANDS (opc 0-3) of X[n] and y (an expression, or a decode-time int).
    ANDS sets N and Z from the result and clears C and V."""
    if isinstance(y, int):
        params["imm"], y = y, "{imm}"
    expr = f"X[{{n}}] {'&|^&'[opc]} {y}"
    # X[n] & y is clean when either side is; | and ^ need both (X[n] is clean only at 64 bits).
    clean = (y_clean or sf) if opc in (0, 3) else (y_clean and sf)
    if not clean:
        expr = f"({expr}) & {MASK[sf]}"
    if opc != 3:
        return insn_of(f"X[{{d}}] = {expr}", d=d, **params)
    top = 31 + 32 * sf
    return insn_of(f"_r = {expr}\nX[{{d}}] = _r\ns.nzcv = _r >> {top} << 3 | (_r == 0) << 2",
                   flags=("logic", top), d=d, **params)


@encoding("op immlo:2 10000 immhi:19 Rd:5")
def ADR_ADRP(op, immlo, immhi, Rd):
    """ADR, ADRP."""
    imm = SignExtend(immhi << 2 | immlo, 21)
    if op:
        return insn_of("X[{d}] = ((pc & ~0xFFF) + {imm}) & 0xFFFFFFFFFFFFFFFF",
                    d=reg_zw(Rd), imm=imm << 12)
    return insn_of("X[{d}] = (pc + {imm}) & 0xFFFFFFFFFFFFFFFF", d=reg_zw(Rd), imm=imm)


@encoding("sf op S 100010 sh imm12:12 Rn:5 Rd:5")
def ADD_SUB_imm(sf, op, S, sh, imm12, Rn, Rd):
    """ADD/ADDS/SUB/SUBS (immediate)."""
    return AddSub(op, S, sf, reg_zw(Rd) if S else reg_sp(Rd), imm12 << (12 * sh), n=reg_sp(Rn))


@encoding("sf opc:2 100100 N immr:6 imms:6 Rn:5 Rd:5")
def LOGICAL_imm(sf, opc, N, immr, imms, Rn, Rd):
    """AND/ORR/EOR/ANDS (immediate)."""
    masks = None if N > sf else DecodeBitMasks(N, imms, immr, True, 32 << sf)
    if masks is None:
        raise Unallocated()
    return Logical(opc, sf, reg_zw(Rd) if opc == 3 else reg_sp(Rd), masks[0], n=reg_zr(Rn))


@encoding("sf opc:2 100101 hw:2 imm16:16 Rd:5")
def MOVE_WIDE(sf, opc, hw, imm16, Rd):
    """MOVN, MOVZ, MOVK."""
    if opc == 1 or hw >> 1 > sf:
        raise Unallocated()
    pos, m = 16 * hw, Ones(32 << sf)
    imm = imm16 << pos
    if opc == 3:
        return insn_of("X[{d}] = X[{r}] & {keep} | {imm}", d=reg_zw(Rd), r=reg_zr(Rd),
                    keep=m & ~(0xFFFF << pos), imm=imm)
    return insn_of("X[{d}] = {value}", d=reg_zw(Rd), value=imm if opc == 2 else ~imm & m)


@encoding("sf opc:2 100110 N immr:6 imms:6 Rn:5 Rd:5")
def BITFIELD(sf, opc, N, immr, imms, Rn, Rd):
    """SBFM, BFM, UBFM (and so ASR/LSL/LSR/SXT*/UXT*/SBFIZ/SBFX/BFC/BFI/BFXIL/UBFIZ/UBFX).

    result = (top AND NOT(tmask)) OR (bot AND tmask) with bot = (dst AND NOT(wmask)) OR
    (ROR(src, R) AND wmask): the rotated source always lands under wmask AND tmask; SBFM fills
    the bits outside tmask with src<S>, BFM keeps X[d] outside wmask AND tmask, UBFM zeroes.
    """
    if opc == 3 or N != sf or (immr | imms) >> (5 + sf):
        raise Unallocated()
    datasize = 32 << sf
    wmask, tmask = DecodeBitMasks(N, imms, immr, False, datasize)
    expr, params = RotateMasked("X[{n}]", "X[{n}]", immr, datasize, wmask & tmask)
    fill = ~tmask & Ones(datasize)
    if opc == 0 and fill:
        expr += " | (-(X[{n}] >> {sbit} & 1) & {fill})"
        params.update(sbit=imms, fill=fill)
    elif opc == 1:
        expr = "X[{r}] & {keep} | " + expr
        params.update(r=reg_zr(Rd), keep=~(wmask & tmask) & Ones(datasize))
    return insn_of("X[{d}] = " + expr, d=reg_zw(Rd), n=reg_zr(Rn), **params)


@encoding("sf op21:2 100111 N o0 Rm:5 imms:6 Rn:5 Rd:5")
def EXTR(sf, op21, N, o0, Rm, imms, Rn, Rd):
    """EXTR (and ROR (immediate))."""
    if op21 or o0 or N != sf or imms >> (5 + sf):
        raise Unallocated()
    expr, params = RotateMasked("X[{n}]", "X[{m}]", imms, 32 << sf, Ones(32 << sf))
    return insn_of("X[{d}] = " + expr, d=reg_zw(Rd), n=reg_zr(Rn), m=reg_zr(Rm), **params)
