"""Scalar floating-point (machine/cpu/isa/fp.py, machine/cpu/softfloat.py) against Unicorn.

Random V registers are biased toward the values where IEEE arithmetic is subtle (zeros,
infinities, quiet and signalling NaNs, denormals, the extremes of the normal range, ties and
near-ties, integers near 2^15/2^31/2^63 and their unsigned limits) in the precision the tested
encodings use; FPCR gets random RMode/FZ/DN/AHP, so every rounding mode and flag is compared
(V registers, NZCV, X registers and FPSR).
"""

import random
from functools import partial

import pytest
from oracle import CODE, CODE_SIZE, DATA, DATA_SIZE, Oracle, State, fuzz_class, random_u64
from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_MODE_ARM, Uc
from unicorn import arm64_const as A

from machine.cpu import softfloat as sf
from machine.cpu.decode import ENCODINGS, check_table
from machine.cpu.isa import fp  # noqa: F401  (registers the encodings)

RNE = sf.FPRounding_TIEEVEN


class _Flags:
    """A stand-in for CpuState's fpcr/fpsr in direct softfloat calls."""

    def __init__(self, fpcr=0):
        self.fpcr = fpcr
        self.fpsr = 0


def _encode(sign, v, k, N):
    """The N-bit pattern nearest (RNE) to (-1)^sign * v / 2^k."""
    if v == 0:
        return sf.FPZero(sign, N)
    return sf.FPRound(sign, v, -k, N, _Flags(), RNE)


def fp_bits(rng, N):
    """A random N-bit floating-point pattern biased toward interesting values."""
    f = sf.FORMATS[N]
    sign = rng.getrandbits(1)
    kind = rng.randrange(14)
    if kind == 0:
        return sf.FPZero(sign, N)
    if kind == 1:
        return sf.FPInfinity(sign, N)
    if kind == 2:                           # quiet NaN, random payload
        return (sign << (N - 1)) | f.default_nan | rng.getrandbits(f.F - 1)
    if kind == 3:                           # signalling NaN
        return (sign << (N - 1)) | f.infinity | (rng.getrandbits(f.F - 1) or 1)
    if kind == 4:                           # denormal, random magnitude
        return (sign << (N - 1)) | (rng.getrandbits(rng.randrange(1, f.F + 1)) or 1)
    if kind == 5:                           # the edges of the normal and denormal ranges
        edge = rng.choice([1, f.frac_mask, 1 << f.F, (1 << f.F) | 1, f.max_normal,
                           f.max_normal - 1, f.frac_mask << 1 & f.frac_mask])
        return (sign << (N - 1)) | edge
    if kind == 6:                           # near 2^k, for conversions to integers
        k = rng.choice([15, 16, 31, 32, 52, 53, 63, 64, 24])
        offset = rng.choice([-6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6])
        return _encode(sign, (1 << (k + 2)) + offset, 2, N)
    if kind == 7:                           # small integers, halves and quarters
        return _encode(sign, rng.randrange(0, 64), rng.choice([0, 1, 2]), N)
    if kind == 8:                           # ties and near-ties in the low fraction bits
        low = rng.choice([1 << (f.F // 2), (1 << (f.F // 2)) - 1, (1 << (f.F // 2)) + 1, 1,
                          f.frac_mask, f.frac_mask - 1])
        exp = f.bias + rng.randrange(-30, 31)
        return (sign << (N - 1)) | (exp << f.F) | (rng.getrandbits(f.F) & ~(
            (1 << (f.F // 2 + 1)) - 1) & f.frac_mask) | low
    if kind == 9:                           # exponents near the extremes
        exp = rng.choice([rng.randrange(1, 24), rng.randrange(f.exp_ones - 24, f.exp_ones)])
        return (sign << (N - 1)) | (exp << f.F) | rng.getrandbits(f.F)
    if kind == 10:
        return rng.getrandbits(N)
    # ordinary values with nearby exponents, so that sums cancel and round
    exp = f.bias + rng.randrange(-12, 13)
    frac = rng.getrandbits(f.F)
    if rng.random() < 0.5:
        frac &= ~((1 << rng.randrange(f.F)) - 1)  # few significant bits: exact results
    return (sign << (N - 1)) | (exp << f.F) | frac


INT_EDGES = [1 << k for k in (15, 16, 24, 31, 32, 53, 63)]


def int_value(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return random_u64(rng)
    if kind == 1:                           # around powers of two (rounding of SCVTF)
        v = rng.choice(INT_EDGES + [1 << rng.randrange(64)]) + rng.randrange(-3, 4)
        return v & sf.FORMATS[64].sign_bit * 2 - 1
    if kind == 2:                           # random width
        return rng.getrandbits(rng.randrange(1, 65))
    return -rng.getrandbits(rng.randrange(1, 64)) & ((1 << 64) - 1)


def random_fpcr(rng):
    if rng.random() < 0.3:
        return 0                            # the default: exercises the fast paths
    fpcr = rng.randrange(4) << sf.FPCR_RMODE_SHIFT
    for bit in (sf.FPCR_FZ, sf.FPCR_DN, sf.FPCR_AHP):
        if rng.random() < 0.35:
            fpcr |= bit
    return fpcr


def fp_state(rng, N):
    """Random state whose V registers hold interesting N-bit values in their low element."""
    v = []
    for _ in range(32):
        high = rng.choice([0, rng.getrandbits(128)]) >> N << N
        v.append(high | fp_bits(rng, N))
    fpsr = 0 if rng.random() < 0.7 else rng.getrandbits(5) | (rng.getrandbits(1) << 7)
    return State(x=[int_value(rng) for _ in range(31)], nzcv=rng.getrandbits(4) << 28, v=v,
                 fpcr=random_fpcr(rng), fpsr=fpsr)


def mixed_state(rng):
    return fp_state(rng, rng.choice([16, 32, 64]))


PTYPE = {32: "00", 64: "01", 16: "11"}


def run_class(patterns, n, sizes=(32, 64), seed=0, oracle=None):
    """Fuzz `patterns` (with `pp` standing for the ptype field) for each precision in `sizes`."""
    rng = random.Random(seed)
    oracle = oracle or Oracle()
    problems = []
    for N in sizes:
        words = [p.replace(" ", "").replace("pp", PTYPE[N]) for p in patterns]
        problems += fuzz_class(oracle, rng, words, n // len(sizes), state_fn=partial(fp_state, N=N))
    return problems


def test_decode_table_nests():
    assert check_table(ENCODINGS) == []


def test_2src_matches_unicorn():
    arith = "00011110 pp 1 xxxxx 0xxx 10 xxxxx xxxxx"
    fnmul = "00011110 pp 1 xxxxx 1000 10 xxxxx xxxxx"
    assert run_class([arith, arith, arith, fnmul], 3000, seed=1) == []


def test_3src_matches_unicorn():
    assert run_class(["00011111 pp x xxxxx x xxxxx xxxxx xxxxx"], 2000, seed=2) == []


def test_1src_matches_unicorn():
    bits = "00011110 pp 1 0000 xx 10000 xxxxx xxxxx"     # FMOV, FABS, FNEG, FSQRT
    frint = "00011110 pp 1 001 xxx 10000 xxxxx xxxxx"
    assert run_class([bits, frint, frint], 1600, seed=3) == []


def test_fcvt_precision_matches_unicorn():
    # source precision pp, destination opc random (including the reserved/BFCVT opc 10)
    assert run_class(["00011110 pp 1 0001 xx 10000 xxxxx xxxxx"], 1000, sizes=(16, 32, 64),
                     seed=4) == []


def test_compare_and_select_match_unicorn():
    fcmp = "00011110 pp 1 xxxxx 00 1000 xxxxx xx 000"
    fccmp = "00011110 pp 1 xxxxx xxxx 01 xxxxx xxxxx"
    fcsel = "00011110 pp 1 xxxxx xxxx 11 xxxxx xxxxx"
    assert run_class([fcmp, fcmp, fccmp, fcsel], 1500, seed=5) == []


def test_fp_to_integer_matches_unicorn():
    fcvt = "x0011110 pp 1 xx 00x 000000 xxxxx xxxxx"      # FCVT<N,P,M,Z><S,U>
    fcvta = "x0011110 pp 1 00 10x 000000 xxxxx xxxxx"
    fixed = "x0011110 pp 0 11 00x xxxxxx xxxxx xxxxx"     # FCVTZ<S,U> (fixed-point)
    assert run_class([fcvt, fcvt, fcvta, fixed], 1500, seed=6) == []


def test_integer_to_fp_matches_unicorn():
    cvtf = "x0011110 pp 1 00 01x 000000 xxxxx xxxxx"
    fixed = "x0011110 pp 0 00 01x xxxxxx xxxxx xxxxx"
    assert run_class([cvtf, fixed], 1000, seed=7) == []


def test_fmov_matches_unicorn():
    general = "x0011110 0x 1 00 11x 000000 xxxxx xxxxx"    # W <-> S, X <-> D (and reserved)
    top_half = "10011110 10 1 01 11x 000000 xxxxx xxxxx"   # X <-> V.D[1]
    imm = "00011110 xx 1 xxxxxxxx 100 00000 xxxxx"
    assert run_class([general, top_half, imm], 600, sizes=(64,), seed=8) == []


def test_whole_classes_match_unicorn():
    """Every field random, reserved and FP16 combinations included (both sides UNDEFINED)."""
    rng = random.Random(9)
    patterns = ["x0x11110 xx x xxxxx xxxx xx xxxxx xxxxx",
                "x0x11111 xx x xxxxx x xxxxx xxxxx xxxxx"]
    words = [p.replace(" ", "") for p in patterns]
    assert fuzz_class(Oracle(), rng, words, 1000, state_fn=mixed_state) == []


class MaxCpuOracle(Oracle):
    """Unicorn as its 'max' CPU, which has FEAT_FRINTTS (the default Cortex-A72 model does not).
    Used only for FRINT32/64: the max CPU also has FEAT_FP16, which this CPU does not."""

    def __init__(self, seed=0):
        super().__init__(seed)
        self.uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        self.uc.ctl_set_cpu_model(A.UC_CPU_ARM64_MAX)
        self.uc.mem_map(CODE, CODE_SIZE)
        self.uc.mem_map(DATA, DATA_SIZE)
        self.uc.hook_add(UC_HOOK_INTR, self._on_intr)


def test_frint_32_64_match_unicorn_max_cpu():
    pattern = "00011110 pp 1 0100 xx 10000 xxxxx xxxxx"
    assert run_class([pattern], 600, seed=10, oracle=MaxCpuOracle()) == []


# --- directed -------------------------------------------------------------------------------

def test_fast_paths_agree_with_exact_arithmetic():
    """The host-float double paths (default FPCR) give the exact paths' results and flags."""
    rng = random.Random(11)
    cases = [(sf.FPAdd, lambda a, b, st: sf._exact_addsub(a, b, 64, st, 0)),
             (sf.FPSub, lambda a, b, st: sf._exact_addsub(a, b, 64, st, 1)),
             (sf.FPMul, lambda a, b, st: sf._exact_mul(a, b, 64, st)),
             (sf.FPDiv, lambda a, b, st: sf._exact_div(a, b, 64, st)),
             (lambda a, b, n, st: sf.FPSqrt(a, n, st), lambda a, b, st: sf._exact_sqrt(a, 64, st))]
    # exact product/quotient just below 2^-1022, a tie that rounds up to the smallest normal:
    # Underflow (tiny before rounding) must still be signalled
    edges = [(0x001F_FFFF_FFFF_FFFF, 0x3FE0_0000_0000_0000),
             (0x001F_FFFF_FFFF_FFFF, 0x4000_0000_0000_0000)]
    pairs = [(fp_bits(rng, 64), fp_bits(rng, 64)) for _ in range(4000)]
    # products and quotients near the range limits
    pairs = edges + [(a, (b & ~sf.FORMATS[64].infinity)
                      | (rng.choice([1, 2, 0x3FE, 0x3FF, 0x7FD]) << 52)) if rng.random() < 0.2
                     else (a, b) for a, b in pairs]
    for a, b in pairs:
        for fast, exact in cases:
            st1, st2 = _Flags(), _Flags()
            assert (fast(a, b, 64, st1), st1.fpsr) == (exact(a, b, st2), st2.fpsr), \
                (fast, hex(a), hex(b))


@pytest.mark.parametrize("word, v, fpcr, expected, fpsr", [
    # FMADD s0, s1, s2, s3 with s3 = qNaN, s1 = inf, s2 = 0: default NaN + Invalid (FPMulAdd)
    (0x1F020C20, {1: 0x7F800000, 2: 0, 3: 0x7FC00001}, 0, 0x7FC00000, 0x1),
    # FCVT h0, s1 with AHP: 1.0e10 saturates to the largest alternative-format value, Invalid
    (0x1E23C020, {1: 0x501502F9}, sf.FPCR_AHP, 0x7FFF, 0x1),
    # FCVT s0, h1 with AHP: 0x7C00 is 65536.0, not infinity
    (0x1EE24020, {1: 0x7C00}, sf.FPCR_AHP, 0x47800000, 0),
    # FADD d0, d1, d2 with FZ: a denormal sum flushed to zero sets Underflow only
    (0x1E622820, {1: 0x0010000000000001, 2: 0x8010000000000000}, sf.FPCR_FZ, 0, 0x8),
])
def test_directed(word, v, fpcr, expected, fpsr):
    oracle = Oracle()
    regs = [0] * 32
    for i, value in v.items():
        regs[i] = value
    state = State(v=regs, fpcr=fpcr)
    assert oracle.check(word, state) == []
    ours, _ = oracle.run(word, state)
    assert (ours.v[0], ours.fpsr) == (expected, fpsr)
