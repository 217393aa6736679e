"""The granule protection table the EL3 firmware owns: built at boot in the layout TF-A uses
on the FVP (fact sheet 1.3/1.4), in the architected format the CPU's GPC reads
(machine/cpu/gpc.py), and changed one granule at a time by the granule transition service
(RMM_GTSI_DELEGATE/UNDELEGATE, fact sheet 4.9)."""

import struct

from machine.cpu.gpc import (
    GPI_ANY,
    GPI_NONSECURE,
    GPI_REALM,
    GPI_ROOT,
    GPI_SECURE,
    PPS_BITS,
)

GPI_BY_NAME = {"nonsecure": GPI_NONSECURE, "secure": GPI_SECURE, "realm": GPI_REALM,
               "root": GPI_ROOT, "any": GPI_ANY}

GPCCR_EL3 = 0x0001_3502       # PPS 1 TB, IRGN/ORGN write-back, inner shareable, 4 KB, GPC
PPS = PPS_BITS[GPCCR_EL3 & 7]
L0_SHIFT = 30                 # L0GPTSZ: 1 GB per L0 entry
L0_ENTRIES = 1 << (PPS - L0_SHIFT)
L1_TABLE_SIZE = 8 * ((1 << L0_SHIFT) >> 16)      # 128 KB: one entry per 16 granules
GRANULE = 0x1000

# Granule transition service results (RMM-EL3 interface)
E_RMM_OK, E_RMM_BAD_ADDR, E_RMM_BAD_PAS = 0, -2, -3


class GranuleProtectionTable:
    """`regions` is a list of (base, size, gpi) given L1 tables at 4 KB granularity; the rest
    of the protected space is GPI ANY through L0 block descriptors."""

    def __init__(self, bus, l0_base, l1_base, l1_size, regions):
        self.bus = bus
        self.l0_base = l0_base
        self.l1_next, self.l1_end = l1_base, l1_base + l1_size
        self._write(l0_base, b"".join(struct.pack("<Q", 0b0001 | (GPI_ANY << 4))
                                      for _ in range(L0_ENTRIES)))
        for base, size, gpi in regions:
            self.set_range(base, size, gpi)

    @property
    def gptbr(self):
        return self.l0_base >> 12

    def _write(self, pa, data):
        self.bus.write_bytes(pa, data)

    def _read64(self, pa):
        return struct.unpack("<Q", self.bus.read_bytes(pa, 8))[0]

    def _l1_table(self, index, create):
        l0 = self._read64(self.l0_base + 8 * index)
        if l0 & 0xF == 0b0011:
            return l0 & 0xFFFF_FFFF_F000
        if not create:
            return None
        if self.l1_next + L1_TABLE_SIZE > self.l1_end:
            raise MemoryError("GPT L1 area exhausted")
        table = self.l1_next
        self.l1_next += L1_TABLE_SIZE
        fill = (l0 >> 4) & 0xF
        self._write(table, struct.pack("<Q", sum(fill << (4 * i) for i in range(16)))
                    * (L1_TABLE_SIZE // 8))
        self._write(self.l0_base + 8 * index, struct.pack("<Q", table | 0b0011))
        return table

    def _entry_address(self, pa, create=False):
        table = self._l1_table(pa >> L0_SHIFT, create)
        if table is None:
            return None
        return table + 8 * ((pa & ((1 << L0_SHIFT) - 1)) >> 16)

    def gpi(self, pa):
        address = self._entry_address(pa)
        if address is None:
            return (self._read64(self.l0_base + 8 * (pa >> L0_SHIFT)) >> 4) & 0xF
        return (self._read64(address) >> (4 * ((pa >> 12) & 0xF))) & 0xF

    def set_gpi(self, pa, gpi, create=True):
        address = self._entry_address(pa, create)
        entry = self._read64(address)
        shift = 4 * ((pa >> 12) & 0xF)
        entry = (entry & ~(0xF << shift)) | (gpi << shift)
        self._write(address, struct.pack("<Q", entry))

    def set_range(self, base, size, gpi):
        """Give every granule of [base, base + size) the GPI `gpi`: whole 64 KB L1 entries are
        written in one run per 1 GB table, the partial ones granule by granule."""
        end = base + size
        full_lo = (base + 0xFFFF) & ~0xFFFF
        full_hi = end & ~0xFFFF
        if full_lo >= full_hi:
            full_lo = full_hi = end
        for pa in range(base, min(full_lo, end), GRANULE):
            self.set_gpi(pa, gpi)
        entry = struct.pack("<Q", sum(gpi << (4 * i) for i in range(16)))
        pa = full_lo
        while pa < full_hi:
            chunk_end = min(full_hi, ((pa >> L0_SHIFT) + 1) << L0_SHIFT)
            self._write(self._entry_address(pa, create=True), entry * ((chunk_end - pa) >> 16))
            pa = chunk_end
        for pa in range(max(full_hi, base), end, GRANULE):
            self.set_gpi(pa, gpi)

    # --- the granule transition service ------------------------------------------------------

    def transition(self, pa, from_gpi, to_gpi):
        """Change one granule's GPI from `from_gpi` to `to_gpi` (TF-A gpt_transition_pas)."""
        if pa & (GRANULE - 1) or pa + GRANULE > (1 << PPS):
            return E_RMM_BAD_ADDR
        if self._entry_address(pa) is None:      # covered by an L0 block
            return E_RMM_BAD_ADDR
        if self.gpi(pa) != from_gpi:
            return E_RMM_BAD_PAS
        self.set_gpi(pa, to_gpi, create=False)
        return E_RMM_OK

    def delegate(self, pa):
        return self.transition(pa, GPI_NONSECURE, GPI_REALM)

    def undelegate(self, pa):
        return self.transition(pa, GPI_REALM, GPI_NONSECURE)
