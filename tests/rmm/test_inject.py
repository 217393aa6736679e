"""Fault injection: with RMI_BUSY and extra RMI_INCOMPLETE steps injected, a host that follows the
protocol (digest 6.5: retry BUSY, follow the SRO, loop on partial progress) ends up exactly
where it would without them; the injection is deterministic for a seed."""

import pytest
from rmm_testbed import RAM, G, Host

from machine.rmm import Injector
from machine.rmm.abi import (
    Fid,
    MemReq,
    RmiRecParams,
    RmiResultIncomplete,
    Status,
    desc,
    desc_fields,
    status_of,
)
from machine.rmm.granule import GranuleState

SHARED = (1 << 39) + RAM
PAGES = 24


class RobustHost(Host):
    """Retries BUSY, drives every SRO to its end, donates from a pool of spare granules."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = {"busy": 0, "incomplete": 0}
        self.spare = []

    def run(self, fid, *args):
        out = self.call(fid, *args)
        while status_of(out[0]) == Status.BUSY:
            self.seen["busy"] += 1
            out = self.call(fid, *args)
        if status_of(out[0]) != Status.INCOMPLETE:
            return out
        handle = out[1]
        while status_of(out[0]) == Status.INCOMPLETE:
            self.seen["incomplete"] += 1
            mem_req = RmiResultIncomplete.get(out[0], "mem_req")
            if mem_req == MemReq.DONATE:
                offered = self.spare[:(out[2] >> 2) & 0x3FFF]
                out = self.call(Fid.OP_MEM_DONATE, handle,
                                self.write_list([desc(p, 1) for p in offered]), len(offered))
                del self.spare[:out[1]]
            elif mem_req == MemReq.RECLAIM:
                out = self.call(Fid.OP_MEM_RECLAIM, handle, self.list_page, 3)
            else:
                out = self.call(Fid.OP_CONTINUE, handle, 0)
        return out


def lifecycle(inject, trace=None):
    """Build, run and tear down a realm; returns (host, its RIM, the granules delegated)."""
    host = RobustHost(inject=inject, trace=trace)
    host.boot()
    rd = host.delegated()
    roots = host.delegated(2, align=2 * G)
    rtts = [host.delegated() for _ in range(4)]
    data = host.delegated(PAGES)
    rec = host.delegated()
    host.spare = [host.delegated() for _ in range(16)]
    owned = [rd, roots, roots + G, *rtts, *range(data, data + PAGES * G, G), rec, *host.spare]
    params = host.realm_params(rtt_base=roots)
    assert host.run(Fid.REALM_CREATE, rd, params)[0] == 0
    for rtt, (ipa, level) in zip(rtts, [(RAM, 2), (RAM, 3), (SHARED, 2), (SHARED, 3)],
                                 strict=True):
        assert host.run(Fid.RTT_CREATE, rd, rtt, ipa, level)[0] == 0
    top = RAM + PAGES * G
    loop(host, Fid.RTT_INIT_RIPAS, rd, RAM, top)
    src = host.alloc()
    host.platform.ns_write(src, b"kernel" * 600)
    assert host.run(Fid.RTT_DATA_MAP_INIT, rd, data, RAM, src, 1)[0] == 0
    base = RAM + G
    while base < top:
        out = host.run(Fid.RTT_DATA_MAP, rd, base, top, 1,
                       desc(data + (base - RAM), (top - base) // G))
        assert out[0] == 0, hex(out[0])
        base = out[1]
    rec_params = host.write_params(RmiRecParams, flags=1, mpidr=0, pc=RAM)
    assert host.run(Fid.REC_CREATE, rd, rec, rec_params)[0] == 0
    assert not host.spare
    assert host.run(Fid.REALM_ACTIVATE, rd)[0] == 0
    ns = host.alloc()
    flags = 1 | (6 << 16) | (3 << 19)
    assert host.run(Fid.RTT_UNPROT_MAP, rd, SHARED, SHARED + G, flags, desc(ns, 1))[:2] in (
        [0, SHARED + G], [0, SHARED])
    loop(host, Fid.RTT_UNPROT_MAP, rd, SHARED, SHARED + G, flags, desc(ns, 1))
    run_page = host.alloc()
    assert host.run(Fid.REC_ENTER, rec, run_page)[0] == 0
    rim = host.rmm.realms[rd].rim
    # teardown
    assert host.run(Fid.REALM_TERMINATE, rd)[0] == 0
    freed = []
    base = RAM
    while base < top:
        out = host.run(Fid.RTT_DATA_UNMAP, rd, base, top, 1, 0)
        assert out[0] == 0, hex(out[0])
        if out[2]:
            freed.append(desc_fields(out[2])[:2])
        base = out[1]
    assert sum(cnt for _, cnt in freed) == PAGES
    loop(host, Fid.RTT_UNPROT_UNMAP, rd, SHARED, SHARED + G, 0, 0)
    assert host.run(Fid.REC_DESTROY, rec)[0] == 0
    for ipa in (RAM, SHARED):
        for level in (3, 2):
            assert host.run(Fid.RTT_DESTROY, rd, ipa, level)[0] == 0
    assert host.run(Fid.REALM_DESTROY, rd)[0] == 0
    for pa in owned:
        host.undelegate(pa)
    return host, rim, owned


def loop(host, fid, rd, base, top, *rest):
    """Repeat a range command from its X1 until it reaches `top`."""
    while base < top:
        out = host.run(fid, rd, base, top, *rest)
        assert out[0] == 0, hex(out[0])
        base = out[1]


def test_reference_run_sees_nothing():
    host, _, _ = lifecycle(None)
    assert host.seen["busy"] == 0


@pytest.mark.parametrize("seed", range(6))
def test_injected_busy_and_incomplete(seed):
    _, reference_rim, _ = lifecycle(None)
    host, rim, owned = lifecycle(Injector(busy=0.3, incomplete=0.3, seed=seed))
    assert rim == reference_rim
    assert host.seen["busy"] > 0 and host.seen["incomplete"] > 20
    assert all(host.rmm.granule_state(pa) == GranuleState.NS for pa in owned)
    assert all(host.platform.raw(pa, G) == bytes(G) for pa in owned)
    assert not host.rmm.sro.in_flight() and not list(host.rmm.granules.items())


def test_injection_is_deterministic():
    traces = []
    for _ in range(2):
        lines = []
        lifecycle(Injector(busy=0.3, incomplete=0.3, seed=42), trace=lines.append)
        traces.append(lines)
    assert traces[0] == traces[1]
    assert any("RMI_BUSY" in line for line in traces[0])
    assert any("RMI_INCOMPLETE[NONE]" in line for line in traces[0])
