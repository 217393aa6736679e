"""Memory commands: RMI_RTT_DATA_MAP_INIT (measured), RMI_RTT_DATA_MAP, RMI_RTT_UNPROT_MAP and the
unmaps RMI_RTT_DATA_UNMAP / RTT_UNPROT_UNMAP (/ RTT_DEV_UNMAP) with the v2.0 address-range
semantics (TF-RMM `runtime/rmi/rtt_map.c`, `rtt_unmap.c`, `docs/design/rtt-map-unmap.rst`;
digest 5.23-5.27, 6.6).

Map and unmap commands work within the one RTT that holds the entry at `base` and report the
next IPA to process; the host loops. DATA_MAP and the unmaps are SROs that may yield between
granules (an injected "IRQ pending", as TF-RMM built with RMM_RTT_MAP_UNMAP_CHECK_ISR_EL1):
the entries they own meanwhile carry the drain-pending marker (s2tt.py).
"""

from . import s2tt
from .abi import (
    GRANULE_SIZE,
    AddrType,
    MemState,
    Ripas,
    RmiRttProtMapFlags,
    RmiRttUnmapFlags,
    RmiRttUnprotMapFlags,
    RmiS2apDirect,
    Status,
    incomplete,
    rtt_error,
)
from .addr_list import InputList, OutputList, clip_count, read_list, sz_of_level, write_list
from .granule import GranuleState, free_granule, ns_granule_ok, ns_read, scrub, write_realm
from .measurement import extend_data
from .realm import RealmState, find_realm
from .rtt import adjust_refcount
from .s2tt import Kind
from .sro import SroOp, run_sro

PA_LIMIT = 1 << s2tt.OA_BITS


# --- RMI_RTT_DATA_MAP_INIT (digest 5.23) ---------------------------------------------------------

def rtt_data_map_init(rmm, rd_addr, data_addr, ipa, src_addr, flags):
    if flags not in (0, 1):
        return (Status.ERROR_INPUT,)
    if data_addr == rd_addr:
        return (Status.ERROR_INPUT,)
    if not rmm.granules.is_ns(src_addr):
        return (Status.ERROR_INPUT,)
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    if realm.state != RealmState.NEW:
        return (Status.ERROR_REALM,)
    if not realm.in_par(ipa) or not realm.valid_map_addr(ipa, s2tt.PAGE_LEVEL):
        return (Status.ERROR_INPUT,)
    if not realm.s2.lpa2 and data_addr >= PA_LIMIT:
        return (Status.ERROR_INPUT,)
    w = rmm.rtt.walk(realm.s2, ipa, s2tt.PAGE_LEVEL)
    if w.level != s2tt.PAGE_LEVEL:
        return (rtt_error(w.level),)
    if s2tt.kind(w.entry, w.level) not in s2tt.UNASSIGNED:
        return (rtt_error(s2tt.PAGE_LEVEL),)
    if s2tt.drain_pending(w.entry):
        return (Status.BUSY,)
    if data_addr == w.table or rmm.granules.find(data_addr, GranuleState.DELEGATED) is None:
        return (Status.ERROR_INPUT,)
    content = ns_read(rmm, src_addr, GRANULE_SIZE)
    if content is None:
        return (Status.ERROR_INPUT,)
    write_realm(rmm, data_addr, content)
    realm.rim = extend_data(realm.rim, realm.algorithm, ipa, flags, content)
    rmm.rtt.write(w.table, w.index, s2tt.assigned(data_addr, s2tt.PAGE_LEVEL, Ripas.RAM))
    adjust_refcount(rmm, w.table, +1)
    rmm.granules.transition(data_addr, GranuleState.DATA, owner=rd_addr)
    return (Status.SUCCESS,)


# --- the common part of the range map commands (digest 5.24 steps 4-9) ---------------------------

def input_descriptors(rmm, oaddr_type, list_count, oaddr):
    """The InputList of a map command's oaddr, or None (ERROR_INPUT)."""
    if oaddr_type == AddrType.SINGLE:
        rmm.note("descs", [oaddr])
        return InputList([oaddr])
    if oaddr_type == AddrType.LIST:
        if oaddr % 8:
            return None
        count = clip_count(oaddr, list_count)
        if count == 0:
            return None
        words = read_list(rmm, oaddr, count, "descs")
        return None if words is None else InputList(words)
    return None


def validate_map(rmm, realm, base, top, oaddr_type, list_count, oaddr, st_expected, in_par):
    """(error, descriptors, level) for a map command; `st_expected` None skips the first
    descriptor's ST check (UNPROT_MAP), `in_par` is the side of the PAR the range must be."""
    if realm.state not in (RealmState.NEW, RealmState.ACTIVE):
        return Status.ERROR_REALM, None, None
    if top <= base:
        return Status.ERROR_INPUT, None, None
    descs = input_descriptors(rmm, oaddr_type, list_count, oaddr)
    if descs is None:
        return Status.ERROR_INPUT, None, None
    sz, st = descs.first()
    level = s2tt.PAGE_LEVEL - sz
    if st_expected is not None and st != st_expected:
        return Status.ERROR_INPUT, None, None
    last = top - GRANULE_SIZE
    range_in_par = realm.in_par(base) and realm.in_par(last)
    if (level < s2tt.MIN_BLOCK_LEVEL or not realm.valid_map_addr(base, level)
            or not realm.valid_map_addr(last, s2tt.PAGE_LEVEL) or range_in_par != in_par):
        return Status.ERROR_INPUT, None, None
    if top - base < s2tt.map_size(level):
        return rtt_error(level), None, None
    return None, descs, level


def pop_block(descs, realm, level, out_top, top, st_expected):
    """Per-block prologue (TF-RMM map_pop_next_block): (error, PA of the next block)."""
    block = descs.pop()
    if block is None:
        return Status.ERROR_INPUT, None
    pa, sz, st = block
    size = s2tt.map_size(level)
    if st_expected is not None and st != st_expected:
        return Status.ERROR_INPUT, None
    if s2tt.PAGE_LEVEL - sz != level:
        return rtt_error(level), None
    if out_top + size > top:
        return rtt_error(level), None
    if pa % size:
        return Status.ERROR_INPUT, None
    if not realm.s2.lpa2 and pa + size > PA_LIMIT:
        return Status.ERROR_INPUT, None
    return None, pa


def partial_progress(status, out_top, base):
    """Any block mapped makes the call a SUCCESS with X1 = out_top (digest 5.24 step 11)."""
    if out_top > base or status == Status.SUCCESS:
        return Status.SUCCESS, out_top
    return (status,)


# --- RMI_RTT_DATA_MAP (digest 5.24) --------------------------------------------------------------

class DataMapDrain(SroOp):
    """One DATA block being mapped: its entry is stamped drain-pending and each backing granule
    is claimed (DELEGATED -> DATA, zeroed) in turn; the call may yield between granules."""

    def __init__(self, realm, table, index, pa, level, ipa, init_base):
        self.rd, self.table, self.index = realm.rd, table, index
        self.pa, self.level, self.ipa, self.init_base = pa, level, ipa, init_base
        self.offset = 0

    def drain(self, rmm):
        """(status, yielded)."""
        size = s2tt.map_size(self.level)
        while self.offset < size:
            if rmm.inject.incomplete():
                return Status.SUCCESS, True
            pa = self.pa + self.offset
            if rmm.granules.find(pa, GranuleState.DELEGATED) is None:
                return self.rollback(rmm), False
            scrub(rmm, pa)
            rmm.granules.transition(pa, GranuleState.DATA, owner=self.rd)
            self.offset += GRANULE_SIZE
        stamped = rmm.rtt.read(self.table, self.index)
        ripas = s2tt.RIPAS_OF[s2tt.kind(stamped, self.level)]
        rmm.rtt.write(self.table, self.index, s2tt.assigned(self.pa, self.level, ripas))
        return Status.SUCCESS, False

    def rollback(self, rmm):
        for offset in range(0, self.offset, GRANULE_SIZE):
            free_granule(rmm, self.pa + offset)
        stamped = rmm.rtt.read(self.table, self.index)
        rmm.rtt.write(self.table, self.index, s2tt.clear_drain_pending(stamped))
        adjust_refcount(rmm, self.table, -1)
        return Status.ERROR_INPUT

    def resume(self, rmm, ctx):
        status, yielded = self.drain(rmm)
        if yielded:
            return incomplete(), 0
        if status != Status.SUCCESS:
            return partial_progress(status, self.ipa, self.init_base)
        return Status.SUCCESS, self.ipa + s2tt.map_size(self.level)


def _data_map_entry(rmm, entry, pa, level):
    """Status for mapping `pa` at an entry: None = map it, SUCCESS = already mapped there."""
    k = s2tt.kind(entry, level)
    if k in s2tt.ASSIGNED:
        return Status.SUCCESS if s2tt.pa_of(entry, level) == pa else rtt_error(level)
    if k not in s2tt.UNASSIGNED:
        return rtt_error(level)
    if s2tt.drain_pending(entry):
        return Status.BUSY
    return None


def rtt_data_map(rmm, rd_addr, base, top, flags, oaddr):
    def body(ctx):
        realm = find_realm(rmm, rd_addr)
        if realm is None:
            return (Status.ERROR_INPUT,)
        error, descs, level = validate_map(
            rmm, realm, base, top, RmiRttProtMapFlags.get(flags, "oaddr_type"),
            RmiRttProtMapFlags.get(flags, "list_count"), oaddr, MemState.DELEGATED, True)
        if error is not None:
            return (error,)
        w = rmm.rtt.walk(realm.s2, base, level)
        if w.level != level:
            return (rtt_error(w.level),)
        size = s2tt.map_size(level)
        out_top, status = base, Status.SUCCESS
        for index in range(w.index, s2tt.ENTRIES):
            if rmm.inject.incomplete():          # IRQ pending between blocks: stop here
                break
            error, pa = pop_block(descs, realm, level, out_top, top, MemState.DELEGATED)
            if error is not None:
                status = error
                break
            entry = rmm.rtt.read(w.table, index)
            verdict = _data_map_entry(rmm, entry, pa, level)
            if verdict is None:
                rmm.rtt.write(w.table, index, s2tt.set_drain_pending(entry, ctx.handle))
                adjust_refcount(rmm, w.table, +1)
                drain = DataMapDrain(realm, w.table, index, pa, level, out_top, base)
                verdict, yielded = drain.drain(rmm)
                if yielded:
                    ctx.op = drain
                    return incomplete(), ctx.handle
            if verdict != Status.SUCCESS:
                status = verdict
                break
            out_top += size
        return partial_progress(status, out_top, base)

    return run_sro(rmm, body)


# --- RMI_RTT_UNPROT_MAP (digest 5.26) ------------------------------------------------------------

def unprot_attrs(realm, flags):
    """The MemAttr/S2AP bits of the NS descriptors, or None for bad S2AP bits."""
    s2ap = RmiRttUnprotMapFlags.get(flags, "s2ap")
    if RmiS2apDirect.reserved(s2ap):
        return None
    attrs = RmiRttUnprotMapFlags.get(flags, "memattr") << s2tt.MEMATTR_SHIFT
    if RmiS2apDirect.get(s2ap, "read"):
        attrs |= s2tt.AP_R
    if RmiS2apDirect.get(s2ap, "write"):
        attrs |= s2tt.AP_W
    return attrs


def host_ns_desc_valid(realm, host_desc, level):
    memattr = (host_desc & s2tt.NS_MEMATTR_MASK) >> s2tt.MEMATTR_SHIFT
    pa = host_desc & s2tt.OA_MASK
    return memattr != s2tt.MEMATTR_FWB_RESERVED and s2tt.aligned(pa, level) and pa < PA_LIMIT


def rtt_unprot_map(rmm, rd_addr, base, top, flags, oaddr):
    realm = find_realm(rmm, rd_addr)
    if realm is None:
        return (Status.ERROR_INPUT,)
    # The range may not lie entirely inside the PAR; the descriptors' ST is not checked.
    error, descs, level = validate_map(
        rmm, realm, base, top, RmiRttUnprotMapFlags.get(flags, "oaddr_type"),
        RmiRttUnprotMapFlags.get(flags, "list_count"), oaddr, None, False)
    if error is not None:
        return (error,)
    attrs = unprot_attrs(realm, flags)
    if attrs is None:
        return (Status.ERROR_INPUT,)
    w = rmm.rtt.walk(realm.s2, base, level)
    if w.level != level:
        return (rtt_error(w.level),)
    size = s2tt.map_size(level)
    out_top, status = base, Status.SUCCESS
    for index in range(w.index, s2tt.ENTRIES):
        if rmm.inject.incomplete():
            break
        error, pa = pop_block(descs, realm, level, out_top, top, None)
        if error is not None:
            status = error
            break
        host_desc = pa | attrs
        if not host_ns_desc_valid(realm, host_desc, level):
            status = Status.ERROR_INPUT
            break
        entry = rmm.rtt.read(w.table, index)
        new = s2tt.assigned_ns(host_desc, level)
        if s2tt.drain_pending(entry):
            status = rtt_error(level)
            break
        if s2tt.kind(entry, level) == Kind.UNASSIGNED_NS:
            rmm.rtt.write(w.table, index, new)
        elif entry != new:                     # identical assigned_ns: idempotent
            status = rtt_error(level)
            break
        out_top += size
    return partial_progress(status, out_top, base)


# --- the unmaps (digest 5.25, 5.27) --------------------------------------------------------------

class Flavour:
    """What an unmap command unmaps: the kinds it owns, what they become, the ST of the
    descriptors it reports, and whether the entry's refcount pin is transient."""

    def __init__(self, name, in_par, owns, st, data):
        self.name, self.in_par, self.owns, self.st, self.data = name, in_par, owns, st, data

    def unmapped(self, kind):
        if kind == Kind.ASSIGNED_NS:
            return s2tt.unassigned_ns()
        if kind == Kind.ASSIGNED_RAM:
            return s2tt.unassigned(Ripas.DESTROYED)
        return s2tt.unassigned(s2tt.RIPAS_OF[kind])


DATA = Flavour("data", True, s2tt.ASSIGNED, MemState.DELEGATED, True)
# The digest reports the NS PAs of UNPROT_UNMAP with the ST bit clear.
UNPROT = Flavour("unprot", False, (Kind.ASSIGNED_NS,), MemState.DELEGATED, False)
DEV = Flavour("dev", True, (), MemState.DELEGATED, True)       # no assigned_dev entries exist


def validate_unmap(rmm, realm, base, top, flags, oaddr, flavour):
    """(ok, oaddr type, output capacity) (digest 5.25 step 3)."""
    oaddr_type = RmiRttUnmapFlags.get(flags, "oaddr_type")
    list_count = RmiRttUnmapFlags.get(flags, "list_count")
    last = top - GRANULE_SIZE
    if base % GRANULE_SIZE or top % GRANULE_SIZE or top <= base:
        return False, None, 0
    if not realm.valid_map_addr(base, s2tt.PAGE_LEVEL) or not realm.valid_map_addr(
            last, s2tt.PAGE_LEVEL):
        return False, None, 0
    inside = (realm.in_par(base), realm.in_par(last))
    if inside != (flavour.in_par, flavour.in_par):
        return False, None, 0
    if oaddr_type in (AddrType.NONE, AddrType.SINGLE):
        return (oaddr == 0 and list_count == 0), oaddr_type, 1
    if oaddr_type == AddrType.LIST:
        if list_count == 0 or oaddr % 8 or not ns_granule_ok(rmm, oaddr):
            return False, None, 0
        return True, oaddr_type, clip_count(oaddr, list_count)
    return False, None, 0


class UnmapDrain(SroOp):
    """The deferred part of an unmap (digest 6.6, rtt-map-unmap.rst "Deferred phase"): TLB
    invalidation of the entries that were valid, DATA granules back to DELEGATED, then the
    markers cleared and the refcount pins dropped. May yield between steps."""

    def __init__(self, realm, table, level, stamped, flavour, oaddr_type, oaddr, out, cur_base):
        self.realm, self.table, self.level = realm, table, level
        self.stamped = stamped                 # [(index, ipa, pa, was_valid)]
        self.flavour, self.oaddr_type, self.oaddr = flavour, oaddr_type, oaddr
        self.out, self.cur_base = out, cur_base
        self.tlbi_done = self.granules_done = 0

    def _tlbi(self, rmm):
        size = s2tt.map_size(self.level)
        while self.tlbi_done < len(self.stamped):
            index, ipa, _, was_valid = self.stamped[self.tlbi_done]
            if was_valid:
                if rmm.inject.incomplete():
                    return True
                rmm.tlbi(self.realm, ipa, size)
                entry = rmm.rtt.read(self.table, index)
                rmm.rtt.write(self.table, index, entry & ~s2tt.SW_TLBI_PENDING)
            self.tlbi_done += 1
        return False

    def _release_granules(self, rmm):
        granules = [pa + off for _, _, pa, _ in self.stamped
                    for off in range(0, s2tt.map_size(self.level), GRANULE_SIZE)]
        while self.flavour.data and self.granules_done < len(granules):
            if rmm.inject.incomplete():
                return True
            free_granule(rmm, granules[self.granules_done])
            self.granules_done += 1
        return False

    def run(self, rmm):
        if self._tlbi(rmm) or self._release_granules(rmm):
            return incomplete(), None
        for index, _, _, _ in self.stamped:
            entry = rmm.rtt.read(self.table, index)
            rmm.rtt.write(self.table, index, s2tt.clear_drain_pending(entry))
        adjust_refcount(rmm, self.table, -len(self.stamped))
        return self.result(rmm)

    def result(self, rmm):
        words = self.out.words()
        if self.oaddr_type == AddrType.SINGLE:
            return Status.SUCCESS, self.cur_base, words[0] if words else 0, 0
        if self.oaddr_type == AddrType.LIST:
            written = words if write_list(rmm, self.oaddr, words) else []
            return Status.SUCCESS, self.cur_base, 0, len(written)
        return Status.SUCCESS, self.cur_base, 0, 0

    def resume(self, rmm, ctx):
        out = self.run(rmm)
        if out[1] is None:
            return incomplete(), 0
        return out


def sweep(rmm, ctx, w, base, top, flavour, oaddr_type, capacity):
    """Unmap the live entries `flavour` owns in the RTT of `w`, from `w.index` (digest 5.25
    step 5). Returns (error, stamped entries, output list, first IPA not processed)."""
    level, size = w.level, s2tt.map_size(w.level)
    out = OutputList(capacity)
    stamped, prev_pa, addr = [], None, base
    for index in range(w.index, s2tt.ENTRIES):
        first = index == w.index
        entry = rmm.rtt.read(w.table, index)
        k = s2tt.kind(entry, level)
        too_big = addr + size > top
        if k not in s2tt.LIVE:                 # includes the entries an SRO owns
            if too_big:
                if first:
                    return rtt_error(level), None, None, None
                break
            addr += size
            continue
        # Only the first entry turns these into errors; later they end the sweep.
        if too_big or k == Kind.TABLE or k not in flavour.owns:
            if first:
                return rtt_error(level), None, None, None
            break
        pa = s2tt.pa_of(entry, level)
        if oaddr_type == AddrType.SINGLE and prev_pa is not None and pa != prev_pa + size:
            break
        if oaddr_type != AddrType.NONE and not out.add(pa, sz_of_level(level), flavour.st):
            break
        was_valid = bool(entry & s2tt.DESC_VALID)
        new = s2tt.set_drain_pending(flavour.unmapped(k), ctx.handle)
        rmm.rtt.write(w.table, index, new | (s2tt.SW_TLBI_PENDING if was_valid else 0))
        if not flavour.data:
            adjust_refcount(rmm, w.table, +1)  # transient pin of an NS entry
        stamped.append((index, addr, pa, was_valid))
        prev_pa = pa
        addr += size
    return None, stamped, out, addr


def rtt_unmap(rmm, flavour, rd_addr, base, top, flags, oaddr):
    def body(ctx):
        realm = find_realm(rmm, rd_addr)
        if realm is None:
            return (Status.ERROR_INPUT,)
        ok, oaddr_type, capacity = validate_unmap(rmm, realm, base, top, flags, oaddr, flavour)
        if not ok:
            return (Status.ERROR_INPUT,)
        w = rmm.rtt.walk(realm.s2, base, s2tt.PAGE_LEVEL)
        if not s2tt.aligned(base, w.level):
            return rtt_error(w.level), 0, 0, 0
        error, stamped, out, cur_base = sweep(rmm, ctx, w, base, top, flavour, oaddr_type,
                                              capacity)
        if error is not None:
            return error, 0, 0, 0
        drain = UnmapDrain(realm, w.table, w.level, stamped, flavour, oaddr_type, oaddr, out,
                           cur_base)
        result = drain.run(rmm)
        if result[1] is None:
            ctx.op = drain
            return incomplete(), ctx.handle
        return result

    return run_sro(rmm, body)


def rtt_data_unmap(rmm, rd_addr, base, top, flags, oaddr):
    return rtt_unmap(rmm, DATA, rd_addr, base, top, flags, oaddr)


def rtt_unprot_unmap(rmm, rd_addr, base, top, flags, oaddr):
    return rtt_unmap(rmm, UNPROT, rd_addr, base, top, flags, oaddr)


def rtt_dev_unmap(rmm, rd_addr, base, top, flags, oaddr):
    return rtt_unmap(rmm, DEV, rd_addr, base, top, flags, oaddr)


HANDLERS = {
    "RTT_DATA_MAP_INIT": rtt_data_map_init,
    "RTT_DATA_MAP": rtt_data_map,
    "RTT_UNPROT_MAP": rtt_unprot_map,
    "RTT_DATA_UNMAP": rtt_data_unmap,
    "RTT_UNPROT_UNMAP": rtt_unprot_unmap,
    "RTT_DEV_UNMAP": rtt_dev_unmap,
}
