"""VMSAv8-64 address translation: stage 1 for the EL1&0, EL2 and EL3 regimes, stage 2 for
EL1&0, with the 4 KB granule (Arm ARM D8), and the physical address space each access uses
under FEAT_RME (D9.1).

`translate(s, bus, gpc, va, acc, ...)` returns a `Translation` or raises `WalkFault`; the MMU
turns faults into architected aborts (mmu.py). Every descriptor fetch and the final access are
checked by the granule protection check.
"""

from typing import NamedTuple

from machine.memory.bus import BusError

from .exceptions import MachineStop
from .gpc import PAS_NONSECURE, PAS_REALM, PAS_ROOT, PAS_SECURE, GpcFault
from .state import NONSECURE, REALM, ROOT, SECURE, EL2Enabled

READ, WRITE, FETCH = 0, 1, 2
PA_BITS = 48
M64 = 0xFFFF_FFFF_FFFF_FFFF

# Fault status codes (ESR_ELx DFSC/IFSC, D24.2.40); add the level (0-3) where it applies.
FSC_ADDRESS_SIZE = 0b000000
FSC_TRANSLATION = 0b000100
FSC_ACCESS_FLAG = 0b001000
FSC_PERMISSION = 0b001100
FSC_SYNC_EXTERNAL = 0b010000
FSC_SYNC_EXTERNAL_WALK = 0b010100
FSC_ALIGNMENT = 0b100001
FSC_GPF_WALK = 0b100100          # GPF on a translation table walk, level 0..3
FSC_GPF = 0b101000               # GPF not on a walk

# Physical address size encodings of TCR.IPS/PS and VTCR.PS
PS_BITS = {0: 32, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48, 6: 52}

PERM_R, PERM_W, PERM_X = 1, 2, 4


class Translation(NamedTuple):
    pa: int
    pas: int
    perms: int       # PERM_* allowed at the accessing privilege (for the soft TLBs)
    device: bool     # Device memory: unaligned accesses fault


class WalkFault(Exception):
    """A translation fault of status `fsc` (level included) at `stage`; `s1ptw` when stage 2
    faulted on a stage 1 table walk; `ipa` for stage 2 faults; `gpc` the GpcFault for a granule
    protection failure."""

    def __init__(self, fsc, stage=1, s1ptw=False, ipa=None, gpc=None):
        super().__init__(f"translation fault, FSC {fsc:#04x}, stage {stage}")
        self.fsc, self.stage, self.s1ptw, self.ipa, self.gpc = fsc, stage, s1ptw, ipa, gpc


def security_pas(security):
    return {SECURE: PAS_SECURE, NONSECURE: PAS_NONSECURE, REALM: PAS_REALM,
            ROOT: PAS_ROOT}[security]


def stage2_enabled(s, el):
    hcr = s.sr.get("hcr_el2", 0)
    return el < 2 and EL2Enabled(s) and hcr & 1 and not (hcr >> 27) & 1   # VM, not TGE


class Regime(NamedTuple):
    el: int              # the regime's EL: 1 (EL1&0), 2 or 3
    sctlr: int
    tcr: int
    mair: int
    ttbr0: int
    ttbr1: int | None    # None for single-range regimes


def regime_of(s, el):
    sr = s.sr
    if el == 3:
        return Regime(3, sr.get("sctlr_el3", 0), sr.get("tcr_el3", 0), sr.get("mair_el3", 0),
                      sr.get("ttbr0_el3", 0), None)
    if el == 2:
        return Regime(2, sr.get("sctlr_el2", 0), sr.get("tcr_el2", 0), sr.get("mair_el2", 0),
                      sr.get("ttbr0_el2", 0), None)
    return Regime(1, sr.get("sctlr_el1", 0), sr.get("tcr_el1", 0), sr.get("mair_el1", 0),
                  sr.get("ttbr0_el1", 0), sr.get("ttbr1_el1", 0))


GRANULES = {"ttbr0": {0b00: "4 KB", 0b01: "64 KB", 0b10: "16 KB"},
            "ttbr1": {0b10: "4 KB", 0b11: "64 KB", 0b01: "16 KB"}}


def _granule_check(tg, stage, register):
    """Only the 4 KB granule is implemented (16/64 KB are not advertised in
    ID_AA64MMFR0_EL1): a walk with another one stops the machine with a clear message."""
    size = GRANULES["ttbr1" if stage == "ttbr1" else "ttbr0"].get(tg, "reserved")
    if size != "4 KB":
        raise MachineStop(f"{register} selects the {size} translation granule, which is not "
                          "implemented (only 4 KB)")


def _start_level(ia_bits):
    return 4 - (ia_bits - 12 + 8) // 9


class Walker:
    """One translation: the state it needs and the accessors for descriptor fetches."""

    def __init__(self, s, bus, gpc):
        self.s, self.bus, self.gpc = s, bus, gpc

    # --- descriptor fetch -------------------------------------------------------------------

    def fetch(self, pa, pas, level, stage, ipa=None):
        if pa >> PA_BITS:
            raise WalkFault(FSC_ADDRESS_SIZE + level, stage, ipa=ipa)
        try:
            self.gpc.check(pa, pas)
        except GpcFault as g:
            raise WalkFault(FSC_GPF_WALK + level, stage, ipa=ipa, gpc=g) from None
        try:
            return self.bus.read(pa, 8)
        except BusError:
            raise WalkFault(FSC_SYNC_EXTERNAL_WALK + level, stage, ipa=ipa) from None

    # --- the table walk, shared by both stages ---------------------------------------------------

    def walk(self, ia, ia_bits, level, base, oa_bits, stage, table_pas, s1_fetch=None):
        """Walk from `level`; returns (descriptor, level, output address, hierarchical table
        attributes as (APTable, XNTable, PXNTable, NSTable)). The first lookup resolves every
        input bit above the next level's (more than 9 for concatenated stage 2 tables).
        `s1_fetch(ipa, level)` maps a stage 1 table address through stage 2."""
        ipa = ia if stage == 2 else None
        aptable = xntable = pxntable = nstable = 0
        nbits = None
        while True:
            shift = 12 + 9 * (3 - level)
            nbits = ia_bits - shift if nbits is None else 9
            address = base + 8 * ((ia >> shift) & ((1 << nbits) - 1))
            if s1_fetch is not None:
                desc = s1_fetch(address, level)
            else:
                desc = self.fetch(address, PAS_NONSECURE if nstable else table_pas, level,
                                  stage, ipa)
            if not desc & 1:
                raise WalkFault(FSC_TRANSLATION + level, stage, ipa=ipa)
            is_table = desc & 2
            if level < 3 and is_table:
                base = desc & ((1 << 48) - 1) & ~0xFFF
                if (desc >> 48) & 0x7 or base >> oa_bits:     # [50:48] RES0, [58:51] IGNORED
                    raise WalkFault(FSC_ADDRESS_SIZE + level, stage, ipa=ipa)
                aptable |= (desc >> 61) & 3
                xntable |= (desc >> 60) & 1
                pxntable |= (desc >> 59) & 1
                nstable |= (desc >> 63) & 1
                level += 1
                continue
            if level in (0, 3) and not is_table:      # no level 0 blocks with 4 KB, 48-bit OA
                raise WalkFault(FSC_TRANSLATION + level, stage, ipa=ipa)
            # Block and page descriptors: OA[47:12]; bits 51:50 are the DBM and GP attributes
            # and 49:48 RES0 (OA bits only with TCR.DS = 1, FEAT_LPA2), so only OA counts.
            oa = (desc & ((1 << 48) - 1) & ~((1 << shift) - 1)) | (ia & ((1 << shift) - 1))
            if oa >> oa_bits:
                raise WalkFault(FSC_ADDRESS_SIZE + level, stage, ipa=ipa)
            return desc, level, oa, (aptable, xntable, pxntable, nstable)

    # --- stage 2 -------------------------------------------------------------------------------

    def stage2(self, ipa, acc, s1ptw):
        """IPA -> (PA, PAS, perms, device) for the EL1&0 regime's stage 2 (VTTBR/VTCR_EL2)."""
        sr = self.s.sr
        vtcr = sr.get("vtcr_el2", 0)
        t0sz = vtcr & 0x3F
        ia_bits = 64 - max(min(t0sz, 39), 16)
        _granule_check((vtcr >> 14) & 3, "stage2", "VTCR_EL2.TG0")
        sl0 = (vtcr >> 6) & 3
        start = {0: 2, 1: 1, 2: 0}.get(sl0)
        oa_bits = min(PS_BITS.get((vtcr >> 16) & 7, PA_BITS), PA_BITS)
        # The starting level must resolve between 1 and 9+4 bits (up to 16 concatenated
        # tables) or the configuration is inconsistent: a level 0 translation fault (D8.2.8).
        if start is None or not 1 <= ia_bits - (12 + 9 * (3 - start)) <= 13:
            raise WalkFault(FSC_TRANSLATION, 2, s1ptw, ipa)
        if ipa >> ia_bits:
            raise WalkFault(FSC_TRANSLATION, 2, s1ptw, ipa)
        if ipa >> oa_bits:
            raise WalkFault(FSC_ADDRESS_SIZE, 2, s1ptw, ipa)
        base = sr.get("vttbr_el2", 0) & ((1 << 48) - 1) & ~1
        if base >> oa_bits:
            raise WalkFault(FSC_ADDRESS_SIZE, 2, s1ptw, ipa)
        realm = self.s.security == REALM
        table_pas = PAS_REALM if realm else security_pas(self.s.security)
        try:
            desc, level, pa, _ = self.walk(ipa, ia_bits, start, base, oa_bits, 2, table_pas)
        except WalkFault as fault:
            fault.s1ptw = s1ptw
            fault.ipa = ipa
            raise
        if not (desc >> 10) & 1:
            raise WalkFault(FSC_ACCESS_FLAG + level, 2, s1ptw, ipa)
        perms = 0
        if (desc >> 6) & 1:
            perms |= PERM_R
        if (desc >> 7) & 1:
            perms |= PERM_W
        if not (desc >> 54) & 1:
            perms |= PERM_X
        if realm:                               # bit 55: NS, an unprotected IPA (D9.1)
            pas = PAS_NONSECURE if (desc >> 55) & 1 else PAS_REALM
        else:
            pas = table_pas
        if realm and s1ptw and pas != PAS_REALM:
            # A Realm stage 1 walk that resolves outside the Realm PAS (D9.1)
            raise WalkFault(FSC_PERMISSION + level, 2, s1ptw, ipa)
        needed = PERM_W if acc == WRITE else PERM_X if acc == FETCH else PERM_R
        if s1ptw:
            needed = PERM_R
        if not perms & needed:
            raise WalkFault(FSC_PERMISSION + level, 2, s1ptw, ipa)
        device = not (desc >> 4) & 3            # MemAttr[3:2] == 0b00: Device
        return pa, pas, perms, device

    # --- stage 1 -------------------------------------------------------------------------------

    def stage1(self, va, acc, el, unprivileged=False, pan=None, final_stage2=True,
               address_only=False):
        """VA -> Translation through the regime of `el`, including stage 2 when enabled.

        For the AT instructions: `pan` overrides PSTATE.PAN, `final_stage2=False` stops at the
        IPA (stage 1 tables are still walked through stage 2), and `address_only` skips the
        granule protection check of the output address (AT does not access it)."""
        s = self.s
        regime = regime_of(s, 2 if el == 2 else 3 if el == 3 else 1)
        two_stage = stage2_enabled(s, el)
        self.pan = s.pan if pan is None else pan
        self.address_only = address_only
        default_pas = PAS_ROOT if regime.el == 3 else security_pas(s.security)
        if not regime.sctlr & 1:
            return self._flat(va, acc, el, regime, two_stage, default_pas)
        tcr = regime.tcr
        data = acc != FETCH
        if regime.ttbr1 is not None:
            upper = (va >> 55) & 1
            tbi = (tcr >> (38 if upper else 37)) & 1
            tsz = (tcr >> (16 if upper else 0)) & 0x3F
            epd = (tcr >> (23 if upper else 7)) & 1
            tg = (tcr >> (30 if upper else 14)) & 3
            ttbr = regime.ttbr1 if upper else regime.ttbr0
            ips = (tcr >> 32) & 7
        else:
            upper = 0
            tbi = (tcr >> 20) & 1
            tsz, epd, tg = tcr & 0x3F, 0, (tcr >> 14) & 3
            ttbr = regime.ttbr0
            ips = (tcr >> 16) & 7
        ia_bits = 64 - max(min(tsz, 39), 16)
        top_bits = va >> ia_bits
        if tbi and data:
            top_bits &= (1 << (56 - ia_bits)) - 1
            expect = ((1 << (56 - ia_bits)) - 1) if upper else 0
        else:
            expect = ((1 << (64 - ia_bits)) - 1) if upper else 0
        if top_bits != expect or epd:
            raise WalkFault(FSC_TRANSLATION)
        _granule_check(tg, "ttbr1" if upper else "ttbr0",
                       f"TCR_EL{regime.el}.TG{1 if upper else 0}")
        oa_bits = min(PS_BITS.get(ips, PA_BITS), PA_BITS)
        base = ttbr & ((1 << 48) - 1) & ~1
        if base >> oa_bits:
            raise WalkFault(FSC_ADDRESS_SIZE)
        ia = va & ((1 << ia_bits) - 1)
        s1_fetch = self._s1_fetch_via_s2 if two_stage else None
        desc, level, oa, (aptable, xntable, pxntable, nstable) = self.walk(
            ia, ia_bits, _start_level(ia_bits), base, oa_bits, 1, default_pas, s1_fetch)
        if not (desc >> 10) & 1:
            raise WalkFault(FSC_ACCESS_FLAG + level)
        perms, user = self._s1_perms(desc, regime, el, unprivileged, aptable, xntable,
                                     pxntable)
        if (data and el == 1 and not unprivileged and user and self.pan
                and regime.el == 1):
            perms = 0                                   # PAN (D8.4.2)
        needed = PERM_W if acc == WRITE else PERM_X if acc == FETCH else PERM_R
        if not perms & needed:
            raise WalkFault(FSC_PERMISSION + level)
        attr = (regime.mair >> (8 * ((desc >> 2) & 7))) & 0xFF
        device = not attr & 0xF0
        pas = self._s1_pas(desc, regime, nstable, default_pas)
        self.attrs = (attr, (desc >> 8) & 3)
        if two_stage and final_stage2:
            pa, pas, s2perms, s2device = self.stage2(oa, acc, False)
            perms &= s2perms
            device = device or s2device
        else:
            pa = oa
        return self._checked(pa, pas, perms, device)

    def _s1_fetch_via_s2(self, ipa, level):
        pa, pas, _, _ = self.stage2(ipa, READ, True)
        return self.fetch(pa, pas, level, 1)

    @staticmethod
    def _s1_perms(desc, regime, el, unprivileged, aptable, xntable, pxntable):
        """Stage 1 permissions at the accessing privilege (D8.4.1); returns (perms, EL0 can
        access the page)."""
        ap2 = ((desc >> 7) & 1) | ((aptable >> 1) & 1)
        if regime.el != 1:
            xn = ((desc >> 54) & 1) | xntable
            perms = PERM_R | (0 if ap2 else PERM_W) | (0 if xn else PERM_X)
            if (regime.sctlr >> 19) & 1 and perms & PERM_W:        # WXN
                perms &= ~PERM_X
            return perms, False
        user = bool((desc >> 6) & 1) and not aptable & 1
        uxn = ((desc >> 54) & 1) | xntable
        pxn = ((desc >> 53) & 1) | pxntable | (user and not ap2)    # EL0-writable => PXN
        if el == 0 or unprivileged:
            perms = (PERM_R | (0 if ap2 else PERM_W)) if user else 0
            if user and not uxn:
                perms |= PERM_X
        else:
            perms = PERM_R | (0 if ap2 else PERM_W) | (0 if pxn else PERM_X)
        if (regime.sctlr >> 19) & 1 and perms & PERM_W:
            perms &= ~PERM_X
        return perms, user

    def _s1_pas(self, desc, regime, nstable, default_pas):
        """Output PAS of a stage 1 block/page descriptor (D9.1)."""
        ns = ((desc >> 5) & 1) | nstable
        if regime.el == 3:
            nse = (desc >> 11) & 1
            return (nse << 1) | ns               # {NSE,NS}: Secure, NS, Root, Realm
        if default_pas == PAS_REALM and regime.el == 2:
            return PAS_NONSECURE if ns else PAS_REALM
        if default_pas == PAS_SECURE:
            return PAS_NONSECURE if ns else PAS_SECURE
        return default_pas

    def _flat(self, va, acc, el, regime, two_stage, default_pas):
        """Stage 1 disabled: VA = output address; data accesses are Device-nGnRnE unless
        HCR_EL2.DC (D8.2.10)."""
        if va >> PA_BITS:
            raise WalkFault(FSC_ADDRESS_SIZE)
        hcr_dc = regime.el == 1 and EL2Enabled(self.s) and (self.s.sr.get("hcr_el2", 0) >>
                                                              12) & 1
        device = acc != FETCH and not hcr_dc
        perms = PERM_R | PERM_W | PERM_X
        self.attrs = (0x00 if device else 0x44, 0b10)     # Device-nGnRnE / Normal NC, OSH
        if two_stage:
            pa, pas, s2perms, s2device = self.stage2(va, acc, False)
            return self._checked(pa, pas, perms & s2perms, device or s2device)
        return self._checked(va, default_pas, perms, device)

    def _checked(self, pa, pas, perms, device):
        if self.address_only:
            return Translation(pa, pas, perms, device)
        try:
            self.gpc.check(pa, pas)
        except GpcFault as g:
            raise WalkFault(FSC_GPF, gpc=g) from None
        return Translation(pa, pas, perms, device)
