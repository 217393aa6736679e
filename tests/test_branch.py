"""Branches against Unicorn (random encodings and state: PC, X30 and every register compared),
plus directed checks of what Unicorn cannot show: PC alignment faults at a misaligned branch
target, 64-bit wrap-around, ERET (see test_system.py for the exception-return PSTATE checks)."""

import random
import struct

import pytest
from oracle import CODE, CODE_SIZE, DATA, DATA_SIZE, Oracle, State, fuzz_class

from machine.api import Cpu
from machine.cpu.decode import ENCODINGS, check_table

# Unicorn fetches at a taken branch's target even when told to stop after the branch, and
# reports an unmapped target as an error: every branch target must be mapped. The oracle maps
# CODE and DATA; landing_oracle() maps the rest of [0, DATA + DATA_SIZE) in both CPUs and the
# patterns keep the PC-relative targets inside it (forward: offset < 1 MB; backward: offset >=
# -64 KB, as CODE is at 64 KB). TBZ/TBNZ reach +-32 KB, always inside.
B_BL = ["x00101" + "0" * 8 + "x" * 18, "x00101" + "1" * 12 + "x" * 14]
B_COND = ["0101010x" + "0" + "x" * 23, "0101010x" + "11111" + "x" * 19]   # o1/o0: UNDEF forms
CB = ["x011010x" + "0" + "x" * 23, "x011010x" + "11111" + "x" * 19]
TB = ["x011011" + "x" * 25]
BR_BLR_RET = ["1101011" "000x" "11111" "000000" "xxxxx" "00000",      # BR, BLR
              "1101011" "0010" "11111" "000000" "xxxxx" "00000"]       # RET
BRANCH_REG_SPACE = ["1101011" + "x" * 25]
ERET_MASK, ERET = 0xFFFF_FFFF, 0xD69F_03E0
LANDING = [(0, CODE), (CODE + CODE_SIZE, DATA - CODE - CODE_SIZE)]


def landing_oracle():
    oracle = Oracle()
    for base, size in LANDING:
        oracle.cpu.map(base, size)
        oracle.uc.mem_map(base, size)
    return oracle


def landing_state(rng):
    """Random state whose registers all hold addresses in the mapped range (any alignment:
    the target is not fetched), for the register branches."""
    state = State.random(rng)
    state.x = [rng.randrange(0, DATA + DATA_SIZE) for _ in range(31)]
    return state


def is_eret(word):
    # ERET changes the exception level, which persists in both CPUs across the oracle's runs;
    # it is tested directly in test_system.py.
    return word & ERET_MASK == ERET


def test_decode_table_nests():
    assert check_table(ENCODINGS) == []


def test_b_bl_match_unicorn():
    assert fuzz_class(landing_oracle(), random.Random(11), B_BL, 500) == []


def test_b_cond_matches_unicorn():
    assert fuzz_class(landing_oracle(), random.Random(12), B_COND, 600) == []


def test_cbz_cbnz_match_unicorn():
    assert fuzz_class(landing_oracle(), random.Random(13), CB, 500) == []


def test_tbz_tbnz_match_unicorn():
    assert fuzz_class(landing_oracle(), random.Random(14), TB, 500) == []


def test_br_blr_ret_match_unicorn():
    assert fuzz_class(landing_oracle(), random.Random(15), BR_BLR_RET, 500,
                      state_fn=landing_state) == []


def test_branch_register_space_matches_unicorn():
    # The rest of the space (PAuth forms, DRPS, reserved) is UNDEFINED on both.
    assert fuzz_class(landing_oracle(), random.Random(16), BRANCH_REG_SPACE, 300,
                      state_fn=landing_state, skip=is_eret) == []


LOOP = [  # 300 iterations of TBZ, BL/RET, CBNZ, MRS/MSR, B.NE, then CBZ and B to the end
    0xD280_2580, 0xD280_0001, 0x8B00_0021, 0x3600_0040, 0x9100_0421, 0x9400_0009, 0xD53B_4203,
    0xD51B_D041, 0xD53B_D044, 0xF100_0400, 0x54FF_FF01, 0xB400_0040, 0xD280_0025, 0x1400_0005,
    0x9100_0C42, 0xB500_0042, 0xD280_00E6, 0xD65F_03C0, 0xD503_201F]
LOOP_INSTRUCTIONS = 2 + 300 * 11 + 150 + 3


def test_loop_in_translated_blocks_matches_unicorn():
    # Long enough for the hot entries to be translated into tier-2 blocks.
    oracle = Oracle()
    state = State.random(random.Random(17))
    assert oracle.check(LOOP, state, count=LOOP_INSTRUCTIONS) == []
    assert oracle.cpu.core.block_by_code
    assert oracle.cpu.reg("pc") == CODE + 4 * len(LOOP)


# --- directed ---------------------------------------------------------------------------------

BASE = 0x80000


def cpu_running(words, base=BASE, **regs):
    cpu = Cpu(el=1)
    cpu.map(base, 0x10000)
    cpu.write(base, struct.pack(f"<{len(words)}I", *words))
    cpu.set_reg("pc", base)
    for name, value in regs.items():
        cpu.set_reg(name, value)
    return cpu


def test_misaligned_branch_target_faults_on_the_next_fetch():
    target = BASE + 0x102
    cpu = cpu_running([0xD61F_0000], x0=target, vbar_el1=0x4000)      # BR X0
    assert cpu.run(count=1).reason == "count"                         # the BR itself completes
    assert cpu.reg("pc") == target
    result = cpu.run(count=1)
    assert (result.reason, result.ec, result.pc) == ("exception", 0x22, 0x4200)
    assert cpu.reg("elr_el1") == target and cpu.reg("far_el1") == target


def test_blr_to_misaligned_target_links_then_faults():
    cpu = cpu_running([0xD63F_0020], x1=BASE + 0x1001)                # BLR X1
    result = cpu.run(count=2)
    assert result.ec == 0x22 and cpu.reg("x30") == BASE + 4
    assert cpu.reg("elr_el1") == BASE + 0x1001


def test_branch_target_wraps_to_64_bits():
    cpu = cpu_running([0x17FF_FFFF], base=0)                          # B .-4 at address 0
    assert cpu.run(count=1).reason == "count"
    assert cpu.reg("pc") == 0xFFFF_FFFF_FFFF_FFFC


def test_bl_from_the_top_of_the_address_space_wraps_the_link():
    # BL at 0xFFFF_FFFF_FFFF_FFFC cannot be fetched without an MMU; run its closure directly.
    cpu = cpu_running([])
    core = cpu.core
    bl = core.decode_word(0x9400_0001, 0)                             # BL .+4
    assert bl(0xFFFF_FFFF_FFFF_FFFC) == 0
    assert core.s.x[30] == 0


# Hops between five pages, in the order below, each landing on `ADD X0, X0, #k; B next`:
# backwards and forwards by one to four pages, so that the dispatch loops' page changes are
# all exercised (the tier-1 loop indexes a page's decoded list with the offset in the page).
HOPS = [2, 0, 3, 1, 4, 0, 2, 4, 1, 3, 2]
HOP_SLOT = 0x800                         # where in its page each landing sits


def hop_program():
    """(pages of code keyed by address, entry, sum of the landings' immediates, instructions
    up to the final BRK)."""
    pages = {BASE + 0x1000 * p: bytearray(0x1000) for p in range(5)}
    landings = [BASE + 0x1000 * p + HOP_SLOT + 8 * i for i, p in enumerate(HOPS)]
    for i, at in enumerate(landings):
        page = pages[at & ~0xFFF]
        nxt = landings[i + 1] if i + 1 < len(landings) else None
        last = 0xD420_0000 if nxt is None else 0x1400_0000 | ((nxt - at - 4) >> 2) & 0x3FF_FFFF
        struct.pack_into("<II", page, at & 0xFFF, 0x9100_0000 | (i + 1) << 10, last)
    return pages, landings[0], sum(range(1, len(HOPS) + 1)), 2 * len(HOPS) - 1


@pytest.mark.parametrize("blocks", [False, True])
def test_branches_between_pages(blocks):
    pages, entry, total, instructions = hop_program()
    cpu = Cpu(el=1)
    cpu.map(BASE, 0x5000)
    for addr, data in pages.items():
        cpu.write(addr, bytes(data))
    cpu.core.blocks = blocks
    for _ in range(80):                    # repeated, for the hot entries to be translated
        cpu.set_reg("pc", entry)
        cpu.set_reg("x0", 0)
        result = cpu.run(count=4096)       # a budget the block loop accepts
        assert (result.reason, result.ec, result.retired) == ("exception", 0x3C, instructions)
        assert cpu.reg("x0") == total
    assert bool(cpu.core.block_by_code) == blocks
