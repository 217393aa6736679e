"""The one translate-and-check path every instruction fetch and data access goes through.

Fast path: soft TLBs (virtual page -> host bytearray and page offset), separate for reads,
writes and instruction fetch, so permission is implied by presence. Anything else (a TLB miss,
MMIO, an access crossing a page, an alignment check) takes the slow path: `translate`, then the
physical bus. `translate` walks the current regime (walk.py: stage 1, stage 2, the granule
protection check of gpc.py) and turns its faults into the architected aborts, routed as
D1.3 and the RME rules for granule protection faults say.

A TLB entry is (host bytearray, offset of the page in it, physical page, strict) where strict
means unaligned accesses must fault (Device memory, or SCTLR_ELx.A).
"""

import struct

from machine.memory.bus import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, BusError

from .exceptions import DataAbort, GPCException, InstructionAbort
from .gpc import GPF, GranuleProtection
from .walk import (
    FETCH,
    FSC_ALIGNMENT,
    FSC_SYNC_EXTERNAL,
    PERM_R,
    PERM_W,
    READ,
    WRITE,
    Walker,
    WalkFault,
)

_UNPACK = {2: struct.Struct("<H").unpack_from, 4: struct.Struct("<I").unpack_from,
           8: struct.Struct("<Q").unpack_from}
_PACK = {2: struct.Struct("<H").pack_into, 4: struct.Struct("<I").pack_into,
         8: struct.Struct("<Q").pack_into}
_UNPACK_QQ = struct.Struct("<QQ").unpack_from
_PACK_QQ = struct.Struct("<QQ").pack_into
_UNPACK_PAIR = {4: struct.Struct("<II").unpack_from, 8: _UNPACK_QQ}
_PACK_PAIR = {4: struct.Struct("<II").pack_into, 8: _PACK_QQ}


def fault(va, acc, fsc, extra_iss=0, target_el=None, ipa=None):
    """The abort for a fault of kind `fsc` on an access of kind `acc` to `va`."""
    if acc == FETCH:
        return InstructionAbort(iss=fsc | extra_iss, far=va, target_el=target_el, ipa=ipa)
    return DataAbort(iss=fsc | ((acc == WRITE) << 6) | extra_iss, far=va, target_el=target_el,
                     ipa=ipa)


def abort_target(s, walk_fault):
    """Where a translation or granule protection fault is taken (D1.3.4, D9.4)."""
    el = s.el
    hcr = s.sr.get("hcr_el2", 0)
    tge = (hcr >> 27) & 1
    if el == 3:
        return 3
    if el == 2 or walk_fault.stage == 2:
        return 2
    if walk_fault.gpc is not None and (hcr >> 54) & 1:      # HCR_EL2.GPF
        return 2
    if el == 0 and tge:
        return 2
    return 1


class Mmu:
    def __init__(self, state, bus):
        self.s = state
        self.bus = bus
        self.rtlb = {}
        self.wtlb = {}
        self.xtlb = {}
        self.tagged = False         # a TLB holds a page whose VA[63:56] is a tag
        self.watchpoints = []       # (start, end, kinds, scope), virtual addresses
        self.watch_pages = set()
        self.watch_hit = None       # (address, 'r' or 'w') of the last watched access
        self.gpc = GranuleProtection(bus, state.sr, cached=True)
        self.walker = Walker(state, bus, self.gpc)
        bus.tlb_owners.append(self)
        self._build_accessors()

    # --- translation ---------------------------------------------------------------------------

    def translate(self, va, acc, unprivileged=False):
        """Virtual -> Translation for the current regime, or raise the abort."""
        try:
            return self.walker.stage1(va & 0xFFFF_FFFF_FFFF_FFFF, acc, self.s.el, unprivileged)
        except WalkFault as walk_fault:
            raise self.abort(va, acc, walk_fault) from None

    def abort(self, va, acc, walk_fault):
        s = self.s
        g = walk_fault.gpc
        if g is not None and (g.kind != GPF or (s.el < 3 and (s.sr.get("scr_el3", 0) >> 48) & 1)):
            # Granule protection check exception to EL3 (EC 0x1E, D9.4.2)
            iss = ((walk_fault.stage == 2) << 21) | ((acc == FETCH) << 20) | (g.gpcsc << 14) \
                | (walk_fault.s1ptw << 7) | ((acc == WRITE) << 6) | walk_fault.fsc
            return GPCException(iss=iss, far=va, target_el=3,
                                mfar=(g.pa & ~0xFFF) | ((g.pas & 1) << 63) | ((g.pas >> 1) << 62))
        extra = walk_fault.s1ptw << 7
        if walk_fault.s1ptw:
            acc = READ if acc == WRITE else acc            # WnR is 0 for a fault on a walk
        return fault(va, acc, walk_fault.fsc, extra, abort_target(s, walk_fault),
                     walk_fault.ipa if walk_fault.stage == 2 else None)

    def flush(self):
        self.rtlb.clear()
        self.wtlb.clear()
        self.xtlb.clear()
        self.gpc.flush()
        self.tagged = False

    def invalidate_page_va(self, va_page):
        """Drop the TLB entries of the page VA[55:12] = `va_page`, with VA[63:56] all zeros or
        all ones (the TLBs key pages by the whole VA); returns those two keys, or None when a
        tagged address (other top byte) was cached and only a flush is sure to reach it."""
        if self.tagged:
            return None
        keys = (va_page, va_page | 0xFF << 44)
        for tlb in (self.rtlb, self.wtlb, self.xtlb):
            for key in keys:
                tlb.pop(key, None)
        return keys

    def drop_write_page(self, pa_page):
        """Forget write mappings of a physical page (it now holds decoded code)."""
        stale = [vp for vp, entry in self.wtlb.items() if entry[2] == pa_page]
        for vp in stale:
            del self.wtlb[vp]

    def _fill(self, va, t):
        """Cache a RAM translation in the read and write TLBs its permissions allow (not for
        pages with watchpoints: their accesses take the slow path, which checks them)."""
        host = self.bus.ram_page(t.pa)
        if host is None or va >> PAGE_SHIFT in self.watch_pages:
            return
        page = t.pa >> PAGE_SHIFT
        strict = t.device or self._alignment_checked()
        entry = (host[0], host[1], page, strict)
        vpage = va >> PAGE_SHIFT
        if (vpage >> 44) not in (0, 0xFF):
            self.tagged = True          # see invalidate_page_va
        if t.perms & PERM_R:
            self.rtlb[vpage] = entry
        if t.perms & PERM_W and page not in self.bus.code_watchers:
            self.wtlb[vpage] = entry

    def _alignment_checked(self):
        """SCTLR_ELx.A for the current regime."""
        s = self.s
        el = s.el if s.el >= 2 else 1
        return bool((s.sr.get(f"sctlr_el{el}", 0) >> 1) & 1)

    # --- slow paths -----------------------------------------------------------------------------

    # --- watchpoints --------------------------------------------------------------------------

    def add_watchpoint(self, va, length, kind, scope=None):
        """Watch accesses of `kind` ('r', 'w' or 'a') to [va, va + length) made where
        `scope.state_match(state)` holds (None: by any context)."""
        self.watchpoints.append((va, va + max(length, 1), kind, scope))
        self._watch_pages()

    def remove_watchpoint(self, va, length, kind):
        """Remove one watchpoint of `kind` on [va, va + length), whatever its scope."""
        key = (va, va + max(length, 1), kind)
        for entry in self.watchpoints:
            if entry[:3] == key:
                self.watchpoints.remove(entry)
                break
        self._watch_pages()

    def _watch_pages(self):
        self.watch_pages = {page for start, end, _, _ in self.watchpoints
                            for page in range(start >> PAGE_SHIFT, ((end - 1) >> PAGE_SHIFT) + 1)}

    def _check_watch(self, va, size, acc):
        kind = "w" if acc == WRITE else "r"
        for start, end, kinds, scope in self.watchpoints:
            if va < end and start < va + size and kinds in ("a", kind) \
                    and (scope is None or scope.state_match(self.s)):
                self.watch_hit = (max(va, start), kind)

    def check_alignment(self, va, size, acc):
        if va & (size - 1):
            raise fault(va, acc, FSC_ALIGNMENT)

    def slow_read(self, va, size, unprivileged=False):
        va &= 0xFFFF_FFFF_FFFF_FFFF
        if self.watchpoints:
            self._check_watch(va, size, READ)
        if (va & PAGE_MASK) + size > PAGE_SIZE:
            if va & (size - 1) and self._strict(va, READ, unprivileged):
                raise fault(va, READ, FSC_ALIGNMENT)
            first = PAGE_SIZE - (va & PAGE_MASK)
            lo = self.slow_read(va, first, unprivileged) if first in (1, 2, 4, 8) else \
                self._read_bytewise(va, first, unprivileged)
            rest = size - first
            hi = self.slow_read(va + first, rest, unprivileged) if rest in (1, 2, 4, 8) else \
                self._read_bytewise(va + first, rest, unprivileged)
            return lo | (hi << (8 * first))
        t = self.translate(va, READ, unprivileged)
        if va & (size - 1) and (t.device or self._alignment_checked()):
            raise fault(va, READ, FSC_ALIGNMENT)
        if not unprivileged:
            self._fill(va, t)
        try:
            return self.bus.read(t.pa, size)
        except BusError:
            raise fault(va, READ, FSC_SYNC_EXTERNAL) from None

    def _read_bytewise(self, va, n, unprivileged):
        return sum(self.slow_read(va + i, 1, unprivileged) << (8 * i) for i in range(n))

    def _strict(self, va, acc, unprivileged):
        return self.translate(va, acc, unprivileged).device or self._alignment_checked()

    def slow_write(self, va, size, value, unprivileged=False):
        va &= 0xFFFF_FFFF_FFFF_FFFF
        if self.watchpoints:
            self._check_watch(va, size, WRITE)
        if (va & PAGE_MASK) + size > PAGE_SIZE:
            if va & (size - 1) and self._strict(va, WRITE, unprivileged):
                raise fault(va, WRITE, FSC_ALIGNMENT)
            # Translate both pages before writing either, so a fault leaves memory unchanged.
            first = PAGE_SIZE - (va & PAGE_MASK)
            self.translate(va + first, WRITE, unprivileged)
            for i in range(size):
                self.slow_write(va + i, 1, value >> (8 * i), unprivileged)
            return
        t = self.translate(va, WRITE, unprivileged)
        if va & (size - 1) and (t.device or self._alignment_checked()):
            raise fault(va, WRITE, FSC_ALIGNMENT)
        if self.bus.ram_page(t.pa) is not None:
            self.bus.notify_write(t.pa >> PAGE_SHIFT)
            if not unprivileged:
                self._fill(va, t)
        try:
            self.bus.write(t.pa, size, value)
        except BusError:
            raise fault(va, WRITE, FSC_SYNC_EXTERNAL) from None

    def fetch_page(self, va):
        """Physical page number of the instruction at `va` (it must be RAM)."""
        t = self.translate(va, FETCH)
        if self.bus.ram_page(t.pa) is None:
            raise fault(va, FETCH, FSC_SYNC_EXTERNAL)
        return t.pa >> PAGE_SHIFT

    # --- fast accessors -----------------------------------------------------------------------

    def _build_accessors(self):
        rtlb, wtlb = self.rtlb, self.wtlb
        slow_read, slow_write = self.slow_read, self.slow_write

        def make_read(size, unpack):
            last = PAGE_SIZE - size
            amask = size - 1

            def rd(va):
                e = rtlb.get(va >> PAGE_SHIFT)
                if e is not None:
                    o = va & PAGE_MASK
                    if not va & amask or (o <= last and not e[3]):
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
                    if not va & amask or (o <= last and not e[3]):
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

        def make_pair_read(size, rd):
            """Two consecutive `size`-byte reads (LDP): one TLB look-up when both are in one
            page and aligned (or alignment is not checked), else the two reads in order."""
            last = PAGE_SIZE - 2 * size
            amask = size - 1
            unpack = _UNPACK_PAIR[size]

            def rd_pair(va):
                e = rtlb.get(va >> PAGE_SHIFT)
                if e is not None:
                    o = va & PAGE_MASK
                    if o <= last and (not va & amask or not e[3]):
                        return unpack(e[0], e[1] + o)
                return rd(va), rd((va + size) & 0xFFFF_FFFF_FFFF_FFFF)
            return rd_pair

        def make_pair_write(size, wr):
            last = PAGE_SIZE - 2 * size
            amask = size - 1
            vmask = (1 << (8 * size)) - 1
            pack = _PACK_PAIR[size]

            def wr_pair(va, first, second):
                e = wtlb.get(va >> PAGE_SHIFT)
                if e is not None:
                    o = va & PAGE_MASK
                    if o <= last and (not va & amask or not e[3]):
                        pack(e[0], e[1] + o, first & vmask, second & vmask)
                        return
                wr(va, first)
                wr((va + size) & 0xFFFF_FFFF_FFFF_FFFF, second)
            return wr_pair

        self.rd8, self.wr8 = rd8, wr8
        self.rd16, self.wr16 = make_read(2, _UNPACK[2]), make_write(2, _PACK[2])
        self.rd32, self.wr32 = make_read(4, _UNPACK[4]), make_write(4, _PACK[4])
        self.rd64, self.wr64 = make_read(8, _UNPACK[8]), make_write(8, _PACK[8])
        self.rd128, self.wr128 = rd128, wr128
        self.rd32x2, self.wr32x2 = make_pair_read(4, self.rd32), make_pair_write(4, self.wr32)
        self.rd64x2, self.wr64x2 = make_pair_read(8, self.rd64), make_pair_write(8, self.wr64)
        self.read_sized = {1: rd8, 2: self.rd16, 4: self.rd32, 8: self.rd64, 16: rd128}
        self.write_sized = {1: wr8, 2: self.wr16, 4: self.wr32, 8: self.wr64, 16: wr128}
