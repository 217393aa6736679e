"""The granule protection check of FEAT_RME (Arm ARM D9: GPCCR_EL3, GPTBR_EL3 and the
in-memory granule protection table).

Every physical access carries a physical address space (PAS). When GPCCR_EL3.GPC is 1 the
access is checked against the GPI of its granule, looked up in the GPT that GPTBR_EL3 points
at, in the architected format (L0 block/table descriptors, L1 granules/contiguous
descriptors), so that EL3 firmware running on the interpreter could program it.
"""

import functools

from machine.memory.bus import BusError

# Physical address spaces, encoded as {NSE, NS}.
PAS_SECURE, PAS_NONSECURE, PAS_ROOT, PAS_REALM = 0, 1, 2, 3
PAS_NAMES = {PAS_SECURE: "Secure", PAS_NONSECURE: "Non-secure", PAS_ROOT: "Root",
             PAS_REALM: "Realm"}

# Granule protection information (D9.6.1)
GPI_NO_ACCESS, GPI_SECURE, GPI_NONSECURE, GPI_ROOT, GPI_REALM, GPI_ANY = 0, 8, 9, 0xA, 0xB, 0xF
GPI_PERMITS = {
    GPI_NO_ACCESS: (),
    GPI_SECURE: (PAS_SECURE,),
    GPI_NONSECURE: (PAS_NONSECURE,),
    GPI_ROOT: (PAS_ROOT,),
    GPI_REALM: (PAS_REALM,),
    GPI_ANY: (PAS_SECURE, PAS_NONSECURE, PAS_ROOT, PAS_REALM),
}
GPI_NAMES = {GPI_NO_ACCESS: "no access", GPI_SECURE: "Secure", GPI_NONSECURE: "Non-secure",
             GPI_ROOT: "Root", GPI_REALM: "Realm", GPI_ANY: "any"}

# GPCCR_EL3 fields (D24.2.56)
PPS_BITS = {0: 32, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48, 6: 52}
PGS_SHIFT = {0: 12, 1: 16, 2: 14}
L0GPTSZ = 0                  # read-only field: each L0 entry covers 2^30 bytes
L0GPTSZ_BITS = 30
GPCCR_GPC = 1 << 16
GPCCR_WRITABLE = 0x0003_FFFF & ~0xF0  # PPS..GPCP; reserved/GPC2 fields RES0 here
PA_SIZE_BITS = 48

# Kinds of fault, and their GPCSC encodings (ESR_EL3 for EC 0x1E) at level 0 / 1
GPF = "granule protection fault"
WALK = "GPT walk fault"
ADDRESS_SIZE = "GPT address size fault"
EXTERNAL = "external abort on GPT fetch"
GPCSC = {(ADDRESS_SIZE, 0): 0b000000, (WALK, 0): 0b000100, (WALK, 1): 0b000101,
         (GPF, 0): 0b001100, (GPF, 1): 0b001101, (EXTERNAL, 0): 0b010100,
         (EXTERNAL, 1): 0b010101}


class GpcFault(Exception):
    """The check failed: `kind` is one of GPF/WALK/ADDRESS_SIZE/EXTERNAL, at GPT `level`."""

    def __init__(self, kind, level, pa, pas):
        super().__init__(f"{kind} (level {level}) for a {PAS_NAMES[pas]} access to {pa:#x}")
        self.kind, self.level, self.pa, self.pas = kind, level, pa, pas

    @property
    def gpcsc(self):
        return GPCSC[(self.kind, self.level)]


def _valid_gpi(gpi):
    return gpi in GPI_PERMITS


@functools.cache
def L1GranulesDescriptorValid(l1):
    """Whether all 16 GPIs of an L1 granules descriptor are valid encodings (a pure function
    of the descriptor, memoised: a GPT has few distinct descriptor values)."""
    return all(_valid_gpi((l1 >> (4 * i)) & 0xF) for i in range(16))


class GranuleProtection:
    """GPC for one PE; reads GPCCR_EL3/GPTBR_EL3 from the PE's system-register storage.

    With `cached`, the GPIs looked up are kept per granule and PAS, as a PE's TLBs may hold
    GPT information: `flush` (a TLBI, which TLBI RPA*/PAALL* are here, or a change of
    GPCCR_EL3/GPTBR_EL3) forgets them."""

    def __init__(self, bus, sr, cached=False):
        self.bus = bus
        self.sr = sr
        self.cache = {} if cached else None

    def flush(self):
        if self.cache:
            self.cache.clear()

    @property
    def enabled(self):
        return bool(self.sr.get("gpccr_el3", 0) & GPCCR_GPC)

    def check(self, pa, pas):
        """Raise GpcFault unless an access in `pas` to physical address `pa` is permitted."""
        gpccr = self.sr.get("gpccr_el3", 0)
        if not gpccr & GPCCR_GPC:
            return
        cache = self.cache
        if cache is None:
            gpi, level = self.lookup(pa, pas, gpccr)
        else:
            key = (pa >> 12, pas)
            found = cache.get(key)
            if found is None:
                found = cache[key] = self.lookup(pa, pas, gpccr)
            gpi, level = found
        if pas not in GPI_PERMITS[gpi]:
            raise GpcFault(GPF, level, pa, pas)

    def lookup(self, pa, pas, gpccr=None):
        """(GPI, level of the deciding entry) for `pa`, or raise GpcFault (D9.6 / 4.6 order)."""
        if gpccr is None:
            gpccr = self.sr.get("gpccr_el3", 0)
        pps = PPS_BITS.get(gpccr & 7)
        shift = PGS_SHIFT.get((gpccr >> 14) & 3)
        if pps is None or pps > PA_SIZE_BITS or shift is None:
            raise GpcFault(WALK, 0, pa, pas)
        if pa >> pps:
            if pas == PAS_NONSECURE:
                return GPI_ANY, 0
            raise GpcFault(GPF, 0, pa, pas)
        l0_size_log2 = max(pps - L0GPTSZ_BITS + 3, 12)
        base = (self.sr.get("gptbr_el3", 0) & ((1 << 40) - 1)) << 12
        base &= ~((1 << l0_size_log2) - 1)
        if base >> pps:
            raise GpcFault(ADDRESS_SIZE, 0, pa, pas)
        l0 = self._fetch(base + 8 * (pa >> L0GPTSZ_BITS), 0, pa, pas)
        kind = l0 & 0xF
        if kind == 0b0001:                                    # L0 block descriptor
            gpi = (l0 >> 4) & 0xF
            if l0 >> 8 or not _valid_gpi(gpi):
                raise GpcFault(WALK, 0, pa, pas)
            return gpi, 0
        if kind != 0b0011 or l0 & 0xFF0 or l0 >> 52:
            raise GpcFault(WALK, 0, pa, pas)
        l1_table = l0 & ((1 << 52) - 1) & ~0xFFF               # L0 table descriptor
        if l1_table >> pps:
            raise GpcFault(ADDRESS_SIZE, 0, pa, pas)
        index = (pa & ((1 << L0GPTSZ_BITS) - 1)) >> (shift + 4)
        l1 = self._fetch(l1_table + 8 * index, 1, pa, pas)
        if l1 & 0xF == 0b0001:                                # L1 contiguous descriptor
            gpi = (l1 >> 4) & 0xF
            if l1 >> 10 or not (l1 >> 8) & 3 or not _valid_gpi(gpi):
                raise GpcFault(WALK, 1, pa, pas)
            return gpi, 1
        if not L1GranulesDescriptorValid(l1):                 # L1 granules descriptor
            raise GpcFault(WALK, 1, pa, pas)
        return (l1 >> (4 * ((pa >> shift) & 0xF))) & 0xF, 1

    def _fetch(self, address, level, pa, pas):
        try:
            return self.bus.read(address, 8)
        except BusError:
            raise GpcFault(EXTERNAL, level, pa, pas) from None
