"""Loads and stores of general-purpose registers against Unicorn: single register (unsigned
offset, unscaled, pre/post-index, unprivileged, register offset, literal) and pairs.

The helpers here (an oracle with the FEAT_LSE/LRCPC Unicorn CPU, fuzzing with a state that
depends on the instruction, base-register placement) are shared by test_ldst_simd.py and
test_atomics.py.
"""

import random
import struct

from oracle import CODE, DATA, DATA_SIZE, DEPTH, Oracle, State, random_u64, random_word
from unicorn import arm64_const

from machine.api import Cpu

M64 = (1 << 64) - 1
UNMAPPED = 0x200000


def max_oracle():
    """An Oracle whose Unicorn models QEMU's "max" CPU: the default Cortex-A72 lacks FEAT_LSE,
    FEAT_LRCPC, FEAT_LRCPC2 and FEAT_LOR, which this model implements."""
    return Oracle(cpu_model=arm64_const.UC_CPU_ARM64_MAX)


def fuzz(orc, rng, patterns, n, place=None, skip=None):
    """As oracle.fuzz_class, but the state may depend on the word: `place(word, state, rng)`
    adjusts the random data-pointer state (typically moving the base register so that the
    access lands in the data region) and returns the words to run (the word, possibly after
    set-up instructions). Returns the differences (at most about 20)."""
    problems = []
    done = 0
    while done < n * DEPTH and len(problems) <= 20:
        word = random_word(rng, rng.choice(patterns))
        if skip is not None and skip(word):
            continue
        state = State.random(rng, data_pointers=True)
        words = place(word, state, rng) if place is not None else [word]
        problems += orc.check(words, state)
        done += 1
    return problems


def field(word, lo, width):
    return (word >> lo) & ((1 << width) - 1)


def sext(value, bits):
    return value - ((value >> (bits - 1)) << bits)


def get_reg(state, r):
    return state.sp if r == 31 else state.x[r]


def set_reg(state, r, value):
    if r == 31:
        state.sp = value & M64
    else:
        state.x[r] = value & M64


def land(state, rng, n, offset, span, align=0):
    """Point base register n (31 = SP) so that base + offset is in the data region with `span`
    bytes after it; aligned to `align` bytes, or at random to the access size or not at all
    when align is 0 (1 time in 10 the base is left as it is, to exercise faults too)."""
    if align == 0:
        if rng.random() < 0.1:
            return
        align = span if rng.random() < 0.5 else 1
    where = rng.randrange(0, DATA_SIZE - span + 1) & -align
    set_reg(state, n, DATA + where - offset)


def single_size(word):
    """Access size of the load/store register classes: 16 for Q, else 1 << size."""
    return 16 if field(word, 26, 1) and field(word, 23, 1) else 1 << field(word, 30, 2)


def place_unsigned(word, state, rng):
    size = single_size(word)
    land(state, rng, field(word, 5, 5), field(word, 10, 12) * size, size)
    return [word]


def place_imm9(word, state, rng):
    offset = 0 if field(word, 10, 2) == 0b01 else sext(field(word, 12, 9), 9)
    land(state, rng, field(word, 5, 5), offset, single_size(word))
    return [word]


def extend_reg(value, option, shift):
    if option == 0b010:
        value &= 0xFFFF_FFFF
    elif option == 0b110:
        value = sext(value & 0xFFFF_FFFF, 32)
    return value << shift


def place_register(word, state, rng):
    n, m = field(word, 5, 5), field(word, 16, 5)
    if n == m:
        return [word]
    if m != 31:
        set_reg(state, m, random_u64(rng) if rng.random() < 0.5 else rng.randrange(-512, 512))
    size = single_size(word)
    shift = field(word, 12, 1) * (size.bit_length() - 1)
    index = 0 if m == 31 else get_reg(state, m)
    land(state, rng, n, extend_reg(index, field(word, 13, 3), shift), size)
    return [word]


def pair_size(word):
    opc = field(word, 30, 2)
    return (4 << opc) if field(word, 26, 1) else (4 << (opc >> 1))


def place_pair(word, state, rng):
    size = pair_size(word)
    offset = 0 if field(word, 23, 2) == 0b01 else sext(field(word, 15, 7), 7) * size
    land(state, rng, field(word, 5, 5), offset, 2 * size)
    return [word]


# V = 0 halves of the classes; test_ldst_simd.py fuzzes the V = 1 halves.
UNSIGNED_IMM = ["xx 111 0 01 xx xxxxxxxxxxxx xxxxx xxxxx"]
IMM9 = ["xx 111 0 00 xx 0 xxxxxxxxx xx xxxxx xxxxx"]
REGISTER = ["xx 111 0 00 xx 1 xxxxx x1x x 10 xxxxx xxxxx",     # option<1> = 1 (allocated)
            "xx 111 0 00 xx 1 xxxxx xxx x 10 xxxxx xxxxx"]
# imm19 into the data region, into the code page, or anywhere
LITERAL = ["xx 011 0 00 01111 xxxxxxxxxxxxxx xxxxx", "xx 011 0 00 000000000 xxxxxxxxxx xxxxx",
           "xx 011 0 00 xxxxxxxxxxxxxxxxxxx xxxxx"]
PAIRS = ["xx 101 0 0 xx x xxxxxxx xxxxx xxxxx xxxxx"]


def test_unsigned_offset_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(1), UNSIGNED_IMM, 1000, place_unsigned) == []


def test_unscaled_pre_post_unprivileged_match_unicorn():
    assert fuzz(max_oracle(), random.Random(2), IMM9, 1500, place_imm9) == []


def test_register_offset_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(3), REGISTER, 1200, place_register) == []


def test_literal_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(4), LITERAL, 400) == []


def test_pairs_match_unicorn():
    assert fuzz(max_oracle(), random.Random(5), PAIRS, 1500, place_pair) == []


# --- directed ---------------------------------------------------------------------------------

def run_ours(words, regs, memory=b""):
    """Run `words` at CODE on a fresh bare Cpu with the data region mapped and `memory` at its
    start; returns the result and the Cpu."""
    cpu = Cpu(el=1)
    cpu.map(CODE, 0x1000)
    cpu.map(DATA, DATA_SIZE)
    cpu.write(CODE, struct.pack(f"<{len(words)}I", *words))
    cpu.write(DATA, memory)
    for name, value in regs.items():
        cpu.set_reg(name, value)
    cpu.set_reg("pc", CODE)
    return cpu.run(count=len(words)), cpu


def registers(cpu, names):
    return {name: cpu.reg(name) for name in names}


LDP_PRE = 0xA9C10C22     # ldp x2, x3, [x1, #16]!
LDR_POST = 0xF8408422    # ldr x2, [x1], #8
LDRSW = 0xB9800022       # ldrsw x2, [x1]


def test_load_from_unmapped_address_faults_with_registers_unchanged():
    regs = {"x1": UNMAPPED, "x2": 0x1111, "x3": 0x2222}
    orc = max_oracle()
    for word in (LDP_PRE, LDR_POST, LDRSW):
        assert orc.check(word, State(x=[regs.get(f"x{i}", i) for i in range(31)])) == []
        result, cpu = run_ours([word], regs)
        assert result.reason == "exception" and result.ec == 0x25
        assert result.iss & 0x3F == 0x10                   # synchronous external abort
        assert registers(cpu, regs) == regs


def test_page_crossing_load_into_unmapped_page_faults_with_registers_unchanged():
    regs = {"x1": DATA + DATA_SIZE - 20, "x2": 0x1111, "x3": 0x2222}   # first element crosses
    result, cpu = run_ours([LDP_PRE], regs)
    assert result.reason == "exception" and result.ec == 0x25
    assert registers(cpu, regs) == regs
    assert max_oracle().check(LDP_PRE, State(x=[regs.get(f"x{i}", i) for i in range(31)])) == []


def test_sign_extending_loads():
    # ldrsb w2, [x1]; ldrsb x3, [x1]; ldrsh w4, [x1, #2]; ldrb w5, [x1]
    words = [0x39C00022, 0x39800023, 0x79C00424, 0x39400025]
    result, cpu = run_ours(words, {"x1": DATA}, bytes([0x80, 0, 0, 0x80]))
    assert result.reason == "count"
    assert registers(cpu, ["x2", "x3", "x4", "x5"]) == {
        "x2": 0xFFFF_FF80, "x3": M64 - 0x7F, "x4": 0xFFFF_8000, "x5": 0x80}
