"""Realm Translation Tables: real VMSAv8-64 stage 2 tables (4 KB granule) inside RTT granules,
so that the CPU's stage 2 walker (machine.cpu.walk.Walker.stage2) translates realm IPAs
through them, with the RMM's HIPAS/RIPAS state kept in the software bits of invalid
descriptors as TF-RMM does (TF-RMM `lib/s2tt/src/s2tt_pvt_defs.h`):

    valid (bit 0 = 1)       page (L3) / block (L1, L2) / table descriptors;
                            protected: AF, S2AP RW, inner shareable, MemAttr 0b1111 (Normal WB);
                            unprotected (bit 55 NS): MemAttr[2:0] and S2AP from the host, XN
    invalid (bit 0 = 0)     HIPAS [5:3] (0 unassigned, 1 assigned, 3 assigned_dev),
                            RIPAS [2:1] (0 empty, 1 ram, 2 destroyed), NS [55],
                            OA [47:12] for assigned_empty/assigned_destroyed
    SRO ownership           on unassigned forms only, in the OA field: bit 32 DRAIN_PENDING,
                            bit 33 TLBI_PENDING, [31:16] the SRO handle
                            (TF-RMM docs/design/rtt-map-unmap.rst)

Every access to an RTT goes through the platform in the Realm PAS; the tables in memory are
the only copy of the RMM's stage 2 state.
"""

import struct
from enum import IntEnum
from typing import NamedTuple

from machine.cpu.gpc import PAS_REALM

from .abi import GRANULE_SIZE, Ripas, RttEntryState

ENTRIES = GRANULE_SIZE // 8
PAGE_LEVEL = 3
MIN_BLOCK_LEVEL = 1
OA_BITS = 48
OA_MASK = ((1 << OA_BITS) - 1) & ~(GRANULE_SIZE - 1)

DESC_VALID = 1
DESC_TYPE_MASK = 3
DESC_TABLE = DESC_PAGE = 3
DESC_BLOCK = 1
HIPAS_SHIFT, HIPAS_MASK = 3, 7 << 3
RIPAS_SHIFT, RIPAS_MASK = 1, 3 << 1
HIPAS_UNASSIGNED, HIPAS_ASSIGNED, HIPAS_ASSIGNED_DEV = 0, 1, 3
NS = 1 << 55
XN = 1 << 54                      # XN[1]: no execution at EL1/EL0 (unprotected memory)
AF = 1 << 10
SH_IS = 3 << 8
AP_SHIFT, AP_MASK = 6, 3 << 6     # S2AP[0] (bit 6) read, S2AP[1] (bit 7) write
AP_R, AP_W = 1 << 6, 1 << 7
MEMATTR_SHIFT = 2
MEMATTR_MASK = 0xF << 2
NS_MEMATTR_MASK = 7 << 2          # the host's MemAttr[2:0] (FWB encoding) for NS mappings
MEMATTR_NORMAL_WB = 0b1111 << 2
PROTECTED_ATTRS = MEMATTR_NORMAL_WB | AP_R | AP_W | SH_IS | AF
NS_ATTRS_RMM = AF | NS | XN | SH_IS
HOST_NS_MASK = OA_MASK | NS_MEMATTR_MASK | AP_MASK   # what the host sees of an NS mapping
MEMATTR_FWB_RESERVED = 0b100

SW_TLBI_PENDING = 1 << 33
SW_DRAIN_PENDING = 1 << 32
SW_HANDLE_SHIFT, SW_HANDLE_MASK = 16, 0xFFFF << 16
SW_MASK = SW_TLBI_PENDING | SW_DRAIN_PENDING | SW_HANDLE_MASK


def level_shift(level):
    return 12 + 9 * (PAGE_LEVEL - level)


def map_size(level):
    return 1 << level_shift(level)


def aligned(addr, level):
    return not addr & (map_size(level) - 1)


class Kind(IntEnum):
    """TF-RMM's RTTE kinds (digest 4.8)."""
    UNASSIGNED_EMPTY = 0
    UNASSIGNED_RAM = 1
    UNASSIGNED_DESTROYED = 2
    ASSIGNED_EMPTY = 3
    ASSIGNED_RAM = 4
    ASSIGNED_DESTROYED = 5
    UNASSIGNED_NS = 6
    ASSIGNED_NS = 7
    TABLE = 8
    INVALID = 9                   # an encoding the RMM never writes


UNASSIGNED = (Kind.UNASSIGNED_EMPTY, Kind.UNASSIGNED_RAM, Kind.UNASSIGNED_DESTROYED)
ASSIGNED = (Kind.ASSIGNED_EMPTY, Kind.ASSIGNED_RAM, Kind.ASSIGNED_DESTROYED)
LIVE = ASSIGNED + (Kind.ASSIGNED_NS, Kind.TABLE)          # "has a PA"
UNASSIGNED_OF = dict(zip((Ripas.EMPTY, Ripas.RAM, Ripas.DESTROYED), UNASSIGNED, strict=True))
ASSIGNED_OF = dict(zip((Ripas.EMPTY, Ripas.RAM, Ripas.DESTROYED), ASSIGNED, strict=True))
RIPAS_OF = {**{k: r for r, k in UNASSIGNED_OF.items()}, **{k: r for r, k in ASSIGNED_OF.items()}}

# What RTT_READ_ENTRY reports for each kind: (RmiRttEntryState, RIPAS)
READ_ENTRY = {
    Kind.UNASSIGNED_EMPTY: (RttEntryState.UNASSIGNED, Ripas.EMPTY),
    Kind.UNASSIGNED_RAM: (RttEntryState.UNASSIGNED, Ripas.RAM),
    Kind.UNASSIGNED_DESTROYED: (RttEntryState.UNASSIGNED, Ripas.DESTROYED),
    Kind.ASSIGNED_EMPTY: (RttEntryState.ASSIGNED, Ripas.EMPTY),
    Kind.ASSIGNED_RAM: (RttEntryState.ASSIGNED, Ripas.RAM),
    Kind.ASSIGNED_DESTROYED: (RttEntryState.ASSIGNED, Ripas.DESTROYED),
    Kind.UNASSIGNED_NS: (RttEntryState.UNASSIGNED, Ripas.EMPTY),
    Kind.ASSIGNED_NS: (RttEntryState.ASSIGNED, Ripas.EMPTY),
    Kind.TABLE: (RttEntryState.TABLE, Ripas.EMPTY),
}


def kind(entry, level):
    if entry & DESC_VALID:
        if entry & DESC_TYPE_MASK == DESC_TABLE and level < PAGE_LEVEL:
            return Kind.TABLE
        if level == PAGE_LEVEL and entry & DESC_TYPE_MASK != DESC_PAGE:
            return Kind.INVALID
        return Kind.ASSIGNED_NS if entry & NS else Kind.ASSIGNED_RAM
    if entry & NS:
        return Kind.UNASSIGNED_NS
    hipas = (entry & HIPAS_MASK) >> HIPAS_SHIFT
    ripas = (entry & RIPAS_MASK) >> RIPAS_SHIFT
    if hipas == HIPAS_UNASSIGNED and ripas <= Ripas.DESTROYED:
        return UNASSIGNED[ripas]
    if hipas == HIPAS_ASSIGNED and ripas in (Ripas.EMPTY, Ripas.DESTROYED):
        return ASSIGNED_OF[Ripas(ripas)]
    return Kind.INVALID


def pa_of(entry, level):
    """The output address of a page/block/assigned entry, or the next-level table's address
    of a table entry."""
    if entry & DESC_TYPE_MASK == DESC_TABLE and level < PAGE_LEVEL:
        return entry & OA_MASK
    return entry & OA_MASK & ~(map_size(level) - 1)


# --- constructors --------------------------------------------------------------------------------

def unassigned(ripas):
    return (HIPAS_UNASSIGNED << HIPAS_SHIFT) | (ripas << RIPAS_SHIFT)


def unassigned_ns():
    return NS


def assigned(pa, level, ripas):
    """The entry of a DATA block at `pa` with `ripas`: HW-valid only when RIPAS is RAM."""
    if ripas == Ripas.RAM:
        return pa | PROTECTED_ATTRS | (DESC_PAGE if level == PAGE_LEVEL else DESC_BLOCK)
    return pa | (HIPAS_ASSIGNED << HIPAS_SHIFT) | (ripas << RIPAS_SHIFT)


def assigned_ns(host_desc, level):
    """An NS mapping from the host-visible descriptor (PA | MemAttr[2:0] | S2AP)."""
    return ((host_desc & HOST_NS_MASK) | NS_ATTRS_RMM
            | (DESC_PAGE if level == PAGE_LEVEL else DESC_BLOCK))


def table(pa):
    return pa | DESC_TABLE


def with_pa(entry, entry_level, pa, level):
    """The level-`level` entry at output address `pa` of the same kind and attributes as the
    level-`entry_level` (assigned or assigned_ns) `entry`."""
    k = kind(entry, entry_level)
    if k == Kind.ASSIGNED_NS:
        return assigned_ns((entry & ~OA_MASK) | pa, level)
    return assigned(pa, level, RIPAS_OF[k])


def with_ripas(entry, level, ripas):
    """A protected entry (unassigned or assigned) with its RIPAS changed."""
    if kind(entry, level) in UNASSIGNED:
        return unassigned(ripas)
    return assigned(pa_of(entry, level), level, ripas)


def host_ns_desc(entry):
    return entry & HOST_NS_MASK


# --- SRO ownership markers -----------------------------------------------------------------------

def drain_pending(entry):
    return not entry & DESC_VALID and bool(entry & SW_DRAIN_PENDING)


def drain_handle(entry):
    return (entry & SW_HANDLE_MASK) >> SW_HANDLE_SHIFT


def set_drain_pending(entry, handle):
    return (entry & ~SW_MASK) | SW_DRAIN_PENDING | (handle << SW_HANDLE_SHIFT)


def clear_drain_pending(entry):
    return entry & ~SW_MASK


def live(entry, level):
    return kind(entry, level) in LIVE


# --- the tables in memory ------------------------------------------------------------------------

class Walk(NamedTuple):
    table: int        # PA of the RTT granule holding the entry
    index: int        # the entry's index in it
    level: int        # the level the walk reached
    entry: int


class Rtts:
    """Reads and writes RTT entries through the platform (Realm PAS)."""

    def __init__(self, platform):
        self.platform = platform

    def read(self, table_pa, index):
        return int.from_bytes(self.platform.read(table_pa + 8 * index, 8, PAS_REALM), "little")

    def write(self, table_pa, index, entry):
        self.platform.write(table_pa + 8 * index, entry.to_bytes(8, "little"), PAS_REALM)

    def read_table(self, table_pa):
        return list(struct.unpack(f"<{ENTRIES}Q",
                                  self.platform.read(table_pa, GRANULE_SIZE, PAS_REALM)))

    def write_table(self, table_pa, entries):
        self.platform.write(table_pa, struct.pack(f"<{ENTRIES}Q", *entries), PAS_REALM)

    def walk(self, s2, ipa, level):
        """Walk towards `level` from the realm's root, stopping at the first entry that is not
        a table (TF-RMM s2tt_walk_lock_unlock). `s2` is the realm's S2 context."""
        lvl = s2.start_level
        root_index = (ipa >> level_shift(lvl)) & ((s2.num_root_rtts * ENTRIES) - 1)
        table_pa = s2.rtt_base + (root_index // ENTRIES) * GRANULE_SIZE
        index = root_index % ENTRIES
        entry = self.read(table_pa, index)
        while lvl < level and kind(entry, lvl) == Kind.TABLE:
            table_pa = pa_of(entry, lvl)
            lvl += 1
            index = (ipa >> level_shift(lvl)) % ENTRIES
            entry = self.read(table_pa, index)
        return Walk(table_pa, index, lvl, entry)

    def skip_non_live(self, w, addr):
        """From entry `w` onwards in its table: `addr` if that entry is live, else the IPA of
        the next live entry, else of the end of the table (TF-RMM
        s2tt_skip_non_live_entries)."""
        entries = self.read_table(w.table)
        if live(entries[w.index], w.level):
            return addr
        size = map_size(w.level)
        base = addr & ~(size - 1)
        for i in range(w.index + 1, ENTRIES):
            if live(entries[i], w.level):
                return base + (i - w.index) * size
        return base + (ENTRIES - w.index) * size
