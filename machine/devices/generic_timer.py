"""The Generic Timer of one PE (Arm ARM D12 / D24.11): the counter registers and the EL1
physical (CNTP_*, PPI 14 = INTID 30), EL1 virtual (CNTV_*, INTID 27), EL2 physical (CNTHP_*,
INTID 26) and Secure EL1 physical (CNTPS_*, INTID 29) timers. The EL2 virtual timer
(CNTHV_*) exists only with FEAT_VHE, which this CPU does not advertise
(ID_AA64MMFR1_EL1.VH = 0): its encodings are not implemented. Nor are FEAT_ECV (CNTPOFF,
CNTPCTSS/CNTVCTSS) and the event stream (CNTKCTL/CNTHCTL.EVNTEN: no WFE wake-up events).

The count is the system counter of the machine's VirtualClock (machine/board/clock.py);
the virtual count is the physical count minus CNTVOFF_EL2. A timer's condition is met
(ISTATUS) when it is enabled and count >= CVAL (unsigned 64-bit); its PPI is asserted, as a
level, while ISTATUS = 1 and IMASK = 0. TVAL reads as the low 32 bits of CVAL - count and a
write sets CVAL = count + SignExtend(TVAL). The timer registers are kept in the CPU state's
`s.sr` by name (cntp_ctl_el0, cntp_cval_el0, ...), so they travel with it.

Time only moves between scheduler slices: `tick(now)` re-evaluates the lines after the clock
advanced, and `next_event()` is the virtual time at which an enabled, unmasked timer that is
not firing yet will fire. A register write that fires a timer at once updates the line
immediately; the registers are `recheck` registers, so the CPU takes it before its next
instruction.

Access controls: EL0 accesses need CNTKCTL_EL1.EL0PCTEN (CNTPCT), EL0VCTEN (CNTVCT),
either of them (CNTFRQ), EL0PTEN (CNTP_*), EL0VTEN (CNTV_*), otherwise they trap to EL1 (to
EL2 with HCR_EL2.TGE); EL0/EL1 accesses with EL2 enabled need CNTHCTL_EL2.EL1PCTEN (CNTPCT)
and EL1PCEN (CNTP_*), otherwise they trap to EL2. Traps are EC 0x18 with the MRS/MSR ISS:
each register's `trap` function, checked by the MRS/MSR template before the access, says
where it traps. CNTPS_* are accessible at EL3 and at Secure EL1 with
SCR_EL3.ST = 1 (trapped to EL3 when ST = 0), UNDEFINED elsewhere. CNTFRQ_EL0 is writable at
EL3 only.
"""

from typing import NamedTuple

from machine.cpu.exceptions import MachineStop, Undefined
from machine.cpu.state import SECURE, EL2Enabled

from .base import Device, InterruptLine, NullController

M64 = (1 << 64) - 1
CTL_ENABLE, CTL_IMASK, CTL_ISTATUS = 1, 2, 4
FREQUENCY = 100_000_000
# CNTKCTL_EL1 bits (D24.11.4)
EL0PCTEN, EL0VCTEN, EL0VTEN, EL0PTEN = 1 << 0, 1 << 1, 1 << 8, 1 << 9
CNTKCTL_WRITABLE = 0x3FF
# CNTHCTL_EL2 bits with HCR_EL2.E2H = 0 (D24.11.3): EL1PCTEN, EL1PCEN, EVNTEN, EVNTDIR, EVNTI
EL1PCTEN, EL1PCEN = 1 << 0, 1 << 1
CNTHCTL_WRITABLE = 0xFF
CNTHCTL_RESET = EL1PCTEN | EL1PCEN      # EL1 may use the physical counter and timer
HCR_TGE = 1 << 27
SCR_ST = 1 << 11


class TimerDef(NamedTuple):
    prefix: str        # register name prefix: cntp, cntv, cnthp, cntps
    el: str            # register name suffix
    op1: int
    crm: int
    intid: int
    virtual: bool


TIMERS = (
    TimerDef("cntp", "el0", 3, 2, 30, False),
    TimerDef("cntv", "el0", 3, 3, 27, True),
    TimerDef("cnthp", "el2", 4, 2, 26, False),
    TimerDef("cntps", "el1", 7, 2, 29, False),
)


class GenericTimer(Device):
    """The timers of `core`, counting `clock`, signalling PPIs of `gic` for CPU `cpu`.
    Sets `core.timer` (through which the system registers reach it)."""

    name = "generic-timer"
    size = 0

    def __init__(self, core, clock, gic=None, cpu=0):
        super().__init__()
        self.core, self.clock = core, clock
        controller = gic if gic is not None else NullController()
        self.lines = [InterruptLine(controller, t.intid, cpu) for t in TIMERS]
        core.timer = self

    def read(self, offset, size):
        return 0

    def write(self, offset, size, value):
        pass

    # --- counts and conditions ---------------------------------------------------------------

    def physical_count(self):
        return self.clock.counter()

    def virtual_count(self):
        return (self.clock.counter() - self.core.s.sr.get("cntvoff_el2", 0)) & M64

    def count(self, timer):
        return self.virtual_count() if timer.virtual else self.physical_count()

    def _regs(self, timer):
        sr = self.core.s.sr
        return sr.get(f"{timer.prefix}_ctl_{timer.el}", 0), \
            sr.get(f"{timer.prefix}_cval_{timer.el}", 0)

    def istatus(self, timer):
        ctl, cval = self._regs(timer)
        return bool(ctl & CTL_ENABLE) and self.count(timer) >= cval

    def update(self):
        for timer, line in zip(TIMERS, self.lines, strict=True):
            ctl, _ = self._regs(timer)
            line.set(self.istatus(timer) and not ctl & CTL_IMASK)

    def next_event(self):
        """Virtual time (ns) at which an enabled, unmasked timer whose line is not asserted
        will fire: now if its condition is already met (the next tick asserts it)."""
        events = []
        for timer, line in zip(TIMERS, self.lines, strict=True):
            ctl, cval = self._regs(timer)
            if ctl & (CTL_ENABLE | CTL_IMASK) != CTL_ENABLE or line.level:
                continue
            count = self.count(timer)
            when = self.clock.now() if count >= cval else \
                self.clock.time_of_count(self.physical_count() + cval - count)
            if when is not None:
                events.append(when)
        return min(events) if events else None

    def tick(self, now):
        self.update()

    def reset(self):
        sr = self.core.s.sr
        for timer in TIMERS:
            sr[f"{timer.prefix}_ctl_{timer.el}"] = 0
            sr[f"{timer.prefix}_cval_{timer.el}"] = 0
        self.update()


# --- system register rows ----------------------------------------------------------------------

def timer_of(s):
    timer = getattr(s.core, "timer", None)
    if timer is None:
        raise MachineStop("a generic timer register was accessed, but no generic timer is "
                          "attached to this CPU")
    return timer


def _el0_target(s):
    return 2 if s.sr.get("hcr_el2", 0) & HCR_TGE and EL2Enabled(s) else 1


def _trap(el0_bits, el1_bit):
    """The `trap` function of the CNTKCTL_EL1 (EL0) and CNTHCTL_EL2 (EL0/EL1) access controls:
    `el0_bits` is the CNTKCTL_EL1 mask of which one bit must be set, `el1_bit` the
    CNTHCTL_EL2 bit or 0."""
    def trap_to(s, is_read):
        if s.el == 0 and not s.sr.get("cntkctl_el1", 0) & el0_bits:
            return _el0_target(s)
        if s.el <= 1 and el1_bit and EL2Enabled(s) and \
                not s.sr.get("cnthctl_el2", CNTHCTL_RESET) & el1_bit:
            return 2
        return None
    return trap_to


def _secure_timer_trap(s, is_read):
    """CNTPS_*: EL3, or Secure EL1 with SCR_EL3.ST (trapped to EL3 without); else UNDEFINED."""
    if s.el == 3:
        return None
    if s.el == 1 and s.security == SECURE:
        return None if s.sr.get("scr_el3", 0) & SCR_ST else 3
    raise Undefined()


ROWS = []


def _counter_rows():
    def cntpct(s):
        return timer_of(s).physical_count()

    def cntvct(s):
        return timer_of(s).virtual_count()

    def cntfrq(s):
        return s.sr.get("cntfrq_el0", FREQUENCY)

    def set_cntfrq(s, value):
        s.sr["cntfrq_el0"] = value & 0xFFFF_FFFF

    def set_cntvoff(s, value):
        s.sr["cntvoff_el2"] = value
        timer = getattr(s.core, "timer", None)
        if timer is not None:
            timer.update()

    def masked(name, mask, reset=0):
        def put(s, value):
            s.sr[name] = value & mask

        def get(s):
            return s.sr.get(name, reset)
        return dict(read=get, write=put)

    ROWS.extend([
        ("cntfrq_el0", (3, 3, 14, 0, 0), dict(min_el=0, write_min_el=3, read=cntfrq,
                                              write=set_cntfrq,
                                              trap=_trap(EL0PCTEN | EL0VCTEN, 0))),
        ("cntpct_el0", (3, 3, 14, 0, 1), dict(min_el=0, read=cntpct, read_only=True,
                                              trap=_trap(EL0PCTEN, EL1PCTEN))),
        ("cntvct_el0", (3, 3, 14, 0, 2), dict(min_el=0, read=cntvct, read_only=True,
                                              trap=_trap(EL0VCTEN, 0))),
        ("cntkctl_el1", (3, 0, 14, 1, 0), masked("cntkctl_el1", CNTKCTL_WRITABLE)),
        ("cnthctl_el2", (3, 4, 14, 1, 0), dict(min_el=2, **masked(
            "cnthctl_el2", CNTHCTL_WRITABLE, CNTHCTL_RESET))),
        ("cntvoff_el2", (3, 4, 14, 0, 3), dict(min_el=2, read=lambda s: s.sr.get(
            "cntvoff_el2", 0), write=set_cntvoff, recheck=True)),
    ])


def _timer_rows(timer):
    """CTL, CVAL and TVAL of one timer."""
    ctl_name, cval_name = f"{timer.prefix}_ctl_{timer.el}", f"{timer.prefix}_cval_{timer.el}"
    keys = {reg: (3, timer.op1, 14, timer.crm, op2) for reg, op2 in
            (("tval", 0), ("ctl", 1), ("cval", 2))}
    if timer.prefix == "cntps":
        trap = _secure_timer_trap
    elif timer.el == "el0":
        trap = _trap(EL0VTEN if timer.virtual else EL0PTEN, 0 if timer.virtual else EL1PCEN)
    else:
        trap = None

    def changed(s, name, value):
        s.sr[name] = value
        timer_of(s).update()

    def get_ctl(s):
        t = timer_of(s)
        ctl = s.sr.get(ctl_name, 0) & (CTL_ENABLE | CTL_IMASK)
        return ctl | (CTL_ISTATUS if t.istatus(timer) else 0)

    def set_ctl(s, value):
        changed(s, ctl_name, value & (CTL_ENABLE | CTL_IMASK))

    def get_cval(s):
        return s.sr.get(cval_name, 0)

    def set_cval(s, value):
        changed(s, cval_name, value & M64)

    def get_tval(s):
        return (s.sr.get(cval_name, 0) - timer_of(s).count(timer)) & 0xFFFF_FFFF

    def set_tval(s, value):
        value &= 0xFFFF_FFFF
        signed = value - (1 << 32) if value >> 31 else value
        changed(s, cval_name, (timer_of(s).count(timer) + signed) & M64)

    min_el = {"el0": 0, "el1": 1, "el2": 2}[timer.el]
    for reg, get, put in (("tval", get_tval, set_tval), ("ctl", get_ctl, set_ctl),
                          ("cval", get_cval, set_cval)):
        ROWS.append((f"{timer.prefix}_{reg}_{timer.el}", keys[reg],
                     dict(min_el=min_el, read=get, write=put, trap=trap, recheck=True)))


_counter_rows()
for _timer in TIMERS:
    _timer_rows(_timer)

SYSREG_ROWS = ROWS
