"""The GICv3 CPU interface of one PE: the ICC_* system registers, and the virtual CPU interface
(ICH_* for the hypervisor, ICV_* seen by an EL1 guest), after the GICv3/v4 architecture
specification (IHI 0069), chapters 4 (physical interface), 6 (virtual interface) and 12
(register descriptions).

Configuration: 5 bits of physical and of virtual priority (ICC_CTLR.PRIbits = 4, ICH_VTR_EL2
= 0x90200003: PRIbits = PREbits = 4, A3V, 4 list registers), 16-bit INTIDs (IDbits = 0), no
SEI, system-register interface only (ICC_SRE_ELx.{SRE,DFB,DIB} RAO/WI), two Security states
(DS = 0, ICC_CTLR_EL3.nDS = 1). Realm state is treated as Non-secure by the GIC (the GIC has
no Realm interrupts; the RMM owns the virtual interface while a realm runs).

Banked registers (ICC_BPR1, ICC_CTLR, ICC_IGRPEN1, ICC_AP1R) have a Secure and a Non-secure
copy: Secure state, or EL3 with SCR_EL3.NS = 0, uses the Secure one.

At EL1 with HCR_EL2.IMO (Group 1 registers) or FMO (Group 0 registers; either for the
common ones: PMR, RPR, CTLR, DIR) set, ICC_* accesses are the ICV_* registers, working on the
list registers; ICC_SGI*R writes trap to EL2 instead. ICH_HCR_EL2.TC/TALL0/TALL1 trap EL1
accesses to EL2.

Simplified, as allowed by the brief:
- ICC_SRE_EL2/EL3.Enable are plain storage: EL1 accesses to ICC_SRE_EL1 and EL2 accesses to
  ICC_SRE_EL2 are never trapped; ICC_SRE_EL1 always reads SRE = 1.
- The SCR_EL3.{IRQ,FIQ} traps of ICC_* accesses to EL3 are not modelled (EL3 is the Python
  firmware), nor ICC_CTLR_EL3.RM; NSACR does not let Non-secure SGI writes reach Secure
  SGIs.
- The Non-secure (shifted) view of priorities applies to ICC_PMR_EL1 and ICC_RPR_EL1 for
  Non-secure accesses when SCR_EL3.FIQ = 1 (IHI 0069 4.8.6); ICC_AP*R reads are not shifted.
- ICC_AP0R1-3/AP1R1-3, ICH_AP0R1-3/AP1R1-3 and ICH_LR4-15 are not implemented for 5 bits of
  priority and 4 list registers: UNDEFINED.

System register rows (SYSREG_ROWS, in the sysregs.TABLE format) reach this object through
`s.core.gic_cpu`. Their traps to EL2 (ICH_HCR_EL2.TC/TALL0/TALL1, SGI writes under IMO/FMO)
are `trap` functions that the MRS/MSR templates check before the access, with the ISS they
know; writes are `recheck` registers, so an interrupt they make pending is taken before the
next instruction. The debugger reads through `peek`, which never acknowledges an interrupt.
"""

from machine.cpu.exceptions import MachineStop, Undefined
from machine.cpu.state import SECURE, EL2Enabled

from .base import InterruptLine

# --- architectural constants -------------------------------------------------------------------

GROUP0, GROUP1S, GROUP1NS = 0, 1, 2
SPURIOUS = 1023
SPECIAL_FIRST = 1020                  # INTIDs 1020-1023 are special
PRIORITY_BITS = 5
PRIORITY_MASK = (0xFF << (8 - PRIORITY_BITS)) & 0xFF      # 0xF8
PRIORITY_SHIFT = 8 - PRIORITY_BITS                        # active-priority bit = prio >> 3
IDLE = 0xFF
BPR0_MIN = 7 - PRIORITY_BITS          # 2: group priority field is bits [7:3]
BPR1_MIN = BPR0_MIN + 1
S, NS = 0, 1                          # banks of the banked registers

# HCR_EL2
HCR_FMO, HCR_IMO, HCR_TGE = 1 << 3, 1 << 4, 1 << 27
SCR_NS, SCR_FIQ = 1 << 0, 1 << 2

# ICC_CTLR_EL3 (IHI 0069 12.2.7): writable CBPR_EL1S, CBPR_EL1NS, EOImode_EL3, EOImode_EL1S,
# EOImode_EL1NS, PMHE; read-only PRIbits, A3V, nDS.
CTLR3_CBPR = (1 << 0, 1 << 1)         # by bank
CTLR3_EOIMODE_EL3 = 1 << 2
CTLR3_EOIMODE = (1 << 3, 1 << 4)      # by bank
CTLR3_PMHE = 1 << 6
CTLR3_WRITABLE = 0x5F
CTLR_PRIBITS = (PRIORITY_BITS - 1) << 8
CTLR_A3V = 1 << 15
CTLR3_NDS = 1 << 17
CTLR_CBPR, CTLR_EOIMODE, CTLR_PMHE = 1 << 0, 1 << 1, 1 << 6
SRE_RAO = 0x7                          # SRE, DFB, DIB
SRE_ENABLE = 1 << 3

# ICH_* (IHI 0069 12.4)
ICH_VTR_VALUE = 0x9020_0003
LIST_REGISTERS = 4
HCR_EN, HCR_UIE, HCR_LRENPIE, HCR_NPIE = 1 << 0, 1 << 1, 1 << 2, 1 << 3
HCR_VGRP0EIE, HCR_VGRP0DIE, HCR_VGRP1EIE, HCR_VGRP1DIE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
HCR_TC, HCR_TALL0, HCR_TALL1 = 1 << 10, 1 << 11, 1 << 12
HCR_EOICOUNT_SHIFT = 27
HCR_WRITABLE = 0xF800_1CFF             # TSEI (no SEIS), TDIR (no TDS) and GICv4.1 bits RES0
VMCR_VENG0, VMCR_VENG1, VMCR_VFIQEN, VMCR_VCBPR, VMCR_VEOIM = 1, 2, 1 << 3, 1 << 4, 1 << 9
VMCR_VBPR1_SHIFT, VMCR_VBPR0_SHIFT, VMCR_VPMR_SHIFT = 18, 21, 24
VMCR_WRITABLE = 0xF8FC_0213            # VPMR (5 bits), VBPR0, VBPR1, VEOIM, VCBPR, VENG1/0
LR_STATE_SHIFT = 62
LR_PENDING, LR_ACTIVE = 1, 2
LR_HW, LR_GROUP, LR_EOI = 1 << 61, 1 << 60, 1 << 41
LR_PRIORITY_SHIFT = 48
LR_WRITABLE = (3 << 62) | LR_HW | LR_GROUP | (PRIORITY_MASK << 48) | (0x1FFF << 32) | 0xFFFF_FFFF
MISR_EOI, MISR_U, MISR_LRENP, MISR_NP = 1 << 0, 1 << 1, 1 << 2, 1 << 3
MISR_VGRP0E, MISR_VGRP0D, MISR_VGRP1E, MISR_VGRP1D = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAINTENANCE_INTID = 25                 # PPI 9


def lowest_bit(mask):
    return (mask & -mask).bit_length() - 1


def bank_of(s):
    """The bank of the banked registers that the current state uses."""
    if s.el == 3:
        return NS if s.sr.get("scr_el3", 0) & SCR_NS else S
    return S if s.security == SECURE else NS


def group1_of(s):
    """The Group 1 of the current Security state (Realm counts as Non-secure)."""
    return GROUP1S if bank_of(s) == S else GROUP1NS


def ns_priority_view(s):
    """Non-secure accesses to PMR/RPR see the shifted view when SCR_EL3.FIQ = 1 (4.8.6)."""
    return s.el < 3 and s.security != SECURE and bool(s.sr.get("scr_el3", 0) & SCR_FIQ)


class CpuInterface:
    """ICC and ICH state of one PE; `gic` is the Gicv3 it belongs to, `index` its CPU number."""

    def __init__(self, gic, index, core):
        self.gic, self.index, self.core = gic, index, core
        self.maintenance = InterruptLine(gic, MAINTENANCE_INTID, index)
        self.reset()

    def reset(self):
        self.pmr = 0
        self.bpr0 = BPR0_MIN
        self.bpr1 = [BPR0_MIN, BPR1_MIN]
        self.igrpen0 = 0
        self.igrpen1 = [0, 0]
        self.ctlr3 = 0
        self.apr0 = 0
        self.apr1 = [0, 0]
        self.ich_hcr = 0
        self.ich_vmcr = VMCR_VFIQEN | (BPR0_MIN << VMCR_VBPR0_SHIFT) | \
            (BPR1_MIN << VMCR_VBPR1_SHIFT)
        self.ich_lr = [0] * LIST_REGISTERS
        self.ich_apr0 = self.ich_apr1 = 0

    # --- physical: priorities and signalling (IHI 0069 4.8) --------------------------------------

    def group_enabled(self, group):
        if group == GROUP0:
            return bool(self.igrpen0)
        return bool(self.igrpen1[S if group == GROUP1S else NS])

    def running_priority(self):
        active = self.apr0 | self.apr1[S] | self.apr1[NS]
        return lowest_bit(active) << PRIORITY_SHIFT if active else IDLE

    def group_priority(self, priority, group):
        """The group (preemption) priority of `priority` under the binary points."""
        if group == GROUP0 or self.ctlr3 & CTLR3_CBPR[S if group == GROUP1S else NS]:
            return priority & (0xFF << (self.bpr0 + 1)) & 0xFF
        return priority & (0xFF << self.bpr1[S if group == GROUP1S else NS]) & 0xFF

    def can_signal(self, priority, group):
        """Priority is higher than the mask and preempts the running priority."""
        return priority < self.pmr and \
            self.group_priority(priority, group) < self.running_priority()

    def eoi_mode(self, s):
        if s.el == 3:
            return bool(self.ctlr3 & CTLR3_EOIMODE_EL3)
        return bool(self.ctlr3 & CTLR3_EOIMODE[bank_of(s)])

    def _apr_set(self, group, priority):
        bit = 1 << (self.group_priority(priority, group) >> PRIORITY_SHIFT)
        if group == GROUP0:
            self.apr0 |= bit
        else:
            self.apr1[S if group == GROUP1S else NS] |= bit

    def _priority_drop(self):
        """Clear the highest-priority active priority bit (IHI 0069 4.7.2)."""
        active = self.apr0 | self.apr1[S] | self.apr1[NS]
        if active:
            keep = ~(active & -active)
            self.apr0 &= keep
            self.apr1[S] &= keep
            self.apr1[NS] &= keep

    # --- physical: register operations --------------------------------------------------------

    def _special_for(self, s, group):
        """What IAR0/HPPIR0 return at EL3 when the highest-priority pending interrupt is of
        Group 1: 1020 (Secure) or 1021 (Non-secure); SPURIOUS elsewhere."""
        if s.el == 3 and group != GROUP0:
            return 1020 if group == GROUP1S else 1021
        return SPURIOUS

    def acknowledge(self, s, group1, executing=True):
        """ICC_IAR0/1_EL1: acknowledge the signalled interrupt if it is of the right group."""
        best = self.gic.hppi(self.index)
        if best is None or not self.can_signal(best[0], best[2]):
            return SPURIOUS
        priority, intid, group = best
        wanted = group1_of(s) if group1 else GROUP0
        if group != wanted:
            return SPURIOUS if group1 else self._special_for(s, group)
        if executing:
            self.gic.activate(self.index, intid)
            self._apr_set(group, priority)
            self.gic.update(self.index)
        return intid

    def highest_pending(self, s, group1):
        """ICC_HPPIR0/1_EL1 (ignores the priority mask and the running priority)."""
        best = self.gic.hppi(self.index)
        if best is None:
            return SPURIOUS
        wanted = group1_of(s) if group1 else GROUP0
        if best[2] != wanted:
            return SPURIOUS if group1 else self._special_for(s, best[2])
        return best[1]

    def end_of_interrupt(self, s, value):
        """ICC_EOIR0/1_EL1: priority drop, and deactivation unless EOImode is 1."""
        intid = value & 0xFF_FFFF
        if SPECIAL_FIRST <= intid <= SPURIOUS:
            return
        self._priority_drop()
        if not self.eoi_mode(s):
            self.gic.deactivate(self.index, intid)
        self.gic.update(self.index)

    def deactivate(self, s, value):
        """ICC_DIR_EL1."""
        intid = value & 0xFF_FFFF
        if intid < SPECIAL_FIRST:
            self.gic.deactivate(self.index, intid)
            self.gic.update(self.index)

    def generate_sgi(self, s, value, kind):
        """ICC_SGI0R/SGI1R/ASGI1R_EL1 (IHI 0069 12.2.21): kind 0 = Group 0, 1 = Group 1 of
        the current Security state, 2 = Group 1 of the other one."""
        intid = (value >> 24) & 0xF
        if kind == 0:
            group = GROUP0
        else:
            current = group1_of(s)
            group = current if kind == 1 else (GROUP1NS if current == GROUP1S else GROUP1S)
        if (value >> 40) & 1:                     # IRM: every PE but this one
            targets = [i for i in range(len(self.gic.cpuifs)) if i != self.index]
        else:
            aff = (((value >> 48) & 0xFF) << 24) | (((value >> 32) & 0xFF) << 16) | \
                (((value >> 16) & 0xFF) << 8)
            rs, target_list = (value >> 44) & 0xF, value & 0xFFFF
            targets = [i for i, a in enumerate(self.gic.affinity)
                       if a & ~0xFF == aff and (a & 0xFF) >> 4 == rs
                       and (target_list >> (a & 0xF)) & 1]
        for cpu in targets:
            self.gic.send_sgi(cpu, intid, group)

    # --- virtual interface (IHI 0069 6) -----------------------------------------------------------

    def _lr_state(self, n):
        return self.ich_lr[n] >> LR_STATE_SHIFT

    def _v_enabled(self, group0):
        return bool(self.ich_vmcr & (VMCR_VENG0 if group0 else VMCR_VENG1))

    def v_pmr(self):
        return (self.ich_vmcr >> VMCR_VPMR_SHIFT) & 0xFF

    def v_bpr0(self):
        return (self.ich_vmcr >> VMCR_VBPR0_SHIFT) & 7

    def v_bpr1(self):
        if self.ich_vmcr & VMCR_VCBPR:
            return min(self.v_bpr0() + 1, 7)
        return (self.ich_vmcr >> VMCR_VBPR1_SHIFT) & 7

    def v_running_priority(self):
        active = self.ich_apr0 | self.ich_apr1
        return lowest_bit(active) << PRIORITY_SHIFT if active else IDLE

    def v_group_priority(self, priority, group0):
        if group0 or self.ich_vmcr & VMCR_VCBPR:
            return priority & (0xFF << (self.v_bpr0() + 1)) & 0xFF
        return priority & (0xFF << self.v_bpr1()) & 0xFF

    def v_hppi(self):
        """Index of the highest-priority pending list register whose group is enabled (the
        lowest-numbered one among equals), or None."""
        best = None
        for n, lr in enumerate(self.ich_lr):
            if lr >> LR_STATE_SHIFT != LR_PENDING or not self._v_enabled(not lr & LR_GROUP):
                continue
            priority = (lr >> LR_PRIORITY_SHIFT) & 0xFF
            if best is None or priority < best[0]:
                best = (priority, n)
        return None if best is None else best[1]

    def v_can_signal(self, n):
        lr = self.ich_lr[n]
        priority = (lr >> LR_PRIORITY_SHIFT) & 0xFF
        return priority < self.v_pmr() and \
            self.v_group_priority(priority, not lr & LR_GROUP) < self.v_running_priority()

    def eisr(self):
        return sum(1 << n for n, lr in enumerate(self.ich_lr)
                   if not lr >> LR_STATE_SHIFT and not lr & LR_HW and lr & LR_EOI)

    def elrsr(self):
        return sum(1 << n for n, lr in enumerate(self.ich_lr)
                   if not lr >> LR_STATE_SHIFT and (lr & LR_HW or not lr & LR_EOI))

    def misr(self):
        hcr, vmcr = self.ich_hcr, self.ich_vmcr
        valid = sum(1 for lr in self.ich_lr if lr >> LR_STATE_SHIFT)
        pending = any(lr >> LR_STATE_SHIFT == LR_PENDING for lr in self.ich_lr)
        value = MISR_EOI if self.eisr() else 0
        if hcr & HCR_UIE and valid <= 1:
            value |= MISR_U
        if hcr & HCR_LRENPIE and hcr >> HCR_EOICOUNT_SHIFT:
            value |= MISR_LRENP
        if hcr & HCR_NPIE and not pending:
            value |= MISR_NP
        for enable, disable, en_bit, dis_bit, eng in (
                (HCR_VGRP0EIE, HCR_VGRP0DIE, MISR_VGRP0E, MISR_VGRP0D, VMCR_VENG0),
                (HCR_VGRP1EIE, HCR_VGRP1DIE, MISR_VGRP1E, MISR_VGRP1D, VMCR_VENG1)):
            if hcr & enable and vmcr & eng:
                value |= en_bit
            if hcr & disable and not vmcr & eng:
                value |= dis_bit
        return value

    def update_virtual(self):
        """Drive the CPU's virtual IRQ/FIQ lines and the maintenance interrupt."""
        s = self.core.s
        virq = vfiq = False
        enabled = bool(self.ich_hcr & HCR_EN)
        if enabled:
            n = self.v_hppi()
            if n is not None and self.v_can_signal(n):
                if self.ich_lr[n] & LR_GROUP:
                    virq = True
                else:
                    vfiq = True              # VFIQEn is RES1 with system register access
        s.virq_line, s.vfiq_line = virq, vfiq
        self.maintenance.set(enabled and self.misr() != 0)

    def v_acknowledge(self, group1, executing=True):
        n = self.v_hppi()
        if n is None or not self.ich_hcr & HCR_EN or not self.v_can_signal(n):
            return SPURIOUS
        lr = self.ich_lr[n]
        if bool(lr & LR_GROUP) != group1:
            return SPURIOUS
        if executing:
            self.ich_lr[n] = (lr & ~(3 << LR_STATE_SHIFT)) | (LR_ACTIVE << LR_STATE_SHIFT)
            bit = 1 << (self.v_group_priority((lr >> LR_PRIORITY_SHIFT) & 0xFF, not group1)
                        >> PRIORITY_SHIFT)
            if group1:
                self.ich_apr1 |= bit
            else:
                self.ich_apr0 |= bit
            self.update_virtual()
        return lr & 0xFFFF_FFFF

    def v_highest_pending(self, group1):
        n = self.v_hppi()
        if n is None or bool(self.ich_lr[n] & LR_GROUP) != group1:
            return SPURIOUS
        return self.ich_lr[n] & 0xFFFF_FFFF

    def v_end_of_interrupt(self, value):
        vintid = value & 0xFF_FFFF
        if SPECIAL_FIRST <= vintid <= SPURIOUS:
            return
        active = self.ich_apr0 | self.ich_apr1
        if active:
            keep = ~(active & -active)
            self.ich_apr0 &= keep
            self.ich_apr1 &= keep
        if not self.ich_vmcr & VMCR_VEOIM:
            self.v_deactivate(vintid)
        self.update_virtual()

    def v_deactivate(self, vintid):
        """Deactivate the list register holding `vintid`; count the EOI when none does."""
        for n, lr in enumerate(self.ich_lr):
            if lr & 0xFFFF_FFFF == vintid and (lr >> LR_STATE_SHIFT) & LR_ACTIVE:
                self.ich_lr[n] = lr & ~(LR_ACTIVE << LR_STATE_SHIFT)
                if lr & LR_HW:
                    pintid = (lr >> 32) & 0x1FFF
                    if pintid < SPECIAL_FIRST:
                        self.gic.deactivate(self.index, pintid)
                        self.gic.update(self.index)
                break
        else:
            count = ((self.ich_hcr >> HCR_EOICOUNT_SHIFT) + 1) & 0x1F
            self.ich_hcr = (self.ich_hcr & ~(0x1F << HCR_EOICOUNT_SHIFT)) | \
                (count << HCR_EOICOUNT_SHIFT)
        self.update_virtual()


# --- system register rows ----------------------------------------------------------------------

def cpuif_of(s):
    gic_cpu = getattr(s.core, "gic_cpu", None)
    if gic_cpu is None:
        raise MachineStop("a GIC CPU interface register was accessed, but no GIC is attached "
                          "to this CPU")
    return gic_cpu


def _undefined(s, value=None):
    raise Undefined()


ROWS = []


def _virtual(s, hcr):
    """An EL1 access to an ICC register is to its ICV_* counterpart when HCR_EL2's `hcr`
    routing bit (IMO/FMO) is set and TGE is not."""
    if s.el != 1 or not EL2Enabled(s):
        return False
    hcr_el2 = s.sr.get("hcr_el2", 0)
    return bool(hcr_el2 & hcr) and not hcr_el2 & HCR_TGE


def _row(name, key, read=None, write=None, hcr=0, trap=0, min_el=1, peek=None,
         trap_virtual=False):
    """Add an ICC/ICV row. `read(ci, s, virtual)` / `write(ci, s, virtual, value)`; `hcr` are
    the HCR_EL2 bits that make an EL1 access virtual, `trap` the ICH_HCR_EL2 bits that trap it
    to EL2 (and `trap_virtual`: a virtual access traps to EL2). A missing read makes MRS
    UNDEFINED, a missing write makes the register read-only; `peek` reads without side
    effects. Writes can change the interrupt lines, so the CPU rechecks after them."""

    def trap_to(s, is_read):
        if s.el == 1 and EL2Enabled(s) and (cpuif_of(s).ich_hcr & trap or
                                            trap_virtual and _virtual(s, hcr)):
            return 2
        return None

    def get(s):
        return read(cpuif_of(s), s, _virtual(s, hcr))

    def put(s, value):
        write(cpuif_of(s), s, _virtual(s, hcr), value)

    def look(s):
        return peek(cpuif_of(s), s, _virtual(s, hcr))

    ROWS.append((name, key, dict(min_el=min_el, read=get if read else _undefined,
                                 write=put if write else None, read_only=write is None,
                                 trap=trap_to if trap or trap_virtual else None,
                                 peek=look if peek else None, recheck=write is not None)))


def _plain_row(name, key, read=None, write=None, min_el=1):
    """A row without virtualisation or ICH traps: read(ci, s), write(ci, s, value)."""
    def get(s):
        return read(cpuif_of(s), s)

    def put(s, value):
        write(cpuif_of(s), s, value)

    ROWS.append((name, key, dict(min_el=min_el, read=get if read else _undefined,
                                 write=put if write else None, read_only=write is None,
                                 recheck=write is not None)))


def _changed(ci, virtual):
    if virtual:
        ci.update_virtual()
    else:
        ci.gic.update(ci.index)


# ICC_PMR_EL1 / ICV_PMR_EL1
def _pmr_read(ci, s, virtual):
    if virtual:
        return ci.v_pmr()
    if ns_priority_view(s):
        return (ci.pmr << 1) & 0xFF if ci.pmr & 0x80 else 0
    return ci.pmr


def _pmr_write(ci, s, virtual, value):
    value &= 0xFF
    if virtual:
        ci.ich_vmcr = (ci.ich_vmcr & ~(0xFF << VMCR_VPMR_SHIFT)) | \
            ((value & PRIORITY_MASK) << VMCR_VPMR_SHIFT)
    elif ns_priority_view(s):
        if ci.pmr & 0x80:                  # a Secure-range mask is not changed from NS
            ci.pmr = ((value >> 1) | 0x80) & PRIORITY_MASK
    else:
        ci.pmr = value & PRIORITY_MASK
    _changed(ci, virtual)


def _rpr_read(ci, s, virtual):
    if virtual:
        return ci.v_running_priority()
    rp = ci.running_priority()
    if rp != IDLE and ns_priority_view(s):
        return (rp << 1) & 0xFF if rp & 0x80 else 0
    return rp


def _iar(group1, acknowledge=True):
    """ICC_IAR<n>_EL1: the read acknowledges the interrupt; the debugger's peek does not."""
    def read(ci, s, virtual):
        if virtual:
            return ci.v_acknowledge(group1, acknowledge)
        return ci.acknowledge(s, group1, acknowledge)
    return read


def _eoir(ci, s, virtual, value):
    if virtual:
        ci.v_end_of_interrupt(value)
    else:
        ci.end_of_interrupt(s, value)


def _hppir(group1):
    def read(ci, s, virtual):
        return ci.v_highest_pending(group1) if virtual else ci.highest_pending(s, group1)
    return read


def _dir(ci, s, virtual, value):
    if virtual:
        if ci.ich_vmcr & VMCR_VEOIM:
            ci.v_deactivate(value & 0xFF_FFFF)
    else:
        ci.deactivate(s, value)


def _bpr0_read(ci, s, virtual):
    return ci.v_bpr0() if virtual else ci.bpr0


def _bpr0_write(ci, s, virtual, value):
    value = max(value & 7, BPR0_MIN)
    if virtual:
        ci.ich_vmcr = (ci.ich_vmcr & ~(7 << VMCR_VBPR0_SHIFT)) | (value << VMCR_VBPR0_SHIFT)
    else:
        ci.bpr0 = value
    _changed(ci, virtual)


def _bpr1_read(ci, s, virtual):
    if virtual:
        return ci.v_bpr1()
    bank = bank_of(s)
    if ci.ctlr3 & CTLR3_CBPR[bank]:
        return ci.bpr0 if bank == S else min(ci.bpr0 + 1, 7)
    return ci.bpr1[bank]


def _bpr1_write(ci, s, virtual, value):
    if virtual:
        if not ci.ich_vmcr & VMCR_VCBPR:
            value = max(value & 7, BPR1_MIN)
            ci.ich_vmcr = (ci.ich_vmcr & ~(7 << VMCR_VBPR1_SHIFT)) | \
                (value << VMCR_VBPR1_SHIFT)
    else:
        bank = bank_of(s)
        if not ci.ctlr3 & CTLR3_CBPR[bank]:
            ci.bpr1[bank] = max(value & 7, BPR0_MIN if bank == S else BPR1_MIN)
    _changed(ci, virtual)


def _ctlr_read(ci, s, virtual):
    ro = CTLR_PRIBITS | CTLR_A3V
    if virtual:
        vmcr = ci.ich_vmcr
        return ro | (CTLR_CBPR if vmcr & VMCR_VCBPR else 0) | \
            (CTLR_EOIMODE if vmcr & VMCR_VEOIM else 0)
    bank = bank_of(s)
    return ro | (CTLR_CBPR if ci.ctlr3 & CTLR3_CBPR[bank] else 0) | \
        (CTLR_EOIMODE if ci.ctlr3 & CTLR3_EOIMODE[bank] else 0) | \
        (CTLR_PMHE if ci.ctlr3 & CTLR3_PMHE else 0)


def _set_bits(value, mask, on):
    return value | mask if on else value & ~mask


def _ctlr_write(ci, s, virtual, value):
    if virtual:
        vmcr = _set_bits(ci.ich_vmcr, VMCR_VCBPR, value & CTLR_CBPR)
        ci.ich_vmcr = _set_bits(vmcr, VMCR_VEOIM, value & CTLR_EOIMODE)
    else:
        bank = bank_of(s)
        ctlr3 = _set_bits(ci.ctlr3, CTLR3_CBPR[bank], value & CTLR_CBPR)
        ctlr3 = _set_bits(ctlr3, CTLR3_EOIMODE[bank], value & CTLR_EOIMODE)
        if bank == S:                      # PMHE is read-only to Non-secure accesses
            ctlr3 = _set_bits(ctlr3, CTLR3_PMHE, value & CTLR_PMHE)
        ci.ctlr3 = ctlr3
    _changed(ci, virtual)


def _igrpen(group1):
    def read(ci, s, virtual):
        if virtual:
            return int(ci._v_enabled(not group1))
        return ci.igrpen1[bank_of(s)] if group1 else ci.igrpen0

    def write(ci, s, virtual, value):
        if virtual:
            ci.ich_vmcr = _set_bits(ci.ich_vmcr, VMCR_VENG1 if group1 else VMCR_VENG0,
                                    value & 1)
            ci.update_virtual()
            return
        if group1:
            ci.igrpen1[bank_of(s)] = value & 1
        else:
            ci.igrpen0 = value & 1
        ci.gic.update_all()                # 1 of N SPIs may move to another PE
    return read, write


def _apr(group1):
    def read(ci, s, virtual):
        if virtual:
            return ci.ich_apr1 if group1 else ci.ich_apr0
        return ci.apr1[bank_of(s)] if group1 else ci.apr0

    def write(ci, s, virtual, value):
        value &= 0xFFFF_FFFF
        if virtual:
            if group1:
                ci.ich_apr1 = value
            else:
                ci.ich_apr0 = value
        elif group1:
            ci.apr1[bank_of(s)] = value
        else:
            ci.apr0 = value
        _changed(ci, virtual)
    return read, write


def _sgi(kind):
    """An SGI generation register; at EL1 with IMO/FMO set the write traps to EL2 (IHI 0069
    12.2.21), so `virtual` is never true here."""
    hcr = HCR_FMO if kind == 0 else HCR_IMO

    def write(ci, s, virtual, value):
        ci.generate_sgi(s, value, kind)
    return write, hcr


def _sre_el1_read(ci, s, virtual):
    return SRE_RAO


def _sre_el1_write(ci, s, virtual, value):
    pass


BOTH = HCR_IMO | HCR_FMO
_igrpen0, _igrpen1 = _igrpen(False), _igrpen(True)
_ap0r, _ap1r = _apr(False), _apr(True)

_row("icc_pmr_el1", (3, 0, 4, 6, 0), _pmr_read, _pmr_write, BOTH, HCR_TC)
_row("icc_iar0_el1", (3, 0, 12, 8, 0), _iar(False), None, HCR_FMO, HCR_TALL0,
     peek=_iar(False, acknowledge=False))
_row("icc_eoir0_el1", (3, 0, 12, 8, 1), None, _eoir, HCR_FMO, HCR_TALL0)
_row("icc_hppir0_el1", (3, 0, 12, 8, 2), _hppir(False), None, HCR_FMO, HCR_TALL0)
_row("icc_bpr0_el1", (3, 0, 12, 8, 3), _bpr0_read, _bpr0_write, HCR_FMO, HCR_TALL0)
_row("icc_ap0r0_el1", (3, 0, 12, 8, 4), *_ap0r, HCR_FMO, HCR_TALL0)
_row("icc_ap1r0_el1", (3, 0, 12, 9, 0), *_ap1r, HCR_IMO, HCR_TALL1)
_row("icc_dir_el1", (3, 0, 12, 11, 1), None, _dir, BOTH, HCR_TC)
_row("icc_rpr_el1", (3, 0, 12, 11, 3), _rpr_read, None, BOTH, HCR_TC)
for _name, _key, _kind in (("icc_sgi1r_el1", (3, 0, 12, 11, 5), 1),
                           ("icc_asgi1r_el1", (3, 0, 12, 11, 6), 2),
                           ("icc_sgi0r_el1", (3, 0, 12, 11, 7), 0)):
    _write, _hcr = _sgi(_kind)
    _row(_name, _key, None, _write, _hcr, HCR_TC, trap_virtual=True)
_row("icc_iar1_el1", (3, 0, 12, 12, 0), _iar(True), None, HCR_IMO, HCR_TALL1,
     peek=_iar(True, acknowledge=False))
_row("icc_eoir1_el1", (3, 0, 12, 12, 1), None, _eoir, HCR_IMO, HCR_TALL1)
_row("icc_hppir1_el1", (3, 0, 12, 12, 2), _hppir(True), None, HCR_IMO, HCR_TALL1)
_row("icc_bpr1_el1", (3, 0, 12, 12, 3), _bpr1_read, _bpr1_write, HCR_IMO, HCR_TALL1)
_row("icc_ctlr_el1", (3, 0, 12, 12, 4), _ctlr_read, _ctlr_write, BOTH, HCR_TC)
_row("icc_sre_el1", (3, 0, 12, 12, 5), _sre_el1_read, _sre_el1_write, BOTH)
_row("icc_igrpen0_el1", (3, 0, 12, 12, 6), *_igrpen0, HCR_FMO, HCR_TALL0)
_row("icc_igrpen1_el1", (3, 0, 12, 12, 7), *_igrpen1, HCR_IMO, HCR_TALL1)
for _n in (1, 2, 3):        # not implemented with 5 priority bits
    ROWS.append((f"icc_ap0r{_n}_el1", (3, 0, 12, 8, 4 + _n),
                 dict(read=_undefined, write=_undefined)))
    ROWS.append((f"icc_ap1r{_n}_el1", (3, 0, 12, 9, _n), dict(read=_undefined, write=_undefined)))


# ICC_SRE_EL2/EL3: SRE, DFB, DIB RAO/WI; Enable is plain storage in s.sr (the firmware sets it)
def _sre(name):
    def get(s):
        return s.sr.get(name, SRE_RAO | SRE_ENABLE) | SRE_RAO

    def put(s, value):
        s.sr[name] = (value & SRE_ENABLE) | SRE_RAO
    return dict(read=get, write=put)


ROWS.append(("icc_sre_el2", (3, 4, 12, 9, 5), dict(min_el=2, **_sre("icc_sre_el2"))))
ROWS.append(("icc_sre_el3", (3, 6, 12, 12, 5), dict(min_el=3, **_sre("icc_sre_el3"))))


def _ctlr3_read(ci, s):
    return ci.ctlr3 | CTLR_PRIBITS | CTLR_A3V | CTLR3_NDS


def _ctlr3_write(ci, s, value):
    ci.ctlr3 = value & CTLR3_WRITABLE
    ci.gic.update(ci.index)


def _igrpen1_el3_read(ci, s):
    return ci.igrpen1[NS] | (ci.igrpen1[S] << 1)


def _igrpen1_el3_write(ci, s, value):
    ci.igrpen1[NS], ci.igrpen1[S] = value & 1, (value >> 1) & 1
    ci.gic.update_all()


_plain_row("icc_ctlr_el3", (3, 6, 12, 12, 4), _ctlr3_read, _ctlr3_write, min_el=3)
_plain_row("icc_igrpen1_el3", (3, 6, 12, 12, 7), _igrpen1_el3_read, _igrpen1_el3_write,
           min_el=3)


# --- ICH_* (EL2) ---------------------------------------------------------------------------------

def _ich(read, write=None):
    """An ICH row: read(ci) / write(ci, value); every write re-evaluates the virtual lines."""
    def get(ci, s):
        return read(ci)

    def put(ci, s, value):
        write(ci, value)
        ci.update_virtual()
    return get, put if write else None


def _set_attr(attr, mask):
    def write(ci, value):
        setattr(ci, attr, value & mask)
    return write


def _vmcr_write(ci, value):
    value &= VMCR_WRITABLE
    vbpr0 = max((value >> VMCR_VBPR0_SHIFT) & 7, BPR0_MIN)
    vbpr1 = max((value >> VMCR_VBPR1_SHIFT) & 7, BPR1_MIN)
    value &= ~((7 << VMCR_VBPR0_SHIFT) | (7 << VMCR_VBPR1_SHIFT))
    ci.ich_vmcr = value | VMCR_VFIQEN | (vbpr0 << VMCR_VBPR0_SHIFT) | \
        (vbpr1 << VMCR_VBPR1_SHIFT)


def _lr(n):
    def read(ci):
        return ci.ich_lr[n]

    def write(ci, value):
        ci.ich_lr[n] = value & LR_WRITABLE
    return read, write


_ICH = [
    ("ich_ap0r0_el2", (3, 4, 12, 8, 0), lambda ci: ci.ich_apr0,
     _set_attr("ich_apr0", 0xFFFF_FFFF)),
    ("ich_ap1r0_el2", (3, 4, 12, 9, 0), lambda ci: ci.ich_apr1,
     _set_attr("ich_apr1", 0xFFFF_FFFF)),
    ("ich_hcr_el2", (3, 4, 12, 11, 0), lambda ci: ci.ich_hcr,
     _set_attr("ich_hcr", HCR_WRITABLE)),
    ("ich_vtr_el2", (3, 4, 12, 11, 1), lambda ci: ICH_VTR_VALUE, None),
    ("ich_misr_el2", (3, 4, 12, 11, 2), CpuInterface.misr, None),
    ("ich_eisr_el2", (3, 4, 12, 11, 3), CpuInterface.eisr, None),
    ("ich_elrsr_el2", (3, 4, 12, 11, 5), CpuInterface.elrsr, None),
    ("ich_vmcr_el2", (3, 4, 12, 11, 7), lambda ci: ci.ich_vmcr, _vmcr_write),
]
_ICH += [(f"ich_lr{n}_el2", (3, 4, 12, 12, n), *_lr(n)) for n in range(LIST_REGISTERS)]
for _name, _key, _read, _write in _ICH:
    _plain_row(_name, _key, *_ich(_read, _write), min_el=2)
for _n in (1, 2, 3):
    ROWS.append((f"ich_ap0r{_n}_el2", (3, 4, 12, 8, _n),
                 dict(min_el=2, read=_undefined, write=_undefined)))
    ROWS.append((f"ich_ap1r{_n}_el2", (3, 4, 12, 9, _n),
                 dict(min_el=2, read=_undefined, write=_undefined)))
for _n in range(LIST_REGISTERS, 16):
    ROWS.append((f"ich_lr{_n}_el2", (3, 4, 12, 12 + _n // 8, _n % 8),
                 dict(min_el=2, read=_undefined, write=_undefined)))

SYSREG_ROWS = ROWS
