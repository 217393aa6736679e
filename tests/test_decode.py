"""The decode table: unambiguous, and total (every 32-bit word decodes to an instruction or
an Undefined Instruction exception, never a Python error); the decode cache follows rewritten
code."""

import random
import struct

import pytest

from machine.api import Cpu
from machine.cpu.core import TABLE
from machine.cpu.decode import ENCODINGS, Unallocated, Unimplemented, check_table, parse_pattern
from machine.cpu.translate import closure, env_of


def test_patterns_are_32_bits_and_nest():
    assert check_table(ENCODINGS) == []
    names = [e.name for e in ENCODINGS]
    assert len(names) == len(set(names)), "two handlers share a name"


def test_pattern_parser_reads_arm_diagram_notation():
    mask, value, fields = parse_pattern("sf op S 100010 sh imm12:12 Rn:5 Rd:5")
    assert mask == 0x1F800000 and value == 0x11000000
    assert fields[0] == ("sf", 31, 1) and fields[-1] == ("Rd", 0, 5)
    mask, value, fields = parse_pattern("x1 op=10 " + "x" * 28)
    assert mask == 0x70000000 and value == 0x60000000 and fields == [("op", 28, 2)]


def test_random_words_decode_without_python_errors():
    rng = random.Random(7)
    cpu = Cpu()
    env = env_of(cpu.core.s, cpu.core.mmu)
    for _ in range(200_000):
        word = rng.getrandbits(32)
        try:
            decoded = TABLE.decode(word)
        except (Unallocated, Unimplemented):
            continue
        assert callable(closure(decoded, env))


def test_random_words_execute_to_an_architectural_outcome():
    rng = random.Random(8)
    cpu = Cpu()
    cpu.map(0x10000, 0x1000)
    cpu.map(0x100000, 0x10000)
    for _ in range(20_000):
        cpu.write(0x10000, rng.getrandbits(32).to_bytes(4, "little"))
        for i in range(31):
            cpu.set_reg(f"x{i}", 0x100000 + rng.randrange(0x10000) if rng.random() < 0.5
                        else rng.getrandbits(64))
        cpu.set_reg("sp", 0x108000)
        cpu.set_reg("pc", 0x10000)
        result = cpu.run(count=1)
        assert result.reason in ("count", "exception", "wfi", "stop")
        if result.reason == "stop":
            assert result.message
        # take exceptions back to EL1 with SP_EL1 for the next word
        cpu.core.s.select_sp(1, 1)


# Each iteration rewrites the MOVZ at `target` to MOVZ X0, #i with the architected sequence
# (DC CVAU, DSB, IC IVAU, DSB, ISB: B2.2.5) and adds X0 into X3, so X3 ends as 1 + 2 + ... + N
# only if every rewritten instruction is the one executed.
SELF_MODIFYING = [0x11008021, 0xB9000041, 0xD50B7B22, 0xD5033B9F, 0xD50B7522, 0xD5033B9F,
                  0xD5033FDF, 0xD2800000, 0x8B000063, 0xF1000484, 0x54FFFEC1, 0xD4200000]
TARGET = 7


@pytest.mark.parametrize("blocks", [False, True])
def test_rewritten_code_runs_after_cache_maintenance(blocks):
    base, n = 0x80000, 300
    cpu = Cpu(el=1)
    cpu.map(base, 0x1000)
    cpu.write(base, struct.pack(f"<{len(SELF_MODIFYING)}I", *SELF_MODIFYING))
    cpu.core.blocks = blocks
    for name, value in dict(pc=base, x1=0xD280_0000, x2=base + 4 * TARGET, x3=0, x4=n).items():
        cpu.set_reg(name, value)
    result = cpu.run(count=100_000)
    assert (result.reason, result.ec) == ("exception", 0x3C)
    assert cpu.reg("x3") == n * (n + 1) // 2
