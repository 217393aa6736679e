"""AdvSIMD load/store structures (C4.1.88): LD1-LD4/ST1-ST4 (multiple structures), LD1-LD4/
ST1-ST4 (single structure, to or from one lane), and LD1R-LD4R (load and replicate), with and
without post-index (by the transfer size when Rm is 31, else by Xm).

The scalar SIMD&FP loads and stores (LDR/STR B/H/S/D/Q in every addressing mode, LDUR/STUR,
LDP/STP/LDNP/STNP S/D/Q) share their handlers with the general-purpose forms in ldst.py.

As in the pseudocode, every element is read before any register is written, so that a fault
leaves the registers unchanged; a 64-bit (Q = 0) multiple-structure or replicating load zeroes
the upper half of its registers, and a lane load preserves the other lanes.
"""

from ..bits import Replicate
from ..decode import Unallocated, encoding
from ..state import reg_sp, reg_zr
from ..translate import runtime
from .ldst import M64, Address, ldst_insn

M128 = (1 << 128) - 1
ELEMENT_FORMAT = {1: "B", 2: "H", 4: "I", 8: "Q"}     # memoryview formats by element size


@runtime
def SIMDDeinterleave(chunks, regbytes, ebytes, selem):
    """The `selem` register values of an LD2/LD3/LD4 (multiple structures) from the memory read
    as `chunks` of `regbytes` bytes: element e of register r is structure element e*selem+r."""
    data = b"".join(c.to_bytes(regbytes, "little") for c in chunks)
    elements = memoryview(data).cast(ELEMENT_FORMAT[ebytes])
    return [int.from_bytes(elements[r::selem].tobytes(), "little") for r in range(selem)]


@runtime
def SIMDInterleave(values, regbytes, ebytes):
    """The memory image of an ST2/ST3/ST4 (multiple structures) of register `values` (each of
    `regbytes` bytes), as chunks of `regbytes` bytes in address order."""
    selem = len(values)
    out = bytearray(regbytes * selem)
    elements = memoryview(out).cast(ELEMENT_FORMAT[ebytes])
    for r, value in enumerate(values):
        elements[r::selem] = memoryview(value.to_bytes(regbytes, "little")).cast(
            ELEMENT_FORMAT[ebytes])
    return [int.from_bytes(out[i:i + regbytes], "little") for i in range(0, len(out), regbytes)]


def StructureAddress(post, Rm):
    """[Xn], or [Xn], #<transfer size> (Rm = 31) / [Xn], Xm with post-index; in `_a`."""
    if not post:
        return Address(bind=True)
    return Address("{imm}" if Rm == 31 else "X[{m}]", wback=True, postindex=True)


def Offset(offset):
    return f"(_a + {offset}) & {M64}" if offset else "_a"


def Registers(Rt, count):
    """Params t0.. for the `count` consecutive registers from Rt (modulo 32)."""
    return {f"t{i}": (Rt + i) % 32 for i in range(count)}


# opcode -> (rpt, selem) for the multiple-structures forms: LD4/ST4, LD1/ST1 (4 registers),
# LD3/ST3, LD1/ST1 (3), LD1/ST1 (1), LD2/ST2, LD1/ST1 (2)
MULTIPLE = {0b0000: (1, 4), 0b0010: (4, 1), 0b0100: (1, 3), 0b0110: (3, 1), 0b0111: (1, 1),
            0b1000: (1, 2), 0b1010: (2, 1)}


@encoding("0 Q 001100 post L 0 Rm:5 opcode:4 size:2 Rn:5 Rt:5")
def SIMD_ldst_multiple(Q, post, L, Rm, opcode, size, Rn, Rt):
    """LD1/ST1 (1-4 registers), LD2/ST2, LD3/ST3, LD4/ST4 (multiple structures)."""
    if (not post and Rm) or opcode not in MULTIPLE:
        raise Unallocated
    rpt, selem = MULTIPLE[opcode]
    if size == 3 and not Q and selem != 1:
        raise Unallocated
    regbytes = 8 << Q
    bits = 8 * regbytes
    count = rpt * selem
    mode = StructureAddress(post, Rm)
    addrs = [Offset(i * regbytes) for i in range(count)]
    regs = [f"V[{{t{i}}}]" for i in range(count)]
    if L:
        loads = "".join(f"_v{i} = rd{bits}({a})\n" for i, a in enumerate(addrs))
        values = [f"_v{i}" for i in range(count)]
        if selem == 1:
            writes = "".join(f"{r} = {v}\n" for r, v in zip(regs, values, strict=True))
        else:
            writes = (", ".join(regs) + f" = SIMDDeinterleave(({', '.join(values)},), "
                      f"{regbytes}, {1 << size}, {selem})\n")
        body = loads + writes
    else:
        values = [r if Q else f"{r} & {M64}" for r in regs]
        if selem == 1:
            body = "".join(f"wr{bits}({a}, {v})\n" for a, v in zip(addrs, values, strict=True))
        else:
            body = (f"_c = SIMDInterleave(({', '.join(values)},), {regbytes}, {1 << size})\n"
                    + "".join(f"wr{bits}({a}, _c[{i}])\n" for i, a in enumerate(addrs)))
    return ldst_insn(mode.setup + body + mode.wback, n=reg_sp(Rn), m=reg_zr(Rm),
                     imm=count * regbytes, **Registers(Rt, count))


@encoding("0 Q 001101 post L R Rm:5 opcode:3 S size:2 Rn:5 Rt:5")
def SIMD_ldst_single(Q, post, L, R, Rm, opcode, S, size, Rn, Rt):
    """LD1-LD4/ST1-ST4 (single structure, one lane) and LD1R-LD4R (load and replicate)."""
    if not post and Rm:
        raise Unallocated
    scale = opcode >> 1
    selem = ((opcode & 1) << 1 | R) + 1
    replicate = scale == 3
    if replicate:
        if not L or S:
            raise Unallocated
        scale, index = size, 0
    elif scale == 0:
        index = Q << 3 | S << 2 | size
    elif scale == 1:
        if size & 1:
            raise Unallocated
        index = Q << 2 | S << 1 | size >> 1
    elif size & 2 or (size & 1 and S):
        raise Unallocated
    elif size & 1:
        scale, index = 3, Q
    else:
        index = Q << 1 | S
    ebytes = 1 << scale
    bits = 8 * ebytes
    lsh = index * bits
    mode = StructureAddress(post, Rm)
    addrs = [Offset(i * ebytes) for i in range(selem)]
    regs = [f"V[{{t{i}}}]" for i in range(selem)]
    if not L:
        body = "".join(f"wr{bits}({a}, ({r} >> {{lsh}}) & {(1 << bits) - 1:#x})\n"
                       for a, r in zip(addrs, regs, strict=True))
    else:
        body = "".join(f"_e{i} = rd{bits}({a})\n" for i, a in enumerate(addrs))
        if replicate:
            body += "".join(f"{r} = _e{i} * {{rep}}\n" for i, r in enumerate(regs))
        else:
            body += "".join(f"{r} = ({r} & {{keep}}) | (_e{i} << {{lsh}})\n"
                            for i, r in enumerate(regs))
    return ldst_insn(mode.setup + body + mode.wback, n=reg_sp(Rn), m=reg_zr(Rm),
                     imm=selem * ebytes, lsh=lsh, keep=M128 ^ (((1 << bits) - 1) << lsh),
                     rep=Replicate(1, bits, 64 << Q), **Registers(Rt, selem))
