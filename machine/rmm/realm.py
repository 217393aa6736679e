"""Realms: the RD and its stage 2 context, and RMI_REALM_CREATE / ACTIVATE / TERMINATE / DESTROY
(TF-RMM `runtime/rmi/realm.c`; digest 4.1, 4.10, 5.9-5.12)."""

from enum import IntEnum

from . import measurement, s2tt
from .abi import (
    GRANULE_SIZE,
    HashAlgorithm,
    MecPolicy,
    RmiFeatureRegister0,
    RmiRealmFlags0,
    RmiRealmFlags1,
    RmiRealmParams,
    Status,
)
from .granule import GranuleState, free_granule, read_ns_struct

S2TT_MIN_IPA_BITS = 32
S2TT_MAX_IPA_BITS, S2TT_MAX_IPA_BITS_LPA2 = 48, 52
S2TT_MIN_STARTING_LEVEL, S2TT_MIN_STARTING_LEVEL_LPA2 = 0, -1
S2TTE_STRIDE = 9
MAX_CONCAT_TABLES = 16
REC_AUX_GRANULES = 16


class RealmState(IntEnum):
    NEW = 0
    ACTIVE = 1
    SYSTEM_OFF = 2
    ZOMBIE = 3          # terminated by RMI_REALM_TERMINATE


class S2Context:
    """The realm's primary stage 2 translation context (TF-RMM struct s2tt_context)."""

    def __init__(self, ipa_bits, start_level, num_root_rtts, rtt_base, vmid, lpa2):
        self.ipa_bits, self.start_level = ipa_bits, start_level
        self.num_root_rtts, self.rtt_base = num_root_rtts, rtt_base
        self.vmid, self.lpa2 = vmid, lpa2

    @property
    def roots(self):
        return [self.rtt_base + i * GRANULE_SIZE for i in range(self.num_root_rtts)]


class Realm:
    """What the RD holds. `rec_count` is the next REC index; `recs` maps index -> REC address
    for the RECs that exist."""

    def __init__(self, rd, params, s2, instance_id):
        flags0 = params.flags0
        self.rd = rd
        self.state = RealmState.NEW
        self.s2 = s2
        self.algorithm = HashAlgorithm(params.algorithm)
        self.flags0 = flags0
        self.sve_en = bool(RmiRealmFlags0.get(flags0, "sve"))
        self.sve_vl = params.sve_vl if self.sve_en else 0
        self.pmu_en = bool(RmiRealmFlags0.get(flags0, "pmu"))
        self.pmu_num_ctrs = params.pmu_num_ctrs
        self.mec_policy = MecPolicy(RmiRealmFlags0.get(flags0, "mec_policy"))
        self.num_bps, self.num_wps = params.num_bps, params.num_wps
        self.rpv = bytes(params.rpv)
        self.instance_id = instance_id
        self.rim = measurement.rim_init(params)
        self.rems = [bytes(len(self.rim))] * 4
        self.rec_count = 0
        self.recs = {}

    @property
    def ipa_size(self):
        return 1 << self.s2.ipa_bits

    def in_par(self, ipa):
        """The Protected Address Range is the lower half of the IPA space."""
        return ipa < 1 << (self.s2.ipa_bits - 1)

    def valid_map_addr(self, ipa, level):
        """TF-RMM validate_map_addr: inside the IPA space and aligned to `level`."""
        return ipa < self.ipa_size and s2tt.aligned(ipa, level)

    def vtcr(self):
        """VTCR_EL2 for this realm: T0SZ, SL0, inner shareable write-back walks, 4 KB granule,
        48-bit PS."""
        sl0 = {2: 0, 1: 1, 0: 2}[self.s2.start_level]
        return ((64 - self.s2.ipa_bits) | (sl0 << 6) | (1 << 8) | (1 << 10) | (3 << 12)
                | (5 << 16) | (1 << 31))

    def vttbr(self):
        return self.s2.rtt_base | (self.s2.vmid << 48)


# --- RMI_REALM_CREATE (digest 5.9) ---------------------------------------------------------------

def sl_consistent(ipa_bits, sl):
    """AArch64.S2InconsistentSL with up to 16 concatenated start-level tables."""
    levels = s2tt.PAGE_LEVEL - sl
    sl_min_ipa_bits = levels * S2TTE_STRIDE + 12 + 1
    sl_max_ipa_bits = sl_min_ipa_bits + (S2TTE_STRIDE - 1) + 4
    return sl_min_ipa_bits <= ipa_bits <= sl_max_ipa_bits


def valid_ipa_bits_and_sl(rmm, ipa_bits, sl, lpa2):
    max_bits = S2TT_MAX_IPA_BITS_LPA2 if lpa2 else S2TT_MAX_IPA_BITS
    min_sl = S2TT_MIN_STARTING_LEVEL_LPA2 if lpa2 else S2TT_MIN_STARTING_LEVEL
    if not S2TT_MIN_IPA_BITS <= ipa_bits <= max_bits:
        return False
    if not min_sl <= sl <= s2tt.PAGE_LEVEL:
        return False
    if sl == 0 and rmm.config.pa_bits < 44:          # AArch64.S2InvalidSL
        return False
    return sl_consistent(ipa_bits, sl)


def num_root_rtts(ipa_bits, sl):
    """Concatenated start-level RTTs needed for `ipa_bits` (digest 4.1.2)."""
    sl_ipa_bits = (s2tt.PAGE_LEVEL - sl) * S2TTE_STRIDE + 12 + S2TTE_STRIDE
    return 1 if sl_ipa_bits >= ipa_bits else 1 << (ipa_bits - sl_ipa_bits)


def validate_realm_params(rmm, p):
    """The checks of digest 5.9 step 2, in TF-RMM's order; True if every one passes."""
    feat0 = rmm.features[0]
    f0 = RmiFeatureRegister0.get
    flags0 = RmiRealmFlags0.get
    lpa2 = bool(flags0(p.flags0, "lpa2"))
    checks = (
        lambda: not (lpa2 and not f0(feat0, "lpa2")),
        lambda: S2TT_MIN_IPA_BITS <= p.s2sz <= f0(feat0, "s2sz"),
        lambda: 1 <= p.num_bps <= f0(feat0, "num_bps") and 1 <= p.num_wps <= f0(feat0, "num_wps"),
        lambda: not flags0(p.flags0, "sve") or (
            f0(feat0, "sve_en") and p.sve_vl <= f0(feat0, "sve_vl")),
        lambda: not flags0(p.flags0, "pmu") or (
            p.pmu_num_ctrs <= f0(feat0, "pmu_num_ctrs")
            and (p.pmu_num_ctrs != 0 or rmm.config.hpmn0)),
        lambda: not flags0(p.flags0, "da") or rmm.da_enabled,
        lambda: flags0(p.flags0, "mec_policy") in (MecPolicy.SHARED, MecPolicy.PRIVATE),
        lambda: valid_ipa_bits_and_sl(rmm, p.s2sz, p.rtt_level_start, lpa2),
        lambda: num_root_rtts(p.s2sz, p.rtt_level_start) == p.rtt_num_start,
        lambda: p.num_aux_planes <= rmm.max_aux_planes,
        lambda: p.ats_plane <= p.num_aux_planes,
        # plane/tree/S2AP consistency only applies with aux planes, which are not supported
        lambda: not RmiRealmFlags1.get(p.flags1, "s2ap_enc") or rmm.s2ap_indirect,
        lambda: not p.rtt_base % (p.rtt_num_start * GRANULE_SIZE),
        lambda: p.algorithm in tuple(HashAlgorithm),
    )
    return all(check() for check in checks)


def realm_create(rmm, rd_addr, params_addr):
    p = read_ns_struct(rmm, params_addr, RmiRealmParams, "params")
    if p is None:
        return (Status.ERROR_INPUT,)
    if not validate_realm_params(rmm, p):
        return (Status.ERROR_INPUT,)
    instance_id = rmm.new_realm_instance_id()
    vmid = rmm.vmids.allocate()
    if vmid is None:
        return (Status.ERROR_GLOBAL,)
    # No FEAT_MEC: a private MECID reservation always succeeds (TF-RMM mecid_reserve).
    lpa2 = bool(RmiRealmFlags0.get(p.flags0, "lpa2"))
    s2 = S2Context(p.s2sz, p.rtt_level_start, p.rtt_num_start, p.rtt_base, vmid, lpa2)
    roots = s2.roots
    # The root RTTs, then the RD, must be DELEGATED; the RD may not alias a root (step 6, 7).
    if any(rmm.granules.find(pa, GranuleState.DELEGATED) is None for pa in roots) or (
            rd_addr in roots or rmm.granules.find(rd_addr, GranuleState.DELEGATED) is None):
        rmm.vmids.free(vmid)
        return (Status.ERROR_INPUT,)
    realm = Realm(rd_addr, p, s2, instance_id)
    rmm.granules.transition(rd_addr, GranuleState.RD)
    for pa in roots:
        rmm.granules.transition(pa, GranuleState.RTT, owner=rd_addr)
    init_root_rtts(rmm, realm)
    rmm.realms[rd_addr] = realm
    return (Status.SUCCESS,)


def init_root_rtts(rmm, realm):
    """PAR entries unassigned_empty, unprotected entries unassigned_ns; entries beyond the IPA
    space (a start level not fully used) stay zero."""
    s2 = realm.s2
    size = s2tt.map_size(s2.start_level)
    for i, pa in enumerate(s2.roots):
        entries = []
        for index in range(s2tt.ENTRIES):
            ipa = (i * s2tt.ENTRIES + index) * size
            if ipa >= realm.ipa_size:
                entries.append(0)
            elif realm.in_par(ipa):
                entries.append(s2tt.unassigned(0))
            else:
                entries.append(s2tt.unassigned_ns())
        rmm.rtt.write_table(pa, entries)


# --- RMI_REALM_ACTIVATE / TERMINATE / DESTROY (digest 5.10-5.12) ---------------------------------

def find_realm(rmm, rd_addr):
    """The realm whose RD is at `rd_addr` (granule in state RD), or None."""
    if rmm.granules.find(rd_addr, GranuleState.RD) is None:
        return None
    return rmm.realms.get(rd_addr)


def realm_activate(rmm, rd_addr):
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    if realm.state != RealmState.NEW:
        return (Status.ERROR_REALM,)
    realm.state = RealmState.ACTIVE
    return (Status.SUCCESS,)


def realm_terminate(rmm, rd_addr):
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    if any(rmm.recs[pa].running for pa in realm.recs.values()):
        return (Status.ERROR_REALM,)
    realm.state = RealmState.ZOMBIE
    return (Status.SUCCESS,)


def realm_destroy(rmm, rd_addr):
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    g_rd = rmm.granules.get(rd_addr)
    if g_rd.refcount != 0:
        return (Status.ERROR_REALM,)
    if realm.state != RealmState.ZOMBIE:
        return (Status.ERROR_REALM,)
    roots = realm.s2.roots
    if sum(rmm.granules.get(pa).refcount for pa in roots) != 0:
        return (Status.ERROR_REALM,)
    rmm.tlbi(realm, 0, realm.ipa_size)
    rmm.vmids.free(realm.s2.vmid)
    for pa in roots:
        free_granule(rmm, pa)
    free_granule(rmm, rd_addr)
    del rmm.realms[rd_addr]
    return (Status.SUCCESS,)


HANDLERS = {
    "REALM_CREATE": realm_create,
    "REALM_ACTIVATE": realm_activate,
    "REALM_TERMINATE": realm_terminate,
    "REALM_DESTROY": realm_destroy,
}
