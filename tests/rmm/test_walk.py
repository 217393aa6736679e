"""The RTTs are real stage 2 tables: the CPU's stage 2 walker translates realm IPAs through them."""

import pytest
from rmm_testbed import G, Host

from machine.cpu.gpc import PAS_NONSECURE, PAS_REALM, GranuleProtection
from machine.cpu.state import REALM, CpuState
from machine.cpu.walk import FETCH, PERM_R, PERM_W, PERM_X, READ, WRITE, Walker, WalkFault
from machine.rmm.abi import Fid, Status, desc
from machine.rmm.s2tt import map_size

RAM = 0x8000_0000
MB2 = 2 << 20


def walker(host, rd):
    realm = host.rmm.realms[rd]
    s = CpuState()
    s.security = REALM
    s.sr["vtcr_el2"] = realm.vtcr()
    s.sr["vttbr_el2"] = realm.vttbr()
    gpc = GranuleProtection(host.platform.bus, s.sr)       # GPCCR_EL3 = 0: no GPC
    return Walker(s, host.platform.bus, gpc)


def build(host, s2sz, level_start, num_start):
    host.boot()
    rd, _ = host.realm_create(s2sz=s2sz, rtt_level_start=level_start, rtt_num_start=num_start)
    for level in range(level_start + 1, 4):
        ipa = RAM & ~(map_size(level - 1) - 1)      # RTT_CREATE wants a level - 1 aligned IPA
        assert host.status(Fid.RTT_CREATE, rd, host.delegated(), ipa, level) == Status.SUCCESS
    return rd


@pytest.mark.parametrize("s2sz, level_start, num_start", [(40, 1, 2), (40, 0, 1), (34, 2, 16),
                                                          (48, 0, 1), (39, 1, 1)])
def test_data_map_init_translates(s2sz, level_start, num_start):
    host = Host()
    rd = build(host, s2sz, level_start, num_start)
    data, src = host.delegated(), host.alloc()
    host.platform.ns_write(src, b"\xa5" * G)
    assert host.status(Fid.RTT_DATA_MAP_INIT, rd, data, RAM + G, src, 0) == Status.SUCCESS
    w = walker(host, rd)
    pa, pas, perms, device = w.stage2(RAM + G + 0x123, READ, False)
    assert (pa, pas) == (data + 0x123, PAS_REALM)
    assert perms == PERM_R | PERM_W | PERM_X and not device
    assert host.platform.realm_read(pa, 4) == b"\xa5" * 4
    # the neighbouring pages are unassigned: translation faults at level 3
    with pytest.raises(WalkFault) as fault:
        w.stage2(RAM, READ, False)
    assert fault.value.fsc == 0b000100 + 3 and fault.value.stage == 2
    # after DATA_UNMAP the page no longer translates
    out = host.call(Fid.RTT_DATA_UNMAP, rd, RAM + G, RAM + 2 * G, 0, 0)
    assert out[:2] == [0, RAM + 2 * G]
    with pytest.raises(WalkFault):
        w.stage2(RAM + G, WRITE, False)


def test_blocks_and_fold_translate():
    host = Host()
    rd = build(host, 40, 1, 2)
    block = host.delegated(512, align=MB2)
    base = RAM + MB2                          # the L2 entry next to the L3 table
    assert host.call(Fid.RTT_INIT_RIPAS, rd, base, base + MB2)[:2] == [0, base + MB2]
    out = host.call(Fid.RTT_DATA_MAP, rd, base, base + MB2, 1, desc(block, 1, sz=1))
    assert out[:2] == [0, base + MB2]
    w = walker(host, rd)
    assert w.stage2(base + 0x1234, WRITE, False)[:2] == (block + 0x1234, PAS_REALM)
    # unfold it into an L3 RTT and fold it back: still the same translation
    l3 = host.delegated()
    assert host.status(Fid.RTT_CREATE, rd, l3, base, 3) == Status.SUCCESS
    assert w.stage2(base + 0x5000, READ, False)[0] == block + 0x5000
    assert host.call(Fid.RTT_FOLD, rd, base, 3)[:2] == [0, l3]
    assert w.stage2(base + 0x1FF000, FETCH, False)[0] == block + 0x1FF000


def test_unprotected_mapping_translates_to_ns():
    host = Host()
    host.boot()
    rd, _ = host.realm_create()
    shared = (1 << 39) + RAM
    for level in (2, 3):
        assert host.status(Fid.RTT_CREATE, rd, host.delegated(), shared, level) == Status.SUCCESS
    ns_page = host.alloc()
    read_only = 1 | (6 << 16) | (2 << 19)
    out = host.call(Fid.RTT_UNPROT_MAP, rd, shared, shared + G, read_only, desc(ns_page, 1))
    assert out[:2] == [0, shared + G]
    w = walker(host, rd)
    pa, pas, perms, device = w.stage2(shared + 8, READ, False)
    assert (pa, pas, perms, device) == (ns_page + 8, PAS_NONSECURE, PERM_R, False)
    with pytest.raises(WalkFault) as fault:
        w.stage2(shared, WRITE, False)
    assert fault.value.fsc == 0b001100 + 3                  # permission fault, level 3
