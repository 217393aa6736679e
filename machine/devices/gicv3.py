"""GICv3 distributor and redistributors (IHI 0069, chapters 2-4 and 12), without LPIs or an
ITS, with two Security states and no DS support (GICD_CTLR.DS = 0), as on the FVP.

`Gicv3(cpus, spis=224)` owns the interrupt state and computes, for each CPU, the interrupt
its CPU interface signals; the devices are views of it:
- `gic.distributor`: the GICD frame (64 KB);
- `gic.redistributors[i]`: CPU i's redistributor, RD_base + SGI_base (128 KB);
- `gic.redistributor_region(size)`: one Device spanning the GICR region (frames at a 128 KB
  stride, RAZ/WI past the last CPU's);
- `gic.cpuifs[i]`: CPU i's CPU interface (gic_cpuif.py), also set as `core.gic_cpu`.

Affinity routing only: there is no legacy (GICv2-compatible) operation, so GICD_CTLR.ARE_S
and ARE_NS are RAO/WI (IHI 0069 12.9.4), GICD_ITARGETSR and GICD_SGIR are RAZ/WI and the
GICD registers of INTIDs 0-31 are RAZ/WI (they are the redistributors'). SPIs are routed by
GICD_IROUTER: IRM = 0 to the PE with that affinity, IRM = 1 to one participating PE (the
lowest-numbered awake one whose CPU interface enables the interrupt's group and whose
GICR_CTLR.DPGx does not exclude it).

Security: bus accesses carry no security attribute here and every guest access to the GIC
comes from Non-secure or Realm software (EL3 is the Python firmware), so `read`/`write` are
Non-secure accesses unless called with `secure=True` (what the firmware model uses, or
`configure_for_nonsecure()`, which does what TF-A's GIC driver leaves behind). Non-secure
accesses see Secure interrupts as RAZ/WI and the Non-secure view of priorities (12.9.23).
Realm is treated as Non-secure by the GIC: it has no Realm interrupt group.

Signalling (IHI 0069 4.6.2, DS = 0): Group 0 is signalled as FIQ; Group 1 of the current
Security state as IRQ and Group 1 of the other one as FIQ; at EL3 every group as FIQ. The
line depends on the CPU's current state, so whoever moves a CPU between Secure, Non-secure
and EL3 calls `gic.refresh()` (nothing does in this model: the Secure world is unused, EL3 is
Python and Realm is Non-secure to the GIC). A sleeping redistributor (GICR_WAKER.
ProcessorSleep = 1, its reset state) forwards nothing.

MMIO writes update the CPUs' lines at once but do not end the writing CPU's slice: an
interrupt they make pending for the writer is taken when it next starts running (the
sysreg interface, in gic_cpuif.py, makes it immediate).
"""

from machine.cpu.state import SECURE

from .base import Device, InterruptLine
from .gic_cpuif import (
    GROUP0,
    GROUP1NS,
    GROUP1S,
    PRIORITY_MASK,
    CpuInterface,
    lowest_bit,
)

SGIS, PRIVATE = 16, 32
MAX_SPIS = 988                       # INTIDs 32-1019

# GICD register offsets (IHI 0069 12.8)
GICD_CTLR, GICD_TYPER, GICD_IIDR = 0x0, 0x4, 0x8
GICD_IROUTER = 0x6000
# Register blocks shared by the GICD and the GICR SGI_base frame: one bit per INTID ...
IGROUPR, ISENABLER, ICENABLER, ISPENDR, ICPENDR, ISACTIVER, ICACTIVER, IGRPMODR = (
    0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0xD00)
BIT_BLOCKS = (IGROUPR, ISENABLER, ICENABLER, ISPENDR, ICPENDR, ISACTIVER, ICACTIVER,
              IGRPMODR)
IPRIORITYR, ICFGR, NSACR = 0x400, 0xC00, 0xE00

# GICD_CTLR (Secure view): EnableGrp0, EnableGrp1NS, EnableGrp1S, ARE_S, ARE_NS
CTLR_GRP0, CTLR_GRP1NS, CTLR_GRP1S, CTLR_ARE_S, CTLR_ARE_NS = 1, 2, 4, 1 << 4, 1 << 5
# Non-secure view: EnableGrp1A (bit 1) is EnableGrp1NS; ARE_NS at bit 4
NS_CTLR_GRP1A, NS_CTLR_ARE_NS = 1 << 1, 1 << 4
GROUP_ENABLE = {GROUP0: CTLR_GRP0, GROUP1NS: CTLR_GRP1NS, GROUP1S: CTLR_GRP1S}

IIDR = 0x0000_043B                   # Arm, product 0, revision 0
IDBITS = 10                          # INTIDs 0-1023, no LPIs

# GICR RD_base (IHI 0069 12.10)
GICR_CTLR, GICR_IIDR, GICR_TYPER, GICR_WAKER = 0x0, 0x4, 0x8, 0x14
SGI_BASE = 0x1_0000
REDIST_STRIDE = 0x2_0000
WAKER_PROCESSOR_SLEEP, WAKER_CHILDREN_ASLEEP = 1 << 1, 1 << 2
GICR_CTLR_DPG = {GROUP0: 1 << 24, GROUP1NS: 1 << 25, GROUP1S: 1 << 26}
GICR_CTLR_WRITABLE = 0x0700_0000     # DPG1S, DPG1NS, DPG0 (EnableLPIs RAZ/WI: no LPIs)
TYPER_LAST = 1 << 4

# IROUTER: Aff0-2, IRM (bit 31), Aff3
IROUTER_WRITABLE = 0xFF_80FF_FFFF
IROUTER_IRM = 1 << 31

# Peripheral and component ID registers (0xFFD0-0xFFFC): PIDR4-7, PIDR0-3, CIDR0-3. JEP106
# identity 0x3B/continuation 4 (Arm), ArchRev 3 in PIDR2[7:4]; part numbers are IMPDEF.
ID_BASE = 0xFFD0


def _id_registers(part):
    pidr = [0x44, 0, 0, 0, part & 0xFF, 0xB0 | (part >> 8), 0x3B, 0]
    return dict(zip(range(ID_BASE, 0x1_0000, 4), pidr + [0x0D, 0xF0, 0x05, 0xB1],
                    strict=True))


GICD_IDS = _id_registers(0x492)
GICR_IDS = _id_registers(0x493)


def fvp_affinity(index):
    """MPIDR affinity of CPU `index` on the FVP Base RevC (4 cores per cluster)."""
    return ((index // 4) << 16) | ((index % 4) << 8)


def _affinity_of(mpidr):
    """Aff3.Aff2.Aff1.Aff0 as one 32-bit value (the GICR_TYPER/IROUTER layout packed)."""
    return (((mpidr >> 32) & 0xFF) << 24) | (mpidr & 0xFF_FFFF)


class Bank:
    """Interrupt state of a range of INTIDs as bit masks indexed by INTID: enable, the
    pending latch (edge, or set by software), the input level, active, group (IGROUPR),
    group modifier (IGRPMODR), edge-triggered (ICFGR), plus a priority per INTID.
    An interrupt is pending when latched, or when level-sensitive and its input is high."""

    __slots__ = ("valid", "fixed_edge", "enable", "latch", "level", "active", "group",
                 "grpmod", "edge", "nsacr", "priority")

    def __init__(self, valid, fixed_edge=0):
        self.valid = valid
        self.fixed_edge = fixed_edge        # SGIs: always edge-triggered
        self.reset()

    def reset(self):
        self.enable = self.latch = self.level = self.active = 0
        self.group = self.grpmod = 0
        self.edge = self.fixed_edge
        self.nsacr = 0
        self.priority = bytearray(self.valid.bit_length())

    def pending(self):
        return self.latch | (self.level & ~self.edge)

    def group_of(self, intid):
        if (self.group >> intid) & 1:
            return GROUP1NS
        return GROUP1S if (self.grpmod >> intid) & 1 else GROUP0

    def set_input(self, intid, level):
        bit = 1 << intid
        if level:
            if self.edge & bit and not self.level & bit:
                self.latch |= bit
            self.level |= bit
        else:
            self.level &= ~bit

    def acknowledge(self, intid):
        bit = 1 << intid
        self.latch &= ~bit
        self.active |= bit

    # --- the register blocks common to GICD and GICR SGI_base ------------------------------

    def visible(self, secure):
        """Bits an access may see: Non-secure accesses see only Group 1 NS interrupts."""
        return self.valid if secure else self.valid & self.group

    def read_block(self, offset, size, secure):
        """A read in the IGROUPR..IGRPMODR, IPRIORITYR, ICFGR or NSACR blocks; None if
        `offset` is not in one."""
        if IPRIORITYR <= offset < IPRIORITYR + 0x400:
            return self._read_priority(offset - IPRIORITYR, size, secure)
        if size != 4:
            return None
        if ICFGR <= offset < ICFGR + 0x100:
            first = (offset - ICFGR) * 4
            edge = (self.edge & self.visible(secure)) >> first
            return sum(((edge >> i) & 1) << (2 * i + 1) for i in range(16))
        if NSACR <= offset < NSACR + 0x100:
            first = (offset - NSACR) * 4
            return (self.nsacr >> (2 * first)) & 0xFFFF_FFFF if secure else 0
        block, index = offset & ~0x7F, (offset & 0x7F) // 4
        if block not in BIT_BLOCKS:
            return None
        shift = 32 * index
        if block in (IGROUPR, IGRPMODR):
            if not secure:
                return 0
            bits = self.group if block == IGROUPR else self.grpmod
            return ((bits & self.valid) >> shift) & 0xFFFF_FFFF
        source = {ISENABLER: self.enable, ICENABLER: self.enable, ISPENDR: self.pending(),
                  ICPENDR: self.pending(), ISACTIVER: self.active,
                  ICACTIVER: self.active}[block]
        return ((source & self.visible(secure)) >> shift) & 0xFFFF_FFFF

    def _read_priority(self, offset, size, secure):
        if size not in (1, 4):
            return None
        value = 0
        for i in range(size):
            intid = offset + i
            if intid < len(self.priority) and self.visible(secure) >> intid & 1:
                p = self.priority[intid]
                value |= (p if secure else (p << 1) & 0xFF) << (8 * i)
        return value

    def write_block(self, offset, size, value, secure):
        """A write in the shared register blocks; False if `offset` is not in one."""
        if IPRIORITYR <= offset < IPRIORITYR + 0x400:
            if size in (1, 4):
                self._write_priority(offset - IPRIORITYR, size, value, secure)
            return True
        if size != 4:
            return False
        mask = self.visible(secure)
        if ICFGR <= offset < ICFGR + 0x100:
            first = (offset - ICFGR) * 4
            bits = sum(((value >> (2 * i + 1)) & 1) << (first + i) for i in range(16))
            mask &= (0xFFFF << first) & ~self.fixed_edge
            self.edge = (self.edge & ~mask) | (bits & mask)
            return True
        if NSACR <= offset < NSACR + 0x100:
            if secure:
                shift = 2 * (offset - NSACR) * 4
                self.nsacr = (self.nsacr & ~(0xFFFF_FFFF << shift)) | \
                    ((value & 0xFFFF_FFFF) << shift)
            return True
        block, index = offset & ~0x7F, (offset & 0x7F) // 4
        if block not in BIT_BLOCKS:
            return False
        bits = (value & 0xFFFF_FFFF) << (32 * index) & mask
        if block == IGROUPR:
            if secure:
                window = (0xFFFF_FFFF << (32 * index)) & self.valid
                self.group = (self.group & ~window) | bits
        elif block == IGRPMODR:
            if secure:
                window = (0xFFFF_FFFF << (32 * index)) & self.valid
                self.grpmod = (self.grpmod & ~window) | bits
        elif block == ISENABLER:
            self.enable |= bits
        elif block == ICENABLER:
            self.enable &= ~bits
        elif block == ISPENDR:
            self.latch |= bits
        elif block == ICPENDR:
            self.latch &= ~bits
        elif block == ISACTIVER:
            self.active |= bits
        else:
            self.active &= ~bits
        return True

    def _write_priority(self, offset, size, value, secure):
        for i in range(size):
            intid = offset + i
            if intid < len(self.priority) and self.visible(secure) >> intid & 1:
                byte = (value >> (8 * i)) & 0xFF
                if not secure:                  # Non-secure view (IHI 0069 4.8.6)
                    byte = 0x80 | (byte >> 1)
                self.priority[intid] = byte & PRIORITY_MASK


def _split64(read32, offset, size):
    """A 64-bit read of two 32-bit registers."""
    return read32(offset, 4) | (read32(offset + 4, 4) << 32)


class Distributor(Device):
    name = "gicd"
    size = 0x1_0000

    def __init__(self, gic):
        super().__init__()
        self.gic = gic

    def read(self, offset, size, secure=False):
        gic = self.gic
        if GICD_IROUTER + 8 * PRIVATE <= offset < GICD_IROUTER + 8 * 1020:
            return gic.read_irouter(offset - GICD_IROUTER, size, secure)
        if size == 8:
            return _split64(lambda o, n: self.read(o, n, secure), offset, size)
        value = gic.spi.read_block(offset, size, secure)
        if value is not None:
            return value
        if size != 4:
            return 0
        if offset == GICD_CTLR:
            return gic.ctlr_view(secure)
        if offset == GICD_TYPER:
            return gic.typer()
        if offset == GICD_IIDR:
            return IIDR
        return GICD_IDS.get(offset, 0)

    def write(self, offset, size, value, secure=False):
        gic = self.gic
        if GICD_IROUTER + 8 * PRIVATE <= offset < GICD_IROUTER + 8 * 1020:
            gic.write_irouter(offset - GICD_IROUTER, size, value, secure)
        elif size == 8:
            self.write(offset, 4, value & 0xFFFF_FFFF, secure)
            self.write(offset + 4, 4, value >> 32, secure)
            return
        elif gic.spi.write_block(offset, size, value, secure):
            pass
        elif offset == GICD_CTLR and size == 4:
            gic.write_ctlr(value, secure)
        else:
            return                             # read-only or reserved: WI
        gic.update_all()


class Redistributor(Device):
    """CPU `index`'s redistributor: RD_base at +0, SGI_base at +0x10000."""

    name = "gicr"
    size = REDIST_STRIDE

    def __init__(self, gic, index):
        super().__init__()
        self.gic, self.index = gic, index
        self.bank = Bank(0xFFFF_FFFF, fixed_edge=0xFFFF)
        self.reset()

    def reset(self):
        self.bank.reset()
        self.ctlr = 0
        self.asleep = True                    # GICR_WAKER.ProcessorSleep

    def typer(self):
        last = TYPER_LAST if self.index == len(self.gic.redistributors) - 1 else 0
        return (self.gic.affinity[self.index] << 32) | (self.index << 8) | last

    def read(self, offset, size, secure=False):
        if offset >= SGI_BASE:
            if size == 8:
                return _split64(lambda o, n: self.read(o, n, secure), offset, size)
            value = self.bank.read_block(offset - SGI_BASE, size, secure)
            return value or 0
        if offset == GICR_TYPER and size in (4, 8):
            return self.typer() & (0xFFFF_FFFF if size == 4 else 0xFFFF_FFFF_FFFF_FFFF)
        if offset == GICR_TYPER + 4 and size == 4:
            return self.typer() >> 32
        if size != 4:
            return 0
        if offset == GICR_CTLR:
            return self.ctlr
        if offset == GICR_IIDR:
            return IIDR
        if offset == GICR_WAKER:
            return WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP if self.asleep else 0
        return GICR_IDS.get(offset, 0)

    def write(self, offset, size, value, secure=False):
        if offset >= SGI_BASE:
            if size == 8:
                self.write(offset, 4, value & 0xFFFF_FFFF, secure)
                self.write(offset + 4, 4, value >> 32, secure)
                return
            if not self.bank.write_block(offset - SGI_BASE, size, value, secure):
                return
        elif size != 4:
            return
        elif offset == GICR_CTLR:
            self.ctlr = value & GICR_CTLR_WRITABLE
        elif offset == GICR_WAKER:
            # The handshake completes at once: ChildrenAsleep follows ProcessorSleep.
            self.asleep = bool(value & WAKER_PROCESSOR_SLEEP)
        else:
            return
        self.gic.update_all()


class RedistributorRegion(Device):
    """The GICR region as one device: CPU i's frame at i * 128 KB."""

    name = "gicr-region"

    def __init__(self, gic, size):
        super().__init__()
        self.gic, self.size = gic, size

    def _frame(self, offset):
        index = offset // REDIST_STRIDE
        if index < len(self.gic.redistributors):
            return self.gic.redistributors[index], offset % REDIST_STRIDE
        return None, 0

    def read(self, offset, size, secure=False):
        frame, rel = self._frame(offset)
        return frame.read(rel, size, secure) if frame is not None else 0

    def write(self, offset, size, value, secure=False):
        frame, rel = self._frame(offset)
        if frame is not None:
            frame.write(rel, size, value, secure)


class Gicv3:
    def __init__(self, cpus, spis=224, mpidrs=None):
        if not 0 <= spis <= MAX_SPIS:
            raise ValueError(f"a GICv3 has at most {MAX_SPIS} SPIs")
        self.cpus = list(cpus)
        self.spis = spis
        self.lines_total = PRIVATE + -(-spis // 32) * 32        # a multiple of 32
        if mpidrs is None:
            mpidrs = [getattr(c, "mpidr", fvp_affinity(i)) for i, c in enumerate(self.cpus)]
        self.affinity = [_affinity_of(m) for m in mpidrs]
        self.spi = Bank(((1 << (PRIVATE + spis)) - 1) & ~0xFFFF_FFFF)
        self.router = [0] * (PRIVATE + spis)
        self.redistributors = [Redistributor(self, i) for i in range(len(self.cpus))]
        self.cpuifs = [CpuInterface(self, i, core) for i, core in enumerate(self.cpus)]
        for core, cpuif in zip(self.cpus, self.cpuifs, strict=True):
            core.gic_cpu = cpuif
        self.distributor = Distributor(self)
        self.reset()

    def reset(self):
        self.ctlr = 0                          # EnableGrp0/1NS/1S (ARE_S/ARE_NS are RAO)
        self.spi.reset()
        self.router = [0] * (PRIVATE + self.spis)
        self._route_all()
        for r in self.redistributors:
            r.reset()
        for c in self.cpuifs:
            c.reset()
        self.refresh()

    # --- wiring -----------------------------------------------------------------------------

    def set_input(self, intid, level, cpu=None):
        """An interrupt input changes level (the InterruptLine target): SPIs with cpu None,
        SGIs/PPIs with the CPU number."""
        if intid < PRIVATE:
            self.redistributors[cpu].bank.set_input(intid, level)
            self.update(cpu)
        elif intid < PRIVATE + self.spis:
            self.spi.set_input(intid, level)
            self.update_all()

    def ppi_line(self, cpu, n):
        return InterruptLine(self, SGIS + n, cpu)

    def spi_line(self, n):
        if not 0 <= n < self.spis:
            raise ValueError(f"SPI {n} is not implemented (the GIC has {self.spis})")
        return InterruptLine(self, PRIVATE + n)

    def redistributor_region(self, size=None):
        return RedistributorRegion(self, size or REDIST_STRIDE * len(self.redistributors))

    def configure_for_nonsecure(self):
        """What the EL3 firmware leaves for a Non-secure OS (fact sheet 1.6): every SGI, PPI
        and SPI in Group 1 Non-secure, affinity routing on (always), the redistributors awake
        and each CPU interface's priority mask open."""
        self.spi.group = self.spi.valid
        self.spi.grpmod = 0
        for r in self.redistributors:
            r.bank.group, r.bank.grpmod = 0xFFFF_FFFF, 0
            r.asleep = False
        for c in self.cpuifs:
            c.pmr = PRIORITY_MASK
        self.update_all()

    # --- distributor registers ----------------------------------------------------------------

    def ctlr_view(self, secure):
        if secure:
            return self.ctlr | CTLR_ARE_S | CTLR_ARE_NS
        return (NS_CTLR_GRP1A if self.ctlr & CTLR_GRP1NS else 0) | NS_CTLR_ARE_NS

    def write_ctlr(self, value, secure):
        if secure:
            self.ctlr = value & (CTLR_GRP0 | CTLR_GRP1NS | CTLR_GRP1S)
        else:
            self.ctlr = (self.ctlr & ~CTLR_GRP1NS) | (CTLR_GRP1NS if value & NS_CTLR_GRP1A
                                                      else 0)

    def typer(self):
        cpus = min(len(self.cpus), 8) - 1
        return ((self.lines_total // 32 - 1) | (cpus << 5) | (1 << 10)    # SecurityExtn
                | ((IDBITS - 1) << 19) | (1 << 24))                        # IDbits, A3V

    def read_irouter(self, rel, size, secure):
        intid, half = rel // 8, rel % 8
        if intid >= PRIVATE + self.spis or not self.spi.visible(secure) >> intid & 1:
            return 0
        value = self.router[intid]
        if size == 8 and not half:
            return value
        if size == 4 and half in (0, 4):
            return (value >> (8 * half)) & 0xFFFF_FFFF
        return 0

    def write_irouter(self, rel, size, value, secure):
        intid, half = rel // 8, rel % 8
        if intid >= PRIVATE + self.spis or not self.spi.visible(secure) >> intid & 1:
            return
        old = self.router[intid]
        if size == 8 and not half:
            new = value
        elif size == 4 and half in (0, 4):
            shift = 8 * half
            new = (old & ~(0xFFFF_FFFF << shift)) | ((value & 0xFFFF_FFFF) << shift)
        else:
            return
        self.router[intid] = new & IROUTER_WRITABLE
        self._route(intid)
        self.update_all()

    def _route_all(self):
        self.target_mask = [0] * len(self.cpus)       # IRM = 0 SPIs, by target CPU
        self.any_mask = 0                              # IRM = 1 SPIs
        for intid in range(PRIVATE, PRIVATE + self.spis):
            self._route(intid)

    def _route(self, intid):
        bit = 1 << intid
        self.any_mask &= ~bit
        for i in range(len(self.target_mask)):
            self.target_mask[i] &= ~bit
        route = self.router[intid]
        if route & IROUTER_IRM:
            self.any_mask |= bit
            return
        affinity = (((route >> 32) & 0xFF) << 24) | (route & 0xFF_FFFF)
        for i, a in enumerate(self.affinity):
            if a == affinity:
                self.target_mask[i] |= bit

    # --- interrupt life cycle -----------------------------------------------------------------

    def _bank(self, cpu, intid):
        return self.redistributors[cpu].bank if intid < PRIVATE else self.spi

    def activate(self, cpu, intid):
        self._bank(cpu, intid).acknowledge(intid)
        if intid >= PRIVATE:
            self.update_all()

    def deactivate(self, cpu, intid):
        if intid < PRIVATE + self.spis:
            self._bank(cpu, intid).active &= ~(1 << intid)
            if intid >= PRIVATE:
                self.update_all()

    def send_sgi(self, cpu, intid, group):
        """Make SGI `intid` pending on `cpu` if it is configured in `group` there."""
        bank = self.redistributors[cpu].bank
        if bank.group_of(intid) == group:
            bank.latch |= 1 << intid
            self.update(cpu)

    # --- signalling -----------------------------------------------------------------------------

    def _group_enabled(self, cpu, group):
        return bool(self.ctlr & GROUP_ENABLE[group]) and self.cpuifs[cpu].group_enabled(group)

    def _participates(self, cpu, group):
        r = self.redistributors[cpu]
        return not r.asleep and not r.ctlr & GICR_CTLR_DPG[group] and \
            self.cpuifs[cpu].group_enabled(group)

    def hppi(self, cpu):
        """(priority, INTID, group) of the highest-priority pending, enabled, inactive
        interrupt for `cpu` whose group is enabled, or None (lowest INTID among equals)."""
        r = self.redistributors[cpu]
        if r.asleep:
            return None
        best = None
        for bank, candidates in (
                (r.bank, r.bank.pending() & r.bank.enable & ~r.bank.active),
                (self.spi, self.spi.pending() & self.spi.enable & ~self.spi.active
                 & (self.target_mask[cpu] | self.any_mask))):
            while candidates:
                intid = lowest_bit(candidates)
                candidates &= candidates - 1
                priority = bank.priority[intid]
                if best is not None and priority >= best[0]:
                    continue
                group = bank.group_of(intid)
                if not self._group_enabled(cpu, group):
                    continue
                if bank is self.spi and self.any_mask >> intid & 1 and \
                        self._one_of_n(group) != cpu:
                    continue
                best = (priority, intid, group)
        return best

    def _one_of_n(self, group):
        for cpu in range(len(self.cpus)):
            if self._participates(cpu, group):
                return cpu
        return None

    def update(self, cpu):
        """Drive CPU `cpu`'s IRQ and FIQ lines from its highest-priority pending interrupt."""
        s = self.cpus[cpu].s
        irq = fiq = False
        best = self.hppi(cpu)
        if best is not None and self.cpuifs[cpu].can_signal(best[0], best[2]):
            if signals_fiq(best[2], s):
                fiq = True
            else:
                irq = True
        s.irq_line, s.fiq_line = irq, fiq

    def update_all(self):
        for cpu in range(len(self.cpus)):
            self.update(cpu)

    def refresh(self):
        """Re-evaluate every line and virtual line (after a CPU changed Security state)."""
        self.update_all()
        for c in self.cpuifs:
            c.update_virtual()


def signals_fiq(group, s):
    """IHI 0069 4.6.2 with DS = 0: Group 0 as FIQ; at EL3 everything as FIQ; Group 1 as IRQ
    in its own Security state and as FIQ in the other (Realm counts as Non-secure)."""
    if group == GROUP0 or s.el == 3:
        return True
    return (group == GROUP1S) != (s.security == SECURE)

