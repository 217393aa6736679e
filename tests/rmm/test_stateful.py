"""Random RMI sequences and arguments (hypothesis RuleBasedStateMachine): the engine never raises,
and after every call the invariants hold:

* a granule's state and its GPI agree (non-NS states are exactly the Realm GPIs);
* every granule in an object state is referenced exactly once: by its realm (RD, roots), by a
  TABLE or assigned entry of its realm's RTTs, by its REC (aux), or by the SRO that owns it;
  no granule is referenced twice and none leaks;
* live realms' RTTs only reference granules their realm owns; RTT and RD refcounts match the
  entries and RECs.
"""

from collections import Counter, deque

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from rmm_testbed import RAM, UNTRACKED_BASE, G, Host, TestPlatform

from machine.cpu.gpc import GPI_REALM
from machine.rmm import Injector
from machine.rmm.abi import (
    COMMANDS,
    Fid,
    RecExitReason,
    RmiRealmParams,
    RmiRecParams,
    desc,
)
from machine.rmm.granule import GranuleState
from machine.rmm.rec import LastExit, RecCreate, RecDestroy
from machine.rmm.rtt_map import DataMapDrain, UnmapDrain
from machine.rmm.s2tt import ENTRIES, Kind, drain_pending, kind, map_size, pa_of

MB2 = 2 << 20
SHARED = (1 << 39) + RAM
UNIVERSE = 640                                   # granules of DRAM the test plays with
M64 = (1 << 64) - 1
IPAS = [0, RAM, RAM + G, RAM + 2 * G, RAM + 5 * G, RAM + MB2, RAM + MB2 + G, 1 << 30,
        (1 << 39) - G, SHARED, SHARED + G, SHARED + MB2, 1 << 39, 1 << 40, RAM + 8]
LEVELS = [-1, 0, 1, 2, 3, 4, M64]
FIDS = list(COMMANDS) + [0xC4000151, 0xC4000190, 0x84000150, 0xC400020B]


class RmiMachine(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 1 << 16), busy=st.sampled_from([0, 0.05]),
                incomplete=st.sampled_from([0, 0.1, 0.3]), active=st.booleans())
    def boot(self, seed, busy, incomplete, active):
        inject = Injector(seed=seed)
        self.trace = deque(maxlen=50)            # every call is also formatted by the tracer
        self.host = Host(TestPlatform(dram_size=8 << 20), inject=inject, trace=self.trace.append)
        self.rmm, self.plat = self.host.rmm, self.host.platform
        self.host.boot()
        self.base = self.host.alloc(UNIVERSE, align=MB2)
        self.ns_pages = [self.host.alloc() for _ in range(4)]
        self.run = self.host.alloc()
        self.handles = set()
        self.plat.on_enter = self.enter_rec
        self.exit_choice = 0
        self.extra = []
        mark = self.host.next_free
        self.build_world(active)
        self.extra = list(range(mark, self.host.next_free, G))
        inject.p_busy, inject.p_incomplete = busy, incomplete

    def build_world(self, active):
        """Two realms with RTTs for RAM and the shared page, DATA and two RECs (the first one
        ACTIVE if `active`), and an empty third one."""
        for activate in (active, False):
            self.build_realm(activate)
        self.host.realm_create(rtt_level_start=0, rtt_num_start=1)

    def build_realm(self, activate):
        host = self.host
        rd, _ = host.realm_create()
        for ipa in (RAM, SHARED):
            for level in (2, 3):
                assert host.status(Fid.RTT_CREATE, rd, host.delegated(), ipa, level) == 0
        assert host.call(Fid.RTT_INIT_RIPAS, rd, RAM, RAM + 4 * G)[0] == 0
        assert host.status(Fid.RTT_DATA_MAP_INIT, rd, host.delegated(), RAM,
                           self.ns_pages[0], 1) == 0
        out = host.call(Fid.RTT_DATA_MAP, rd, RAM + G, RAM + 4 * G, 1, desc(host.delegated(3), 3))
        assert out[0] == 0, out
        assert host.call(Fid.RTT_UNPROT_MAP, rd, SHARED, SHARED + G, 1 | 6 << 16 | 3 << 19,
                         desc(self.ns_pages[1], 1))[0] == 0
        assert host.rec_create(rd, mpidr=0)[1] == 0
        assert host.rec_create(rd, mpidr=1, flags=0)[1] == 0
        if activate:
            assert host.status(Fid.REALM_ACTIVATE, rd) == 0

    # --- argument pools: mostly sensible values, sometimes anything -----------------------------

    def sensible(self, data):
        """Usually; hypothesis favours (and shrinks towards) small draws, so 0 is sensible."""
        return data.draw(st.integers(0, 9)) < 8

    def universe(self, state=None):
        pool = [self.base + i * G for i in range(UNIVERSE)] + self.extra
        return [pa for pa in pool if state is None or self.rmm.granule_state(pa) == state]

    def granule(self, data, state=None):
        """A granule of the universe, preferably one in `state`."""
        pool = self.universe(state) if state is not None and self.sensible(data) else []
        return data.draw(st.sampled_from(pool or self.universe()))

    def fresh(self, data, n=1, align=G):
        """`n` contiguous NS granules of the universe, delegated now (None if none free)."""
        ns = set(self.universe(GranuleState.NS))
        starts = [pa for pa in sorted(ns) if not pa % align
                  and all(pa + i * G in ns for i in range(n))]
        if not starts:
            return None
        pa = data.draw(st.sampled_from(starts))
        for g in range(pa, pa + n * G, G):
            self.call(Fid.GRANULE_RANGE_DELEGATE, g, g + G)
        return pa

    def address(self, data):
        return data.draw(st.one_of(
            st.sampled_from(self.universe()),
            st.sampled_from(self.ns_pages + [UNTRACKED_BASE, self.base + 8, 0])))

    def rd(self, data):
        rds = list(self.rmm.realms)
        if rds and self.sensible(data):
            return data.draw(st.sampled_from(rds))
        return self.address(data)

    def rec(self, data):
        recs = list(self.rmm.recs)
        if recs and self.sensible(data):
            return data.draw(st.sampled_from(recs))
        return self.address(data)

    def ipa(self, data, level=3):
        ipa = data.draw(st.one_of(st.sampled_from(IPAS),
                                  st.integers(0, 1 << 40).map(lambda a: a & ~(G - 1))))
        if self.sensible(data) and 0 <= level <= 3:
            ipa &= ~(map_size(level) - 1)
        return ipa

    def range_(self, data):
        base = self.ipa(data)
        size = data.draw(st.sampled_from([G, 2 * G, 3 * G, 8 * G, MB2, MB2 + G, 0, 1 << 30]))
        return base, base + size

    def descriptor(self, data, pa=None):
        if pa is None:
            pa = data.draw(st.one_of(st.sampled_from(self.universe()),
                                     st.sampled_from(self.ns_pages + [self.base, 1 << 48])))
        return desc(pa, data.draw(st.integers(0, 4)), sz=data.draw(st.sampled_from([0, 0, 1, 3])),
                    st=data.draw(st.sampled_from([0, 0, 0, 1])))

    def oaddr(self, data, for_unmap=False, pa=None):
        kind_ = data.draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))
        if kind_ == 2:
            words = [self.descriptor(data, pa) for _ in range(data.draw(st.integers(1, 4)))]
            count = data.draw(st.integers(0, 5))
            return 2 | (count << 2), self.host.write_list(words)
        if for_unmap:
            return kind_, 0
        return kind_, self.descriptor(data, pa)

    def call(self, fid, *args):
        out = self.host.call(fid, *args)
        if out is not None and out[0] & 0xFF == 13:
            self.handles.add(out[1])
        return out

    # --- rules -----------------------------------------------------------------------------------

    @rule(data=st.data())
    def delegate(self, data):
        pa = self.granule(data, GranuleState.NS) if self.sensible(data) else self.address(data)
        self.call(Fid.GRANULE_RANGE_DELEGATE, pa, pa + data.draw(st.sampled_from([G, 0, 8 * G])))

    @rule(data=st.data())
    def undelegate(self, data):
        pa = self.granule(data, GranuleState.DELEGATED) if self.sensible(data) else \
            self.address(data)
        self.call(Fid.GRANULE_RANGE_UNDELEGATE, pa, pa + G)

    @rule(data=st.data())
    def realm_create(self, data):
        s2sz, level, num = data.draw(st.sampled_from([(40, 1, 2), (40, 0, 1), (33, 2, 8),
                                                      (40, 1, 1)]))
        roots = self.fresh(data, num, num * G) if self.sensible(data) else None
        rd = self.fresh(data) if self.sensible(data) else None
        fields = dict(s2sz=s2sz, rtt_level_start=level, rtt_num_start=num, num_bps=1,
                      num_wps=1, rtt_base=roots or self.granule(data) & ~(num * G - 1),
                      algorithm=data.draw(st.sampled_from([0, 0, 1, 2, 3])),
                      flags0=data.draw(st.sampled_from([0, 0, 0, 1 << 7, 2, 1 << 40])))
        params = self.host.write_params(RmiRealmParams, **fields)
        self.call(Fid.REALM_CREATE, rd or self.granule(data), params)

    @rule(data=st.data(), fid=st.sampled_from([Fid.REALM_ACTIVATE, Fid.REALM_ACTIVATE,
                                                Fid.REALM_ACTIVATE, Fid.REALM_TERMINATE,
                                                Fid.REALM_DESTROY]))
    def realm_command(self, data, fid):
        self.call(fid, self.rd(data))

    @rule(data=st.data(), fid=st.sampled_from([Fid.RTT_CREATE, Fid.RTT_CREATE, Fid.RTT_DESTROY,
                                                Fid.RTT_FOLD, Fid.RTT_READ_ENTRY]))
    def rtt_command(self, data, fid):
        level = data.draw(st.sampled_from([2, 3, 2, 3, 1] + LEVELS))
        rd, ipa = self.rd(data), self.ipa(data, level - 1)
        if fid == Fid.RTT_CREATE:
            rtt = self.fresh(data) if self.sensible(data) else None
            self.call(fid, rd, rtt or self.granule(data), ipa, level & M64)
        else:
            self.call(fid, rd, ipa, level & M64)

    @rule(data=st.data())
    def ripas(self, data):
        base, top = self.range_(data)
        if data.draw(st.booleans()):
            self.call(Fid.RTT_INIT_RIPAS, self.rd(data), base, top)
            return
        rec_addr = self.rec(data)
        rec = self.rmm.recs.get(rec_addr)
        if rec is not None and data.draw(st.booleans()):
            rec.request_ripas_change(base, top, data.draw(st.sampled_from([0, 1])),
                                     data.draw(st.booleans()))
        rd = rec.rd if rec is not None and self.sensible(data) else self.rd(data)
        self.call(Fid.RTT_SET_RIPAS, rd, rec_addr, base, top)

    @rule(data=st.data())
    def data_map_init(self, data):
        page = self.fresh(data) if self.sensible(data) else None
        self.call(Fid.RTT_DATA_MAP_INIT, self.rd(data), page or self.granule(data),
                  self.ipa(data), data.draw(st.sampled_from(self.ns_pages + [self.base])),
                  data.draw(st.sampled_from([0, 1, 1, 2])))

    @rule(data=st.data(), fid=st.sampled_from([Fid.RTT_DATA_MAP, Fid.RTT_DATA_MAP,
                                                Fid.RTT_UNPROT_MAP]))
    def map(self, data, fid):
        base, top = self.range_(data)
        pa = None
        if fid == Fid.RTT_DATA_MAP and self.sensible(data):
            block = data.draw(st.integers(0, 19)) == 7
            pa = self.fresh(data, 512, MB2) if block else self.fresh(data, 2)
        flags, oaddr = self.oaddr(data, pa=pa)
        if fid == Fid.RTT_UNPROT_MAP:
            flags |= data.draw(st.sampled_from([6, 5, 4, 0])) << 16
            flags |= data.draw(st.sampled_from([3, 2, 1, 0, 4])) << 19
        self.call(fid, self.rd(data), base, top, flags, oaddr)

    @rule(data=st.data(), fid=st.sampled_from([Fid.RTT_DATA_UNMAP, Fid.RTT_DATA_UNMAP,
                                                Fid.RTT_UNPROT_UNMAP, Fid.RTT_DEV_UNMAP]))
    def unmap(self, data, fid):
        base, top = self.range_(data)
        flags, oaddr = self.oaddr(data, for_unmap=True)
        self.call(fid, self.rd(data), base, top, flags, oaddr)

    @rule(data=st.data())
    def rec_create(self, data):
        rd = self.rd(data)
        realm = self.rmm.realms.get(rd)
        mpidr = realm.rec_count if realm and self.sensible(data) else data.draw(
            st.sampled_from([0, 1, 0x100, 0x10]))
        params = self.host.write_params(RmiRecParams, flags=data.draw(st.sampled_from([0, 1])),
                                        mpidr=mpidr, pc=RAM)
        rec = self.fresh(data) if self.sensible(data) else None
        self.call(Fid.REC_CREATE, rd, rec or self.granule(data), params)

    @rule(data=st.data())
    def sro_command(self, data):
        handle = data.draw(st.one_of(st.sampled_from(sorted(self.handles) or [0]),
                                     st.integers(0, 200)))
        fid = data.draw(st.sampled_from([Fid.OP_CONTINUE, Fid.OP_MEM_DONATE,
                                         Fid.OP_MEM_RECLAIM, Fid.OP_CANCEL]))
        if fid == Fid.OP_MEM_DONATE:
            words = [desc(self.granule(data, GranuleState.DELEGATED), data.draw(st.integers(0, 3)))
                     for _ in range(data.draw(st.integers(0, 8)))]
            self.call(fid, handle, self.host.write_list(words), data.draw(st.integers(0, 9)))
        else:
            self.call(fid, handle, self.host.list_page, data.draw(st.integers(0, 20)))

    @rule(data=st.data())
    def sro_drive(self, data):
        """Do what a sealed SRO asks for, with fresh delegated granules."""
        sealed = [c for c in self.rmm.sro.contexts if c.state == 2]
        if not sealed:
            return
        ctx = data.draw(st.sampled_from(sealed))
        if ctx.expects == Fid.OP_MEM_DONATE:
            words = []
            for _ in range(data.draw(st.integers(0, 16))):
                pa = self.fresh(data)
                if pa is not None:
                    words.append(desc(pa, 1))
            self.call(Fid.OP_MEM_DONATE, ctx.handle, self.host.write_list(words), len(words))
        elif ctx.expects == Fid.OP_MEM_RECLAIM:
            self.call(Fid.OP_MEM_RECLAIM, ctx.handle, self.host.list_page, 16)
        else:
            self.call(Fid.OP_CONTINUE, ctx.handle, 0)

    @rule(data=st.data())
    def rec_destroy(self, data):
        rec = self.rec(data) if data.draw(st.integers(0, 3)) == 3 else self.address(data)
        self.call(Fid.REC_DESTROY, rec)

    def enter_rec(self, rec, run):
        choice = self.exit_choice
        if choice == 1:
            rec.last_exit = LastExit(0x24 << 26 | (1 << 24), unprotected=True)
        elif choice == 2 and rec.index > 0:
            rec.request_psci(0xC4000003, 0, RAM, 0)
        elif choice == 3:
            rec.request_psci(0x84000004, 1)
        elif choice == 4:
            rec.runnable = False
        return {"exit_reason": RecExitReason.SYNC if choice == 1 else RecExitReason.IRQ}

    @rule(data=st.data())
    def rec_enter(self, data):
        self.exit_choice = data.draw(st.integers(0, 5))
        self.plat.lrs = [] if self.sensible(data) else data.draw(st.sampled_from(
            [[(1 << 62) | 27], [(1 << 62) | (1 << 61)], [(1 << 62) | 3, (1 << 62) | 3]]))
        flags = 0 if self.sensible(data) else data.draw(st.sampled_from([1, 2, 4, 8, 16]))
        self.plat.ns_write(self.run, flags.to_bytes(8, "little"))
        run = self.run if self.sensible(data) else data.draw(st.sampled_from(
            [self.base, UNTRACKED_BASE, self.run + 8]))
        ready = [r.rec for r in self.rmm.recs.values() if r.runnable and not r.pending_op
                 and self.rmm.realms[r.rd].state == 1]
        rec = data.draw(st.sampled_from(ready)) if ready and self.sensible(data) else \
            self.rec(data)
        self.call(Fid.REC_ENTER, rec, run)

    @rule(data=st.data())
    def psci_complete(self, data):
        callers = [r for r in self.rmm.recs.values() if r.psci_request]
        caller = target = None
        if callers and self.sensible(data):
            caller = data.draw(st.sampled_from(callers))
            realm = self.rmm.realms[caller.rd]
            index = caller.psci_request.target_mpidr & 0xF
            target = realm.recs.get(index)
        self.call(Fid.PSCI_COMPLETE, caller.rec if caller else self.rec(data),
                  target or self.rec(data), data.draw(st.sampled_from([0, 0, (-3) & M64, 1])))

    @rule(data=st.data())
    def random_smc(self, data):
        fid = data.draw(st.sampled_from(FIDS))
        args = [data.draw(st.one_of(st.just(0), st.integers(0, M64), st.sampled_from(IPAS),
                                    st.builds(lambda i: self.base + i * G,
                                              st.integers(0, UNIVERSE - 1))))
                for _ in range(6)]
        if fid != Fid.REC_ENTER:
            self.call(fid, *args)

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def states_and_references_agree(self):
        if not hasattr(self, "rmm"):
            return
        check_gpis(self.rmm, self.plat)
        check_references(self.rmm)


def check_gpis(rmm, plat):
    realm_gpis = {pa for pa, gpi in plat.gpi.items() if gpi == GPI_REALM}
    non_ns = {g.pa for g in rmm.granules.items()}
    assert realm_gpis == non_ns


def check_references(rmm):
    refs = {}                                   # granule -> (state, owner) of its one reference

    def ref(pa, state, owner):
        assert pa not in refs, f"{pa:#x} referenced twice"
        refs[pa] = (state, owner)

    for rd, realm in rmm.realms.items():
        ref(rd, GranuleState.RD, None)
        assert rmm.granules.get(rd).refcount == len(realm.recs)
        for pa in realm.s2.roots:
            ref(pa, GranuleState.RTT, rd)
            walk_rtt(rmm, pa, realm.s2.start_level, rd, ref)
        for rec_addr in realm.recs.values():
            ref(rec_addr, GranuleState.REC, rd)
            for aux in rmm.recs[rec_addr].aux:
                ref(aux, GranuleState.REC_AUX, rec_addr)
    for ctx in rmm.sro.in_flight():
        for pa, state, owner in sro_references(ctx.op):
            ref(pa, state, owner)
    for g in rmm.granules.items():
        if g.state == GranuleState.DELEGATED:
            assert g.pa not in refs
            continue
        assert g.pa in refs, f"{g!r} leaked"
        state, owner = refs[g.pa]
        assert g.state == state, (g, state)
        if owner is not None:
            assert g.owner == owner, (g, owner)
    assert len(refs) == sum(1 for g in rmm.granules.items() if g.state != GranuleState.DELEGATED)


def walk_rtt(rmm, table, level, rd, ref):
    entries = Counter(rmm.rtt.read_table(table))
    counted = 0
    for entry, n in entries.items():
        k = kind(entry, level)
        assert k != Kind.INVALID
        if k == Kind.TABLE:
            assert n == 1
            child = pa_of(entry, level)
            ref(child, GranuleState.RTT, rd)
            walk_rtt(rmm, child, level + 1, rd, ref)
        elif k in (Kind.ASSIGNED_EMPTY, Kind.ASSIGNED_RAM, Kind.ASSIGNED_DESTROYED):
            assert n == 1
            base = pa_of(entry, level)
            for pa in range(base, base + map_size(level), G):
                ref(pa, GranuleState.DATA, rd)
        elif not drain_pending(entry):
            continue
        counted += n
    assert sum(entries.values()) == ENTRIES
    assert rmm.granules.get(table).refcount == counted, hex(table)


def sro_references(op):
    if isinstance(op, RecCreate):
        pending = op.aux if op.reclaimer is None else op.reclaimer.pending
        return [(op.rec, GranuleState.PARTIAL, None)] + [
            (pa, GranuleState.REC_AUX, op.rec) for pa in pending]
    if isinstance(op, RecDestroy):
        return [(op.rec, GranuleState.PARTIAL, None)] + [
            (pa, GranuleState.REC_AUX, op.rec) for pa in op.reclaimer.pending]
    if isinstance(op, DataMapDrain):
        return [(op.pa + off, GranuleState.DATA, op.rd) for off in range(0, op.offset, G)]
    if isinstance(op, UnmapDrain) and op.flavour.data:
        granules = [pa + off for _, _, pa, _ in op.stamped
                    for off in range(0, map_size(op.level), G)]
        return [(pa, GranuleState.DATA, op.realm.rd) for pa in granules[op.granules_done:]]
    return []


RmiMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=60, deadline=None,
                                        suppress_health_check=list(HealthCheck))
TestRmi = RmiMachine.TestCase
