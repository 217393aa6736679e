"""SIMD&FP loads and stores against Unicorn: LDR/STR B/H/S/D/Q in every addressing mode,
LDP/STP/LDNP/STNP S/D/Q (the V = 1 halves of the classes test_ldst.py fuzzes), and the AdvSIMD
structure loads and stores LD1-LD4/ST1-ST4 (multiple and single structure) and LD1R-LD4R."""

import random

from test_ldst import (
    DATA,
    field,
    fuzz,
    land,
    max_oracle,
    place_imm9,
    place_pair,
    place_register,
    place_unsigned,
    run_ours,
)

# B/H/S/D and Q halves of each class, then the class with its reserved encodings
UNSIGNED_IMM = ["xx 111 1 01 0x xxxxxxxxxxxx xxxxx xxxxx",
                "00 111 1 01 1x xxxxxxxxxxxx xxxxx xxxxx",
                "xx 111 1 01 xx xxxxxxxxxxxx xxxxx xxxxx"]
IMM9 = ["xx 111 1 00 0x 0 xxxxxxxxx xx xxxxx xxxxx", "00 111 1 00 1x 0 xxxxxxxxx xx xxxxx xxxxx",
        "xx 111 1 00 xx 0 xxxxxxxxx xx xxxxx xxxxx"]
REGISTER = ["xx 111 1 00 0x 1 xxxxx x1x x 10 xxxxx xxxxx",
            "00 111 1 00 1x 1 xxxxx x1x x 10 xxxxx xxxxx",
            "xx 111 1 00 xx 1 xxxxx xxx x 10 xxxxx xxxxx"]
LITERAL = ["xx 011 1 00 01111 xxxxxxxxxxxxxx xxxxx", "xx 011 1 00 000000000 xxxxxxxxxx xxxxx"]
PAIRS = ["xx 101 1 0 xx x xxxxxxx xxxxx xxxxx xxxxx"]

# opcode -> registers transferred by a multiple-structures form
MULTIPLE_REGS = {0b0000: 4, 0b0010: 4, 0b0100: 3, 0b0110: 3, 0b0111: 1, 0b1000: 2, 0b1010: 2}
MULTIPLE = [f"0 x 001100 {post} x 0 {rm} {opcode:04b} xx xxxxx xxxxx"
            for opcode in MULTIPLE_REGS for post, rm in (("0", "00000"), ("1", "xxxxx"))]
# lanes of B/H (opcode 0xx), of S/D (10x, size<1> = 0), replicating loads (11x, L = 1, S = 0)
SINGLE = [f"0 x 001101 {post} {L} x {rm} {opcode} {S} {size} xxxxx xxxxx"
          for L, opcode, S, size in (("x", "0xx", "x", "xx"), ("x", "10x", "x", "0x"),
                                     ("1", "11x", "0", "xx"))
          for post, rm in (("0", "00000"), ("1", "xxxxx"))]
# the whole structure space, reserved encodings included (both must UNDEF)
STRUCTURES = ["0 x 00110 x x x x xxxxx xxxx xx xxxxx xxxxx"]



def place_structure(word, state, rng):
    """Base register in the data region with room for the transfer (post-index applies after)."""
    q = field(word, 30, 1)
    if field(word, 24, 1):                                  # single structure
        opcode = field(word, 13, 3)
        scale = opcode >> 1
        scale = field(word, 10, 2) if scale == 3 else scale + (scale == 2 and field(word, 10, 1))
        span = ((opcode & 1) << 1 | field(word, 21, 1)) + 1 << scale
    else:
        span = MULTIPLE_REGS.get(field(word, 12, 4), 4) * (8 << q)
    land(state, rng, field(word, 5, 5), 0, span)
    return [word]


def test_scalar_unsigned_offset_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(11), UNSIGNED_IMM, 600, place_unsigned) == []


def test_scalar_unscaled_pre_post_match_unicorn():
    assert fuzz(max_oracle(), random.Random(12), IMM9, 700, place_imm9) == []


def test_scalar_register_offset_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(13), REGISTER, 600, place_register) == []


def test_scalar_literal_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(14), LITERAL, 300) == []


def test_scalar_pairs_match_unicorn():
    assert fuzz(max_oracle(), random.Random(15), PAIRS, 800, place_pair) == []


def test_multiple_structures_match_unicorn():
    assert fuzz(max_oracle(), random.Random(16), MULTIPLE, 1000, place_structure) == []


def test_single_structure_and_replicate_match_unicorn():
    assert fuzz(max_oracle(), random.Random(17), SINGLE, 1000, place_structure) == []


def test_whole_structure_space_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(18), STRUCTURES, 300, place_structure) == []


# --- directed ---------------------------------------------------------------------------------

def test_ld2_deinterleaves_and_ld1_lane_preserves_other_lanes():
    memory = bytes(range(0x41, 0x61))
    v_before = (1 << 128) - 1
    # ld2 {v0.8b, v1.8b}, [x1]; ld1 {v2.b}[3], [x1]; ld3r {v3.4h, v4.4h, v5.4h}, [x1]
    words = [0x0C408020, 0x0D400C22, 0x0D40E423]
    regs = {"x1": DATA, "v2": v_before}
    result, cpu = run_ours(words, regs, memory)
    assert result.reason == "count"
    assert cpu.reg("v0") == int.from_bytes(memory[0:16:2], "little")    # upper half zeroed
    assert cpu.reg("v1") == int.from_bytes(memory[1:16:2], "little")
    assert cpu.reg("v2") == v_before & ~(0xFF << 24) | memory[0] << 24
    halves = [int.from_bytes(memory[i:i + 2], "little") for i in (0, 2, 4)]
    assert [cpu.reg(f"v{i}") for i in (3, 4, 5)] == [h * 0x0001_0001_0001_0001 for h in halves]
