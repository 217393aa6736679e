"""The physical address space: RAM regions backed by bytearrays, and MMIO devices.

CPUs reach RAM through host pages (`ram_page`) which their TLBs cache, and MMIO through
`read`/`write`. The bus also tracks which RAM pages hold decoded code so that a write to one
invalidates every CPU's decode cache for it (self-modifying code, loaders, DC ZVA).
"""

import mmap

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = PAGE_SIZE - 1


class BusError(Exception):
    """An access to a physical address nothing answers (becomes an external abort)."""

    def __init__(self, pa):
        super().__init__(f"no memory or device at physical address {pa:#x}")
        self.pa = pa


class Ram:
    def __init__(self, name, base, size):
        if base & PAGE_MASK or size & PAGE_MASK or size <= 0:
            raise ValueError(f"RAM region {name}: base and size must be non-zero multiples of 4 KB")
        self.name, self.base, self.size = name, base, size
        # Anonymous mappings are zero-filled lazily: gigabytes of guest RAM cost host memory
        # only where the guest writes.
        self.data = mmap.mmap(-1, size) if size >= (1 << 24) else bytearray(size)


class Mmio:
    def __init__(self, name, base, size, device):
        self.name, self.base, self.size, self.device = name, base, size, device


class PhysicalBus:
    def __init__(self):
        self.regions = []
        self._pages = {}            # physical page number -> (bytearray, offset) for RAM
        self.code_watchers = {}     # physical page number -> set of callables(page)
        self.tlb_owners = []        # MMUs whose write TLBs must drop pages that become code

    # --- building -----------------------------------------------------------------------------

    def _check_free(self, name, base, size):
        for r in self.regions:
            if base < r.base + r.size and r.base < base + size:
                raise ValueError(f"{name} at {base:#x}+{size:#x} overlaps {r.name}")

    def add_ram(self, name, base, size):
        self._check_free(name, base, size)
        ram = Ram(name, base, size)
        self.regions.append(ram)
        return ram

    def add_mmio(self, name, base, size, device):
        self._check_free(name, base, size)
        region = Mmio(name, base, size, device)
        self.regions.append(region)
        return region

    def region_at(self, pa):
        for r in self.regions:
            if r.base <= pa < r.base + r.size:
                return r
        return None

    # --- RAM pages for the TLBs ---------------------------------------------------------------

    def ram_page(self, pa):
        """(bytearray, offset of the page) for RAM at `pa`, or None if `pa` is not RAM."""
        page = pa >> PAGE_SHIFT
        found = self._pages.get(page)
        if found is None:
            r = self.region_at(pa)
            if not isinstance(r, Ram):
                return None
            found = self._pages[page] = (r.data, (page << PAGE_SHIFT) - r.base)
        return found

    # --- physical accesses (slow path: MMIO, page-crossing, debugger, loaders) ---------------

    def read(self, pa, size):
        host = self.ram_page(pa)
        if host is not None and (pa & PAGE_MASK) + size <= PAGE_SIZE:
            buf, off = host
            o = off + (pa & PAGE_MASK)
            return int.from_bytes(buf[o:o + size], "little")
        r = self.region_at(pa)
        if isinstance(r, Mmio) and pa + size <= r.base + r.size:
            return r.device.read(pa - r.base, size)
        if host is not None:
            return sum(self.read(pa + i, 1) << (8 * i) for i in range(size))
        raise BusError(pa)

    def write(self, pa, size, value):
        host = self.ram_page(pa)
        if host is not None and (pa & PAGE_MASK) + size <= PAGE_SIZE:
            self.notify_write(pa >> PAGE_SHIFT)
            buf, off = host
            o = off + (pa & PAGE_MASK)
            buf[o:o + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            return
        r = self.region_at(pa)
        if isinstance(r, Mmio) and pa + size <= r.base + r.size:
            r.device.write(pa - r.base, size, value & ((1 << (8 * size)) - 1))
            return
        if host is not None:
            for i in range(size):
                self.write(pa + i, 1, value >> (8 * i))
            return
        raise BusError(pa)

    def read_bytes(self, pa, length):
        out = bytearray()
        end = pa + length
        while pa < end:
            n = min(PAGE_SIZE - (pa & PAGE_MASK), end - pa)
            host = self.ram_page(pa)
            if host is None:
                out += bytes(self.read(pa + i, 1) for i in range(n))
            else:
                buf, off = host
                o = off + (pa & PAGE_MASK)
                out += buf[o:o + n]
            pa += n
        return bytes(out)

    def write_bytes(self, pa, data):
        end = pa + len(data)
        pos = 0
        while pa < end:
            n = min(PAGE_SIZE - (pa & PAGE_MASK), end - pa)
            host = self.ram_page(pa)
            if host is None:
                raise BusError(pa)
            self.notify_write(pa >> PAGE_SHIFT)
            buf, off = host
            o = off + (pa & PAGE_MASK)
            buf[o:o + n] = data[pos:pos + n]
            pa += n
            pos += n

    # --- decoded-code tracking ----------------------------------------------------------------

    def watch_code(self, page, callback):
        """`callback(page)` runs before the next write to physical page `page`."""
        watchers = self.code_watchers.get(page)
        if watchers is None:
            watchers = self.code_watchers[page] = set()
            for mmu in self.tlb_owners:
                mmu.drop_write_page(page)
        watchers.add(callback)

    def notify_write(self, page):
        watchers = self.code_watchers.pop(page, None)
        if watchers:
            for callback in watchers:
                callback(page)
