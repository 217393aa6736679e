"""The one translate-and-check path every instruction fetch and data access goes through.

Fast path: soft TLBs (virtual page -> host bytearray and page offset), separate for reads,
writes and instruction fetch, so permission is implied by presence. Anything else (a TLB miss,
MMIO, an access crossing a page, an alignment check) takes the slow path: `translate`, then the
physical bus. Translation regimes (stage 1/2, the granule protection check) plug into
`translate`; with the MMU off the regime is the identity map over a 48-bit physical space.
"""

import struct

from machine.memory.bus import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, BusError

from .exceptions import DataAbort, InstructionAbort

READ, WRITE, FETCH = 0, 1, 2

PA_BITS = 48

# Fault status codes (ESR_ELx.ISS.DFSC/IFSC), D24.2.40
FSC_ADDRESS_SIZE_L0 = 0x00
FSC_SYNC_EXTERNAL = 0x10
FSC_ALIGNMENT = 0x21

_UNPACK = {2: struct.Struct("<H").unpack_from, 4: struct.Struct("<I").unpack_from,
           8: struct.Struct("<Q").unpack_from}
_PACK = {2: struct.Struct("<H").pack_into, 4: struct.Struct("<I").pack_into,
         8: struct.Struct("<Q").pack_into}
_UNPACK_QQ = struct.Struct("<QQ").unpack_from
_PACK_QQ = struct.Struct("<QQ").pack_into


def fault(va, acc, fsc, extra_iss=0):
    """The abort for a fault of kind `fsc` on an access of kind `acc` to `va`."""
    if acc == FETCH:
        return InstructionAbort(iss=fsc, far=va)
    return DataAbort(iss=fsc | ((acc == WRITE) << 6) | extra_iss, far=va)


class Mmu:
    def __init__(self, state, bus):
        self.s = state
        self.bus = bus
        self.rtlb = {}
        self.wtlb = {}
        self.xtlb = {}
        self.unaligned_ok = True    # False when SCTLR_ELx.A or Device memory forbid it
        bus.tlb_owners.append(self)
        self._build_accessors()

    # --- translation ---------------------------------------------------------------------------

    def translate(self, va, acc):
        """Virtual -> physical for the current regime, or raise the abort."""
        if va >> PA_BITS:
            raise fault(va, acc, FSC_ADDRESS_SIZE_L0)
        return va

    def flush(self):
        self.rtlb.clear()
        self.wtlb.clear()
        self.xtlb.clear()

    def drop_write_page(self, pa_page):
        """Forget write mappings of a physical page (it now holds decoded code)."""
        stale = [vp for vp, (_, _, pp) in self.wtlb.items() if pp == pa_page]
        for vp in stale:
            del self.wtlb[vp]

    def _fill(self, tlb, va, pa):
        host = self.bus.ram_page(pa)
        if host is not None:
            tlb[va >> PAGE_SHIFT] = (host[0], host[1], pa >> PAGE_SHIFT)
        return host

    # --- slow paths -----------------------------------------------------------------------------

    def check_alignment(self, va, size, acc):
        if va & (size - 1):
            raise fault(va, acc, FSC_ALIGNMENT)

    def slow_read(self, va, size):
        if not self.unaligned_ok:
            self.check_alignment(va, size, READ)
        if (va & PAGE_MASK) + size > PAGE_SIZE:
            first = PAGE_SIZE - (va & PAGE_MASK)
            lo = self.slow_read_bytes(va, first)
            hi = self.slow_read_bytes(va + first, size - first)
            return int.from_bytes(lo + hi, "little")
        pa = self.translate(va, READ)
        self._fill(self.rtlb, va, pa)
        try:
            return self.bus.read(pa, size)
        except BusError:
            raise fault(va, READ, FSC_SYNC_EXTERNAL) from None

    def slow_read_bytes(self, va, n):
        return self.slow_read(va, n).to_bytes(n, "little") if n in (1, 2, 4, 8) else \
            bytes(self.slow_read(va + i, 1) for i in range(n))

    def slow_write(self, va, size, value):
        if not self.unaligned_ok:
            self.check_alignment(va, size, WRITE)
        if (va & PAGE_MASK) + size > PAGE_SIZE:
            # Translate both pages before writing either, so a fault leaves memory unchanged.
            first = PAGE_SIZE - (va & PAGE_MASK)
            self.translate(va + first, WRITE)
            for i in range(size):
                self.slow_write(va + i, 1, value >> (8 * i))
            return
        pa = self.translate(va, WRITE)
        host = self.bus.ram_page(pa)
        if host is not None:
            self.bus.notify_write(pa >> PAGE_SHIFT)
            self._fill(self.wtlb, va, pa)
        try:
            self.bus.write(pa, size, value)
        except BusError:
            raise fault(va, WRITE, FSC_SYNC_EXTERNAL) from None

    def fetch_page(self, va):
        """Physical page number of the instruction at `va` (it must be RAM)."""
        pa = self.translate(va, FETCH)
        if self.bus.ram_page(pa) is None:
            raise fault(va, FETCH, FSC_SYNC_EXTERNAL)
        return pa >> PAGE_SHIFT

    # --- fast accessors -----------------------------------------------------------------------

    def _build_accessors(self):
        rtlb, wtlb = self.rtlb, self.wtlb
        slow_read, slow_write = self.slow_read, self.slow_write
        mmu = self

        def make_read(size, unpack):
            last = PAGE_SIZE - size
            amask = size - 1

            def rd(va):
                e = rtlb.get(va >> PAGE_SHIFT)
                if e is not None:
                    o = va & PAGE_MASK
                    if not va & amask or (o <= last and mmu.unaligned_ok):
                        return unpack(e[0], e[1] + o)[0]
                return slow_read(va, size)
            return rd

        def make_write(size, pack):
            last = PAGE_SIZE - size
            amask = size - 1
            vmask = (1 << (8 * size)) - 1

            def wr(va, value):
                e = wtlb.get(va >> PAGE_SHIFT)
                if e is not None:
                    o = va & PAGE_MASK
                    if not va & amask or (o <= last and mmu.unaligned_ok):
                        pack(e[0], e[1] + o, value & vmask)
                        return
                slow_write(va, size, value)
            return wr

        def rd8(va):
            e = rtlb.get(va >> PAGE_SHIFT)
            if e is not None:
                return e[0][e[1] + (va & PAGE_MASK)]
            return slow_read(va, 1)

        def wr8(va, value):
            e = wtlb.get(va >> PAGE_SHIFT)
            if e is not None:
                e[0][e[1] + (va & PAGE_MASK)] = value & 0xFF
                return
            slow_write(va, 1, value)

        def rd128(va):
            e = rtlb.get(va >> PAGE_SHIFT)
            if e is not None and not va & 15:
                lo, hi = _UNPACK_QQ(e[0], e[1] + (va & PAGE_MASK))
                return lo | (hi << 64)
            return slow_read(va, 16)

        def wr128(va, value):
            e = wtlb.get(va >> PAGE_SHIFT)
            if e is not None and not va & 15:
                _PACK_QQ(e[0], e[1] + (va & PAGE_MASK), value & 0xFFFF_FFFF_FFFF_FFFF,
                         (value >> 64) & 0xFFFF_FFFF_FFFF_FFFF)
                return
            slow_write(va, 16, value)

        self.rd8, self.wr8 = rd8, wr8
        self.rd16, self.wr16 = make_read(2, _UNPACK[2]), make_write(2, _PACK[2])
        self.rd32, self.wr32 = make_read(4, _UNPACK[4]), make_write(4, _PACK[4])
        self.rd64, self.wr64 = make_read(8, _UNPACK[8]), make_write(8, _PACK[8])
        self.rd128, self.wr128 = rd128, wr128
        self.read_sized = {1: rd8, 2: self.rd16, 4: self.rd32, 8: self.rd64, 16: rd128}
        self.write_sized = {1: wr8, 2: self.wr16, 4: self.wr32, 8: self.wr64, 16: wr128}
