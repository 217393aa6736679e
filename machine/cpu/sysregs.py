"""System registers as a table: encoding, name, reset value, lowest EL allowed, behaviour.

MRS/MSR (register) decode (op0, op1, CRn, CRm, op2) through `BY_ENCODING`; the debugger and
the Python API reach the same definitions through `BY_NAME`. A register not in the table stops
the machine with its encoding named (see isa/system.py, which turns the access rules below into
the checks of each MRS/MSR template).
"""

from typing import NamedTuple

from machine.devices import generic_timer, gic_cpuif

from .exceptions import Undefined
from .fpaccess import FPRegisterTrap
from .state import EL2Enabled

# SCTLR_EL1 bits that enable EL0 accesses which are otherwise trapped to EL1 (D24.2.118)
SCTLR_UMA = 9      # MSR/MRS DAIF, MSR DAIFSet/DAIFClr
SCTLR_DZE = 14     # DC ZVA
SCTLR_UCT = 15     # MRS CTR_EL0
SCTLR_UCI = 26     # DC CVAU/CVAC/CVAP/CVADP/CIVAC, IC IVAU


class SysReg:
    """One system register.

    `min_el` is the lowest EL that may read it and `write_min_el` the lowest that may write it
    (others UNDEFINED); `read`/`write` override plain storage in `s.sr[name]`; `writable`
    masks writable bits; `read_only` makes MSR UNDEFINED, `write_only` MRS; `el0_trap` is the
    SCTLR_EL1 bit that must be 1 for an EL0 access not to be trapped to EL1 (EC 0x18);
    `regime` marks the registers whose writes change the translation regime (cached
    translations are dropped), `recheck` those whose writes change what may interrupt the CPU
    (masks, routing). MRS/MSR check, after those: `trap(s, is_read)`, which returns the EL the
    access traps to (EC 0x18) or None, or raises an exception; then `traps`, the higher ELs'
    trap controls (TrapControl) in the pseudocode's order. `peek(s)` reads without side
    effects for the debugger and the API (a read of ICC_IAR1_EL1 acknowledges an interrupt; a
    peek does not).
    """

    __slots__ = ("name", "key", "reset", "min_el", "write_min_el", "read_fn", "write_fn",
                 "writable", "read_only", "write_only", "el0_trap", "regime", "recheck", "trap",
                 "traps", "peek")

    def __init__(self, name, key, reset=0, min_el=1, read=None, write=None, writable=None,
                 read_only=False, write_only=False, write_min_el=None, el0_trap=None,
                 regime=False, recheck=False, trap=None, traps=(), peek=None):
        self.trap, self.traps, self.peek = trap, traps, peek
        self.write_only = write_only
        self.name, self.key, self.reset, self.min_el = name, key, reset, min_el
        self.write_min_el = min_el if write_min_el is None else write_min_el
        self.read_fn, self.write_fn = read, write
        self.writable = writable
        self.read_only = read_only
        self.el0_trap = el0_trap
        self.regime = regime
        self.recheck = recheck

    # unchecked access, for the debugger, the API and the MSR templates
    def get(self, s):
        if self.peek is not None:
            return self.peek(s)
        if self.read_fn is not None:
            return self.read_fn(s)
        return s.sr.get(self.name, self.reset)

    def set(self, s, value):
        value &= 0xFFFF_FFFF_FFFF_FFFF
        if self.writable is not None:
            value = (s.sr.get(self.name, self.reset) & ~self.writable) | (value & self.writable)
        if self.write_fn is not None:
            self.write_fn(s, value)
        else:
            s.sr[self.name] = value


def encoding_name(op0, op1, crn, crm, op2):
    return f"S{op0}_{op1}_C{crn}_C{crm}_{op2}"


def fields(*pairs):
    """A register value from (lsb, field value) pairs."""
    value = 0
    for lsb, field in pairs:
        value |= field << lsb
    return value


# --- PSTATE fields and special-purpose registers (C5.2) -------------------------------------------

def _set_nzcv(s, v):
    s.nzcv = (v >> 28) & 0xF


def _set_daif(s, v):
    s.daif = (v >> 6) & 0xF


def _set_spsel(s, v):
    s.select_sp(s.el, v & 1)


# FPCR: AHP, DN, FZ and RMode (bits 26:22) only. Len, Stride and FZ16 are RES0 (no AArch32, no
# FEAT_FP16), the trap enables IOE..IDE are RAZ/WI (no FP exception trapping), and AH/FIZ/NEP
# need FEAT_AFP.
FPCR_WRITABLE = 0x07C0_0000
# FPSR: QC and the cumulative flags IDC, IXC, UFC, OFC, DZC, IOC; N, Z, C, V (bits 31:28) are
# RES0 as AArch32 is not implemented.
FPSR_WRITABLE = 0x0800_009F


def _set_fpcr(s, v):
    s.fpcr = v & FPCR_WRITABLE


def _set_fpsr(s, v):
    s.fpsr = v & FPSR_WRITABLE


def _sp_el(n):
    def get(s):
        if s.sp_index() == n:
            raise Undefined()          # MRS SP_ELx when it is the current SP is UNDEFINED
        return s.get_sp_el(n)

    def put(s, v):
        if s.sp_index() == n:
            raise Undefined()
        s.set_sp_el(n, v)
    return get, put


def _flag(attr, bit):
    def get(s):
        return getattr(s, attr) << bit

    def put(s, v):
        setattr(s, attr, (v >> bit) & 1)
    return get, put


# CTR_EL0: DIC=0 IDC=0, CWG=4 (64 bytes), ERG=4, DminLine=4 (64 bytes), L1Ip=PIPT, IminLine=4
CTR_EL0_VALUE = 0x8444_C004
# DCZID_EL0: DC ZVA allowed, block size 2^(4+2) = 64 bytes
DCZID_EL0_VALUE = 0x4
DCZ_BLOCK = 4 << DCZID_EL0_VALUE


def _dczid(s):
    """DCZID_EL0.DZP (bit 4) reads 1 where DC ZVA is prohibited (DCZID_EL0, D24.2): at EL0
    unless SCTLR_EL1.DZE, and at EL0/EL1 when HCR_EL2.TDZ traps it."""
    el, sr = s.el, s.sr
    prohibited = (el == 0 and not (sr.get("sctlr_el1", 0) >> SCTLR_DZE) & 1) or \
        (el < 2 and sr.get("hcr_el2", 0) & TDZ.write_mask and EL2Enabled(s))
    return DCZID_EL0_VALUE | (bool(prohibited) << 4)


_sp0, _sp1, _sp2 = _sp_el(0), _sp_el(1), _sp_el(2)
_pan, _uao, _ssbs, _dit = _flag("pan", 22), _flag("uao", 23), _flag("ssbs", 12), _flag("dit", 24)

TABLE = [
    # name, (op0, op1, CRn, CRm, op2), options
    ("nzcv", (3, 3, 4, 2, 0), dict(min_el=0, read=lambda s: s.nzcv << 28, write=_set_nzcv)),
    ("daif", (3, 3, 4, 2, 1), dict(min_el=0, read=lambda s: s.daif << 6, write=_set_daif,
                                   el0_trap=SCTLR_UMA, recheck=True)),
    # FPCR/FPSR: trapped by CPACR_EL1.FPEN and CPTR_ELx.TFP like SIMD&FP instructions
    ("fpcr", (3, 3, 4, 4, 0), dict(min_el=0, read=lambda s: s.fpcr, write=_set_fpcr,
                                   trap=FPRegisterTrap)),
    ("fpsr", (3, 3, 4, 4, 1), dict(min_el=0, read=lambda s: s.fpsr, write=_set_fpsr,
                                   trap=FPRegisterTrap)),
    ("currentel", (3, 0, 4, 2, 2), dict(read=lambda s: s.el << 2, read_only=True)),
    ("spsel", (3, 0, 4, 2, 0), dict(read=lambda s: s.spsel, write=_set_spsel)),
    ("pan", (3, 0, 4, 2, 3), dict(read=_pan[0], write=_pan[1], regime=True)),
    ("uao", (3, 0, 4, 2, 4), dict(read=_uao[0], write=_uao[1])),
    ("ssbs", (3, 3, 4, 2, 6), dict(min_el=0, read=_ssbs[0], write=_ssbs[1])),
    ("dit", (3, 3, 4, 2, 5), dict(min_el=0, read=_dit[0], write=_dit[1])),
    ("sp_el0", (3, 0, 4, 1, 0), dict(read=_sp0[0], write=_sp0[1])),
    ("sp_el1", (3, 4, 4, 1, 0), dict(min_el=2, read=_sp1[0], write=_sp1[1])),
    ("sp_el2", (3, 6, 4, 1, 0), dict(min_el=3, read=_sp2[0], write=_sp2[1])),
    ("tpidr_el0", (3, 3, 13, 0, 2), dict(min_el=0)),
    ("tpidrro_el0", (3, 3, 13, 0, 3), dict(min_el=0, write_min_el=1)),   # read-only at EL0
    ("tpidr_el1", (3, 0, 13, 0, 4), {}),
    ("tpidr_el2", (3, 4, 13, 0, 2), dict(min_el=2)),
    ("tpidr_el3", (3, 6, 13, 0, 2), dict(min_el=3)),
    ("ctr_el0", (3, 3, 0, 0, 1), dict(min_el=0, reset=CTR_EL0_VALUE, read_only=True,
                                      el0_trap=SCTLR_UCT)),
    ("dczid_el0", (3, 3, 0, 0, 7), dict(min_el=0, read=_dczid, read_only=True)),
    # EL0 accesses to the counter registers are gated by CNTKCTL_EL1 (the generic timer issue)
    # CNTFRQ_EL0 is writable only at the highest implemented EL (EL3)
    # EL1 controls with no behaviour in the interpreter yet: plain storage
    # FP trap controls: writes re-key the decode cache (fpaccess.py) like a regime change
    ("cpacr_el1", (3, 0, 1, 0, 2), dict(regime=True)),
    ("cptr_el2", (3, 4, 1, 1, 2), dict(min_el=2, regime=True)),
    ("cptr_el3", (3, 6, 1, 1, 2), dict(min_el=3, regime=True)),
    ("contextidr_el1", (3, 0, 13, 0, 1), {}),
    ("par_el1", (3, 0, 7, 4, 0), {}),
    ("lorid_el1", (3, 0, 10, 4, 7), dict(read_only=True)),
    # Translation controls read by the MMU (walk.py, gpc.py) and the exception routing
    ("ttbr1_el1", (3, 0, 2, 0, 1), dict(regime=True)),
    ("hcr_el2", (3, 4, 1, 1, 0), dict(min_el=2, regime=True, recheck=True)),
    ("vttbr_el2", (3, 4, 2, 1, 0), dict(min_el=2, regime=True)),
    ("vtcr_el2", (3, 4, 2, 1, 2), dict(min_el=2, regime=True)),
    ("hpfar_el2", (3, 4, 6, 0, 4), dict(min_el=2)),
    ("scr_el3", (3, 6, 1, 1, 0), dict(min_el=3, regime=True, recheck=True)),
    ("gptbr_el3", (3, 6, 2, 1, 4), dict(min_el=3, regime=True)),
    ("gpccr_el3", (3, 6, 2, 1, 6), dict(min_el=3, regime=True)),
    ("mfar_el3", (3, 6, 6, 0, 5), dict(min_el=3)),
]


def LORegionAccessTrap(s, is_read):
    """The `trap` of LORSA/LOREA/LORN/LORC_EL1: UNDEFINED when SCR_EL3.NS is 0, as LORegions
    are Non-secure (D24.2 LORC_EL1, "Accessing")."""
    if s.have_el3 and not s.sr.get("scr_el3", 0) & 1:
        raise Undefined()


# FEAT_LOR with no LORegions (LORID_EL1 = 0): LDLAR/STLLR behave as LDAR/STLR
TABLE += [(f"lor{reg}_el1", (3, 0, 10, 4, op2), dict(trap=LORegionAccessTrap))
          for op2, reg in enumerate(("sa", "ea", "n", "c"))]

# Per-EL registers (EL1, EL2, EL3 encodings differ only in op1). TTBR1_EL2 is absent: it
# exists only with FEAT_VHE, which ID_AA64MMFR1_EL1.VH does not advertise.
_PER_EL = [
    # name, (CRn, CRm, op2), a write changes the translation regime
    ("sctlr", (1, 0, 0), True),
    ("tcr", (2, 0, 2), True),
    ("ttbr0", (2, 0, 0), True),
    ("mair", (10, 2, 0), True),
    ("vbar", (12, 0, 0), False),
    ("esr", (5, 2, 0), False),
    ("far", (6, 0, 0), False),
    ("elr", (4, 0, 1), False),
    ("spsr", (4, 0, 0), False),
    ("afsr0", (5, 1, 0), False),
    ("afsr1", (5, 1, 1), False),
    ("amair", (10, 3, 0), False),
]
_EL_OP1 = {1: 0, 2: 4, 3: 6}
for _base, (_crn, _crm, _op2), _regime in _PER_EL:
    for _el, _op1 in _EL_OP1.items():
        TABLE.append((f"{_base}_el{_el}", (3, _op1, _crn, _crm, _op2),
                      dict(min_el=_el, regime=_regime)))


# --- Identification registers (D24.2): an RME-capable Armv8.4-ish CPU advertising exactly what
# the interpreter implements. Field values as in the Arm ARM's field descriptions.

MIDR_EL1_VALUE = fields(
    (24, 0x41),     # Implementer: Arm Limited
    (20, 0x0),      # Variant
    (16, 0xF),      # Architecture: defined by the ID registers
    (4, 0xD0F),     # PartNum: AEM v8 FVP
    (0, 0x0),       # Revision
)
# MPIDR_EL1 of CPU 0 on the FVP Base RevC: bit 31 RES1, MT=1, Aff1 = CPU number (board sets it)
MPIDR_EL1_VALUE = fields((31, 1), (24, 1), (8, 0))
REVIDR_EL1_VALUE = 0

ID_AA64PFR0_EL1_VALUE = fields(
    (0, 1),         # EL0: AArch64 only
    (4, 1),         # EL1: AArch64 only
    (8, 1),         # EL2: AArch64 only
    (12, 1),        # EL3: AArch64 only
    (16, 0),        # FP: implemented, no half precision
    (20, 0),        # AdvSIMD: implemented, no half precision
    (24, 1),        # GIC: GICv3/v4 system register interface
    (28, 0),        # RAS: not implemented (ESB is a NOP)
    (32, 0),        # SVE: not implemented
    (36, 0),        # SEL2: no Secure EL2
    (48, 1),        # DIT: FEAT_DIT (PSTATE.DIT, MSR DIT)
    (52, 1),        # RME: FEAT_RME
)
ID_AA64PFR1_EL1_VALUE = fields(
    (0, 0),         # BT: no FEAT_BTI (BTI is a NOP)
    (4, 2),         # SSBS: FEAT_SSBS2 (PSTATE.SSBS, MSR SSBS immediate and register)
    (8, 0),         # MTE: not implemented
)
ID_AA64ISAR0_EL1_VALUE = fields(
    (4, 0),         # AES: not implemented (nor SHA1/SHA2/SHA3/SM3/SM4/DP/FHM: all 0)
    (16, 1),        # CRC32: CRC32B..CRC32CX
    (20, 2),        # Atomic: FEAT_LSE
    (28, 0),        # RDM: not implemented
    (52, 2),        # TS: FEAT_FlagM2 (CFINV, RMIF, SETF8/16, AXFLAG, XAFLAG)
    (56, 2),        # TLB: FEAT_TLBIOS and FEAT_TLBIRANGE (all TLBI forms decode)
)
ID_AA64ISAR1_EL1_VALUE = fields(
    (0, 2),         # DPB: FEAT_DPB2 (DC CVAP, DC CVADP)
    (4, 0),         # APA, API (and GPA, GPI): no pointer authentication
    (12, 0),        # JSCVT: no FJCVTZS
    (20, 2),        # LRCPC: FEAT_LRCPC2 (LDAPR, LDAPUR/STLUR)
    (32, 1),        # FRINTTS: FRINT32Z/32X/64Z/64X
    (36, 1),        # SB: FEAT_SB
)
ID_AA64ISAR2_EL1_VALUE = 0
ID_AA64MMFR0_EL1_VALUE = fields(
    (0, 5),         # PARange: 48 bits
    (4, 2),         # ASIDBits: 16
    (8, 0),         # BigEnd: little-endian only
    (12, 0),        # SNSMem: no Secure/Non-secure distinction
    (16, 0),        # BigEndEL0: little-endian only
    (20, 0),        # TGran16: 16 KB granule not supported
    (24, 0xF),      # TGran64: 64 KB granule not supported
    (28, 0),        # TGran4: 4 KB granule supported
    (32, 0),        # TGran16_2: as TGran16 (stage 2)
    (36, 0),        # TGran64_2: as TGran64
    (40, 0),        # TGran4_2: as TGran4
)
ID_AA64MMFR1_EL1_VALUE = fields(
    (0, 0),         # HAFDBS: no hardware Access flag / dirty state
    (4, 2),         # VMIDBits: 16
    (8, 0),         # VH: no FEAT_VHE
    (16, 1),        # LO: FEAT_LOR (LDLAR, STLLR; no LORegions)
    (20, 2),        # PAN: FEAT_PAN2 (PSTATE.PAN, AT S1E1RP/S1E1WP)
)
ID_AA64MMFR2_EL1_VALUE = fields(
    (4, 1),         # UAO: FEAT_UAO (PSTATE.UAO, MSR UAO)
)
ID_AA64DFR0_EL1_VALUE = fields(
    (0, 6),         # DebugVer: Armv8.0 debug
    (4, 0),         # TraceVer: no trace unit system registers
    (8, 0),         # PMUVer: no PMU
    (12, 5),        # BRPs: 6 breakpoints
    (20, 3),        # WRPs: 4 watchpoints
    (28, 0),        # CTX_CMPs: 1 context-aware breakpoint
)

# MIDR_EL1/MPIDR_EL1 read at EL1 with EL2 enabled give VPIDR_EL2/VMPIDR_EL2 (D24.2.108/
# D24.2.110); those reset to the PE's own values.
def _virtualised(name, virtual_name):
    def get(s):
        value = s.sr.get(name, BY_NAME[name].reset)
        if s.el == 1 and EL2Enabled(s):
            return s.sr.get(virtual_name, value)
        return value
    return get


# The feature ID space is op0=3, op1=0, CRn=0, CRm=1..7 (D24.2.1): the named registers have the
# values above, every other encoding there (the AArch32 ID registers of an AArch64-only CPU,
# reserved encodings) reads as zero. All are read-only and UNDEFINED at EL0.
ID_REGISTERS = {
    (0, 0): ("midr_el1", MIDR_EL1_VALUE),          # read through VPIDR_EL2 at EL1
    (0, 5): ("mpidr_el1", MPIDR_EL1_VALUE),        # read through VMPIDR_EL2 at EL1
    (0, 6): ("revidr_el1", REVIDR_EL1_VALUE),
    (4, 0): ("id_aa64pfr0_el1", ID_AA64PFR0_EL1_VALUE),
    (4, 1): ("id_aa64pfr1_el1", ID_AA64PFR1_EL1_VALUE),
    (4, 2): ("id_aa64pfr2_el1", 0),
    (4, 4): ("id_aa64zfr0_el1", 0),
    (4, 5): ("id_aa64smfr0_el1", 0),
    (5, 0): ("id_aa64dfr0_el1", ID_AA64DFR0_EL1_VALUE),
    (5, 1): ("id_aa64dfr1_el1", 0),
    (5, 4): ("id_aa64afr0_el1", 0),
    (5, 5): ("id_aa64afr1_el1", 0),
    (6, 0): ("id_aa64isar0_el1", ID_AA64ISAR0_EL1_VALUE),
    (6, 1): ("id_aa64isar1_el1", ID_AA64ISAR1_EL1_VALUE),
    (6, 2): ("id_aa64isar2_el1", ID_AA64ISAR2_EL1_VALUE),
    (7, 0): ("id_aa64mmfr0_el1", ID_AA64MMFR0_EL1_VALUE),
    (7, 1): ("id_aa64mmfr1_el1", ID_AA64MMFR1_EL1_VALUE),
    (7, 2): ("id_aa64mmfr2_el1", ID_AA64MMFR2_EL1_VALUE),
}
for _crm in range(8):
    for _op2 in range(8):
        _key = (3, 0, 0, _crm, _op2)
        if (_crm, _op2) in ID_REGISTERS:
            _name, _value = ID_REGISTERS[_crm, _op2]
        elif _crm:
            _name, _value = encoding_name(*_key).lower(), 0
        else:
            continue
        _options = dict(reset=_value, read_only=True)
        if _name in ("midr_el1", "mpidr_el1"):
            _options["read"] = _virtualised(_name, "v" + _name.replace("_el1", "_el2"))
        TABLE.append((_name, _key, _options))

# CLIDR_EL1: L1 separate instruction and data caches, LoC = LoUU = LoUIS = 1 (fact sheet 3.2);
# CCSIDR_EL1 for either: 64-byte lines, 4 ways, 256 sets.
CLIDR_EL1_VALUE = 0x0920_0003
CCSIDR_EL1_VALUE = (255 << 13) | (3 << 3) | 2
# OSLSR_EL1.OSLM = 0b10: the OS Lock is implemented; OSLK follows OSLAR_EL1.OSLK
OSLSR_OSLM = 1 << 3


def _oslar_write(s, value):
    s.sr["oslsr_el1"] = OSLSR_OSLM | ((value & 1) << 1)


# Registers whose effects the model does not implement are plain storage: the debug
# registers (no self-hosted debug events yet; their MDCR_ELx traps are below), HSTR_EL2 (its
# traps are of AArch32 accesses), HACR_EL2 and ACTLR (IMPLEMENTATION DEFINED).
TABLE += [
    ("vpidr_el2", (3, 4, 0, 0, 0), dict(min_el=2, reset=MIDR_EL1_VALUE)),
    ("vmpidr_el2", (3, 4, 0, 0, 5), dict(min_el=2, read=lambda s: s.sr.get(
        "vmpidr_el2", s.sr.get("mpidr_el1", MPIDR_EL1_VALUE)))),
    ("mdcr_el2", (3, 4, 1, 1, 1), dict(min_el=2)),
    ("mdcr_el3", (3, 6, 1, 3, 1), dict(min_el=3)),
    ("hstr_el2", (3, 4, 1, 1, 3), dict(min_el=2)),
    ("hacr_el2", (3, 4, 1, 1, 7), dict(min_el=2)),
    ("actlr_el1", (3, 0, 1, 0, 1), {}),
    ("actlr_el2", (3, 4, 1, 0, 1), dict(min_el=2)),
    ("actlr_el3", (3, 6, 1, 0, 1), dict(min_el=3)),
    ("csselr_el1", (3, 2, 0, 0, 0), dict(writable=0xF)),
    ("ccsidr_el1", (3, 1, 0, 0, 0), dict(reset=CCSIDR_EL1_VALUE, read_only=True)),
    ("clidr_el1", (3, 1, 0, 0, 1), dict(reset=CLIDR_EL1_VALUE, read_only=True)),
    ("aidr_el1", (3, 1, 0, 0, 7), dict(read_only=True)),
    ("mdscr_el1", (2, 0, 0, 2, 2), {}),
    ("mdrar_el1", (2, 0, 1, 0, 0), dict(read_only=True)),
    ("oslar_el1", (2, 0, 1, 0, 4), dict(write_only=True, write=_oslar_write)),
    ("oslsr_el1", (2, 0, 1, 1, 4), dict(reset=OSLSR_OSLM | 2, read_only=True)),
    ("osdlr_el1", (2, 0, 1, 3, 4), {}),
    ("dbgprcr_el1", (2, 0, 1, 4, 4), {}),
    ("dbgclaimset_el1", (2, 0, 7, 8, 6), dict(reset=0xFF)),
    ("dbgclaimclr_el1", (2, 0, 7, 9, 6), {}),
    ("dbgauthstatus_el1", (2, 0, 7, 14, 6), dict(reset=0xAA, read_only=True)),
]
TABLE += [(f"dbg{kind}{n}_el1", (2, 0, 0, n, op2), {})
          for kind, op2, count in (("bvr", 4, 6), ("bcr", 5, 6), ("wvr", 6, 4), ("wcr", 7, 4))
          for n in range(count)]


# The GIC CPU interface (ICC_*, ICV_*, ICH_*) and the generic timers (CNT*) are modelled with
# their devices, which provide their rows.
TABLE += gic_cpuif.SYSREG_ROWS + generic_timer.SYSREG_ROWS

# --- Trap controls of higher ELs (the "Accessing <register>" pseudocode, D24) ----------------

TGE_IGNORES = "ignores"     # HCR_EL2.TGE = 1: the PE ignores the control
TGE_SETS = "sets"           # HCR_EL2.TGE = 1: the control is treated as 1 (MDCR_EL2)
HCR_TGE = 1 << 27


class TrapControl(NamedTuple):
    """A bit (or bits) of a higher EL's control register that traps accesses to EL `target`
    with EC 0x18: MRS when `control` & `read_mask` is nonzero, MSR and SYS when `control` &
    `write_mask` is. It applies below `target` (a control of EL1 accesses only needs no EL0
    case: what it traps is UNDEFINED at EL0, which comes first), and for a trap to EL2 only
    when EL2 is enabled. `tge` is the effect of HCR_EL2.TGE (HCR_EL2.E2H is RES0 as FEAT_VHE
    is not advertised)."""

    control: str
    read_mask: int
    write_mask: int
    target: int
    tge: str | None = None


def HcrEl2Trap(bit, read=True, write=True, tge=None):
    return TrapControl("hcr_el2", read << bit, write << bit, 2, tge)


# HCR_EL2, as its field descriptions define the traps. TID2, TPCP, TPU, TDZ, TVM and TRVM are
# ignored only with {E2H, TGE} = {1, 1}, so TGE alone leaves them in effect.
TID1 = HcrEl2Trap(16, write=False, tge=TGE_IGNORES)     # REVIDR_EL1, AIDR_EL1
TID2 = HcrEl2Trap(17)                                   # CTR_EL0 (EL0 with UCT), cache IDs
TID3 = HcrEl2Trap(18, write=False, tge=TGE_IGNORES)     # the feature ID space
# IMPLEMENTATION DEFINED encodings (op0 = 1 or 3, CRn = 11 or 15), trapped ahead of being
# UNDEFINED. At EL0 whether they are trapped is IMPLEMENTATION DEFINED: they are, as in Arm's
# models ("Reserved Control Space EL0 Trapped").
TIDCP = HcrEl2Trap(20)
TACR = HcrEl2Trap(21, tge=TGE_IGNORES)                  # ACTLR_EL1
TSW = HcrEl2Trap(22, read=False, tge=TGE_IGNORES)       # DC ISW, CSW, CISW
TPCP = HcrEl2Trap(23, read=False)                       # DC by VA to PoC/PoP/PoDP
TPU = HcrEl2Trap(24, read=False)                        # IC IVAU/IALLU/IALLUIS, DC CVAU
TTLB = HcrEl2Trap(25, read=False, tge=TGE_IGNORES)      # TLBI at EL1
TVM = HcrEl2Trap(26, read=False)                        # writes of VM_CONTROLS
TDZ = HcrEl2Trap(28, read=False)                        # DC ZVA (and DCZID_EL0.DZP)
TRVM = HcrEl2Trap(30, write=False)                      # reads of VM_CONTROLS
TLOR = HcrEl2Trap(35, tge=TGE_IGNORES)                  # LOR registers
# Not advertised, so RES0: TID4/TICAB/TOCU/TTLBIS/TTLBOS (FEAT_EVT: ID_AA64MMFR2_EL1.EVT = 0),
# TERR (FEAT_RAS: no ERR* registers), APK/API (FEAT_PAuth), AT/NV/NV1 (FEAT_NV), TID5 (MTE).


# MDCR_EL2 and MDCR_EL3: MDCR_EL2.TDE and HCR_EL2.TGE make MDCR_EL2.{TDA, TDOSA, TDRA} behave
# as 1. MDCR_EL3 has no TDRA: its TDA also traps MDRAR_EL1. MDCR_ELx.TPM, MDCR_EL2.TPMCR and
# CPTR_ELx.TTA have nothing to trap: there is no PMU (PMUVer = 0) and no trace unit (TraceVer =
# 0), so no PMU or trace registers.
MDCR_TDE, MDCR_TDA, MDCR_TDOSA, MDCR_TDRA = 1 << 8, 1 << 9, 1 << 10, 1 << 11


def MdcrEl2Trap(mask):
    return TrapControl("mdcr_el2", mask | MDCR_TDE, mask | MDCR_TDE, 2, TGE_SETS)


def El3Trap(control, mask):
    return TrapControl(control, mask, mask, 3)


DEBUG_TRAPS = (MdcrEl2Trap(MDCR_TDA), El3Trap("mdcr_el3", MDCR_TDA))
OS_TRAPS = (MdcrEl2Trap(MDCR_TDOSA), El3Trap("mdcr_el3", MDCR_TDOSA))
ROM_TRAPS = (MdcrEl2Trap(MDCR_TDRA), El3Trap("mdcr_el3", MDCR_TDA))
# SCR_EL3.TLOR; SCR_EL3.TERR, APK and API are RES0 (no RAS, no PAuth).
LOR_TRAPS = (TLOR, El3Trap("scr_el3", 1 << 14))

VM_CONTROLS = ("sctlr_el1", "ttbr0_el1", "ttbr1_el1", "tcr_el1", "esr_el1", "far_el1",
               "afsr0_el1", "afsr1_el1", "mair_el1", "amair_el1", "contextidr_el1")
TRAPS_BY_NAME = {name: traps for names, traps in (
    (VM_CONTROLS, (TRVM, TVM)),
    (("revidr_el1", "aidr_el1"), (TID1,)),
    (("ctr_el0", "ccsidr_el1", "clidr_el1", "csselr_el1"), (TID2,)),
    (("actlr_el1",), (TACR,)),
    (("lorsa_el1", "lorea_el1", "lorn_el1", "lorc_el1", "lorid_el1"), LOR_TRAPS),
    (("oslar_el1", "oslsr_el1", "osdlr_el1", "dbgprcr_el1"), OS_TRAPS),
    (("mdrar_el1",), ROM_TRAPS),
) for name in names}


def ImplementationDefined(op0, crn):
    """The encodings reserved for IMPLEMENTATION DEFINED registers and instructions."""
    return op0 in (1, 3) and crn in (11, 15)


def TrapsFor(name, key):
    """The trap controls of the register `name` at `key` (op0, op1, CRn, CRm, op2)."""
    if name in TRAPS_BY_NAME:
        return TRAPS_BY_NAME[name]
    if key[:3] == (3, 0, 0) and key[3] >= 1:          # ID group 3: the feature ID space
        return (TID3,)
    if key[:2] == (2, 0):                              # the other debug registers
        return DEBUG_TRAPS
    if ImplementationDefined(key[0], key[2]):
        return (TIDCP,)
    return ()


TABLE = [(name, key, dict(opts, traps=TrapsFor(name, key))) for name, key, opts in TABLE]

BY_ENCODING = {}
BY_NAME = {}
for _name, _key, _opts in TABLE:
    _reg = SysReg(_name, _key, **_opts)
    assert _key not in BY_ENCODING and _name not in BY_NAME, _name
    BY_ENCODING[_key] = _reg
    BY_NAME[_name] = _reg


class SysRegs:
    """Name-based access to a core's system registers (debugger, API)."""

    def __init__(self, core):
        self.core = core

    def get(self, name):
        return BY_NAME[name].get(self.core.s)

    def set(self, name, value):
        BY_NAME[name].set(self.core.s, value)
