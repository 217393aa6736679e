"""Conformance: for every command, each failure condition of the digest, in its order, with all
earlier checks passing, returns the documented status and index (rmi-v2-host-abi.md 1, 5, 6).

`world` (rmm_testbed.World) is a booted RMM with a NEW realm, L2 + L3 RTTs at RAM, a DATA page
at RAM and REC 0.
"""

import pytest
from rmm_testbed import (
    RAM,
    UNTRACKED_BASE,
    G,
    Host,
    World,
)

from machine.cpu.gpc import GPI_REALM, GPI_SECURE
from machine.rmm import RmmConfig
from machine.rmm.abi import (
    PSCI_ALREADY_ON,
    PSCI_DENIED,
    REC_EXIT_OFFSET,
    SMC_UNKNOWN,
    Fid,
    RecExitReason,
    RmiRealmParams,
    RmiRecExit,
    RmiRmmConfig,
    Status,
    desc,
    incomplete,
    result,
    rtt_error,
)
from machine.rmm.granule import GranuleState
from machine.rmm.rec import LastExit

I, REALM, REC = Status.ERROR_INPUT, Status.ERROR_REALM, Status.ERROR_REC
GLOBAL = Status.ERROR_GLOBAL
SHARED = (1 << 39) + RAM          # an unprotected IPA of the s2sz = 40 realms
MB2 = 2 << 20
SINGLE, LIST = 1, 2


def x0(out):
    return out[0]


def lst(count):
    return LIST | (count << 2)


# --- 1: FID decode and the RMM state gate ------------------------------------------------------

@pytest.mark.parametrize("fid", [0xC4000151, 0xC4000152, 0xC4000154, 0xC4000167, 0xC400016A,
                                 0xC40001E3, 0xC40001F4, 0xC400018F, 0xC4000190, 0xC40001AF,
                                 0xC400014F, 0xC400020B, 0xC400020F, 0x84000150, 0xC5000150,
                                 0xC4020150, 0x0])
def test_unknown_fids_before_the_gate(fid):
    host = Host()                      # RMM state INIT: unknown still beats ERROR_GLOBAL
    assert host.call(fid, 1, 2, 3)[:4] == [SMC_UNKNOWN, 0, 0, 0]


def test_state_gate():
    host = Host()
    assert x0(host.call(Fid.REALM_CREATE, 0, 0)) == GLOBAL
    assert x0(host.call(Fid.GRANULE_RANGE_DELEGATE, RAM, RAM + G)) == GLOBAL
    assert x0(host.call(Fid.GPT_L1_CREATE, 0)) == GLOBAL
    for fid, args in ((Fid.VERSION, (0x20000,)), (Fid.FEATURES, (0,)),
                      (Fid.GRANULE_TRACKING_GET, (RAM, RAM + G))):
        assert x0(host.call(fid, *args)) == 0
    cfg = host.write_params(RmiRmmConfig)
    assert x0(host.call(Fid.RMM_CONFIG_GET, cfg)) == 0
    assert x0(host.call(Fid.RMM_CONFIG_SET, cfg)) == 0
    assert x0(host.call(Fid.RMM_ACTIVATE)) == 0
    assert x0(host.call(Fid.RMM_CONFIG_SET, cfg)) == GLOBAL
    assert x0(host.call(Fid.RMM_ACTIVATE)) == GLOBAL
    assert x0(host.call(Fid.RMM_CONFIG_GET, cfg)) == 0


def test_sve_hint_and_register_conventions():
    host = Host()
    host.boot()
    regs = [Fid.VERSION | (1 << 16), 0x20000, 11, 12, 13, 14, 15, 16] + list(range(17, 27))
    out = host.rmm.handle(regs)
    assert out[:4] == [0, 0x20000, 0x20000, 0]          # X3 zeroed
    assert out[4:] == regs[4:]                            # X4.. preserved
    out = host.rmm.handle([Fid.FEATURES, 7, 9, 9, 9] + [0] * 13)
    assert out[:4] == [0, 0, 0, 0] and out[4] == 9


# --- 5.1 - 5.6: global commands ------------------------------------------------------------------

def test_version_and_features():
    host = Host()
    assert host.call(Fid.VERSION, 0x10000)[:3] == [I, 0x20000, 0x20000]
    assert host.call(Fid.VERSION, 0x20001)[:3] == [I, 0x20000, 0x20000]
    feat0 = host.call(Fid.FEATURES, 0)[1]
    assert feat0 & 0xFF == 48 and (feat0 >> 8) & 3 == 0          # S2SZ 48, no LPA2 / SVE
    assert (feat0 >> 14) & 0x3F == 5 and (feat0 >> 20) & 0x3F == 3
    assert (feat0 >> 26) == 0                                    # PMU disabled
    assert host.call(Fid.FEATURES, 1)[:2] == [0, 0x142A9]
    for index in (2, 3, 4, 5, 1 << 63):
        assert host.call(Fid.FEATURES, index)[:2] == [0, 0]


def test_rmm_config():
    host = Host()
    ns, delegated_page = host.alloc(), host.alloc()
    host.platform.gpi[delegated_page] = GPI_REALM          # engine still thinks NS: read faults
    for addr in (0, ns + 8, UNTRACKED_BASE, delegated_page):
        assert x0(host.call(Fid.RMM_CONFIG_GET, addr)) == I, hex(addr)
        assert x0(host.call(Fid.RMM_CONFIG_SET, addr)) == I, hex(addr)
    host.platform.ns_write(ns, b"\xff" * G)
    assert x0(host.call(Fid.RMM_CONFIG_GET, ns)) == 0
    assert host.platform.ns_read(ns, G) == bytes(G)          # an all-zero page
    for fields in (dict(rmi_granule_size=1), dict(tracking_region_size=1)):
        host.write_params(RmiRmmConfig, page=ns, **fields)
        assert x0(host.call(Fid.RMM_CONFIG_SET, ns)) == I
    host.platform.ns_write(ns, b"\xff" * 16 + b"\x00" * 16 + b"\xee" * (G - 32))
    host.write_params(RmiRmmConfig, page=ns)
    assert x0(host.call(Fid.RMM_CONFIG_SET, ns)) == 0


def test_granule_tracking_get():
    host = Host()
    top48 = 1 << 48
    for base, top in ((top48, top48 + G), (0, top48), (RAM + G, RAM), (RAM, RAM + 0x800),
                      (RAM + 8, RAM + G + 8), (RAM, RAM + G + 8)):
        assert host.call(Fid.GRANULE_TRACKING_GET, base, top)[:4] == [I, 0, 0, 0]
    assert host.call(Fid.GRANULE_TRACKING_GET, RAM, RAM + G)[:4] == [0, 0, 2, RAM + G]
    # classified by base only: NONE for an untracked base, whatever the rest of the range
    assert host.call(Fid.GRANULE_TRACKING_GET, RAM - G, RAM + G)[:4] == [0, 0, 1, RAM + G]


def test_gpt_l1_create():
    host = Host()
    host.boot()
    assert x0(host.call(Fid.GPT_L1_CREATE, RAM + G)) == I
    assert x0(host.call(Fid.GPT_L1_CREATE, 1 << 30)) == Status.ERROR_GPT


# --- 5.7, 5.8: delegation ------------------------------------------------------------------------

def test_range_delegate_and_undelegate():
    host = Host()
    host.boot()
    pa = host.alloc()
    for fid in (Fid.GRANULE_RANGE_DELEGATE, Fid.GRANULE_RANGE_UNDELEGATE):
        for base, top in ((pa + 8, pa + G), (pa, pa + G + 8), (pa, pa), (pa + G, pa)):
            assert host.call(fid, base, top)[:2] == [I, base]
        assert host.call(fid, UNTRACKED_BASE, UNTRACKED_BASE + G)[:2] == [I, UNTRACKED_BASE]
    assert host.call(Fid.GRANULE_RANGE_UNDELEGATE, pa, pa + G)[:2] == [I, pa]   # NS
    # one granule per call, whatever the top
    assert host.call(Fid.GRANULE_RANGE_DELEGATE, pa, pa + 16 * G)[:2] == [0, pa + G]
    assert host.call(Fid.GRANULE_RANGE_DELEGATE, pa, pa + G)[:2] == [I, pa]     # not NS
    # EL3 refuses (the GPI is Secure): ERROR_INPUT, the granule stays NS
    secure = host.alloc()
    host.platform.gpi[secure] = GPI_SECURE
    assert host.call(Fid.GRANULE_RANGE_DELEGATE, secure, secure + G)[:2] == [I, secure]
    assert host.rmm.granule_state(secure) == GranuleState.NS
    # undelegate scrubs
    host.platform.write(pa, b"\x42" * G, 3)
    assert host.call(Fid.GRANULE_RANGE_UNDELEGATE, pa, pa + G)[:2] == [0, pa + G]
    assert host.platform.raw(pa, G) == bytes(G)


def test_undelegate_refuses_objects(world):
    for pa in (world.rd, world.roots, world.l2, world.data, world.rec):
        assert world.call(Fid.GRANULE_RANGE_UNDELEGATE, pa, pa + G)[:2] == [I, pa]


# --- 5.9: REALM_CREATE --------------------------------------------------------------------------

GOOD = dict(s2sz=40, num_bps=1, num_wps=1, rtt_level_start=1, rtt_num_start=2)
BAD_PARAMS = [
    ("LPA2 without FEAT_LPA2", dict(flags0=1)),
    ("s2sz 31", dict(s2sz=31)),
    ("s2sz above FEAT0.S2SZ", dict(s2sz=49, rtt_level_start=0, rtt_num_start=2)),
    ("num_bps 0", dict(num_bps=0)),
    ("num_bps too big", dict(num_bps=6)),
    ("num_wps 0", dict(num_wps=0)),
    ("num_wps too big", dict(num_wps=4)),
    ("SVE without SVE", dict(flags0=2)),
    ("PMU", dict(flags0=4)),
    ("DA", dict(flags0=8)),
    ("MEC policy 2", dict(flags0=2 << 7)),
    ("MEC policy 3", dict(flags0=3 << 7)),
    ("start level 3", dict(rtt_level_start=3, rtt_num_start=1)),
    ("start level -1", dict(rtt_level_start=-1, rtt_num_start=1)),
    ("start level 2 for s2sz 40", dict(rtt_level_start=2, rtt_num_start=16)),
    ("start level 0 for s2sz 39", dict(s2sz=39, rtt_level_start=0, rtt_num_start=1)),
    ("start level 5", dict(rtt_level_start=5, rtt_num_start=1)),
    ("rtt_num_start 1 for 2 tables", dict(rtt_num_start=1)),
    ("rtt_num_start 4 for 2 tables", dict(rtt_num_start=4)),
    ("num_aux_planes", dict(num_aux_planes=1)),
    ("ats_plane", dict(ats_plane=1)),
    ("indirect S2AP", dict(flags1=2)),
    ("root base not aligned to 2 tables", dict(rtt_base_offset=G)),
    ("algorithm 3", dict(algorithm=3)),
]


@pytest.mark.parametrize("name, fields", BAD_PARAMS, ids=[b[0] for b in BAD_PARAMS])
def test_realm_create_parameter_checks(world, name, fields):
    host = world.host
    roots = host.delegated(3, align=2 * G)
    fields = dict(GOOD, **fields)
    fields["rtt_base"] = roots + fields.pop("rtt_base_offset", 0)
    params = host.write_params(RmiRealmParams, **fields)
    rd = host.delegated()
    assert x0(world.call(Fid.REALM_CREATE, rd, params)) == I
    assert world.rmm.granule_state(rd) == GranuleState.DELEGATED
    # the same page with the bad field fixed works
    params = host.write_params(RmiRealmParams, **dict(GOOD, rtt_base=roots))
    assert x0(world.call(Fid.REALM_CREATE, rd, params)) == 0


def test_realm_create_params_page(world):
    host = world.host
    rd, roots = host.delegated(), host.delegated(2, align=2 * G)
    params = host.write_params(RmiRealmParams, **dict(GOOD, rtt_base=roots))
    for bad in (params + 8, UNTRACKED_BASE, world.free):
        assert x0(world.call(Fid.REALM_CREATE, rd, bad)) == I
    host.platform.gpi[params] = GPI_SECURE             # tracked NS, but the read faults
    assert x0(world.call(Fid.REALM_CREATE, rd, params)) == I
    del host.platform.gpi[params]
    assert x0(world.call(Fid.REALM_CREATE, rd, params)) == 0


def test_realm_create_granules(world):
    host = world.host
    roots = host.delegated(2, align=2 * G)
    rd = host.delegated()

    def create(rd_addr, rtt_base):
        params = host.write_params(RmiRealmParams, **dict(GOOD, rtt_base=rtt_base))
        return x0(world.call(Fid.REALM_CREATE, rd_addr, params))

    ns_pair = host.alloc(2, align=2 * G)
    assert create(rd, ns_pair) == I                        # root 0 not delegated
    half = host.alloc(2, align=2 * G)
    host.delegate(half)
    assert create(rd, half) == I                           # root 1 not delegated
    assert create(host.alloc(), roots) == I                # RD not delegated
    assert create(roots + G, roots) == I                   # RD aliases a root
    assert create(world.rd, roots) == I                    # RD already an RD
    assert all(world.rmm.granule_state(r) == GranuleState.DELEGATED for r in (roots, roots + G))
    assert create(rd, roots) == 0


def test_realm_create_vmid_exhaustion():
    host = Host(config=RmmConfig(vmid_bits=1))
    host.boot()
    rds = [host.realm_create()[0] for _ in range(2)]
    roots = host.delegated(2, align=2 * G)
    params = host.write_params(RmiRealmParams, **dict(GOOD, rtt_base=roots))
    rd = host.delegated()
    assert x0(host.call(Fid.REALM_CREATE, rd, params)) == GLOBAL
    assert host.rmm.granule_state(rd) == GranuleState.DELEGATED
    # freeing a VMID makes room again
    assert x0(host.call(Fid.REALM_TERMINATE, rds[0])) == 0
    assert x0(host.call(Fid.REALM_DESTROY, rds[0])) == 0
    assert x0(host.call(Fid.REALM_CREATE, rd, params)) == 0


# --- 5.10 - 5.12: REALM_ACTIVATE / TERMINATE / DESTROY -------------------------------------------

def test_realm_activate(world):
    assert x0(world.call(Fid.REALM_ACTIVATE, world.free)) == I
    assert x0(world.call(Fid.REALM_ACTIVATE, world.rd + 8)) == I
    world.activate()
    assert x0(world.call(Fid.REALM_ACTIVATE, world.rd)) == REALM


def test_realm_terminate_and_destroy(world):
    assert x0(world.call(Fid.REALM_TERMINATE, world.rec)) == I
    assert x0(world.call(Fid.REALM_DESTROY, world.l2)) == I
    assert x0(world.call(Fid.REALM_DESTROY, world.rd)) == REALM          # a REC exists
    assert world.host.rec_destroy(world.rec) == 0
    assert x0(world.call(Fid.REALM_DESTROY, world.rd)) == REALM          # not ZOMBIE
    assert x0(world.call(Fid.REALM_TERMINATE, world.rd)) == 0
    assert x0(world.call(Fid.REALM_TERMINATE, world.rd)) == 0            # idempotent
    assert x0(world.call(Fid.REALM_DESTROY, world.rd)) == REALM          # child RTTs
    assert world.call(Fid.RTT_DATA_UNMAP, world.rd, RAM, RAM + G, 0, 0)[:2] == [0, RAM + G]
    assert world.call(Fid.RTT_DESTROY, world.rd, RAM, 3)[:2] == [0, world.l3]
    assert world.call(Fid.RTT_DESTROY, world.rd, RAM, 2)[:2] == [0, world.l2]
    assert x0(world.call(Fid.REALM_DESTROY, world.rd)) == 0
    assert world.rmm.granule_state(world.rd) == GranuleState.DELEGATED


def test_realm_terminate_while_a_rec_runs(world):
    world.activate()
    world.plat.on_enter = lambda rec, run: None            # the REC keeps running
    assert world.rmm.handle([Fid.REC_ENTER, world.rec, world.run] + [0] * 16) is None
    assert x0(world.call(Fid.REALM_TERMINATE, world.rd)) == REALM
    assert x0(world.call(Fid.REC_ENTER, world.rec, world.run)) == REC     # already running
    assert x0(world.call(Fid.REC_DESTROY, world.rec)) == REC
    rec = world.rmm.recs[world.rec]
    assert world.call(Fid.PSCI_COMPLETE, world.rec, world.rec, 0)[0] == I
    out = world.rmm.complete_rec_enter(rec, {"exit_reason": RecExitReason.FIQ})
    assert out[:4] == [0, 0, 0, 0]
    assert x0(world.call(Fid.REALM_TERMINATE, world.rd)) == 0


# --- 5.17: RTT_CREATE ----------------------------------------------------------------------------

def test_rtt_create(world):
    rd, rtt = world.rd, world.free
    ns = world.host.alloc()
    assert x0(world.call(Fid.RTT_CREATE, rd, ns, RAM + MB2, 3)) == I       # RTT not delegated
    assert x0(world.call(Fid.RTT_CREATE, world.l2, rtt, RAM + MB2, 3)) == I  # not an RD
    assert x0(world.call(Fid.RTT_CREATE, rd, rd, RAM + MB2, 3)) == I        # same granule
    for ipa, level in ((RAM + MB2, 1), (RAM + MB2, 4), (1 << 40, 3), (RAM + G, 3),
                       (RAM + MB2, -1 & (1 << 64) - 1)):
        assert x0(world.call(Fid.RTT_CREATE, rd, rtt, ipa, level)) == I, (hex(ipa), level)
    assert x0(world.call(Fid.RTT_CREATE, rd, rtt, 1 << 30, 3)) == rtt_error(1)   # no L2
    assert x0(world.call(Fid.RTT_CREATE, rd, rtt, RAM, 2)) == rtt_error(1)   # already a table
    assert x0(world.call(Fid.RTT_CREATE, rd, rtt, RAM, 3)) == rtt_error(2)
    assert x0(world.call(Fid.RTT_CREATE, rd, rtt, RAM + MB2, 3)) == 0
    assert world.rmm.granule_state(rtt) == GranuleState.RTT


# --- 5.18: RTT_DESTROY ---------------------------------------------------------------------------

def test_rtt_destroy(world):
    rd = world.rd
    assert world.call(Fid.RTT_DESTROY, world.l2, RAM, 3)[:3] == [I, 0, 0]
    assert world.call(Fid.RTT_DESTROY, rd, RAM, 1)[:3] == [I, 0, 0]          # the root
    assert world.call(Fid.RTT_DESTROY, rd, RAM + G, 3)[:3] == [I, 0, 0]      # not aligned
    # the walk stops at L1 (no L2 for the IPA): top of the non-live region = next live entry
    assert world.call(Fid.RTT_DESTROY, rd, 0, 3)[:3] == [rtt_error(1), 0, RAM]
    # L2 exists but the entry for 2 MB further is not a table: the end of that L2 table
    assert world.call(Fid.RTT_DESTROY, rd, RAM + MB2, 3)[:3] == [rtt_error(2), 0, RAM + (1 << 30)]
    # L3 still maps the DATA page: refcount, X2 = IPA
    assert world.call(Fid.RTT_DESTROY, rd, RAM, 3)[:3] == [rtt_error(3), 0, RAM]
    assert world.call(Fid.RTT_DESTROY, rd, RAM, 2)[:3] == [rtt_error(2), 0, RAM]
    assert world.call(Fid.RTT_DATA_UNMAP, rd, RAM, RAM + G, 0, 0)[0] == 0
    assert world.call(Fid.RTT_DESTROY, rd, RAM, 3)[:3] == [0, world.l3, RAM + (1 << 30)]
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM, 2)[:5] == [0, 2, 0, 0, 2]   # DESTROYED


# --- 5.19: RTT_FOLD ------------------------------------------------------------------------------

def test_rtt_fold(world):
    rd = world.rd
    assert x0(world.call(Fid.RTT_FOLD, world.rec, RAM, 3)) == I
    assert x0(world.call(Fid.RTT_FOLD, rd, RAM, 1)) == I
    assert x0(world.call(Fid.RTT_FOLD, rd, 0, 3)) == rtt_error(1)
    assert x0(world.call(Fid.RTT_FOLD, rd, RAM + MB2, 3)) == rtt_error(2)
    assert x0(world.call(Fid.RTT_FOLD, rd, RAM, 3)) == rtt_error(3)         # refcount 1
    # refcount 0 but mixed RIPAS
    assert world.call(Fid.RTT_DATA_UNMAP, rd, RAM, RAM + G, 0, 0)[0] == 0     # -> DESTROYED
    assert x0(world.call(Fid.RTT_FOLD, rd, RAM, 3)) == rtt_error(3)
    # 512 DATA pages but not contiguous
    pages = [world.host.delegated() for _ in range(512)]
    world.host.delegated()
    pages[-1] = world.host.delegated()
    out = world.call(Fid.RTT_DATA_MAP, rd, RAM, RAM + MB2, lst(512),
                     world.host.write_list([desc(p, 1) for p in pages]))
    assert out[:2] == [0, RAM + MB2]
    assert x0(world.call(Fid.RTT_FOLD, rd, RAM, 3)) == rtt_error(3)


def test_rtt_fold_ns_into_level0():
    host = Host()
    host.boot()
    rd, _ = host.realm_create(rtt_level_start=0, rtt_num_start=1)
    l1 = host.delegated()
    assert x0(host.call(Fid.RTT_CREATE, rd, l1, 1 << 39, 1)) == 0
    flags = 1 | (6 << 16) | (3 << 19)
    out = host.call(Fid.RTT_UNPROT_MAP, rd, 1 << 39, 1 << 40, flags, desc(0, 512, sz=2))
    assert out[:2] == [0, 1 << 40]
    assert x0(host.call(Fid.RTT_FOLD, rd, 1 << 39, 1)) == rtt_error(0)
    assert host.call(Fid.RTT_DESTROY, rd, 1 << 39, 1)[:2] == [0, l1]   # NS pages not counted


# --- 5.20: RTT_READ_ENTRY ------------------------------------------------------------------------

def test_rtt_read_entry(world):
    rd = world.rd
    assert x0(world.call(Fid.RTT_READ_ENTRY, world.rec, RAM, 3)) == I
    for ipa, level in ((RAM, 0), (RAM, 4), (1 << 40, 1), (RAM + G, 2)):
        assert x0(world.call(Fid.RTT_READ_ENTRY, rd, ipa, level)) == I
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM, 3)[:5] == [0, 3, 1, world.data, 1]
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM, 2)[:5] == [0, 2, 2, world.l3, 0]
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM + G, 3)[:5] == [0, 3, 0, 0, 0]
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM + MB2, 3)[:5] == [0, 2, 0, 0, 0]
    assert world.call(Fid.RTT_READ_ENTRY, rd, SHARED, 3)[:5] == [0, 1, 0, 0, 0]


# --- 5.21: RTT_INIT_RIPAS ------------------------------------------------------------------------

def test_rtt_init_ripas(world):
    rd = world.rd
    assert x0(world.call(Fid.RTT_INIT_RIPAS, rd, RAM + G, RAM + G)) == I      # top <= base
    assert x0(world.call(Fid.RTT_INIT_RIPAS, world.rec, RAM, RAM + G)) == I
    for base, top in ((RAM + 8, RAM + G), (RAM, RAM + G + 8), (RAM, 1 << 41),
                      ((1 << 39) - G, (1 << 39) + G)):
        assert x0(world.call(Fid.RTT_INIT_RIPAS, rd, base, top)) == I
    # base in a 2 MB block entry, not aligned to it
    assert x0(world.call(Fid.RTT_INIT_RIPAS, rd, RAM + MB2 + G, RAM + 2 * MB2)) == rtt_error(2)
    # a DESTROYED entry stops it with no progress
    assert world.call(Fid.RTT_DATA_UNMAP, rd, RAM, RAM + G, 0, 0)[0] == 0
    assert x0(world.call(Fid.RTT_INIT_RIPAS, rd, RAM, RAM + G)) == rtt_error(3)
    # progress stops at the DESTROYED entry; works on blocks; skips RAM entries
    assert world.call(Fid.RTT_INIT_RIPAS, rd, RAM + G, RAM + 3 * G)[:2] == [0, RAM + 3 * G]
    assert world.call(Fid.RTT_INIT_RIPAS, rd, RAM + G, RAM + 4 * G)[:2] == [0, RAM + 4 * G]
    assert world.call(Fid.RTT_INIT_RIPAS, rd, RAM + MB2, RAM + 2 * MB2)[:2] == [0, RAM + 2 * MB2]
    world.activate()
    assert x0(world.call(Fid.RTT_INIT_RIPAS, rd, RAM + G, RAM + 2 * G)) == REALM


# --- 5.22: RTT_SET_RIPAS -------------------------------------------------------------------------

def test_rtt_set_ripas(world):
    rd, rec = world.rd, world.rec
    r = world.rmm.recs[rec]
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rec, RAM + G, RAM + G)) == I
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rec, RAM, RAM + G + 8)) == I
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rd, RAM, RAM + G)) == I
    assert x0(world.call(Fid.RTT_SET_RIPAS, rec, rd, RAM, RAM + G)) == I
    other = world.second_realm()
    assert x0(world.call(Fid.RTT_SET_RIPAS, other, rec, RAM, RAM + G)) == REC
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rec, RAM, RAM + G)) == I     # no request
    r.request_ripas_change(RAM, RAM + 4 * G, 0)            # -> EMPTY
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rec, RAM + G, RAM + 2 * G)) == I  # not progress
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rec, RAM, RAM + 8 * G)) == I      # beyond top
    world.plat.tlbis.clear()
    assert world.call(Fid.RTT_SET_RIPAS, rd, rec, RAM, RAM + 2 * G)[:2] == [0, RAM + 2 * G]
    assert world.plat.tlbis                                 # the DATA page became EMPTY
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM, 3)[:5] == [0, 3, 1, world.data, 0]
    assert r.ripas_request.addr == RAM + 2 * G
    # a request for RAM over a DESTROYED entry without CHANGE_DESTROYED makes no progress
    page = RAM + 3 * G
    assert x0(world.call(Fid.RTT_DATA_MAP_INIT, rd, world.free, page, world.src, 0)) == 0
    assert world.call(Fid.RTT_DATA_UNMAP, rd, page, page + G, 0, 0)[0] == 0
    r.request_ripas_change(page, page + G, 1)
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rec, page, page + G)) == rtt_error(3)
    r.request_ripas_change(page, page + G, 1, change_destroyed=True)
    assert world.call(Fid.RTT_SET_RIPAS, rd, rec, page, page + G)[:2] == [0, page + G]
    assert world.call(Fid.RTT_READ_ENTRY, rd, page, 3)[:5] == [0, 3, 0, 0, 1]
    # base inside a block entry
    r.request_ripas_change(RAM + MB2 + G, RAM + 2 * MB2, 1)
    assert x0(world.call(Fid.RTT_SET_RIPAS, rd, rec, RAM + MB2 + G, RAM + 2 * MB2)) == rtt_error(2)


def test_rtt_set_ripas_running_rec(world):
    world.activate()
    world.plat.on_enter = lambda rec, run: None
    world.rmm.handle([Fid.REC_ENTER, world.rec, world.run] + [0] * 16)
    assert x0(world.call(Fid.RTT_SET_RIPAS, world.rd, world.rec, RAM, RAM + G)) == REC


# --- 5.23: RTT_DATA_MAP_INIT ---------------------------------------------------------------------

def test_rtt_data_map_init(world):
    rd, data, src = world.rd, world.free, world.src
    ipa = RAM + G

    def init(*args):
        return x0(world.call(Fid.RTT_DATA_MAP_INIT, *args))

    assert init(rd, data, ipa, src, 2) == I
    assert init(rd, rd, ipa, src, 0) == I
    assert init(rd, data, ipa, UNTRACKED_BASE, 0) == I
    assert init(rd, data, ipa, world.host.delegated(), 0) == I
    assert init(world.rec, data, ipa, src, 0) == I
    for bad_ipa in (SHARED, ipa + 8, 1 << 40):
        assert init(rd, data, bad_ipa, src, 0) == I
    assert init(rd, data, RAM + MB2, src, 0) == rtt_error(2)
    assert init(rd, data, 1 << 30, src, 0) == rtt_error(1)
    assert init(rd, data, RAM, src, 0) == rtt_error(3)                 # already assigned
    assert init(rd, world.l3, ipa, src, 0) == I                        # the leaf RTT itself
    assert init(rd, world.host.alloc(), ipa, src, 0) == I              # not delegated
    world.plat.gpi[src] = GPI_SECURE                                   # the SRC read faults
    assert init(rd, data, ipa, src, 0) == I
    del world.plat.gpi[src]
    assert world.rmm.granule_state(data) == GranuleState.DELEGATED
    assert init(rd, data, ipa, src, 0) == 0
    world.activate()
    assert init(rd, world.host.delegated(), RAM + 2 * G, src, 0) == REALM


def test_data_map_init_on_a_draining_entry(world):
    """An entry an in-flight DATA_MAP owns: DATA_MAP_INIT and DATA_MAP say BUSY."""
    rd = world.rd
    world.inject.incomplete_script = [False, True]         # yield before the first granule
    out = world.call(Fid.RTT_DATA_MAP, rd, RAM + G, RAM + 2 * G, SINGLE, desc(world.free, 1))
    assert out[:2] == [incomplete(), out[1]]
    handle = out[1]
    other = world.host.delegated()
    assert x0(world.call(Fid.RTT_DATA_MAP_INIT, rd, other, RAM + G, world.src, 0)) == \
        Status.BUSY
    assert x0(world.call(Fid.RTT_DATA_MAP, rd, RAM + G, RAM + 2 * G, SINGLE, desc(other, 1))) \
        == Status.BUSY
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM + G, 3)[:3] == [0, 3, 0]
    # the unmap skips it, RTT_DESTROY / FOLD see the pin
    assert world.call(Fid.RTT_DATA_UNMAP, rd, RAM + G, RAM + 2 * G, 0, 0)[:2] == [0, RAM + 2 * G]
    assert x0(world.call(Fid.RTT_FOLD, rd, RAM, 3)) == rtt_error(3)
    assert world.call(Fid.OP_CONTINUE, handle, 0)[:2] == [0, RAM + 2 * G]
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM + G, 3)[:4] == [0, 3, 1, world.free]
    assert x0(world.call(Fid.OP_CONTINUE, handle, 0)) == I         # released


# --- 5.24: RTT_DATA_MAP --------------------------------------------------------------------------

def test_rtt_data_map_validation(world):
    rd, page = world.rd, world.free
    base, top = RAM + G, RAM + 2 * G

    def dmap(b, t, flags, oaddr, rd_addr=rd):
        return x0(world.call(Fid.RTT_DATA_MAP, rd_addr, b, t, flags, oaddr))

    good = desc(page, 1)
    assert dmap(base, top, SINGLE, good, rd_addr=world.rec) == I
    assert dmap(base, base, SINGLE, good) == I
    assert dmap(base, top, 0, good) == I
    assert dmap(base, top, 3, good) == I
    listed = world.host.write_list([good])
    assert dmap(base, top, lst(1), listed + 4) == I                 # not 8-byte aligned
    assert dmap(base, top, lst(0), listed) == I                     # no entries
    assert dmap(base, top, lst(1), world.host.delegated()) == I     # list not NS
    assert dmap(base, top, SINGLE, good | (1 << 63)) == I           # ST = UNDELEGATED
    assert dmap(base, top, SINGLE, desc(page, 1, sz=3)) == I        # 512 GB blocks
    assert dmap(RAM + G, RAM + MB2 + G, SINGLE, desc(page, 1, sz=1)) == I  # base not aligned
    assert dmap(1 << 40, (1 << 40) + G, SINGLE, good) == I
    assert dmap(base, top + 8, SINGLE, good) == I
    assert dmap(SHARED, SHARED + G, SINGLE, good) == I              # outside the PAR
    assert dmap((1 << 39) - G, (1 << 39) + G, SINGLE, good) == I    # straddles it
    assert dmap(RAM + MB2, RAM + MB2 + G, SINGLE, desc(page, 1, sz=1)) == rtt_error(2)
    assert dmap(1 << 30, (1 << 30) + G, SINGLE, good) == rtt_error(1)   # no L2 / L3 there
    assert dmap(RAM, RAM + MB2, SINGLE, desc(RAM, 1, sz=1)) == rtt_error(2)   # a table
    world.call(Fid.REALM_TERMINATE, rd)
    assert dmap(base, top, SINGLE, good) == REALM


def test_rtt_data_map_blocks(world):
    rd, host = world.rd, world.host
    base = RAM + G

    def dmap(t, flags, oaddr, b=base):
        return world.call(Fid.RTT_DATA_MAP, rd, b, t, flags, oaddr)[:2]

    assert dmap(base + G, SINGLE, desc(world.free, 0)) == [I, 0]        # nothing in the list
    assert dmap(base + G, SINGLE, desc(1 << 48, 1)) == [I, 0]           # beyond 48-bit PA
    assert dmap(base + G, SINGLE, desc(world.data, 1)) == [I, 0]        # not delegated
    assert dmap(RAM + G, SINGLE, desc(world.free, 1), b=RAM) == [rtt_error(3), 0]  # assigned
    assert dmap(RAM + G, SINGLE, desc(world.data, 1), b=RAM) == [0, RAM + G]   # same PA
    unaligned = host.delegated()
    assert dmap(RAM + 2 * MB2, SINGLE, desc(unaligned, 1, sz=1), b=RAM + MB2) == [I, 0]
    # partial progress: the second page is not delegated
    pages = host.delegated(1)
    assert dmap(base + 2 * G, SINGLE, desc(pages, 2)) == [0, base + G]
    # the descriptors change block size: stop after the first
    two = host.write_list([desc(host.delegated(), 1), desc(host.delegated(), 1, sz=1)])
    assert dmap(base + 4 * G, lst(2), two, b=base + G) == [0, base + 2 * G]
    # a block whose granules are not all delegated is rolled back
    block = host.alloc(512, align=MB2)
    host.delegate(block, 300)
    assert dmap(RAM + 2 * MB2, SINGLE, desc(block, 1, sz=1), b=RAM + MB2) == [I, 0]
    assert all(world.rmm.granule_state(block + i * G) == GranuleState.DELEGATED
               for i in range(300))
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM + MB2, 2)[:3] == [0, 2, 0]
    host.delegate(block + 300 * G, 212)
    world.plat.write(block + 5 * G, b"\x99" * G, 3)
    assert dmap(RAM + 2 * MB2, SINGLE, desc(block, 1, sz=1), b=RAM + MB2) == [0, RAM + 2 * MB2]
    assert world.plat.raw(block + 5 * G, G) == bytes(G)                   # zero-filled


def test_sro_pool_busy_and_blocked():
    w = World(config=RmmConfig(max_cpus=1))                  # 10 SRO contexts
    rd = w.rd
    w.inject.busy_script = [True] * 4
    assert x0(w.call(Fid.RTT_DATA_MAP, rd, RAM + G, RAM + 2 * G, SINGLE, desc(w.free, 1))) == \
        Status.BUSY
    assert x0(w.call(Fid.RTT_DATA_UNMAP, rd, RAM, RAM + G, 0, 0)) == Status.BUSY
    assert x0(w.call(Fid.REC_DESTROY, 0)) == Status.BUSY             # before the REC check
    assert x0(w.call(Fid.REC_CREATE, rd, w.free, w.rec_params(mpidr=1))) == Status.BUSY
    assert w.rmm.granule_state(w.free) == GranuleState.DELEGATED
    handles = []
    for _ in range(10):
        out = w.call(Fid.REC_CREATE, rd, w.host.delegated(), w.rec_params(mpidr=1))
        assert x0(out) == 0x10D
        handles.append(out[1])
    assert sorted(handles) == list(range(10))
    for fid, args in ((Fid.REC_CREATE, (rd, w.free, w.rec_params())), (Fid.REC_DESTROY, (0,)),
                      (Fid.RTT_DATA_MAP, (rd, RAM + G, RAM + 2 * G, SINGLE, desc(w.free, 1))),
                      (Fid.RTT_DATA_UNMAP, (rd, RAM, RAM + G, 0, 0)),
                      (Fid.RTT_UNPROT_UNMAP, (rd, SHARED, SHARED + G, 0, 0))):
        assert x0(w.call(fid, *args)) == Status.BLOCKED
    assert x0(w.call(Fid.RTT_UNPROT_MAP, rd, SHARED, SHARED + G, 1 | 6 << 16,
                     desc(w.ns, 1))) == rtt_error(1)              # no SRO: not BLOCKED


# --- 5.25, 5.27: the unmaps ----------------------------------------------------------------------

def test_rtt_data_unmap_validation(world):
    rd = world.rd
    listed = world.host.list_page

    def unmap(b, t, flags=0, oaddr=0, rd_addr=rd):
        return world.call(Fid.RTT_DATA_UNMAP, rd_addr, b, t, flags, oaddr)[:4]

    assert unmap(RAM, RAM + G, rd_addr=world.rec) == [I, 0, 0, 0]
    for b, t in ((RAM + 8, RAM + G), (RAM, RAM + G + 8), (RAM + G, RAM + G), (1 << 40, 1 << 41),
                 (SHARED, SHARED + G), ((1 << 39) - G, (1 << 39) + G)):
        assert unmap(b, t) == [I, 0, 0, 0]
    for flags, oaddr in ((0, listed), (1, listed), (1 | 4, 0), (0 | 4, 0), (lst(0), listed),
                         (lst(1), listed + 4), (lst(1), world.free), (3, 0)):
        assert unmap(RAM, RAM + G, flags, oaddr) == [I, 0, 0, 0], (flags, oaddr)
    assert unmap(RAM + MB2 + G, RAM + 2 * MB2) == [rtt_error(2), 0, 0, 0]
    assert unmap(RAM + MB2, RAM + MB2 + G) == [rtt_error(2), 0, 0, 0]   # first entry too big
    assert unmap(RAM + G, RAM + 4 * G) == [0, RAM + 4 * G, 0, 0]        # nothing live
    assert unmap(RAM + G, RAM + 4 * G, 1) == [0, RAM + 4 * G, 0, 0]
    assert unmap(RAM + G, RAM + MB2 + MB2) == [0, RAM + MB2, 0, 0]      # the end of the RTT


def test_rtt_data_unmap_outputs(world):
    rd, host = world.rd, world.host
    run1 = host.delegated(3)
    host.alloc()
    run2 = host.delegated(2)
    out = world.call(Fid.RTT_DATA_MAP, rd, RAM + G, RAM + 6 * G, lst(2),
                     host.write_list([desc(run1, 3), desc(run2, 2)]))
    assert out[:2] == [0, RAM + 6 * G]
    # SINGLE stops at the first PA discontinuity
    out = world.call(Fid.RTT_DATA_UNMAP, rd, RAM + G, RAM + 8 * G, 1, 0)
    assert out[:4] == [0, RAM + 4 * G, desc(run1, 3), 0]
    # LIST with room for one descriptor: merged runs, stops when a second one is needed
    world.call(Fid.RTT_DATA_MAP, rd, RAM + G, RAM + 4 * G, SINGLE, desc(run1, 3))
    out = world.call(Fid.RTT_DATA_UNMAP, rd, RAM, RAM + 8 * G, lst(1), host.list_page)
    assert out[:4] == [0, RAM + G, 0, 1]
    assert host.platform.ns_read(host.list_page, 8) == desc(world.data, 1).to_bytes(8, "little")
    out = world.call(Fid.RTT_DATA_UNMAP, rd, RAM + G, RAM + 8 * G, lst(4), host.list_page)
    assert out[:4] == [0, RAM + 8 * G, 0, 2]
    words = host.platform.ns_read(host.list_page, 16)
    assert words == desc(run1, 3).to_bytes(8, "little") + desc(run2, 2).to_bytes(8, "little")
    assert all(world.rmm.granule_state(p) == GranuleState.DELEGATED
               for p in (world.data, run1, run1 + 2 * G, run2 + G))
    # assigned_ram -> unassigned_destroyed, assigned_empty -> unassigned_empty
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM, 3)[:5] == [0, 3, 0, 0, 2]
    assert world.call(Fid.RTT_READ_ENTRY, rd, RAM + G, 3)[:5] == [0, 3, 0, 0, 0]


def test_rtt_unprot_map_and_unmap(world):
    rd, host, ns = world.rd, world.host, world.ns
    flags = SINGLE | (6 << 16) | (3 << 19)

    def umap(b, t, f, oaddr, rd_addr=rd):
        return world.call(Fid.RTT_UNPROT_MAP, rd_addr, b, t, f, oaddr)[:2]

    assert umap(SHARED, SHARED + G, flags, desc(ns, 1), rd_addr=world.rec) == [I, 0]
    assert umap(SHARED, SHARED, flags, desc(ns, 1)) == [I, 0]
    assert umap(SHARED, SHARED + G, flags & ~3, desc(ns, 1)) == [I, 0]
    assert umap(RAM + G, RAM + 2 * G, flags, desc(ns, 1)) == [I, 0]           # inside the PAR
    assert umap(SHARED, SHARED + G, flags, desc(ns, 1, sz=1)) == [rtt_error(2), 0]
    assert umap(SHARED, SHARED + G, SINGLE | (6 << 16) | (4 << 19), desc(ns, 1)) == [I, 0]
    assert umap(SHARED, SHARED + G, flags, desc(ns, 1)) == [rtt_error(1), 0]  # no RTTs there
    for level in (2, 3):
        assert x0(world.call(Fid.RTT_CREATE, rd, host.delegated(), SHARED, level)) == 0
    assert umap(SHARED, SHARED + G, SINGLE | (4 << 16), desc(ns, 1)) == [I, 0]   # MemAttr 0b100
    assert umap(SHARED, SHARED + G, flags, desc(1 << 48, 1)) == [I, 0]
    assert umap(SHARED, SHARED + G, flags, desc(ns, 1)) == [0, SHARED + G]
    assert umap(SHARED, SHARED + G, flags, desc(ns, 1)) == [0, SHARED + G]     # idempotent
    assert umap(SHARED, SHARED + G, flags, desc(ns + G, 1)) == [rtt_error(3), 0]
    assert umap(SHARED, SHARED + G, SINGLE | (5 << 16), desc(ns, 1)) == [rtt_error(3), 0]
    # any PA may be mapped, even one the RMM does not track; the ST bit is not checked
    assert umap(SHARED + G, SHARED + 3 * G, flags, desc(UNTRACKED_BASE, 2) | 1 << 63) == \
        [0, SHARED + 3 * G]
    # the unmap: range outside the PAR only
    assert world.call(Fid.RTT_UNPROT_UNMAP, rd, RAM, RAM + G, 0, 0)[:2] == [I, 0]
    out = world.call(Fid.RTT_UNPROT_UNMAP, rd, SHARED, SHARED + 8 * G, lst(8), host.list_page)
    assert out[:4] == [0, SHARED + 8 * G, 0, 2]
    assert world.call(Fid.RTT_READ_ENTRY, rd, SHARED + G, 3)[:4] == [0, 3, 0, 0]
    world.call(Fid.REALM_TERMINATE, rd)
    assert umap(SHARED, SHARED + G, flags, desc(ns, 1)) == [REALM, 0]


# --- 5.13, 6.2 - 6.4: REC_CREATE and the SRO control commands ------------------------------------

def test_rec_create_initiation(world):
    assert x0(world.call(Fid.REC_CREATE, world.rd, world.host.alloc(), world.rec_params())) == I
    assert x0(world.call(Fid.REC_CREATE, world.rd, world.rec, world.rec_params())) == I
    # RD and params are not looked at yet
    out = world.call(Fid.REC_CREATE, 0, world.free, 0)
    assert out[:3] == [0x10D, out[1], 0x40]
    assert world.rmm.granule_state(world.free) == GranuleState.PARTIAL
    assert x0(world.call(Fid.GRANULE_RANGE_UNDELEGATE, world.free, world.free + G)) == I


def failing_rec_create(world, rd, params, expected):
    rec = world.host.delegated()
    reclaimed = []
    out = world.host.sro(world.call(Fid.REC_CREATE, rd, rec, params), reclaimed=reclaimed)
    assert x0(out) == expected
    assert world.rmm.granule_state(rec) == GranuleState.DELEGATED
    assert sum((d >> 2) & 0x3FF for d in reclaimed) == 16


def test_rec_create_final_checks(world):
    host = world.host
    ns_params = world.rec_params(mpidr=1)
    failing_rec_create(world, world.rd, UNTRACKED_BASE, I)          # params not tracked
    failing_rec_create(world, world.rd, world.free, I)              # params not NS
    failing_rec_create(world, world.rec, ns_params, I)              # not an RD
    for mpidr in (0, 2, 0x10, 1 << 32, 1 << 63):                    # index / reserved bits
        failing_rec_create(world, world.rd, world.rec_params(mpidr=mpidr), I)
    world.activate()
    failing_rec_create(world, world.rd, world.rec_params(mpidr=1), REALM)
    assert host.rec_create(world.rd, mpidr=1)[1] == REALM


def test_rec_create_max_recs(world):
    world.rmm.granules.get(world.rd).refcount = 1023                 # as if 1023 RECs existed
    failing_rec_create(world, world.rd, world.rec_params(mpidr=1), REALM)


def test_op_mem_donate(world):
    host = world.host
    rec = host.delegated()
    out = world.call(Fid.REC_CREATE, world.rd, rec, world.rec_params(mpidr=1))
    h = out[1]
    aux = [host.delegated() for _ in range(17)]

    def donate(words, count=None, handle=h, page=None):
        lp = host.write_list(words, page)
        return world.call(Fid.OP_MEM_DONATE, handle, lp, len(words) if count is None else count)

    assert x0(donate([desc(aux[0], 1)], handle=h + 1)) == I
    assert x0(world.call(Fid.OP_MEM_DONATE, h, host.list_page + 4, 1)) == I
    assert x0(world.call(Fid.OP_MEM_DONATE, h, world.free, 1)) == I       # list not NS
    assert x0(donate([desc(aux[0], 1, sz=1)])) == I                       # not 2 MB aligned
    assert x0(donate([desc(aux[0], 1) | 1 << 63])) == I                   # ST undelegated
    assert x0(donate([desc(a, 1) for a in aux])) == I                     # 17 > 16 granules
    assert x0(world.call(Fid.OP_CONTINUE, h, 0)) == I                     # expects DONATE
    assert x0(world.call(Fid.OP_MEM_RECLAIM, h, host.list_page, 16)) == I
    assert x0(world.call(Fid.OP_CANCEL, h)) == I
    # an empty list is legal; a later non-delegated granule stops consumption
    assert donate([desc(aux[0], 0)])[:3] == [0x10D, 0, 0x40]
    assert donate([desc(aux[0], 2), desc(world.data, 1), desc(aux[5], 1)])[:3] == \
        [0x10D, 2, 14 << 2]
    # the count is clipped to the list granule
    page = host.alloc()
    lp = page + G - 8
    world.plat.ns_write(lp, desc(aux[2], 1).to_bytes(8, "little"))
    assert world.call(Fid.OP_MEM_DONATE, h, lp, 16)[:3] == [0x10D, 1, 13 << 2]
    assert donate([desc(a, 1) for a in aux[3:16]])[:3] == [0x00D, 13, 0]
    assert x0(donate([desc(aux[16], 1)])) == I                            # expects CONTINUE
    assert world.call(Fid.OP_CONTINUE, h, 1)[:3] == [0, 0, 0]             # STOP flag ignored
    assert x0(world.call(Fid.OP_CONTINUE, h, 0)) == I                     # released
    assert world.rmm.granule_state(rec) == GranuleState.REC


def test_donation_of_a_non_delegated_first_granule(world):
    rec = world.host.delegated()
    h = world.call(Fid.REC_CREATE, world.rd, rec, world.rec_params(mpidr=1))[1]
    lp = world.host.write_list([desc(world.data, 1)])
    assert world.call(Fid.OP_MEM_DONATE, h, lp, 1)[:3] == [0x20D, 0, 0]
    assert world.call(Fid.OP_MEM_RECLAIM, h, world.host.list_page, 16)[:2] == [0x00D, 0]
    assert x0(world.call(Fid.OP_CONTINUE, h, 0)) == I
    assert world.rmm.granule_state(rec) == GranuleState.DELEGATED


def test_op_mem_reclaim(world):
    host = world.host
    aux = host.delegated(16)                                          # contiguous
    out = world.call(Fid.REC_CREATE, world.rd, host.delegated(), world.rec_params(mpidr=1))
    h = out[1]
    lp = host.write_list([desc(aux, 16)])
    assert world.call(Fid.OP_MEM_DONATE, h, lp, 1)[:3] == [0x00D, 16, 0]
    world.activate()
    assert world.call(Fid.OP_CONTINUE, h, 0)[:3] == [0x20D, 0, 0]       # REALM not NEW
    assert world.call(Fid.OP_MEM_RECLAIM, h, lp, 0)[:2] == [0x20D, 0]
    assert world.call(Fid.OP_MEM_RECLAIM, 99, lp, 16)[:2] == [I, 0]
    assert world.call(Fid.OP_MEM_RECLAIM, h, lp + 4, 16)[:2] == [I, 0]
    assert world.call(Fid.OP_CONTINUE, h, 0)[:2] == [I, 0]              # expects RECLAIM
    # the copy faults: the batch stays queued (granules already DELEGATED)
    bad = host.alloc()
    world.plat.gpi[bad] = GPI_SECURE
    assert world.call(Fid.OP_MEM_RECLAIM, h, bad, 4)[:2] == [I, 0]
    assert world.call(Fid.OP_MEM_RECLAIM, h, lp, 2)[:2] == [0x20D, 1]   # rest of the batch
    assert world.plat.ns_read(lp, 8) == desc(aux, 4).to_bytes(8, "little")
    assert world.call(Fid.OP_MEM_RECLAIM, h, lp, 16)[:2] == [0x00D, 1]
    assert world.plat.ns_read(lp, 8) == desc(aux + 4 * G, 12).to_bytes(8, "little")
    assert x0(world.call(Fid.OP_CONTINUE, h, 0)) == REALM


def test_op_continue_and_cancel_handles(world):
    for handle in (0, 159, 160, 1 << 63):
        assert x0(world.call(Fid.OP_CONTINUE, handle, 0)) == I
        assert x0(world.call(Fid.OP_CANCEL, handle)) == I
        assert x0(world.call(Fid.OP_MEM_DONATE, handle, world.host.list_page, 0)) == I


# --- 5.14: REC_DESTROY ---------------------------------------------------------------------------

def test_rec_destroy(world):
    assert x0(world.call(Fid.REC_DESTROY, world.rd)) == I
    assert x0(world.call(Fid.REC_DESTROY, world.rec + 8)) == I
    out = world.call(Fid.REC_DESTROY, world.rec)
    assert out[:3] == [0x20D, out[1], 0]
    assert x0(world.call(Fid.REC_DESTROY, world.rec)) == I           # now PARTIAL
    assert x0(world.call(Fid.REC_ENTER, world.rec, world.run)) == I
    assert world.host.sro(out)[0] == 0
    # the REC index is not reused
    assert world.host.rec_create(world.rd, mpidr=0)[1] == I
    assert world.host.rec_create(world.rd, mpidr=1)[1] == 0


# --- 5.15: REC_ENTER -----------------------------------------------------------------------------

def test_rec_enter(world):
    rec, run = world.rec, world.run
    r = world.rmm.recs[rec]

    def enter(flags=0, rec_addr=rec, run_addr=run):
        if run_addr == run:
            world.plat.ns_write(run, flags.to_bytes(8, "little"))
        return x0(world.call(Fid.REC_ENTER, rec_addr, run_addr))

    for bad_run in (UNTRACKED_BASE, run + 8, world.free):
        assert enter(run_addr=bad_run) == I
    assert enter(rec_addr=world.rd) == I
    world.plat.gpi[run] = GPI_SECURE                       # the RmiRecEnter read faults
    assert x0(world.call(Fid.REC_ENTER, rec, run)) == I
    del world.plat.gpi[run]
    assert enter() == REALM                                # NEW
    world.activate()
    r.runnable = False
    assert enter() == REC
    r.runnable = True
    r.request_psci(0xC4000003, 1, RAM, 0)
    assert enter() == REC
    r.pending_op, r.psci_request = 0, None
    world.plat.lrs = [(1 << 62) | (1 << 61) | 27]          # pending, HW = 1
    assert enter() == REC
    world.plat.lrs = [(1 << 62) | 27, (2 << 62) | 27]      # the same vINTID twice
    assert enter() == REC
    world.plat.lrs = [27, 27, (1 << 62) | 27]              # invalid LRs are ignored
    assert enter(flags=2) == REC                           # INJECT_SEA, no abort before
    assert enter(flags=1) == REC                           # EMUL_MMIO, no abort before
    r.last_exit = LastExit(esr=0x24 << 26, unprotected=True)   # ISV = 0
    assert enter(flags=1) == REC
    r.last_exit = LastExit(esr=0x24 << 26, unprotected=True)
    assert enter(flags=2) == 0                             # INJECT_SEA is fine
    assert r.previous_exit.esr == 0x24 << 26 and r.last_exit is None
    assert enter(flags=2) == REC                           # the RMM forgot the ESR
    r.last_exit = LastExit(esr=(0x24 << 26) | (1 << 24), unprotected=True)
    assert enter(flags=1) == 0
    # the exit write faults: ERROR_INPUT (the REC did run)
    world.plat.on_enter = lambda rec_obj, run_pa: world.plat.gpi.update({run: GPI_REALM}) or {}
    assert enter() == I
    del world.plat.gpi[run]
    world.plat.on_enter = None
    world.plat.next_exit = {"exit_reason": RecExitReason.HOST_CALL, "imm": 7, "gprs": [1] * 31}
    assert enter() == 0
    exit_ = RmiRecExit.parse(world.plat.ns_read(run + REC_EXIT_OFFSET, 0x800))
    assert exit_.imm == 7 and exit_.gprs == [1] * 31
    assert len(world.plat.entered) == 4


# --- 5.16: PSCI_COMPLETE -------------------------------------------------------------------------

def psci_world():
    w = World()
    w.rec1 = w.host.rec_create(w.rd, mpidr=1, flags=0)[0]
    w.activate()
    return w


def test_psci_complete_checks():
    w = psci_world()
    r0 = w.rmm.recs[w.rec]

    def complete(caller, target, status=0):
        return x0(w.call(Fid.PSCI_COMPLETE, caller, target, status))

    assert complete(w.rec + 8, w.rec1) == I
    assert complete(w.rec, w.rec1 + 8) == I
    assert complete(w.rec, w.rec) == I
    assert complete(w.rec, w.rd) == I
    assert complete(w.rec, w.rec1) == I                       # no pending request
    other_rd = w.second_realm()
    other = w.host.rec_create(other_rd)[0]
    r0.request_psci(0xC4000003, 0x100, RAM, 0x55)             # CPU_ON of MPIDR Aff1 = 1
    assert complete(w.rec, other) == I                        # another realm's REC
    assert complete(w.rec, w.rec1) == I                       # index 1 != index 0x10
    r0.request_psci(0xC4000003, 1, RAM + 0x40, 0x55)
    assert complete(w.rec, w.rec1, 5) == I                    # not SUCCESS or DENIED
    assert complete(w.rec, w.rec1, 0) == 0
    r1 = w.rmm.recs[w.rec1]
    assert r1.runnable and r1.pc == RAM + 0x40 and r1.gprs[0] == 0x55
    assert r0.gprs[:4] == [0, 0, 0, 0] and r0.pending_op == 0
    # CPU_ON of a target already on; DENIED: ERROR_INPUT but completed with ALREADY_ON
    r0.request_psci(0x84000003, 1, RAM, 0)
    assert complete(w.rec, w.rec1, PSCI_DENIED) == I
    assert r0.gprs[0] == PSCI_ALREADY_ON and r0.pending_op == 0
    # AFFINITY_INFO
    r0.request_psci(0x84000004, 1)
    assert complete(w.rec, w.rec1, PSCI_DENIED) == I
    assert r0.pending_op == 1
    assert complete(w.rec, w.rec1, 0) == 0
    assert r0.gprs[0] == 0                                    # ON
    r1.runnable = False
    r0.request_psci(0xC4000003, 1, RAM, 9)
    assert complete(w.rec, w.rec1, PSCI_DENIED) == 0
    assert r0.gprs[0] == PSCI_DENIED and not r1.runnable


def test_psci_complete_while_caller_runs():
    w = psci_world()
    w.rmm.recs[w.rec].request_psci(0x84000004, 1)
    w.rmm.recs[w.rec].pending_op = 0                      # let it enter
    w.plat.on_enter = lambda rec, run: None
    w.rmm.handle([Fid.REC_ENTER, w.rec, w.run] + [0] * 16)
    w.rmm.recs[w.rec].pending_op = 1
    assert x0(w.call(Fid.PSCI_COMPLETE, w.rec, w.rec1, 0)) == I


# --- planes and device assignment (digest 2.2, 2.3) ----------------------------------------------

def test_unsupported_features(world):
    for fid in (Fid.PSMMU_ACTIVATE, Fid.PSMMU_DEACTIVATE, Fid.PSMMU_ST_L2_CREATE,
                Fid.PSMMU_ST_L2_DESTROY):
        assert x0(world.call(fid, 0, 0)) == Status.ERROR_NOT_SUPPORTED
    for fid in (Fid.PDEV_CREATE, Fid.PDEV_GET_STATE, Fid.VDEV_CREATE, Fid.PDEV_STREAM_CONNECT,
                Fid.VDEV_COMPLETE):
        assert x0(world.call(fid, world.rd, 0, 0, 0)) == SMC_UNKNOWN
    for fid in (Fid.RTT_AUX_CREATE, Fid.RTT_AUX_DESTROY, Fid.RTT_AUX_FOLD,
                Fid.RTT_AUX_MAP_PROTECTED, Fid.RTT_AUX_UNMAP_UNPROTECTED):
        assert x0(world.call(fid, world.rd, world.free, RAM, 3, 1)) == I
    for fid in (Fid.RTT_SET_S2AP, Fid.RTT_DEV_VALIDATE):
        assert x0(world.call(fid, world.rd, world.rec, RAM, RAM)) == I
        assert x0(world.call(fid, world.second_realm(), world.rec, RAM, RAM + G)) == REC
        assert x0(world.call(fid, world.rd, world.rec, RAM, RAM + G)) == I
    assert x0(world.call(Fid.RTT_DEV_MAP, world.rd, world.free, RAM, RAM + G, 1, 0)) == I
    assert world.call(Fid.RTT_DEV_UNMAP, world.rd, RAM, RAM + G, 0, 0)[:2] == [rtt_error(3), 0]
    assert world.call(Fid.RTT_DEV_UNMAP, world.rd, RAM + G, RAM + 2 * G, 0, 0)[:2] == \
        [0, RAM + 2 * G]
    assert world.call(Fid.FEATURES, 2)[1] == 0 and world.call(Fid.FEATURES, 3)[1] == 0


def test_result_packing():
    assert rtt_error(-1) == result(Status.ERROR_RTT, 0xFF) == 0xFF04
    assert incomplete(2) == 0x20D
