"""RTT structure and RIPAS commands: RMI_RTT_CREATE / DESTROY / FOLD / READ_ENTRY / INIT_RIPAS /
SET_RIPAS (TF-RMM `runtime/rmi/rtt.c`; digest 4.8, 5.17-5.22).

An RTT granule's refcount counts its TABLE and assigned (DATA) entries, plus one per entry an
in-flight SRO has pinned; assigned_ns entries do not count.
"""

from . import s2tt
from .abi import M64, Ripas, Status, rtt_error
from .granule import GranuleState, free_granule
from .realm import RealmState, find_realm
from .s2tt import Kind


def signed64(value):
    return value - (1 << 64) if value >> 63 else value


def valid_structure_cmd(realm, ipa, level):
    """RTT_CREATE/DESTROY/FOLD: level in [start + 1, 3], IPA inside the IPA space and aligned
    to a level - 1 entry (TF-RMM validate_rtt_structure_cmds)."""
    if not realm.s2.start_level + 1 <= level <= s2tt.PAGE_LEVEL:
        return False
    return realm.valid_map_addr(ipa, level - 1)


def valid_entry_cmd(realm, ipa, level):
    """RTT_READ_ENTRY: level in [start, 3], IPA aligned to `level`."""
    if not realm.s2.start_level <= level <= s2tt.PAGE_LEVEL:
        return False
    return realm.valid_map_addr(ipa, level)


def entry_base(ipa, level):
    return ipa & ~(s2tt.map_size(level) - 1)


def adjust_refcount(rmm, table_pa, delta):
    rmm.granules.get(table_pa).refcount += delta


# --- RMI_RTT_CREATE (digest 5.17) ----------------------------------------------------------------

def unfold(entry, parent_kind, level):
    """The 512 entries of a new level-`level` RTT that replaces the level - 1 `entry`, its
    refcount, the change to the parent's refcount and whether the old entry was HW-valid."""
    if parent_kind in s2tt.UNASSIGNED or parent_kind == Kind.UNASSIGNED_NS:
        return [entry] * s2tt.ENTRIES, 0, +1, False
    size = s2tt.map_size(level)
    base = s2tt.pa_of(entry, level - 1)
    children = [s2tt.with_pa(entry, level - 1, base + i * size, level)
                for i in range(s2tt.ENTRIES)]
    if parent_kind == Kind.ASSIGNED_NS:
        return children, 0, +1, True                  # NS blocks are not refcounted
    return children, s2tt.ENTRIES, 0, parent_kind == Kind.ASSIGNED_RAM


def rtt_create(rmm, rd_addr, rtt_addr, ipa, level):
    if rmm.granules.find_pair(rtt_addr, GranuleState.DELEGATED, rd_addr, GranuleState.RD) is None:
        return (Status.ERROR_INPUT,)
    realm = rmm.realms[rd_addr]
    level = signed64(level)
    if not valid_structure_cmd(realm, ipa, level):
        return (Status.ERROR_INPUT,)
    if not realm.s2.lpa2 and rtt_addr >> s2tt.OA_BITS:
        return (Status.ERROR_INPUT,)
    w = rmm.rtt.walk(realm.s2, ipa, level - 1)
    if w.level < level - 1:
        return (rtt_error(w.level),)
    parent_kind = s2tt.kind(w.entry, level - 1)
    # An entry an in-flight SRO owns cannot be unfolded under it.
    if parent_kind in (Kind.TABLE, Kind.INVALID) or s2tt.drain_pending(w.entry):
        return (rtt_error(level - 1),)
    children, refcount, parent_delta, was_valid = unfold(w.entry, parent_kind, level)
    rmm.rtt.write_table(rtt_addr, children)
    rmm.granules.transition(rtt_addr, GranuleState.RTT, owner=rd_addr).refcount = refcount
    adjust_refcount(rmm, w.table, parent_delta)
    rmm.rtt.write(w.table, w.index, s2tt.table(rtt_addr))
    if was_valid:                                     # break-before-make of a valid block
        rmm.tlbi(realm, entry_base(ipa, level - 1), s2tt.map_size(level - 1))
    return (Status.SUCCESS,)


# --- RMI_RTT_DESTROY (digest 5.18) ---------------------------------------------------------------

def rtt_destroy(rmm, rd_addr, ipa, level):
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return Status.ERROR_INPUT, 0, 0
    level = signed64(level)
    if not valid_structure_cmd(realm, ipa, level):
        return Status.ERROR_INPUT, 0, 0
    w = rmm.rtt.walk(realm.s2, ipa, level - 1)
    if w.level < level - 1 or s2tt.kind(w.entry, w.level) != Kind.TABLE:
        return rtt_error(w.level), 0, rmm.rtt.skip_non_live(w, ipa)
    child = s2tt.pa_of(w.entry, level - 1)
    if rmm.granules.get(child).refcount:
        return rtt_error(level), 0, ipa
    new = s2tt.unassigned(Ripas.DESTROYED) if realm.in_par(ipa) else s2tt.unassigned_ns()
    adjust_refcount(rmm, w.table, -1)
    rmm.rtt.write(w.table, w.index, new)
    rmm.tlbi(realm, entry_base(ipa, level - 1), s2tt.map_size(level - 1))
    free_granule(rmm, child)
    return Status.SUCCESS, child, rmm.rtt.skip_non_live(w, ipa)


# --- RMI_RTT_FOLD (digest 5.19) ------------------------------------------------------------------

def _maps_block(entries, level, kinds):
    """The entries are all one of `kinds`, with the same attributes and contiguous PAs aligned
    to a level - 1 block."""
    first = entries[0]
    k = s2tt.kind(first, level)
    base = s2tt.pa_of(first, level)
    if k not in kinds or not s2tt.aligned(base, level - 1):
        return False
    size = s2tt.map_size(level)
    return all(e == s2tt.with_pa(first, level, base + i * size, level)
               for i, e in enumerate(entries))


def _block_of(first, level):
    """The level - 1 block entry equivalent to a table whose first entry is `first`."""
    return s2tt.with_pa(first, level, s2tt.pa_of(first, level), level - 1)


def _fold_empty_table(entries, level):
    """(error, parent entry, parent refcount change) for a table with refcount 0."""
    k = s2tt.kind(entries[0], level)
    if k in s2tt.UNASSIGNED or k == Kind.UNASSIGNED_NS:
        if all(s2tt.kind(e, level) == k for e in entries):
            return None, entries[0], -1
        return rtt_error(level), None, 0
    if _maps_block(entries, level, (Kind.ASSIGNED_NS,)):
        if level <= s2tt.MIN_BLOCK_LEVEL:       # no NS blocks at L0
            return rtt_error(level - 1), None, 0
        return None, _block_of(entries[0], level), -1
    return rtt_error(level), None, 0


def _fold_full_table(entries, level):
    """(error, parent entry, parent refcount change) for a table of 512 DATA entries."""
    if level <= s2tt.MIN_BLOCK_LEVEL:
        return rtt_error(level - 1), None, 0
    if not _maps_block(entries, level, s2tt.ASSIGNED):
        return rtt_error(level), None, 0
    return None, _block_of(entries[0], level), 0


def rtt_fold(rmm, rd_addr, ipa, level):
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    level = signed64(level)
    if not valid_structure_cmd(realm, ipa, level):
        return (Status.ERROR_INPUT,)
    w = rmm.rtt.walk(realm.s2, ipa, level - 1)
    if w.level < level - 1:
        return (rtt_error(w.level),)
    if s2tt.kind(w.entry, level - 1) != Kind.TABLE:
        return (rtt_error(level - 1),)
    child = s2tt.pa_of(w.entry, level - 1)
    g = rmm.granules.get(child)
    entries = rmm.rtt.read_table(child)
    if g.refcount == 0:
        error, parent, parent_delta = _fold_empty_table(entries, level)
    elif g.refcount == s2tt.ENTRIES:
        error, parent, parent_delta = _fold_full_table(entries, level)
    else:
        error = rtt_error(level)
    if error is not None:
        return (error,)
    adjust_refcount(rmm, w.table, parent_delta)
    rmm.rtt.write(w.table, w.index, parent)
    rmm.tlbi(realm, entry_base(ipa, level - 1), s2tt.map_size(level - 1))
    free_granule(rmm, child)
    return Status.SUCCESS, child


# --- RMI_RTT_READ_ENTRY (digest 5.20) ------------------------------------------------------------

def rtt_read_entry(rmm, rd_addr, ipa, level):
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    level = signed64(level)
    if not valid_entry_cmd(realm, ipa, level):
        return (Status.ERROR_INPUT,)
    w = rmm.rtt.walk(realm.s2, ipa, level)
    k = s2tt.kind(w.entry, w.level)
    state, ripas = s2tt.READ_ENTRY.get(k, s2tt.READ_ENTRY[Kind.UNASSIGNED_EMPTY])
    if k == Kind.ASSIGNED_NS:
        desc = s2tt.host_ns_desc(w.entry)
    elif k in s2tt.LIVE:
        desc = s2tt.pa_of(w.entry, w.level)
    else:
        desc = 0
    return Status.SUCCESS, w.level & M64, state, desc, ripas


# --- RMI_RTT_INIT_RIPAS (digest 5.21) ------------------------------------------------------------

INIT_RIPAS = {Kind.UNASSIGNED_EMPTY: Kind.UNASSIGNED_RAM, Kind.ASSIGNED_EMPTY: Kind.ASSIGNED_RAM}


def rtt_init_ripas(rmm, rd_addr, base, top):
    if top <= base:
        return (Status.ERROR_INPUT,)
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    if not (realm.valid_map_addr(base, s2tt.PAGE_LEVEL)
            and realm.valid_map_addr(top, s2tt.PAGE_LEVEL)
            and realm.in_par(base) and realm.in_par(top - s2tt.map_size(s2tt.PAGE_LEVEL))):
        return (Status.ERROR_INPUT,)
    if realm.state != RealmState.NEW:
        return (Status.ERROR_REALM,)
    w = rmm.rtt.walk(realm.s2, base, s2tt.PAGE_LEVEL)
    size = s2tt.map_size(w.level)
    if base % size:
        return (rtt_error(w.level),)
    addr = base
    for index in range(w.index, s2tt.ENTRIES):
        if addr + size > top:
            break
        entry = rmm.rtt.read(w.table, index)
        k = s2tt.kind(entry, w.level)
        if s2tt.drain_pending(entry):
            break
        if k in INIT_RIPAS:
            new = s2tt.with_ripas(entry, w.level, Ripas.RAM)
            rmm.rtt.write(w.table, index, new)
        elif k not in (Kind.UNASSIGNED_RAM, Kind.ASSIGNED_RAM):
            break
        addr += size
    if addr > base:
        return Status.SUCCESS, addr
    return (rtt_error(w.level),)


# --- RMI_RTT_SET_RIPAS (digest 5.22) -------------------------------------------------------------

def find_realm_and_rec(rmm, rd_addr, rec_addr):
    """Lock RD + REC (distinct), the REC not running and belonging to the RD: (realm, rec) or
    an error result (shared by RTT_SET_RIPAS, RTT_SET_S2AP and RTT_DEV_VALIDATE)."""
    if rmm.granules.find_pair(rd_addr, GranuleState.RD, rec_addr, GranuleState.REC) is None:
        return (Status.ERROR_INPUT,)
    rec = rmm.recs[rec_addr]
    if rec.running:
        return (Status.ERROR_REC,)
    if rec.rd != rd_addr:
        return (Status.ERROR_REC,)
    return rmm.realms[rd_addr], rec


def update_ripas(entry, level, ripas, change_destroyed):
    """(new entry, TLBI needed) for a RIPAS change of one entry, or None when the entry stops
    the command (digest 4.8)."""
    k = s2tt.kind(entry, level)
    if k not in s2tt.UNASSIGNED + s2tt.ASSIGNED or s2tt.drain_pending(entry):
        return None
    current = s2tt.RIPAS_OF[k]
    if ripas == Ripas.RAM:
        if current == Ripas.DESTROYED and not change_destroyed:
            return None
        if current == Ripas.RAM:
            return entry, False
        return s2tt.with_ripas(entry, level, Ripas.RAM), False
    if current == Ripas.EMPTY:
        return entry, False
    return s2tt.with_ripas(entry, level, Ripas.EMPTY), k == Kind.ASSIGNED_RAM


def rtt_set_ripas(rmm, rd_addr, rec_addr, base, top):
    if top <= base or top % s2tt.map_size(s2tt.PAGE_LEVEL):
        return (Status.ERROR_INPUT,)
    found = find_realm_and_rec(rmm, rd_addr, rec_addr)
    if len(found) == 1:
        return found
    realm, rec = found
    req = rec.ripas_request
    if base != req.addr or top > req.top:
        return (Status.ERROR_INPUT,)
    w = rmm.rtt.walk(realm.s2, base, s2tt.PAGE_LEVEL)
    if not realm.valid_map_addr(base, w.level):
        return (rtt_error(w.level),)
    size = s2tt.map_size(w.level)
    addr = base
    for index in range(w.index, s2tt.ENTRIES):
        if addr + size > top:
            break
        changed = update_ripas(rmm.rtt.read(w.table, index), w.level, req.ripas,
                               req.change_destroyed)
        if changed is None:
            break
        new, tlbi = changed
        rmm.rtt.write(w.table, index, new)
        if tlbi:
            rmm.tlbi(realm, addr, size)
        addr += size
    if addr > base:
        req.addr = addr
        return Status.SUCCESS, addr
    return (rtt_error(w.level),)


HANDLERS = {
    "RTT_CREATE": rtt_create,
    "RTT_DESTROY": rtt_destroy,
    "RTT_FOLD": rtt_fold,
    "RTT_READ_ENTRY": rtt_read_entry,
    "RTT_INIT_RIPAS": rtt_init_ripas,
    "RTT_SET_RIPAS": rtt_set_ripas,
}
