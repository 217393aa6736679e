"""Advanced SIMD (C4.1.96, the AdvSIMD classes): template builders shared by the simd_*.py
instruction classes.

A vector operation is written either as a whole-register expression over per-lane masks (see
machine.cpu.vector) or with `lanewise`, which splits the source registers into element lists
with struct, evaluates one Python expression per element and packs the results back.
"""

from typing import NamedTuple

from ..bits import Ones
from ..decode import insn, template_params
from ..translate import runtime
from ..vector import (
    Lanes,
    PolynomialMult,
    SatRange,
    ShiftElement,
    VecHigher,
    VecZero,
    lane_masks,
)

QC = 1 << 27          # FPSR.QC, the cumulative saturation bit

for _helper in (VecHigher, VecZero, PolynomialMult, ShiftElement):
    runtime(_helper)


@runtime
def SatQSetQC(value, lo, hi, s):
    """SatQ() of one value into [lo, hi], setting FPSR.QC when it saturates."""
    if value < lo:
        s.fpsr |= QC
        return lo
    if value > hi:
        s.fpsr |= QC
        return hi
    return value


def vinsn(src, **params):
    """insn() given only the params the template uses (the shared lane-mask sets carry more)."""
    used = template_params(src)
    return insn(src, **{k: v for k, v in params.items() if k in used})


class Src(NamedTuple):
    """A source operand of `lanewise`: `count` elements of `esize` bits of V[reg] from byte
    `offset` (8 for the upper half). With `bcast`, the single element at `offset` is used for
    every lane (the by-element forms)."""

    reg: int
    esize: int
    count: int
    signed: bool = False
    offset: int = 0
    bcast: bool = False


def _read(i, src, params):
    params[f"L{i}"] = Lanes(src.esize, src.count, src.signed)
    params[f"r{i}"] = src.reg
    params[f"o{i}"] = src.offset
    return f"{{L{i}}}.unpack_from(V[{{r{i}}}].to_bytes(16, 'little'), {{o{i}}})"


def lanewise(d, expr, srcs, esize, count, *, sat=None, acc=False, upper=False,
             pairwise=False, **extra):
    """V[d] = the `count` elements of `esize` bits given by `expr` per element.

    In `expr`, _a and _b are the elements of srcs[0] and srcs[1] and _d (with `acc`) the
    destination's own element, signed when saturating signed. Without `sat` the result is
    taken modulo 2^esize; with sat='s' or 'u' it saturates (SatQ) and sets FPSR.QC if any
    element did. `pairwise` pairs adjacent elements of the sources' concatenation as _a, _b;
    `upper` writes the upper half of V[d] and keeps the lower (the "2" narrowing forms);
    otherwise the bits above the result are zeroed."""
    params = {"d": d, **extra}
    lines, iters, names = [], [], []
    for i, src in enumerate(srcs):
        text = _read(i, src, params)
        name = ("_a", "_b")[i]
        if src.bcast:
            lines.append(f"{name} = {text}[0]")
        else:
            iters.append(text)
            names.append(name)
    if pairwise:
        lines.append("_x = " + " + ".join(iters))
        iters, names = ["_x[0::2]", "_x[1::2]"], ["_a", "_b"]
    if acc:
        iters.append(_read(len(srcs), Src(d, esize, count, sat == "s"), params))
        names.append("_d")
    if len(iters) == 1:
        loop = f"for {names[0]} in {iters[0]}"
    else:
        loop = f"for {', '.join(names)} in zip({', '.join(iters)})"
    if sat is None:
        lines.append(f"_r = [({expr}) & {{em}} {loop}]")
        params["em"] = Ones(esize)
        params["P"] = Lanes(esize, count)
    else:
        lines.append(f"_r = [{expr} {loop}]")
        lines.append("_q = [{lo} if _v < {lo} else {hi} if _v > {hi} else _v for _v in _r]")
        lines.append("if _q != _r:")
        lines.append("    s.fpsr |= 0x8000000")
        lines.append("    _r = _q")
        params["lo"], params["hi"] = SatRange(esize, sat == "u")
        params["P"] = Lanes(esize, count, sat == "s")
    value = "int.from_bytes({P}.pack(*_r), 'little')"
    if upper:
        lines.append(f"V[{{d}}] = V[{{d}}] & 0xFFFFFFFFFFFFFFFF | {value} << 64")
    else:
        lines.append(f"V[{{d}}] = {value}")
    return insn("\n".join(lines), **params)


def sat_kind(unsigned):
    return "u" if unsigned else "s"


def swar_add(x, y):
    """Template expression for the lane-wise x + y ({low}, {msb}: lane masks): the carry out of
    each lane is suppressed by clearing the lanes' top bits, added back by an exclusive or."""
    return f"({x} & {{low}}) + ({y} & {{low}}) ^ ({x} ^ {y}) & {{msb}}"


def swar_sub(x, y):
    """Template expression for the lane-wise x - y: the borrow out of each lane is suppressed
    by setting the lanes' top bits of x and clearing those of y."""
    return f"({x} & {{data}} | {{msb}}) - ({y} & {{low}}) ^ ({x} ^ ~{y}) & {{msb}}"


class Args(NamedTuple):
    """One decoded three-register instruction: U bit, registers and element layout."""

    U: int
    d: int
    n: int
    m: int
    esize: int
    count: int

    @property
    def masks(self):
        k = lane_masks(self.esize, self.esize * self.count)
        return {"data": k.data, "msb": k.msb, "low": k.low, "top": k.top}

    def src(self, reg, signed=None):
        return Src(reg, self.esize, self.count, not self.U if signed is None else signed)


# --- whole-register forms ---------------------------------------------------------------------

def compare(a, x, y, signed, swap=False, invert=False, **regs):
    """CMGT/CMHI/CMGE/CMHS and the compares with zero: V[d] lanes all ones where x > y
    (x >= y as NOT(y > x) with `swap` and `invert`)."""
    k = a.masks
    if swap:
        x, y = y, x
    if signed:                       # a signed compare is the unsigned one with the sign flipped
        x, y = f"{x} ^ {{msb}}", f"{y} ^ {{msb}}"
    inv = "{data} ^ " if invert else ""
    return vinsn(f"V[{{d}}] = {inv}VecHigher({x}, {y}, {{data}}, {{msb}}, {{low}}, {{top}})",
                 d=a.d, **k, **regs)
