"""The worked lifecycle of the RMI digest (section 8) end to end at the engine API."""

import hashlib

from rmm_testbed import DRAM_BASE, DRAM_SIZE, G, Host

from machine.cpu.gpc import GPI_NONSECURE
from machine.rmm.abi import (
    REC_EXIT_OFFSET,
    Fid,
    RecExitReason,
    RmiRecExit,
    RmiRmmConfig,
    Status,
    desc,
    desc_fields,
    status_of,
)
from machine.rmm.granule import GranuleState

IPA_RAM = 0x8000_0000
IPA_SHARED = (1 << 39) + 0x8000_0000


def boot(host):
    """Digest 7.2 / 8.1."""
    assert host.call(Fid.VERSION, 0x20000)[:3] == [0, 0x20000, 0x20000]
    feat0 = host.call(Fid.FEATURES, 0)[1]
    assert feat0 & 0xFF == 48
    assert host.call(Fid.FEATURES, 1)[1] == 0x142A9
    config = host.write_params(RmiRmmConfig)
    assert host.status(Fid.RMM_CONFIG_GET, config) == Status.SUCCESS
    assert host.status(Fid.RMM_CONFIG_SET, config) == Status.SUCCESS
    assert host.status(Fid.RMM_ACTIVATE) == Status.SUCCESS
    assert host.status(Fid.RMM_ACTIVATE) == Status.ERROR_GLOBAL
    assert host.call(Fid.GRANULE_TRACKING_GET, DRAM_BASE, DRAM_BASE + (1 << 30))[:4] == [
        0, 0, 2, DRAM_BASE + (1 << 30)]
    assert host.status(Fid.GPT_L1_CREATE, DRAM_BASE) == Status.ERROR_GPT


def test_lifecycle():
    host = Host()
    boot(host)
    rmm, plat = host.rmm, host.platform

    # 8.2 step 1: delegate everything the realm needs
    rd = host.delegated()
    roots = host.delegated(2, align=2 * G)
    rtt_l2, rtt_l3 = host.delegated(), host.delegated()
    data = host.delegated(512, align=2 << 20)
    rec = host.delegated()
    aux = [host.delegated() for _ in range(16)]
    rtt_l2u, rtt_l3u = host.delegated(), host.delegated()
    delegated = [rd, *roots_of(roots), rtt_l2, rtt_l3, *range(data, data + 512 * G, G), rec,
                 *aux, rtt_l2u, rtt_l3u]
    assert all(plat.gpi_of(pa) != GPI_NONSECURE for pa in delegated)

    # 2: REALM_CREATE
    params = host.realm_params(rtt_base=roots, rtt_level_start=1, rtt_num_start=2, rpv=b"\x5a" * 64)
    assert host.status(Fid.REALM_CREATE, rd, params) == Status.SUCCESS
    realm = rmm.realms[rd]
    # 3, 4: the L2 and L3 RTTs of the guest RAM
    assert host.status(Fid.RTT_CREATE, rd, rtt_l2, IPA_RAM, 2) == Status.SUCCESS
    assert host.status(Fid.RTT_CREATE, rd, rtt_l3, IPA_RAM, 3) == Status.SUCCESS
    # 5: RIPAS RAM for 2 MB (looping on X1)
    base = IPA_RAM
    while base < IPA_RAM + (2 << 20):
        out = host.call(Fid.RTT_INIT_RIPAS, rd, base, IPA_RAM + (2 << 20))
        assert out[0] == 0
        base = out[1]
    rim_after_create = realm.rim
    # 6: the measured kernel page
    src = host.alloc()
    image = bytes(range(256)) * 16
    plat.ns_write(src, image)
    assert host.status(Fid.RTT_DATA_MAP_INIT, rd, data, IPA_RAM, src, 1) == Status.SUCCESS
    assert realm.rim != rim_after_create
    # 7: the other 511 pages, zero-filled, unmeasured
    rim_after_data = realm.rim
    out = host.call(Fid.RTT_DATA_MAP, rd, IPA_RAM + G, IPA_RAM + (2 << 20), 1,
                    desc(data + G, 511))
    assert out[:2] == [0, IPA_RAM + (2 << 20)]
    assert realm.rim == rim_after_data
    # 8-10: the REC, its 16 aux granules donated through the SRO
    rec_params = host.write_params(__import__("machine.rmm.abi", fromlist=["x"]).RmiRecParams,
                                   flags=1, mpidr=0, pc=IPA_RAM, gprs=[0x8800_0000] + [0] * 7)
    out = host.call(Fid.REC_CREATE, rd, rec, rec_params)
    assert out[:3] == [0x10D, out[1], 0x40]
    handle = out[1]
    assert rmm.granule_state(rec) == GranuleState.PARTIAL
    donate_list = host.write_list([desc(a, 1) for a in aux])
    assert host.call(Fid.OP_MEM_DONATE, handle, donate_list, 16)[:3] == [0x00D, 16, 0]
    assert host.call(Fid.OP_CONTINUE, handle, 0)[:3] == [0, 0, 0]
    assert rmm.granule_state(rec) == GranuleState.REC
    assert all(rmm.granule_state(a) == GranuleState.REC_AUX for a in aux)
    assert realm.rim != rim_after_data
    # 11: ACTIVATE
    assert host.status(Fid.REALM_ACTIVATE, rd) == Status.SUCCESS
    # 12, 13: the shared page
    assert host.status(Fid.RTT_CREATE, rd, rtt_l2u, IPA_SHARED, 2) == Status.SUCCESS
    assert host.status(Fid.RTT_CREATE, rd, rtt_l3u, IPA_SHARED, 3) == Status.SUCCESS
    ns_page = host.alloc()
    flags = 1 | (6 << 16) | (3 << 19)
    out = host.call(Fid.RTT_UNPROT_MAP, rd, IPA_SHARED, IPA_SHARED + G, flags, desc(ns_page, 1))
    assert out[:2] == [0, IPA_SHARED + G]
    out = host.call(Fid.RTT_READ_ENTRY, rd, IPA_SHARED, 3)
    assert out[:5] == [0, 3, 1, ns_page | (6 << 2) | (3 << 6), 0]

    # 8.3: run (the test platform returns an IRQ exit)
    run = host.alloc()
    plat.ns_write(run, bytes(0x800) + b"\xff" * 0x800)    # the exit area is zero-filled
    plat.next_exit = {"exit_reason": RecExitReason.IRQ, "cntv_ctl": 5}
    assert host.status(Fid.REC_ENTER, rec, run) == Status.SUCCESS
    exit_ = RmiRecExit.parse(plat.ns_read(run + REC_EXIT_OFFSET, 0x800))
    assert exit_.exit_reason == RecExitReason.IRQ and exit_.cntv_ctl == 5 and exit_.esr == 0
    assert plat.entered == [(rec, run)]

    # 8.4 step 1: TERMINATE
    assert host.status(Fid.REALM_TERMINATE, rd) == Status.SUCCESS
    assert host.status(Fid.REC_ENTER, rec, run) == Status.ERROR_REALM
    # 2: DATA_UNMAP with SINGLE descriptors of the freed runs
    freed, base = [], IPA_RAM
    while base < IPA_RAM + (2 << 20):
        out = host.call(Fid.RTT_DATA_UNMAP, rd, base, IPA_RAM + (2 << 20), 1, 0)
        assert status_of(out[0]) == Status.SUCCESS, hex(out[0])
        freed.append(desc_fields(out[2]))
        base = out[1]
    assert sum(cnt for _, cnt, _, _ in freed) == 512
    assert freed[0][0] == data
    # 3: UNPROT_UNMAP
    out = host.call(Fid.RTT_UNPROT_UNMAP, rd, IPA_SHARED, IPA_SHARED + G, 1, 0)
    assert out[:3] == [0, IPA_SHARED + G, desc(ns_page, 1)]
    # 4-6: REC_DESTROY, reclaiming the 16 aux granules
    out = host.call(Fid.REC_DESTROY, rec)
    assert out[:3] == [0x20D, out[1], 0]
    reclaimed = []
    out = host.sro(out, reclaimed=reclaimed)
    assert out[0] == Status.SUCCESS
    assert sorted(g for d in reclaimed for g in granules_of(d)) == sorted(aux)
    # 7: RTT_DESTROY, leaves first
    for ipa in (IPA_RAM, IPA_SHARED):
        l3 = host.call(Fid.RTT_DESTROY, rd, ipa, 3)
        l2 = host.call(Fid.RTT_DESTROY, rd, ipa, 2)
        assert l3[0] == 0 and l2[0] == 0
    assert host.status(Fid.REALM_DESTROY, rd) == Status.SUCCESS
    # 9: undelegate everything; every granule is back to NS, zeroed
    for pa in delegated:
        host.undelegate(pa)
    for pa in delegated:
        assert rmm.granule_state(pa) == GranuleState.NS
        assert plat.gpi_of(pa) == GPI_NONSECURE
        assert plat.raw(pa, G) == bytes(G), hex(pa)
    assert not list(rmm.granules.items())
    assert not rmm.realms and not rmm.recs
    assert not rmm.sro.in_flight()
    assert plat.raw(src, G) == image            # NS memory the RMM read is untouched
    assert hashlib.sha256(plat.raw(DRAM_BASE, DRAM_SIZE)).digest()  # memory still readable


def roots_of(roots):
    return [roots, roots + G]


def granules_of(word):
    base, cnt, sz, st = desc_fields(word)
    assert sz == 0 and st == 0
    return [base + i * G for i in range(cnt)]
