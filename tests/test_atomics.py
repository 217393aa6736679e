"""Exclusives, load-acquire/store-release and FEAT_LSE atomics against Unicorn (its "max" CPU),
plus directed tests of the exclusive monitor, CAS/CASP and alignment faults."""

import random

import pytest
from oracle import DATA, DATA_SIZE, State
from test_ldst import field, fuzz, land, max_oracle, registers, run_ours, set_reg, sext

# Every access here must be naturally aligned (AArch64.CheckAlignment without FEAT_LSE2: atomic,
# exclusive and ordered accesses are always checked). QEMU checks the exclusives and the atomics,
# so those are also fuzzed unaligned (both fault), but not the ordered forms (LDAR, STLR, LDAPR,
# LDAPUR, ...), which it lets through: their placement is always aligned and
# test_unaligned_load_acquire_faults checks the fault on this model alone.

LDXR = ["xx 001000 0 1 0 xxxxx x xxxxx xxxxx xxxxx"]
STXR = ["xx 001000 0 0 0 xxxxx x xxxxx xxxxx xxxxx"]
LDXP = ["1x 001000 0 1 1 xxxxx x xxxxx xxxxx xxxxx"]
STXP = ["1x 001000 0 0 1 xxxxx x xxxxx xxxxx xxxxx"]
ORDERED = ["xx 001000 1 x 0 xxxxx x xxxxx xxxxx xxxxx",          # LDAR/STLR/LDLAR/STLLR
           "xx 111 0 00 1 0 1 11111 1 100 00 xxxxx xxxxx",       # LDAPR
           "xx 111 0 00 1 0 1 xxxxx 1 100 00 xxxxx xxxxx"]       # LDAPR, Rs not all ones
LDAPUR = ["xx 011001 xx 0 xxxxxxxxx 00 xxxxx xxxxx"]
CAS = ["xx 001000 1 x 1 xxxxx x 11111 xxxxx xxxxx", "xx 001000 1 x 1 xxxxx x xxxxx xxxxx xxxxx"]
CASP = ["0x 001000 0 x 1 xxxx0 x 11111 xxxxx xxxx0", "0x 001000 0 x 1 xxxxx x xxxxx xxxxx xxxxx"]
ATOMIC = ["xx 111 0 00 xx 1 xxxxx 0 xxx 00 xxxxx xxxxx",           # LD<op>
          "xx 111 0 00 xx 1 xxxxx 1 000 00 xxxxx xxxxx",           # SWP
          "xx 111 x 00 xx 1 xxxxx x xxx 00 xxxxx xxxxx"]           # the class, reserved included


def lse_signed_narrow(word):
    """LDSMAX/LDSMIN of bytes, halfwords and words: Unicorn's QEMU compares the operands
    without sign-extending them, but LDSMAX/LDSMIN compare SInt() of the datasize-bit values
    (MemAtomicOp_SMAX/SMIN); test_signed_atomics_compare_signed checks them here."""
    o3_opc = field(word, 12, 4)
    return field(word, 26, 1) == 0 and o3_opc in (0b0100, 0b0101) and field(word, 30, 2) < 3


def store_exclusive_overlap(word):
    """Store-exclusive status register Ws equal to Rt, Rt2 (pairs) or Rn (not SP): CONSTRAINED
    UNPREDICTABLE (STXR/STXP 'if s == t || (pair && s == t2) || (s == n && n != 31)')."""
    s, t, n = field(word, 16, 5), field(word, 0, 5), field(word, 5, 5)
    pair = field(word, 21, 1)
    return s == t or (pair and s == field(word, 10, 5)) or (s == n and n != 31)


def aligned_place(size_of, unaligned=0.0):
    """Placement of [Xn] aligned to size_of(word), except `unaligned` of the time."""
    def place(word, state, rng):
        size = size_of(word)
        land(state, rng, field(word, 5, 5), 0, size, 1 if rng.random() < unaligned else size)
        return [word]
    return place


def single_size(word):
    return 1 << field(word, 30, 2)


def pair_size(word):
    return 8 << field(word, 30, 1)


def exclusive_store_place(word, state, rng):
    """Before the store-exclusive, a load-exclusive of the same size (so both monitors are in a
    known state) from the same address 60% of the time, else from another address."""
    n, s, t, t2 = field(word, 5, 5), field(word, 16, 5), field(word, 0, 5), field(word, 10, 5)
    pair = field(word, 21, 1)
    size = pair_size(word) if pair else single_size(word)
    land(state, rng, n, 0, size, size)
    others = [r for r in range(31) if r not in (n, s, t, t2)]
    base = n
    if rng.random() > 0.6:
        base = others.pop(rng.randrange(len(others)))
        land(state, rng, base, 0, size, size)
    load = word & 0xC020_0000 | 0x085F_7C00 | base << 5 | others[0]      # LDXR / LDXP, L = 1
    if pair:
        load = load & ~(31 << 10) | others[1] << 10
    return [load, word]


def cas_place(orc, pair):
    """CAS/CASP at an aligned [Xn] whose compare register(s) hold the memory value half of the
    time (the swap happens), other values otherwise."""
    def place(word, state, rng):
        esize = (4 << field(word, 30, 1)) if pair else single_size(word)
        n, s = field(word, 5, 5), field(word, 16, 5)
        land(state, rng, n, 0, esize * (1 + pair), esize * (1 + pair))
        if rng.random() < 0.5 and n != s:
            where = (state.sp if n == 31 else state.x[n]) - DATA
            if 0 <= where <= DATA_SIZE - 16:
                for i in range(1 + pair):
                    if s + i < 31 and s + i != n:
                        memory = orc.data_image[where + i * esize:where + (i + 1) * esize]
                        set_reg(state, s + i, int.from_bytes(memory, "little"))
        return [word]
    return place


def ldapur_place(word, state, rng):
    size = single_size(word)
    land(state, rng, field(word, 5, 5), sext(field(word, 12, 9), 9), size, size)
    return [word]


def test_load_exclusive_matches_unicorn():
    place = aligned_place(single_size, unaligned=0.2)
    assert fuzz(max_oracle(), random.Random(21), LDXR, 400, place) == []


def test_store_exclusive_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(22), STXR, 500, exclusive_store_place,
                skip=store_exclusive_overlap) == []


def test_load_exclusive_pair_matches_unicorn():
    place = aligned_place(pair_size, unaligned=0.2)
    assert fuzz(max_oracle(), random.Random(23), LDXP, 300, place) == []


def test_store_exclusive_pair_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(24), STXP, 400, exclusive_store_place,
                skip=store_exclusive_overlap) == []


def test_ordered_matches_unicorn():
    assert fuzz(max_oracle(), random.Random(25), ORDERED, 600, aligned_place(single_size)) == []


def test_ldapur_stlur_match_unicorn():
    assert fuzz(max_oracle(), random.Random(26), LDAPUR, 400, ldapur_place) == []


def test_cas_matches_unicorn():
    orc = max_oracle()
    assert fuzz(orc, random.Random(27), CAS, 400, cas_place(orc, False)) == []


def test_casp_matches_unicorn():
    orc = max_oracle()
    assert fuzz(orc, random.Random(28), CASP, 400, cas_place(orc, True)) == []


def test_atomic_memory_operations_match_unicorn():
    place = aligned_place(single_size, unaligned=0.15)
    assert fuzz(max_oracle(), random.Random(29), ATOMIC, 1000, place,
                skip=lse_signed_narrow) == []


# --- directed ---------------------------------------------------------------------------------

LDXR_X2 = 0xC85F7C22        # ldxr x2, [x1]
STXR_W4 = 0xC8047C25        # stxr w4, x5, [x1]
STXR_W7 = 0xC8077C25        # stxr w7, x5, [x1]
LDAXP_X2 = 0xC87F8C22       # ldaxp x2, x3, [x1]
STLXP_W4 = 0xC8249825       # stlxp w4, x5, x6, [x1]
STLXP_W7 = 0xC8279825       # stlxp w7, x5, x6, [x1]
LDAR_X2 = 0xC8DFFC22        # ldar x2, [x1]
CAS_X2 = 0xC8A27C23         # cas x2, x3, [x1]
CASP_X2 = 0x48227C24        # casp x2, x3, x4, x5, [x1]
LDSMAX_W2 = 0xB8224023      # ldsmax w2, w3, [x1]
LDSMINB_W2 = 0x38225023     # ldsminb w2, w3, [x1]


def state_of(regs):
    return State(x=[regs.get(f"x{i}", 0x100 + i) for i in range(31)])


@pytest.mark.parametrize("words, size", [
    ([LDXR_X2, STXR_W4, STXR_W7], 8),
    ([LDAXP_X2, STLXP_W4, STLXP_W7], 16),
])
def test_store_exclusive_succeeds_once_after_load_exclusive(words, size):
    regs = {"x1": DATA + 0x40, "x5": 0x1234_5678_9ABC_DEF0, "x6": 0x0FED_CBA9_8765_4321,
            "x4": 7, "x7": 7}
    assert max_oracle().check(words, state_of(regs)) == []
    result, cpu = run_ours(words, regs)
    assert result.reason == "count"
    assert (cpu.reg("x4"), cpu.reg("x7")) == (0, 1)
    stored = regs["x5"] | regs["x6"] << 64
    assert cpu.read(DATA + 0x40, size) == stored.to_bytes(16, "little")[:size]


def test_cas_swaps_only_when_equal():
    memory = (0x1111).to_bytes(8, "little")
    orc = max_oracle()
    for compare, stored in ((0x1111, 0x2222), (0x1112, 0x1111)):
        regs = {"x1": DATA, "x2": compare, "x3": 0x2222}
        orc.data_image = memory + orc.data_image[8:]
        assert orc.check(CAS_X2, state_of(regs)) == []
        result, cpu = run_ours([CAS_X2], regs, memory)
        assert result.reason == "count"
        assert cpu.reg("x2") == 0x1111                       # the old value, either way
        assert int.from_bytes(cpu.read(DATA, 8), "little") == stored


def test_casp_swaps_the_pair_only_when_both_equal():
    memory = (0xA).to_bytes(8, "little") + (0xB).to_bytes(8, "little")
    orc = max_oracle()
    orc.data_image = memory + orc.data_image[16:]
    for compare, stored in (((0xA, 0xB), (0xC, 0xD)), ((0xA, 0xE), (0xA, 0xB))):
        regs = {"x1": DATA, "x2": compare[0], "x3": compare[1], "x4": 0xC, "x5": 0xD}
        assert orc.check(CASP_X2, state_of(regs)) == []
        result, cpu = run_ours([CASP_X2], regs, memory)
        assert result.reason == "count"
        assert (cpu.reg("x2"), cpu.reg("x3")) == (0xA, 0xB)
        assert (int.from_bytes(cpu.read(DATA, 8), "little"),
                int.from_bytes(cpu.read(DATA + 8, 8), "little")) == stored


def test_unaligned_load_exclusive_takes_alignment_fault():
    regs = {"x1": DATA + 4, "x2": 0x55}
    assert max_oracle().check(LDXR_X2, state_of(regs)) == []      # a data abort on Unicorn too
    result, cpu = run_ours([LDXR_X2], regs)
    assert (result.reason, result.ec, result.iss & 0x3F, result.far) == (
        "exception", 0x25, 0x21, DATA + 4)
    assert registers(cpu, regs) == regs


def test_unaligned_load_acquire_faults():
    regs = {"x1": DATA + 2, "x2": 0x55}
    result, cpu = run_ours([LDAR_X2], regs)
    assert (result.reason, result.ec, result.iss & 0x3F) == ("exception", 0x25, 0x21)
    assert registers(cpu, regs) == regs


def test_signed_atomics_compare_signed():
    regs = {"x1": DATA, "x2": 1}
    result, cpu = run_ours([LDSMAX_W2], regs, (0xFFFF_FFFF).to_bytes(4, "little"))
    assert result.reason == "count"
    assert cpu.reg("x3") == 0xFFFF_FFFF and cpu.read(DATA, 4) == (1).to_bytes(4, "little")
    regs = {"x1": DATA, "x2": 0x80}
    result, cpu = run_ours([LDSMINB_W2], regs, b"\x01")
    assert cpu.reg("x3") == 1 and cpu.read(DATA, 1) == b"\x80"
