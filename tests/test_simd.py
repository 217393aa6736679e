"""Advanced SIMD integer instructions (machine/cpu/isa/simd*.py) against Unicorn.

Each class's whole encoding space is drawn at random (reserved encodings included: both sides
must UNDEF), with random V registers whose lanes lean toward the values where saturation,
sign and carry rules matter; FPSR (QC) is compared.

Encodings skipped in the comparison (vector floating point is tested in test_simd_fp.py):
- AES, SHA1, SHA256 and the 64-bit PMULL, which Unicorn's Cortex-A72-like CPU implements: this
  CPU advertises ID_AA64ISAR0_EL1.AES = SHA1 = SHA2 = 0, and the Arm ARM makes those
  instructions UNDEFINED when FEAT_AES, FEAT_SHA1, FEAT_SHA256 and FEAT_PMULL are not
  implemented.
"""

import random

import pytest
from oracle import DEPTH, Oracle, State, fuzz_class, random_word

from machine.api import Cpu
from machine.cpu.core import TABLE
from machine.cpu.decode import Unallocated, Unimplemented
from machine.cpu.translate import closure, compile_block, env_of

QC = 1 << 27

# (mask, value) of the crypto encodings Unicorn executes and this CPU does not implement
NOT_ADVERTISED = [
    (0xFF3E0C00, 0x4E280800),    # AES (FEAT_AES)
    (0xFF208C00, 0x5E000000),    # SHA1/SHA256 three-register (FEAT_SHA1, FEAT_SHA256)
    (0xFF3E0C00, 0x5E280800),    # SHA1/SHA256 two-register
    (0xBFE0FC00, 0x0EE0E000),    # PMULL/PMULL2 64x64 -> 128 (FEAT_PMULL)
]


def decode_kind(word):
    try:
        TABLE.decode(word)
    except Unallocated:
        return "unallocated"
    except Unimplemented:
        return "unimplemented"
    return "implemented"


# FRINT32Z/32X/64Z/64X (vector): this CPU has FEAT_FRINTTS (ID_AA64ISAR1_EL1.FRINTTS = 1),
# Unicorn's Cortex-A72 model does not and UNDEFs them (tests/test_simd_fp.py compares them
# against Unicorn's max CPU).
UNICORN_LACKS = [(0x9FBFEC00, 0x0E21E800)]


def skip(word):
    if any(word & mask == value for mask, value in NOT_ADVERTISED + UNICORN_LACKS):
        return True
    return decode_kind(word) == "unimplemented"


LANE_VALUES = {8: [0, 1, 0x7F, 0x80, 0x81, 0xFF, 0xFE, 0x40],
               16: [0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x00FF, 0xFF00],
               32: [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x0000_FFFF, 0xFFFF_0000],
               64: [0, 1, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, (1 << 64) - 1]}


def random_lanes(rng):
    """A 128-bit value built from lanes of one size, each random or a boundary value."""
    esize = rng.choice((8, 16, 32, 64))
    value = 0
    for i in range(128 // esize):
        lane = (rng.choice(LANE_VALUES[esize]) if rng.random() < 0.4
                else rng.getrandbits(esize) >> rng.choice((0, 0, 1, esize // 2)))
        value |= lane << (i * esize)
    return value


def simd_state(rng):
    state = State.random(rng)
    state.v = [random_lanes(rng) if rng.random() < 0.6 else v for v in state.v]
    state.fpsr = QC if rng.random() < 0.2 else 0     # QC is sticky: never cleared
    return state


def fuzz(patterns, n, seed):
    return fuzz_class(Oracle(seed), random.Random(seed), patterns, n, state_fn=simd_state,
                      skip=skip)


CLASSES = {
    "modified_immediate": (["0xx0111100000xxxxxxxx1xxxxxxxxxx"], 600),
    "copy": (["0xx01110000xxxxx0xxxx1xxxxxxxxxx",     # DUP/INS/SMOV/UMOV
              "0x001110000xxxxx00xxx1xxxxxxxxxx",     # imm4 = 0xxx, op = 0
              "01011110000xxxxx000001xxxxxxxxxx",     # DUP (element) scalar
              "01x11110000xxxxx0xxxx1xxxxxxxxxx"], 800),
    "permute_extract_table": (["0x001110xx0xxxxx0xxx10xxxxxxxxxx",   # ZIP/UZP/TRN
                               "0x101110xx0xxxxx0xxxx0xxxxxxxxxx",   # EXT
                               "0x001110xx0xxxxx0xxx00xxxxxxxxxx"],  # TBL/TBX
                              900),
    "three_same": (["0xx01110xx1xxxxxxxxxx1xxxxxxxxxx"], 1800),
    "scalar_three_same": (["01x11110xx1xxxxxxxxxx1xxxxxxxxxx"], 700),
    "three_different": (["0xx01110xx1xxxxxxxxx00xxxxxxxxxx",
                         "01x11110xx1xxxxxxxxx00xxxxxxxxxx"], 1000),
    "by_element": (["0xx01111xxxxxxxxxxxxx0xxxxxxxxxx",
                    "01x11111xxxxxxxxxxxxx0xxxxxxxxxx"], 800),
    "two_reg_misc": (["0xx01110xx10000xxxxx10xxxxxxxxxx",
                      "01x11110xx10000xxxxx10xxxxxxxxxx"], 1200),
    "across_lanes_pairwise": (["0xx01110xx11000xxx1110xxxxxxxxxx",   # ADDV/SMINV/UMINV
                               "0xx01110xx110000x01010xxxxxxxxxx",   # SMAXV/UMAXV
                               "0xx01110xx11000000x110xxxxxxxxxx",   # SADDLV/UADDLV
                               "0xx01110xx11000xxxxx10xxxxxxxxxx",
                               "01x11110xx11000xxxxx10xxxxxxxxxx"], 500),
    "shift_by_immediate": (["0xx011110xxxxxxxxxxxx1xxxxxxxxxx",
                            "01x111110xxxxxxxxxxxx1xxxxxxxxxx"], 1200),
    "whole_space": (["xxx0111xxxxxxxxxxxxxxxxxxxxxxxxx",      # every AdvSIMD class
                     "x1x1111xxxxxxxxxxxxxxxxxxxxxxxxx"], 600),
}


@pytest.mark.parametrize("name", CLASSES)
def test_class_matches_unicorn(name):
    patterns, n = CLASSES[name]
    assert fuzz(patterns, n, seed=sorted(CLASSES).index(name) + 100) == []


def test_saturation_sets_qc_and_qc_is_sticky():
    sequence = [0x4E220C20,     # sqadd v0.16b, v1.16b, v2.16b  (saturates: QC set)
                0x6E622C23,     # uqsub v3.8h, v1.8h, v2.8h
                0x4E228424]     # add v4.16b, v1.16b, v2.16b  (QC stays set)
    state = State(v=[0, (1 << 127) - 1, 0x0101 << 112] + [0] * 29)
    oracle = Oracle()
    assert oracle.check(sequence, state) == []
    ours, _ = oracle.run(sequence, state)
    assert ours.fpsr & QC


def test_known_values():
    """Results worked out by hand from the Arm ARM pseudocode."""
    cpu = Cpu()
    cpu.map(0x10000, 0x1000)
    program = [0x6F07E7E0,      # movi v0.2d, #0xffffffffffffffff
               0x4E205821,      # cnt v1.16b, v1.16b
               0x0F0705E2,      # movi v2.2s, #0xef  (upper half zeroed)
               0x4F04B443,      # orr v3.8h, #0x82, lsl #8
               0x4E083C24,      # mov x4, v1.d[0]
               0x6E004026]      # ext v6.16b, v1.16b, v0.16b, #8
    cpu.write(0x10000, b"".join(w.to_bytes(4, "little") for w in program))
    cpu.set_reg("v1", 0xFF00_0F01_0000_0000_8040_2010_0807_0301)
    cpu.set_reg("v2", (1 << 128) - 1)
    cpu.set_reg("v3", 0x1234)
    cpu.set_reg("pc", 0x10000)
    assert cpu.run(count=len(program)).reason == "count"
    assert cpu.reg("v0") == (1 << 128) - 1
    assert cpu.reg("v1") == 0x0800_0401_0000_0000_0101_0101_0103_0201
    assert cpu.reg("v2") == 0xEF_0000_00EF
    assert cpu.reg("v3") == 0x8200_8200_8200_8200_8200_8200_8200_9234
    assert cpu.reg("x4") == 0x0101_0101_0103_0201
    assert cpu.reg("v6") == 0xFFFF_FFFF_FFFF_FFFF_0800_0401_0000_0000


SIMD_SPACE = ["xxx0111xxxxxxxxxxxxxxxxxxxxxxxxx", "x1x1111xxxxxxxxxxxxxxxxxxxxxxxxx"]


def test_every_encoding_decodes_and_runs_without_python_errors():
    """Random words of the whole AdvSIMD space decode to an Op, Unallocated or Unimplemented,
    and the implemented ones execute."""
    rng = random.Random(11)
    cpu = Cpu()
    cpu.map(0x10000, 0x1000)
    s = cpu.core.s
    for _ in range(int(4000 * DEPTH)):
        word = random_word(rng, rng.choice(SIMD_SPACE))
        if decode_kind(word) != "implemented":
            continue
        s.v[:] = [random_lanes(rng) for _ in range(32)]
        cpu.write(0x10000, word.to_bytes(4, "little"))
        cpu.set_reg("pc", 0x10000)
        assert cpu.run(count=1).reason == "count", hex(word)
        assert all(0 <= v < 1 << 128 for v in s.v), hex(word)


def test_translated_blocks_match_single_instructions():
    """The same instructions compiled into one tier-2 block (constants inlined as literals)
    give the same state as their tier-1 closures."""
    rng = random.Random(12)
    words = []
    while len(words) < 48:
        word = random_word(rng, rng.choice(SIMD_SPACE))
        if decode_kind(word) == "implemented":
            words.append(word)
    start = [random_lanes(rng) for _ in range(32)]
    results = []
    for blocked in (False, True):
        cpu = Cpu()
        s = cpu.core.s
        s.v[:] = start
        s.x[:31] = [rng.getrandbits(64) for _ in range(31)] if not results else results[0][1]
        x_start = list(s.x[:31])
        env = env_of(s, cpu.core.mmu)
        ops = [TABLE.decode(w) for w in words]
        if blocked:
            compile_block(ops, env).fn(0x10000)
        else:
            for i, op in enumerate(ops):
                closure(op, env)(0x10000 + 4 * i)
        results.append((list(s.v), x_start, list(s.x[:31]), s.fpsr))
    assert results[0][0] == results[1][0]
    assert results[0][2] == results[1][2]
    assert results[0][3] == results[1][3]
