import random

from oracle import Oracle, fuzz_class

ADD_SUB_IMM = ["xxx100010xxxxxxxxxxxxxxxxxxxxxxx"]


def test_add_sub_immediate_matches_unicorn():
    rng = random.Random(1)
    assert fuzz_class(Oracle(), rng, ADD_SUB_IMM, 2000) == []
