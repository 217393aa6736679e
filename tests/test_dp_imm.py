"""Data processing - immediate (C4.1.86) against Unicorn: random encodings from each class's
whole encoding space (reserved ones included: both sides must UNDEF), plus the valid subspaces
again where reserved field values would otherwise dominate, with random registers and flags."""

import random

import pytest
from oracle import Oracle, State, fuzz_class

# Patterns are Arm ARM encoding diagrams, MSB first; spaces separate the fields.
CLASSES = {
    "pc_rel": (["x xx 10000 xxxxxxxxxxxxxxxxxxx xxxxx"], 500),
    "add_sub_imm": (["x x x 100010 x xxxxxxxxxxxx xxxxx xxxxx"], 800),
    # ADDG/SUBG (FEAT_MTE) and min/max immediate (FEAT_CSSC): UNDEFINED on both.
    "add_sub_tags_min_max": (["x x x 100011 x xxxxxxxxxxxx xxxxx xxxxx"], 300),
    "logical_imm": (["x xx 100100 x xxxxxx xxxxxx xxxxx xxxxx",
                     "0 xx 100100 0 xxxxxx xxxxxx xxxxx xxxxx"], 800),
    "move_wide": (["x xx 100101 xx xxxxxxxxxxxxxxxx xxxxx"], 600),
    "bitfield": (["x xx 100110 x xxxxxx xxxxxx xxxxx xxxxx",
                  "0 xx 100110 0 0xxxxx 0xxxxx xxxxx xxxxx",
                  "1 xx 100110 1 xxxxxx xxxxxx xxxxx xxxxx"], 1000),
    "extract": (["x xx 100111 x x xxxxx xxxxxx xxxxx xxxxx",
                 "0 00 100111 0 0 xxxxx 0xxxxx xxxxx xxxxx",
                 "1 00 100111 1 0 xxxxx xxxxxx xxxxx xxxxx"], 600),
}


@pytest.fixture(scope="module")
def oracle():
    return Oracle()


@pytest.mark.parametrize("name", CLASSES)
def test_class_matches_unicorn(oracle, name):
    patterns, count = CLASSES[name]
    assert fuzz_class(oracle, random.Random(name), patterns, count) == []


def movk(sf, hw, imm16, rd):
    return sf << 31 | 0x72800000 | hw << 21 | imm16 << 5 | rd


def add_imm(sf, S, rd, rn, imm12):
    return sf << 31 | S << 29 | 0x11000000 | imm12 << 10 | rn << 5 | rd


def test_register_31_forms(oracle):
    """MOVK to XZR must not read the write sink; ADD (immediate) reads and writes WSP/SP;
    ADDS (immediate) writes XZR."""
    rng = random.Random(7)
    words = [add_imm(1, 1, 0, 0, 1), movk(1, 1, 0x1234, 31), add_imm(1, 0, 1, 31, 0),
             add_imm(0, 0, 31, 31, 0xFFF), add_imm(1, 1, 31, 31, 5), add_imm(1, 0, 2, 31, 0)]
    for _ in range(20):
        state = State.random(rng)
        assert oracle.check(words, state) == []
