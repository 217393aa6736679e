"""Data processing - register (C4.1.88) against Unicorn: random encodings from each class's
whole encoding space (reserved ones included: both sides must UNDEF), plus the valid subspaces
again where reserved field values would otherwise dominate, with random registers and flags;
then directed edge cases for division, variable shifts and CRC32."""

import random
import zlib

import pytest
from oracle import CODE, Oracle, State, fuzz_class, random_word
from test_dp_imm import CLASSES as IMMEDIATE_CLASSES
from unicorn.arm64_const import UC_CPU_ARM64_MAX

from machine.api import Cpu
from machine.cpu.bits import BitReverse
from machine.cpu.core import TABLE
from machine.cpu.decode import Unallocated
from machine.cpu.translate import closure, compile_block

M32, M64 = (1 << 32) - 1, (1 << 64) - 1

# Patterns are Arm ARM encoding diagrams, MSB first; spaces separate the fields.
CLASSES = {
    "logical_shifted": (["x xx 01010 xx x xxxxx xxxxxx xxxxx xxxxx",
                         "0 xx 01010 xx x xxxxx 0xxxxx xxxxx xxxxx"], 900),
    "add_sub_shifted": (["x x x 01011 xx 0 xxxxx xxxxxx xxxxx xxxxx",
                         "0 x x 01011 0x 0 xxxxx 0xxxxx xxxxx xxxxx"], 900),
    "add_sub_extended": (["x x x 01011 xx 1 xxxxx xxx xxx xxxxx xxxxx",
                          "x x x 01011 00 1 xxxxx xxx 0xx xxxxx xxxxx",
                          "x x x 01011 00 1 xxxxx xxx 100 xxxxx xxxxx"], 900),
    "add_sub_carry": (["x x x 11010000 xxxxx 000000 xxxxx xxxxx"], 500),
    "cond_compare": (["x x x 11010010 xxxxx xxxx x x xxxxx x xxxx",
                      "x x 1 11010010 xxxxx xxxx x 0 xxxxx 0 xxxx"], 800),
    "cond_select": (["x x x 11010100 xxxxx xxxx xx xxxxx xxxxx",
                     "x x 0 11010100 xxxxx xxxx 0x xxxxx xxxxx"], 800),
    # Includes FEAT_PAuth (opcode2 00001) and FEAT_CSSC (ABS/CNT/CTZ): UNDEFINED on both.
    "dp_1src": (["x 1 x 11010110 xxxxx xxxxxx xxxxx xxxxx",
                 "x 1 0 11010110 00000 0000xx xxxxx xxxxx",
                 "x 1 0 11010110 00000 00010x xxxxx xxxxx",
                 "1 1 0 11010110 00001 xxxxxx xxxxx xxxxx"], 800),
    # Includes FEAT_MTE (SUBP, IRG, GMI), PACGA and FEAT_CSSC min/max: UNDEFINED on both.
    "dp_2src": (["x 0 x 11010110 xxxxx xxxxxx xxxxx xxxxx",
                 "x 0 0 11010110 xxxxx 00001x xxxxx xxxxx",
                 "x 0 0 11010110 xxxxx 0010xx xxxxx xxxxx",
                 "x 0 0 11010110 xxxxx 010xxx xxxxx xxxxx"], 1000),
    "dp_3src": (["x xx 11011 xxx xxxxx x xxxxx xxxxx xxxxx",
                 "x 00 11011 xxx xxxxx x xxxxx xxxxx xxxxx"], 800),
}

# FEAT_FlagM, which fvp-rme implements and Unicorn's default Cortex-A72 model lacks.
FLAGM_CLASSES = {
    # The whole 11010000 space: add/subtract with carry, RMIF, SETF8/16, and FEAT_CPA
    # ADDPT/SUBPT and unallocated encodings (UNDEFINED on both).
    "space_11010000": (["x x x 11010000 xxxxx xxxxxx xxxxx xxxxx"], 300),
    "rmif": (["x x x 11010000 xxxxxx 00001 xxxxx x xxxx",
              "1 0 1 11010000 xxxxxx 00001 xxxxx 0 xxxx"], 400),
    "setf": (["x x x 11010000 xxxxxx x 0010 xxxxx x xxxx",
              "0 0 1 11010000 000000 x 0010 xxxxx 0 1101"], 400),
}


@pytest.fixture(scope="module")
def oracle():
    return Oracle()


@pytest.mark.parametrize("name", CLASSES)
def test_class_matches_unicorn(oracle, name):
    patterns, count = CLASSES[name]
    assert fuzz_class(oracle, random.Random(name), patterns, count) == []


@pytest.fixture(scope="module")
def flagm_oracle():
    """Unicorn's 'max' CPU model has FEAT_FlagM, which its default Cortex-A72 lacks."""
    return Oracle(cpu_model=UC_CPU_ARM64_MAX)


@pytest.mark.parametrize("name", FLAGM_CLASSES)
def test_flagm_class_matches_unicorn_max(flagm_oracle, name):
    patterns, count = FLAGM_CLASSES[name]
    assert fuzz_class(flagm_oracle, random.Random(name), patterns, count) == []


# --- directed cases ------------------------------------------------------------------------------

def dp_2src(sf, opcode, rd, rn, rm):
    return sf << 31 | 0x1AC00000 | rm << 16 | opcode << 10 | rn << 5 | rd


UDIV, SDIV, LSLV, LSRV, ASRV, RORV = 2, 3, 8, 9, 10, 11


def run_checked(oracle, words, x):
    """Run with X0.. = x (the rest random) on both; returns fvp-rme's X registers."""
    rng = random.Random(len(x))
    state = State.random(rng)
    state.x[:len(x)] = x
    ours, theirs = oracle.run(words, state)
    assert oracle.differences(ours, theirs) == []
    return ours.x


def signed(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


@pytest.mark.parametrize("sf", [0, 1])
def test_division_edge_cases(oracle, sf):
    """Division by zero gives 0 (no exception); INT_MIN / -1 gives INT_MIN; the quotient rounds
    towards zero. W forms ignore bits 63:32 of their sources."""
    bits = 32 << sf
    mask, int_min = (1 << bits) - 1, 1 << (bits - 1)
    junk = 0xDEAD_BEEF_0000_0000 if not sf else 0
    cases = [(5, 0), (0, 0), (mask, 0), (int_min, mask), (int_min, 1), (mask, 1), (-7, 2),
             (7, -2), (-7, -2), (int_min, 2), (mask, mask), (123456789, 1000)]
    for a, b in cases:
        a, b = a & mask, b & mask
        x = run_checked(oracle, [dp_2src(sf, UDIV, 0, 2, 3), dp_2src(sf, SDIV, 1, 2, 3)],
                        [0, 0, a | junk, b | junk])
        sa, sb = signed(a, bits), signed(b, bits)
        assert x[0] == (a // b if b else 0)
        quotient = 0 if not b else (abs(sa) // abs(sb)) * (-1 if (sa < 0) != (sb < 0) else 1)
        assert x[1] == quotient & mask
    assert x[1] == 123456


@pytest.mark.parametrize("sf", [0, 1])
def test_variable_shifts_by_width_and_more(oracle, sf):
    """LSLV/LSRV/ASRV/RORV shift by X[m] MOD datasize, so amounts >= datasize wrap."""
    bits = 32 << sf
    words = [dp_2src(sf, op, rd, 5, 6) for rd, op in enumerate((LSLV, LSRV, ASRV, RORV))]
    for amount in (0, 1, bits - 1, bits, bits + 1, 2 * bits - 1, 127, 1 << 32, M64, M64 - 1):
        for value in (0x8000_0000_8765_4321, 0x0123_4567_89AB_CDEF, M64):
            x = run_checked(oracle, words, [0, 0, 0, 0, 0, value, amount])
            s, v = amount % bits, value & ((1 << bits) - 1)
            assert x[0] == (v << s) & ((1 << bits) - 1)
            assert x[1] == v >> s


def crc32_reference(acc, value, size, poly):
    """The Arm ARM CRC32 pseudocode, bit by bit: BitReverse(Poly32Mod2(BitReverse(acc):
    Zeros(size) EOR BitReverse(value):Zeros(32), poly))."""
    data = BitReverse(acc, 32) << size ^ BitReverse(value & ((1 << size) - 1), size) << 32
    for i in range(size + 31, 31, -1):
        if data >> i & 1:
            data ^= poly << (i - 32)
    return BitReverse(data & M32, 32)


CRC32_POLY, CRC32C_POLY = 0x04C11DB7, 0x1EDC6F41


def crc32_insn(c, sz, rd, rn, rm):
    return (sz == 3) << 31 | 0x1AC04000 | rm << 16 | c << 12 | sz << 10 | rn << 5 | rd


def crc_of_bytes(c, data):
    """CRC32 (c=0) or CRC32C (c=1) of data via the pseudocode reference, with the usual
    inversions before and after."""
    acc = M32
    for byte in data:
        acc = crc32_reference(acc, byte, 8, (CRC32_POLY, CRC32C_POLY)[c])
    return acc ^ M32


def test_crc_reference_known_values():
    assert crc_of_bytes(0, b"123456789") == zlib.crc32(b"123456789") == 0xCBF43926
    assert crc_of_bytes(1, b"123456789") == 0xE3069283   # the CRC-32C check value


@pytest.mark.parametrize("c", [0, 1])
def test_crc32_known_values(oracle, c):
    """CRC32X, CRC32W, CRC32H, CRC32B over 15 bytes (sources carry junk above their size)
    starting from 0xFFFFFFFF give the standard CRC-32 (zlib) / CRC-32C once inverted."""
    data = b"The quick brown"
    chunks = [int.from_bytes(data[0:8], "little"), int.from_bytes(data[8:12], "little"),
              int.from_bytes(data[12:14], "little"), data[14]]
    junk = [0, 0xAAAA_5555 << 32, 0x1234_5678_9ABC << 16, 0xFEDC_BA98_7654_32 << 8]
    words = [crc32_insn(c, sz, 0, 0, 1 + i) for i, sz in enumerate((3, 2, 1, 0))]
    sources = [v | j for v, j in zip(chunks, junk, strict=True)]
    x = run_checked(oracle, words, [0xFFFF_0000_FFFF_FFFF] + sources)
    expected = zlib.crc32(data) if c == 0 else crc_of_bytes(1, data)
    assert x[0] ^ M32 == expected


@pytest.mark.parametrize("c", [0, 1])
def test_crc32_random_against_reference(oracle, c):
    rng = random.Random(c)
    for _ in range(50):
        sz = rng.randrange(4)
        acc, value = rng.getrandbits(64), rng.getrandbits(64)
        x = run_checked(oracle, [crc32_insn(c, sz, 0, 1, 2)], [0, acc, value])
        assert x[0] == crc32_reference(acc & M32, value, 8 << sz, (CRC32_POLY, CRC32C_POLY)[c])


def test_templates_work_inside_translated_blocks():
    """Tier 2 inlines the templates of a straight-line run into one function (parameters as
    literals, pc offset per instruction): a block of valid encodings from every class here and
    in test_dp_imm must end as its tier-1 closures run one by one do."""
    rng = random.Random(11)
    patterns = [pattern for classes in (IMMEDIATE_CLASSES, CLASSES, FLAGM_CLASSES)
                for class_patterns, _ in classes.values() for pattern in class_patterns]
    for _ in range(40):
        ops = []
        while len(ops) < 16:
            try:
                ops.append(TABLE.decode(random_word(rng, rng.choice(patterns))))
            except Unallocated:
                pass
        start = State.random(rng)
        outcomes = []
        for translated in (False, True):
            cpu = Cpu()
            s, env = cpu.core.s, cpu.core.env
            s.x[:32] = start.x + [start.sp]
            s.nzcv = start.nzcv >> 28
            if translated:
                pc = compile_block(ops, env).fn(CODE)
            else:
                pc = CODE
                for op in ops:
                    pc = closure(op, env)(pc)
            outcomes.append((pc, s.x[:32], s.nzcv))
        assert outcomes[0] == outcomes[1]
