"""Builders for VMSAv8-64 translation tables (4 KB granule) and granule protection tables, in
the architected formats, written into a test CPU's memory. Written from the Arm ARM's
descriptor diagrams (D8.3, D9.6), independently of machine/cpu/walk.py and gpc.py."""

import struct

# Stage 1 block/page descriptor fields
VALID, TABLE_OR_PAGE = 1 << 0, 1 << 1
NS = 1 << 5
AP_EL0 = 1 << 6          # AP[1]: EL0 access
AP_RO = 1 << 7           # AP[2]: read-only
SH_INNER = 3 << 8
AF = 1 << 10
NSE = 1 << 11            # EL3 with RME: NSE (instead of nG)
PXN = 1 << 53
UXN = XN = 1 << 54
# Stage 2
S2AP_R, S2AP_W = 1 << 6, 1 << 7
S2_NORMAL = 0xF << 2     # MemAttr: Normal, outer/inner write-back
S2_NS = 1 << 55          # Realm stage 2: NS (unprotected IPA)

NORMAL = SH_INNER | AF               # AttrIndx 0 (MAIR attr0 = 0xFF)
S2_RW = S2AP_R | S2AP_W | S2_NORMAL | SH_INNER | AF


class TableBuilder:
    """Allocates table pages from [pool, pool + size) and maps addresses into a tree whose
    root resolves `root_bits` bits at `start_level` (more than 9 = concatenated tables)."""

    def __init__(self, cpu, pool, size, start_level=0, ia_bits=48):
        self.cpu, self.next, self.end = cpu, pool, pool + size
        self.start_level, self.ia_bits = start_level, ia_bits
        top_shift = 12 + 9 * (3 - start_level)
        root_entries = 1 << (ia_bits - top_shift)
        self.root = self.alloc(max(8 * root_entries, 0x1000))

    def alloc(self, size=0x1000):
        base = (self.next + size - 1) & ~(size - 1)
        if base + size > self.end:
            raise MemoryError("page-table pool exhausted")
        self.next = base + size
        self.cpu.write(base, bytes(size))
        return base

    def _read(self, address):
        return struct.unpack("<Q", self.cpu.read(address, 8))[0]

    def _write(self, address, value):
        self.cpu.write(address, struct.pack("<Q", value))

    def entry_address(self, va, level):
        """Address of the descriptor for `va` at `level`, creating tables on the way."""
        table = self.root
        for lvl in range(self.start_level, level + 1):
            shift = 12 + 9 * (3 - lvl)
            bits = self.ia_bits - shift if lvl == self.start_level else 9
            address = table + 8 * ((va >> shift) & ((1 << bits) - 1))
            if lvl == level:
                return address
            desc = self._read(address)
            if not desc & VALID:
                desc = self.alloc() | VALID | TABLE_OR_PAGE
                self._write(address, desc)
            table = desc & 0xFFFF_FFFF_F000
        raise AssertionError("unreachable")

    def map(self, va, pa, attrs, level=3):
        """Map one page (level 3), 2 MB block (level 2) or 1 GB block (level 1)."""
        kind = VALID | TABLE_OR_PAGE if level == 3 else VALID
        self._write(self.entry_address(va, level), pa | attrs | kind)

    def set_descriptor(self, va, level, value):
        self._write(self.entry_address(va, level), value)

    def table_descriptor_address(self, va, level):
        return self.entry_address(va, level)


def tcr_el1(t0sz=16, ips=5):
    """TCR_EL1 for TTBR0 walks with the 4 KB granule, TTBR1 walks disabled."""
    return t0sz | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (ips << 32)


def tcr_el2(t0sz=16, ps=5):
    return t0sz | (1 << 8) | (1 << 10) | (3 << 12) | (ps << 16) | (1 << 23) | (1 << 31)


def vtcr_el2(t0sz, sl0, ps=5):
    return t0sz | (sl0 << 6) | (1 << 8) | (1 << 10) | (3 << 12) | (ps << 16) | (1 << 31)


SCTLR_M = 1


# --- granule protection tables (D9.6) ------------------------------------------------------------

GPI_NO_ACCESS, GPI_SECURE, GPI_NS, GPI_ROOT, GPI_REALM, GPI_ANY = 0, 8, 9, 0xA, 0xB, 0xF


class GptBuilder:
    """A GPT with PPS = 40 bits (GPCCR.PPS=2), 4 KB granules and 1 GB L0 entries."""

    PPS = 2
    GPCCR = PPS | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 16)   # PPS, IRGN/ORGN WB, SH, GPC

    def __init__(self, cpu, l0_base, pool):
        self.cpu, self.l0, self.pool = cpu, l0_base, pool
        cpu.write(l0_base, bytes(8 * 1024))

    def l0_block(self, gb, gpi):
        self.cpu.write(self.l0 + 8 * gb, struct.pack("<Q", 0b0001 | (gpi << 4)))

    def l0_table(self, gb, default_gpi):
        """Give 1 GB region `gb` an L1 table with every granule at `default_gpi`."""
        l1 = self.pool
        self.pool += 0x20000
        entry = sum(default_gpi << (4 * i) for i in range(16))
        self.cpu.write(l1, struct.pack("<Q", entry) * 16384)
        self.cpu.write(self.l0 + 8 * gb, struct.pack("<Q", l1 | 0b0011))
        return l1

    def l1_address(self, pa):
        l0 = struct.unpack("<Q", self.cpu.read(self.l0 + 8 * (pa >> 30), 8))[0]
        assert l0 & 0xF == 0b0011
        return (l0 & 0xFFFF_FFFF_F000) + 8 * ((pa & 0x3FFF_FFFF) >> 16)

    def set_gpi(self, pa, gpi):
        address = self.l1_address(pa)
        entry = struct.unpack("<Q", self.cpu.read(address, 8))[0]
        shift = 4 * ((pa >> 12) & 0xF)
        entry = (entry & ~(0xF << shift)) | (gpi << shift)
        self.cpu.write(address, struct.pack("<Q", entry))

    def set_l1_raw(self, pa, value):
        self.cpu.write(self.l1_address(pa), struct.pack("<Q", value))
