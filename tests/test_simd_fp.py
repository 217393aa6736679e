"""Advanced SIMD floating point (machine/cpu/isa/simd_fp.py, simd_fp_ops.py) against Unicorn.

Each floating-point class's encoding space is drawn at random with the precision bit (sz, or
immh<3> for the fixed-point conversions) fixed per run, reserved and unallocated combinations
included (both sides must UNDEF). Every lane of the V registers is one of helper E's
interesting values (tests/test_fp.py) in the run's precision, sometimes in another one or an
integer edge value; FPCR gets random RMode/FZ/DN/AHP and FPSR random cumulative flags, so
rounding, flushing, NaN propagation and the flags accumulated over the lanes are compared
(V registers and FPSR).

FRINT32Z/32X/64Z/64X (FEAT_FRINTTS, advertised by ID_AA64ISAR1_EL1.FRINTTS = 1) are UNDEFINED on
Unicorn's default Cortex-A72 model: they are compared against its 'max' CPU instead, in a
class of their own (that CPU has FEAT_FP16 too, so no other encoding is run on it).
"""

import random
from functools import partial

from oracle import Oracle, State, fuzz_class, random_word
from test_fp import fp_bits, int_value, random_fpcr
from unicorn import arm64_const as A

from machine.api import Cpu
from machine.cpu.core import TABLE
from machine.cpu.decode import Unallocated
from machine.cpu.translate import closure, compile_block, env_of

# (mask, value) of the vector FRINT32/64 encodings: 0 Q U 01110 0 sz 10000 1111x 10 Rn Rd
FRINTTS = (0x9FBFEC00, 0x0E21E800)


def frintts(word):
    return word & FRINTTS[0] == FRINTTS[1]


def lane_value(rng, esize):
    if rng.random() < 0.15:                  # integer edges, for SCVTF/UCVTF
        return int_value(rng) & ((1 << esize) - 1)
    return fp_bits(rng, esize)


def fp_vector(rng, N):
    """A 128-bit value of interesting N-bit lanes, sometimes of another precision."""
    esize = N if rng.random() < 0.75 else rng.choice((16, 32, 64))
    value = 0
    for i in range(128 // esize):
        value |= lane_value(rng, esize) << (i * esize)
    return value


def fp_vector_state(rng, N):
    fpsr = 0 if rng.random() < 0.6 else rng.getrandbits(5) | (rng.getrandbits(1) << 7)
    return State(x=[int_value(rng) for _ in range(31)], nzcv=rng.getrandbits(4) << 28,
                 v=[fp_vector(rng, N) for _ in range(32)], fpcr=random_fpcr(rng), fpsr=fpsr)


# The classes' patterns: {s} is the precision bit (sz), {immh} the fixed-point conversions'
# immh (1xxx for doubles, 01xx for singles).
MISC = ["011xx", "1011x", "11xxx", "11xxx"]
BY_ELEMENT = ["x001", "0101"]
CLASSES = {
    "three_same": (["0xx01110 x{s} 1 xxxxx 11xxx 1 xxxxx xxxxx"], 2400),
    "scalar_three_same": (["01x11110 x{s} 1 xxxxx 11xxx 1 xxxxx xxxxx"], 1000),
    "two_reg_misc": ([f"0xx01110 x{{s}} 10000 {op} 10 xxxxx xxxxx" for op in MISC], 2400),
    "scalar_two_reg_misc": ([f"01x11110 x{{s}} 10000 {op} 10 xxxxx xxxxx" for op in MISC],
                            1200),
    "across_lanes_pairwise": (["0x101110 x{s} 11000 011xx 10 xxxxx xxxxx",
                               "01111110 x{s} 11000 011xx 10 xxxxx xxxxx"], 600),
    "fixed_point": (["0xx011110 {immh} xxx 111xx 1 xxxxx xxxxx",
                     "01x111110 {immh} xxx 111xx 1 xxxxx xxxxx"], 1000),
    "by_element": ([f"0xx01111 1{{s}} xx xxxx {op} x 0 xxxxx xxxxx" for op in BY_ELEMENT] +
                   [f"01x11111 1{{s}} xx xxxx {op} x 0 xxxxx xxxxx" for op in BY_ELEMENT],
                   1400),
}
PRECISION = {32: {"s": "0", "immh": "01xx"}, 64: {"s": "1", "immh": "1xxx"}}


def run_class(patterns, n, seed, oracle=None, skip=frintts):
    rng = random.Random(seed)
    oracle = oracle or Oracle(seed)
    problems = []
    for N, fields in PRECISION.items():
        words = [p.format(**fields).replace(" ", "") for p in patterns]
        problems += fuzz_class(oracle, rng, words, n // 2,
                               state_fn=partial(fp_vector_state, N=N), skip=skip)
    return problems


def test_three_same_matches_unicorn():
    assert run_class(*CLASSES["three_same"], seed=1) == []


def test_scalar_three_same_matches_unicorn():
    assert run_class(*CLASSES["scalar_three_same"], seed=2) == []


def test_two_reg_misc_matches_unicorn():
    assert run_class(*CLASSES["two_reg_misc"], seed=3) == []


def test_scalar_two_reg_misc_matches_unicorn():
    assert run_class(*CLASSES["scalar_two_reg_misc"], seed=4) == []


def test_across_lanes_and_pairwise_match_unicorn():
    assert run_class(*CLASSES["across_lanes_pairwise"], seed=5) == []


def test_fixed_point_conversions_match_unicorn():
    assert run_class(*CLASSES["fixed_point"], seed=6) == []


def test_by_element_matches_unicorn():
    assert run_class(*CLASSES["by_element"], seed=7) == []


def test_frint_32_64_match_unicorn_max_cpu():
    oracle = Oracle(8, cpu_model=A.UC_CPU_ARM64_MAX)
    assert run_class(["0xx01110 0{s} 10000 1111x 10 xxxxx xxxxx"], 400, seed=8,
                     oracle=oracle, skip=None) == []


# --- directed -------------------------------------------------------------------------------

def single(*lanes):
    return sum(lane << (32 * i) for i, lane in enumerate(lanes))


def check_result(word, v, expected, fpsr, fpcr=0):
    oracle = Oracle()
    regs = [0] * 32
    for i, value in v.items():
        regs[i] = value
    state = State(v=regs, fpcr=fpcr)
    assert oracle.check(word, state) == []
    ours, _ = oracle.run(word, state)
    assert (hex(ours.v[0]), ours.fpsr) == (hex(expected), fpsr)


def test_scvtf_scalar_in_the_simd_space():
    """scvtf d0, d0 (0x5e61d800), the instruction the float-O0 C program stopped on."""
    check_result(0x5E61D800, {0: (1 << 64) - 3}, 0xC008_0000_0000_0000, 0)


def test_flags_accumulate_over_lanes():
    """fadd v0.4s, v1.4s, v2.4s: lane 0 is inexact, lane 3 adds a signalling NaN (the quieted
    NaN, Invalid Operation), lanes 1 and 2 are exact."""
    v1 = single(0x3F80_0000, 0x3F80_0000, 0x4000_0000, 0x7F80_0001)
    v2 = single(0x3380_0000, 0x3F80_0000, 0x4000_0000, 0x3F80_0000)
    check_result(0x4E22_D420, {1: v1, 2: v2},
                 single(0x3F80_0000, 0x4000_0000, 0x4080_0000, 0x7FC0_0001), 0x11)


def test_estimates_known_values():
    """frecpe/frsqrte v0.4s, v1.4s of 1.0, 2.0, 4.0 and 0.0 (RecipEstimate and
    RecipSqrtEstimate; 1/0 is +infinity with Divide by Zero)."""
    v1 = single(0x3F80_0000, 0x4000_0000, 0x4080_0000, 0)
    check_result(0x4EA1_D820, {1: v1}, single(0x3F7F_8000, 0x3EFF_8000, 0x3E7F_8000,
                                               0x7F80_0000), 0x2)
    check_result(0x6EA1_D820, {1: v1}, single(0x3F7F_8000, 0x3F34_8000, 0x3EFF_8000,
                                               0x7F80_0000), 0x2)


def test_estimate_flush_to_zero_cases():
    """frecpe v0.4s, v1.4s with FPCR.FZ: 2^127's reciprocal is flushed to +0 (Underflow only);
    a denormal operand is flushed to zero (Input Denormal) and gives +infinity (Divide by
    Zero)."""
    v1 = single(0x7F00_0000, 0x0040_0000, 0x3F80_0000, 0xC000_0000)
    check_result(0x4EA1_D820, {1: v1}, single(0, 0x7F80_0000, 0x3F7F_8000, 0xBEFF_8000), 0x8A,
                 fpcr=1 << 24)


def test_infinity_times_zero_special_results():
    """FMULX gives 2.0 with the product's sign, FRECPS 2.0 and FRSQRTS 1.5 for infinity times
    zero, where FMUL would give the default NaN (v0.4s, v1.4s, v2.4s)."""
    v1 = single(0x7F80_0000, 0xFF80_0000, 0, 0x4040_0000)
    v2 = single(0, 0, 0xFF80_0000, 0x4000_0000)
    check_result(0x4E22_DC20, {1: v1, 2: v2},                       # fmulx: 3.0 * 2.0 = 6.0
                 single(0x4000_0000, 0xC000_0000, 0xC000_0000, 0x40C0_0000), 0)
    check_result(0x4E22_FC20, {1: v1, 2: v2},                       # frecps: 2 - 6 = -4
                 single(0x4000_0000, 0x4000_0000, 0x4000_0000, 0xC080_0000), 0)
    check_result(0x4EA2_FC20, {1: v1, 2: v2},                       # frsqrts: (3 - 6) / 2
                 single(0x3FC0_0000, 0x3FC0_0000, 0x3FC0_0000, 0xBFC0_0000), 0)


def test_fcvtxn_rounds_to_odd():
    """fcvtxn s0, d1: 1 + 2^-30 is inexact in single precision and rounds to odd (the last
    fraction bit set), where round to nearest would give 1.0."""
    check_result(0x7E61_6820, {1: 0x3FF0_0000_0400_0000}, 0x3F80_0001, 0x10)


def decode_kind(word):
    try:
        TABLE.decode(word)
    except Unallocated:
        return "unallocated"
    return "implemented"


FP_SPACE = [p.format(**fields).replace(" ", "") for patterns, _ in CLASSES.values()
            for p in patterns for fields in PRECISION.values()]


def test_translated_blocks_match_single_instructions():
    """FP instructions compiled into one tier-2 block (constants inlined as literals) give the
    same V registers and FPSR as their tier-1 closures."""
    rng = random.Random(9)
    words = []
    while len(words) < 48:
        word = random_word(rng, rng.choice(FP_SPACE))
        if decode_kind(word) == "implemented":
            words.append(word)
    start = fp_vector_state(rng, 32)
    results = []
    for blocked in (False, True):
        cpu = Cpu()
        s = cpu.core.s
        s.v[:] = start.v
        s.fpcr, s.fpsr = start.fpcr, 0
        env = env_of(s, cpu.core.mmu)
        ops = [TABLE.decode(w) for w in words]
        if blocked:
            compile_block(ops, env).fn(0x10000)
        else:
            for i, op in enumerate(ops):
                closure(op, env)(0x10000 + 4 * i)
        results.append((list(s.v), s.fpsr))
    assert results[0] == results[1]

