"""A test platform for the RMM engine and a small host that drives it.

TestPlatform keeps a GPI per granule (everything Non-secure at reset) and checks every access
like the granule protection check would; RAM is a machine.memory.bus.PhysicalBus. Host wraps
the engine with register-level helpers, the SRO loop of digest 6.5 and the boot sequence.
"""

from machine.cpu.gpc import (
    GPI_NONSECURE,
    GPI_PERMITS,
    GPI_REALM,
    PAS_NONSECURE,
    PAS_REALM,
)
from machine.memory.bus import BusError, PhysicalBus
from machine.rmm import Injector, RmmEngine
from machine.rmm.abi import (
    GRANULE_SIZE,
    Fid,
    MemReq,
    RecExitReason,
    RmiRealmParams,
    RmiRecParams,
    RmiResultIncomplete,
    Status,
    desc,
    status_of,
)
from machine.rmm.platform import E_RMM_BAD_ADDR, E_RMM_BAD_PAS, PlatformFault

G = GRANULE_SIZE
RAM = 0x8000_0000                     # the guest RAM IPA of the test realms
DRAM_BASE = 0x8000_0000
DRAM_SIZE = 32 << 20
UNTRACKED_BASE = 0x1_0000_0000        # RAM the RMM does not track
UNTRACKED_SIZE = 1 << 20


class TestPlatform:
    __test__ = False

    def __init__(self, dram_size=DRAM_SIZE):
        self.bus = PhysicalBus()
        self.bus.add_ram("dram", DRAM_BASE, dram_size)
        self.bus.add_ram("untracked", UNTRACKED_BASE, UNTRACKED_SIZE)
        self.regions = [(DRAM_BASE, dram_size)]
        self.gpi = {}                  # granule PA -> GPI, for the non-NS ones
        self.lrs = []
        self.tlbis = []
        self.entered = []
        self.next_exit = None
        self.on_enter = None

    # --- the RmmPlatform protocol ----------------------------------------------------------------

    def gpi_of(self, pa):
        return self.gpi.get(pa - pa % G, GPI_NONSECURE)

    def _check(self, pa, size, pas):
        for page in range(pa - pa % G, pa + max(size, 1), G):
            if pas not in GPI_PERMITS[self.gpi_of(page)]:
                raise PlatformFault(pa, pas, "granule protection fault")

    def read(self, pa, size, pas):
        self._check(pa, size, pas)
        try:
            return self.bus.read_bytes(pa, size)
        except BusError as e:
            raise PlatformFault(pa, pas, "bus error") from e

    def write(self, pa, data, pas):
        self._check(pa, len(data), pas)
        try:
            self.bus.write_bytes(pa, data)
        except BusError as e:
            raise PlatformFault(pa, pas, "bus error") from e

    def _transition(self, pa, old, new):
        if pa % G or self.bus.ram_page(pa) is None:
            return E_RMM_BAD_ADDR
        if self.gpi_of(pa) != old:
            return E_RMM_BAD_PAS
        if new == GPI_NONSECURE:
            self.gpi.pop(pa, None)
        else:
            self.gpi[pa] = new
        return 0

    def delegate(self, pa):
        return self._transition(pa, GPI_NONSECURE, GPI_REALM)

    def undelegate(self, pa):
        return self._transition(pa, GPI_REALM, GPI_NONSECURE)

    def dram_regions(self):
        return list(self.regions)

    def ich_lrs(self):
        return list(self.lrs)

    def tlbi_ipa(self, vmid, ipa, size):
        self.tlbis.append((vmid, ipa, size))

    def enter_rec(self, rec, run_pa):
        self.entered.append((rec.rec, run_pa))
        if self.on_enter is not None:
            return self.on_enter(rec, run_pa)
        return self.next_exit or {"exit_reason": RecExitReason.IRQ}

    # --- test helpers ----------------------------------------------------------------------------

    def ns_write(self, pa, data):
        self.write(pa, data, PAS_NONSECURE)

    def ns_read(self, pa, size):
        return self.read(pa, size, PAS_NONSECURE)

    def raw(self, pa, size):
        """Memory contents whatever the GPI (the test's view of physical memory)."""
        return self.bus.read_bytes(pa, size)

    def realm_read(self, pa, size):
        return self.read(pa, size, PAS_REALM)


class Host:
    """Drives an RmmEngine like a hypervisor would; allocates granules from the DRAM bank."""
    __test__ = False

    def __init__(self, platform=None, **engine_args):
        self.platform = platform or TestPlatform()
        self.rmm = RmmEngine(self.platform, **engine_args)
        base, size = self.platform.regions[0]
        self.next_free = base
        self.top = base + size
        self.scratch = self.alloc()          # NS page for parameters
        self.list_page = self.alloc()        # NS page for address lists

    def alloc(self, n=1, align=G):
        pa = -(-self.next_free // align) * align
        self.next_free = pa + n * G
        assert self.next_free <= self.top
        return pa

    def call(self, fid, *args):
        regs = [int(fid)] + [a & (1 << 64) - 1 for a in args]
        return self.rmm.handle(regs + [0] * (18 - len(regs)))

    def status(self, fid, *args):
        return status_of(self.call(fid, *args)[0])

    def boot(self):
        assert self.call(Fid.VERSION, 0x20000)[0] == 0
        assert self.call(Fid.RMM_ACTIVATE)[0] == 0

    def delegate(self, pa, n=1):
        for g in range(pa, pa + n * G, G):
            out = self.call(Fid.GRANULE_RANGE_DELEGATE, g, g + G)
            assert out[:2] == [0, g + G], out[:2]
        return pa

    def undelegate(self, pa, n=1):
        for g in range(pa, pa + n * G, G):
            out = self.call(Fid.GRANULE_RANGE_UNDELEGATE, g, g + G)
            assert out[:2] == [0, g + G], (hex(g), out[:2])

    def delegated(self, n=1, align=G):
        return self.delegate(self.alloc(n, align), n)

    def write_params(self, struct, page=None, **fields):
        page = self.scratch if page is None else page
        self.platform.ns_write(page, struct.build(fields))
        return page

    def realm_params(self, **fields):
        p = dict(s2sz=40, num_bps=1, num_wps=1, rtt_level_start=1, rtt_num_start=2)
        p.update(fields)
        return self.write_params(RmiRealmParams, **p)

    def realm_create(self, rd=None, **fields):
        """A NEW realm (s2sz 40, start level 1, two roots unless told otherwise): (rd, roots)."""
        num = fields.get("rtt_num_start", 2)
        roots = fields.pop("rtt_base", None) or self.delegated(num, align=num * G)
        rd = rd or self.delegated()
        params = self.realm_params(rtt_base=roots, **fields)
        assert self.status(Fid.REALM_CREATE, rd, params) == Status.SUCCESS
        return rd, roots

    def write_list(self, words, page=None):
        page = self.list_page if page is None else page
        self.platform.ns_write(page, b"".join(w.to_bytes(8, "little") for w in words))
        return page

    def sro(self, out, aux_source=None, reclaimed=None):
        """Run an SRO to completion (digest 6.5); donations come from `aux_source()` (a new
        delegated granule by default), reclaimed descriptors are appended to `reclaimed`."""
        if status_of(out[0]) != Status.INCOMPLETE:
            return out
        handle = out[1]
        while status_of(out[0]) == Status.INCOMPLETE:
            mem_req = RmiResultIncomplete.get(out[0], "mem_req")
            if mem_req == MemReq.DONATE:
                cnt = (out[2] >> 2) & 0x3FFF
                pages = [(aux_source or self.delegated)() for _ in range(cnt)]
                out = self.call(Fid.OP_MEM_DONATE, handle,
                                self.write_list([desc(p, 1) for p in pages]), cnt)
            elif mem_req == MemReq.RECLAIM:
                out = self.call(Fid.OP_MEM_RECLAIM, handle, self.list_page, 16)
                if reclaimed is not None and status_of(out[0]) == Status.INCOMPLETE:
                    raw = self.platform.ns_read(self.list_page, 8 * out[1])
                    reclaimed += [int.from_bytes(raw[i:i + 8], "little")
                                  for i in range(0, len(raw), 8)]
            else:
                out = self.call(Fid.OP_CONTINUE, handle, 0)
        return out

    def rec_create(self, rd, rec=None, reclaimed=None, **fields):
        rec = rec or self.delegated()
        p = dict(flags=1, mpidr=0, pc=0x8000_0000)
        p.update(fields)
        params = self.write_params(RmiRecParams, **p)
        out = self.sro(self.call(Fid.REC_CREATE, rd, rec, params), reclaimed=reclaimed)
        return rec, status_of(out[0])

    def rec_destroy(self, rec, reclaimed=None):
        return status_of(self.sro(self.call(Fid.REC_DESTROY, rec), reclaimed=reclaimed)[0])


class ScriptedInjector(Injector):
    """Injected BUSY / INCOMPLETE decisions taken from scripts (then never)."""

    def __init__(self):
        super().__init__()
        self.busy_script, self.incomplete_script = [], []

    def busy(self):
        return self.busy_script.pop(0) if self.busy_script else False

    def incomplete(self):
        return self.incomplete_script.pop(0) if self.incomplete_script else False


class World:
    """A booted RMM with a NEW realm (s2sz 40, start level 1, two roots), L2 and L3 RTTs for
    [RAM, RAM + 2 MB), a measured DATA page at RAM and a runnable REC 0."""

    def __init__(self, **engine_args):
        self.inject = ScriptedInjector()
        self.host = Host(inject=self.inject, **engine_args)
        self.rmm, self.plat = self.host.rmm, self.host.platform
        self.host.boot()
        self.rd, self.roots = self.host.realm_create()
        self.l2, self.l3 = self.host.delegated(), self.host.delegated()
        assert self.call(Fid.RTT_CREATE, self.rd, self.l2, RAM, 2)[0] == 0
        assert self.call(Fid.RTT_CREATE, self.rd, self.l3, RAM, 3)[0] == 0
        self.src = self.host.alloc()
        self.data = self.host.delegated()
        assert self.call(Fid.RTT_DATA_MAP_INIT, self.rd, self.data, RAM, self.src, 1)[0] == 0
        self.rec, status = self.host.rec_create(self.rd)
        assert status == Status.SUCCESS
        self.run = self.host.alloc()
        self.free = self.host.delegated()          # a spare DELEGATED granule
        self.ns = self.host.alloc()                # a spare NS granule

    def call(self, fid, *args):
        return self.host.call(fid, *args)

    def rec_params(self, **fields):
        p = dict(flags=1, mpidr=0, pc=RAM)
        p.update(fields)
        return self.host.write_params(RmiRecParams, **p)

    def activate(self):
        assert self.call(Fid.REALM_ACTIVATE, self.rd)[0] == 0

    def second_realm(self):
        return self.host.realm_create()[0]
