"""Translated blocks (tier 2, machine/cpu/translate.py) against Unicorn.

Random loops run long enough for their entries to be translated: a body of integer, flag
reading, flag setting and load/store instructions, a flag setter, a B.cond back to the start
(a self-looping block, where the flags stay pending in locals and the condition is tested on
the operands), then a tail reading the flags and a branch back. Every condition, both
operand sizes and the three kinds of flag setter (SUBS/CMP, ADDS/CMN, ANDS/TST) occur; the
state after a fixed number of instructions must equal Unicorn's.
"""

import random
import struct

import pytest
from oracle import DATA, DEPTH, INTERESTING, Oracle, State, random_u64

from machine.api import Cpu

BASE = 20                    # x20 points into the data region; the random code never writes it
REGS = 8                     # the random code works on x0-x7


def addsub_reg(rng, setflags):
    sf = rng.getrandbits(1)
    return (sf << 31 | rng.getrandbits(1) << 30 | setflags << 29 | 0b01011 << 24
            | rng.randrange(3) << 22 | rng.randrange(REGS) << 16
            | rng.randrange(32 << sf) << 10 | rng.randrange(REGS) << 5 | rng.randrange(REGS))


def addsub_imm(rng, setflags):
    imm = rng.choice([0, 1, 2, 0xFFF, rng.getrandbits(12)])
    return (rng.getrandbits(1) << 31 | rng.getrandbits(1) << 30 | setflags << 29
            | 0b100010 << 23 | rng.getrandbits(1) << 22 | imm << 10
            | rng.randrange(REGS) << 5 | rng.randrange(REGS))


def logical_reg(rng, setflags):
    sf = rng.getrandbits(1)
    opc = 3 if setflags else rng.randrange(3)
    return (sf << 31 | opc << 29 | 0b01010 << 24 | rng.randrange(4) << 22
            | rng.getrandbits(1) << 21 | rng.randrange(REGS) << 16
            | rng.randrange(32 << sf) << 10 | rng.randrange(REGS) << 5 | rng.randrange(REGS))


def compare(rng):
    """CMP/CMN/TST: a flag setter writing only the flags (Rd = XZR)."""
    return rng.choice([addsub_reg, addsub_imm, logical_reg])(rng, 1) | 0x1F


def flag_setter(rng):
    if rng.random() < 0.3:
        return compare(rng)
    return rng.choice([addsub_reg, addsub_imm, logical_reg])(rng, 1)


def flag_reader(rng):
    """CSEL/CSINC/CSINV/CSNEG, ADC/SBC(S), CCMP/CCMN, MRS NZCV."""
    sf, rd, rn, rm = rng.getrandbits(1), rng.randrange(REGS), rng.randrange(REGS), \
        rng.randrange(REGS)
    cond = rng.randrange(16)
    return rng.choice([
        sf << 31 | rng.getrandbits(1) << 30 | 0b11010100 << 21 | rm << 16 | cond << 12
        | rng.getrandbits(1) << 10 | rn << 5 | rd,
        sf << 31 | rng.getrandbits(1) << 30 | rng.getrandbits(1) << 29 | 0b11010000 << 21
        | rm << 16 | rn << 5 | rd,
        sf << 31 | rng.getrandbits(1) << 30 | 1 << 29 | 0b11010010 << 21 | rm << 16
        | cond << 12 | rn << 5 | rng.getrandbits(4),
        0xD53B_4200 | rd,
    ])


def load_store(rng):
    """LDR/STR X (unsigned offset) at x20 + a small offset."""
    return (0xF940_0000 if rng.getrandbits(1) else 0xF900_0000) | rng.randrange(64) << 10 \
        | BASE << 5 | rng.randrange(REGS)


def body_insn(rng):
    kind = rng.random()
    if kind < 0.35:
        return rng.choice([addsub_reg, addsub_imm, logical_reg])(rng, 0)
    if kind < 0.55:
        return flag_setter(rng)
    if kind < 0.8:
        return flag_reader(rng)
    return load_store(rng)


def b_cond(offset, cond):
    return 0x5400_0000 | ((offset >> 2) & 0x7FFFF) << 5 | cond


def branch(offset):
    return 0x1400_0000 | ((offset >> 2) & 0x3FF_FFFF)


def random_loop(rng):
    body = [body_insn(rng) for _ in range(rng.randrange(0, 6))] + [flag_setter(rng)]
    words = body + [b_cond(-4 * len(body), rng.randrange(16))]
    tail = [rng.choice([flag_reader, body_insn])(rng) for _ in range(rng.randrange(0, 4))]
    return words + tail + [branch(-4 * (len(words) + len(tail)))]


def loop_state(rng):
    state = State.random(rng)
    # Few distinct values, so that comparisons of equal operands are frequent.
    pool = [random_u64(rng), rng.choice(INTERESTING), rng.randrange(3)]
    state.x[:REGS] = [rng.choice(pool) for _ in range(REGS)]
    state.x[BASE] = DATA + 0x100
    return state


@pytest.mark.parametrize("seed", range(4))
def test_random_loops_in_translated_blocks_match_unicorn(seed):
    rng = random.Random(seed)
    oracle = Oracle()
    diffs = []
    for _ in range(int(60 * DEPTH)):
        words = random_loop(rng)
        diffs += oracle.check(words, loop_state(rng), count=rng.randrange(2200, 3000))
    assert oracle.cpu.core.block_by_code, "no block was translated"
    assert diffs == []


SETTERS = {"SUBS": 0xEB01_0002, "ADDS": 0xAB01_0002, "ANDS": 0xEA01_0002}   # x2, x0, x1
SIGN32, SIGN64, M64 = 0x8000_0000, 1 << 63, (1 << 64) - 1
EDGE_PAIRS = [(0, 0), (1, 1), (0, 1), (1, 0), (SIGN32, SIGN32), (SIGN32, SIGN32 - 1),
              (SIGN32 - 1, SIGN32), (SIGN64, SIGN64), (SIGN64, SIGN64 - 1), (SIGN64 - 1, SIGN64),
              (M64, 1), (1, M64), (M64, M64), (SIGN64, M64), (0xFFFF_FFFF, SIGN32)]


@pytest.mark.parametrize("setter", SETTERS)
@pytest.mark.parametrize("sf", [0, 1])
def test_every_condition_on_edge_operands(setter, sf):
    """SETTER x2, x0, x1 (or the W form); B.cond back to it; MRS x3, NZCV; B back."""
    oracle = Oracle()
    diffs = []
    for cond in range(16):
        for x0, x1 in EDGE_PAIRS:
            words = [SETTERS[setter] & ~(~sf << 31 & 0x8000_0000), b_cond(-4, cond),
                     0xD53B_4203, branch(-12)]
            state = State(x=[x0, x1] + [0] * 29)
            diffs += oracle.check(words, state, count=2100)
    assert diffs == []


# LDR X2, [X1]; ADD X0, X0, #1; SUBS X3, X3, #1; B.NE back to the LDR; BRK #0
TWIN_LOOP = [0xF940_0022, 0x9100_0400, 0xF100_0463, 0x54FF_FFA1, 0xD420_0000]


def test_a_fault_in_one_of_two_identical_blocks():
    """Identical code at two addresses compiles to equal Python code objects; a data abort in
    the copy translated first is still attributed to its own load."""
    cpu = Cpu(el=1)
    cpu.map(0x80000, 0x1000)
    copies = (0x80000, 0x80800)
    for at in copies:
        cpu.write(at, struct.pack("<5I", *TWIN_LOOP))
    for at in copies:                                   # both copies become translated blocks
        for name, value in dict(pc=at, x1=0x80000, x3=300, vbar_el1=0x10000).items():
            cpu.set_reg(name, value)
        assert cpu.run(count=5000).ec == 0x3C
    for name, value in dict(pc=copies[0], x1=0x4000_0000, x3=300).items():   # unmapped
        cpu.set_reg(name, value)
    result = cpu.run(count=5000)
    assert (result.reason, result.ec) == ("exception", 0x25)
    assert cpu.reg("elr_el1") == copies[0] and cpu.reg("far_el1") == 0x4000_0000
    assert len(cpu.core.block_by_code) >= 1
