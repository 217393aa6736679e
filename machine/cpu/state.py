"""Architectural state of one AArch64 processing element.

General-purpose registers live in one list `x` of 34 ints, so that decoded instructions index it
directly without testing for register 31:

    x[0..30]  X0-X30
    x[31]     the stack pointer currently selected (SP_EL0 or SP_ELx, per PSTATE.{EL,SP})
    x[32]     reads as zero (XZR/WZR as a source); nothing ever writes it
    x[33]     discards writes (XZR/WZR as a destination)

The banked stack pointers not currently selected are kept in `sp_el`.
"""

SP, ZR_READ, ZR_WRITE = 31, 32, 33

# Security states (FEAT_RME), selected by SCR_EL3.{NSE,NS} below EL3.
SECURE, NONSECURE, ROOT, REALM = "secure", "nonsecure", "root", "realm"


def EL2Enabled(s):
    """EL2 is implemented and enabled in the current Security state (EL2Enabled()): in
    Secure state only with SCR_EL3.EEL2; never in Root."""
    if not s.have_el2 or s.security == ROOT:
        return False
    if s.security == SECURE:
        return bool((s.sr.get("scr_el3", 0) >> 18) & 1)
    return True


def reg_sp(n):
    """Register field where 31 means SP."""
    return n


def reg_zr(n):
    """Source register field where 31 means XZR."""
    return ZR_READ if n == 31 else n


def reg_zw(n):
    """Destination register field where 31 means XZR."""
    return ZR_WRITE if n == 31 else n


class CpuState:
    def __init__(self):
        self.x = [0] * 34
        self.sp_el = [0, 0, 0, 0]
        self.pc = 0
        # PSTATE
        self.nzcv = 0          # N<<3 | Z<<2 | C<<1 | V
        self.daif = 0b1111     # D<<3 | A<<2 | I<<1 | F
        self.el = 1
        self.spsel = 1
        self.pan = 0
        self.uao = 0
        self.ssbs = 0
        self.dit = 0
        self.tco = 0
        self.btype = 0
        self.ss = 0
        self.il = 0
        self.security = NONSECURE
        # SIMD&FP
        self.v = [0] * 32
        self.fpcr = 0
        self.fpsr = 0
        # Local exclusive monitor: (physical address, size) or None when Open Access.
        self.exclusive = None
        # System registers by name (see sysregs.py).
        self.sr = {}
        self.halted = False     # in WFI/WFE low-power state
        # Interrupt lines driven by the interrupt controller (see interrupts.py)
        self.irq_line = self.fiq_line = self.serror_line = False
        self.virq_line = self.vfiq_line = False
        self.have_el2 = True
        self.have_el3 = True
        self.core = None        # the Core executing this state (set by Core)
        self.block_extra = 0    # instructions retired by translated blocks beyond one each

    # --- stack pointer selection -------------------------------------------------------------

    def sp_index(self):
        return self.el if self.spsel else 0

    def select_sp(self, el, spsel):
        """Change PSTATE.{EL,SP}, banking the stack pointer."""
        self.sp_el[self.sp_index()] = self.x[SP]
        self.el, self.spsel = el, spsel
        self.x[SP] = self.sp_el[self.sp_index()]

    def get_sp_el(self, n):
        return self.x[SP] if self.sp_index() == n else self.sp_el[n]

    def set_sp_el(self, n, value):
        if self.sp_index() == n:
            self.x[SP] = value
        else:
            self.sp_el[n] = value

    # --- PSTATE as an SPSR value (C5.2.18 SPSR_EL1 layout for AArch64) --------------------------

    def spsr_value(self):
        return ((self.nzcv << 28) | (self.tco << 25) | (self.dit << 24) | (self.uao << 23)
                | (self.pan << 22) | (self.ss << 21) | (self.il << 20) | (self.ssbs << 12)
                | (self.btype << 10) | (self.daif << 6) | (self.el << 2) | self.spsel)

    def restore_spsr(self, spsr):
        """Set the PSTATE fields other than EL and SP from an AArch64 SPSR value."""
        self.nzcv = (spsr >> 28) & 0xF
        self.tco = (spsr >> 25) & 1
        self.dit = (spsr >> 24) & 1
        self.uao = (spsr >> 23) & 1
        self.pan = (spsr >> 22) & 1
        self.ss = (spsr >> 21) & 1
        self.il = (spsr >> 20) & 1
        self.ssbs = (spsr >> 12) & 1
        self.btype = (spsr >> 10) & 3
        self.daif = (spsr >> 6) & 0xF
