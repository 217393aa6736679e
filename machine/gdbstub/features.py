"""The target description gdb reads (qXfer:features:read) and the register layout behind it.

Three features, numbered as gdb's AArch64 support expects:

    org.gnu.gdb.aarch64.core   x0-x30 (0-30), sp (31), pc (32), cpsr (33, 32-bit PSTATE)
    org.gnu.gdb.aarch64.fpu    v0-v31 (34-65, the vector union), fpsr (66), fpcr (67)
    org.fvp-rme.sysregs        system registers for CCA work (68 on), read with p/P only

The `g` packet holds registers 0-67 packed with no padding (788 bytes). Every register has
an accessor pair over a CpuState (machine/cpu/state.py), so any context whose register file
is a CpuState, live or saved, can serve gdb with `read_register`/`write_register` below.
System registers come from machine.cpu.sysregs.BY_NAME; a register missing from that table
is left out of the description (see SYSREG_NAMES), never faked.
"""

from collections.abc import Callable
from typing import NamedTuple
from xml.sax.saxutils import escape as xml_escape

from machine.cpu.exceptions import security_state
from machine.cpu.state import NONSECURE, REALM, ROOT, SECURE, SP
from machine.cpu.sysregs import BY_NAME

CORE, FPU, SYSREGS = "org.gnu.gdb.aarch64.core", "org.gnu.gdb.aarch64.fpu", "org.fvp-rme.sysregs"
ANNEX = {CORE: "aarch64-core.xml", FPU: "aarch64-fpu.xml", SYSREGS: "fvp-rme-sysregs.xml"}

M32, M64, M128 = (1 << 32) - 1, (1 << 64) - 1, (1 << 128) - 1

# Security state register values: the {NSE, NS} encoding of the matching PAS
SECURITY_VALUES = {SECURE: 0, NONSECURE: 1, ROOT: 2, REALM: 3}
SECURITY_NAMES = {SECURE: "Secure", NONSECURE: "Non-secure", ROOT: "Root", REALM: "Realm"}
ENUM_NAMES = {SECURE: "Secure", NONSECURE: "NonSecure", ROOT: "Root", REALM: "Realm"}


class RegisterWriteError(Exception):
    """A register gdb may not write (read-only, or a value the architecture rejects)."""


class Register(NamedTuple):
    name: str
    bitsize: int
    regnum: int
    feature: str
    type: str | None                # None: gdb's default (int of bitsize)
    get: Callable                   # get(state) -> int
    set: Callable | None            # set(state, value); None: read-only
    regime: bool = False            # writing it changes the translation regime
    group: str | None = None

    @property
    def size(self):
        return self.bitsize // 8


# --- core ----------------------------------------------------------------------------------------

def _x(n):
    def get(s):
        return s.x[n]

    def put(s, v):
        s.x[n] = v & M64
    return get, put


def _get_pc(s):
    return s.pc


def _set_pc(s, v):
    s.pc = v & M64


def _get_cpsr(s):
    return s.spsr_value() & M32


def _set_cpsr(s, v):
    """PSTATE from gdb's cpsr (SPSR layout). EL and SP may change, as a debugger asks;
    AArch32 (nRW), EL0 with SP_ELx and an EL with no valid security state are refused."""
    el, spsel = (v >> 2) & 3, v & 1
    if (v >> 4) & 1:
        raise RegisterWriteError("cpsr.nRW: AArch32 is not implemented")
    if el == 0 and spsel:
        raise RegisterWriteError("cpsr: EL0 has no SP_ELx")
    if el != s.el and security_state(s, el) is None:
        raise RegisterWriteError("cpsr: SCR_EL3.{NSE,NS} give that EL no security state")
    s.restore_spsr(v)
    if (el, spsel) != (s.el, s.spsel):
        s.select_sp(el, spsel)
        s.security = security_state(s, el) or s.security


# cpsr_flags (the field names gdb's own AArch64 description uses)
CPSR_FIELDS = [("SP", 0, 0), ("EL", 2, 3), ("nRW", 4, 4), ("F", 6, 6), ("I", 7, 7),
               ("A", 8, 8), ("D", 9, 9), ("BTYPE", 10, 11), ("SSBS", 12, 12), ("IL", 20, 20),
               ("SS", 21, 21), ("PAN", 22, 22), ("UAO", 23, 23), ("DIT", 24, 24),
               ("TCO", 25, 25), ("V", 28, 28), ("C", 29, 29), ("Z", 30, 30), ("N", 31, 31)]


# --- fpu -----------------------------------------------------------------------------------------

def _v(n):
    def get(s):
        return s.v[n]

    def put(s, v):
        s.v[n] = v & M128
    return get, put


def _sysreg_accessors(name):
    reg = BY_NAME[name]

    def get(s):
        return reg.get(s)

    def put(s, v):
        reg.set(s, v)
    return get, (None if reg.read_only else put)


# --- sysregs -------------------------------------------------------------------------------------

# (name shown in gdb, BY_NAME key, gdb type). The gdb names follow the Arm ARM spelling.
SYSREG_NAMES = [
    ("CurrentEL", "currentel", "currentel_flags"),
    ("SecurityState", None, "security_state"),      # PSTATE-derived, see _security
    ("SP_EL0", "sp_el0", "data_ptr"),
    ("SP_EL1", "sp_el1", "data_ptr"),
    ("SP_EL2", "sp_el2", "data_ptr"),
    ("SCR_EL3", "scr_el3", "scr_flags"),
    ("HCR_EL2", "hcr_el2", "uint64"),
]
for _el in (1, 2, 3):
    SYSREG_NAMES += [
        (f"SCTLR_EL{_el}", f"sctlr_el{_el}", "uint64"),
        (f"TCR_EL{_el}", f"tcr_el{_el}", "uint64"),
        (f"TTBR0_EL{_el}", f"ttbr0_el{_el}", "uint64"),
        # TTBR1 exists for EL1 only here: TTBR1_EL2 needs FEAT_VHE (not advertised) and EL3
        # has a single VA range; the filter below drops any the table does not define.
        (f"TTBR1_EL{_el}", f"ttbr1_el{_el}", "uint64"),
        (f"MAIR_EL{_el}", f"mair_el{_el}", "uint64"),
        (f"VBAR_EL{_el}", f"vbar_el{_el}", "code_ptr"),
        (f"ESR_EL{_el}", f"esr_el{_el}", "esr_flags"),
        (f"FAR_EL{_el}", f"far_el{_el}", "data_ptr"),
        (f"ELR_EL{_el}", f"elr_el{_el}", "code_ptr"),
        (f"SPSR_EL{_el}", f"spsr_el{_el}", "spsr_flags"),
    ]
SYSREG_NAMES += [
    ("VTTBR_EL2", "vttbr_el2", "uint64"),
    ("VTCR_EL2", "vtcr_el2", "uint64"),
    ("HPFAR_EL2", "hpfar_el2", "uint64"),
    ("GPCCR_EL3", "gpccr_el3", "uint64"),
    ("GPTBR_EL3", "gptbr_el3", "uint64"),
    ("MFAR_EL3", "mfar_el3", "uint64"),
    ("MPIDR_EL1", "mpidr_el1", "uint64"),
]


def _security(s):
    return SECURITY_VALUES[s.security]


def _sp_el(n):
    # The banked stack pointers, whichever is current (MRS SP_ELx would be UNDEFINED for the
    # current one; the debugger reads it anyway).
    def get(s):
        return s.get_sp_el(n)

    def put(s, v):
        s.set_sp_el(n, v & M64)
    return get, put


SPSR_FIELDS = CPSR_FIELDS
ESR_FIELDS = [("ISS", 0, 24), ("IL", 25, 25), ("EC", 26, 31), ("ISS2", 32, 55)]
SCR_FIELDS = [("NS", 0, 0), ("IRQ", 1, 1), ("FIQ", 2, 2), ("EA", 3, 3), ("SMD", 7, 7),
              ("HCE", 8, 8), ("SIF", 9, 9), ("RW", 10, 10), ("ST", 11, 11), ("TWI", 12, 12),
              ("TWE", 13, 13), ("TLOR", 14, 14), ("TERR", 15, 15), ("APK", 16, 16),
              ("API", 17, 17), ("EEL2", 18, 18), ("EASE", 19, 19), ("NMEA", 20, 20),
              ("FIEN", 21, 21), ("GPF", 48, 48), ("NSE", 62, 62)]


def _types_xml():
    """Type definitions of the sysregs feature."""
    out = []

    def flags(name, size, fields):
        out.append(f'  <flags id="{name}" size="{size}">')
        out.extend(f'    <field name="{f}" start="{lo}" end="{hi}"/>' for f, lo, hi in fields)
        out.append("  </flags>")
    flags("currentel_flags", 8, [("EL", 2, 3)])
    out.append('  <enum id="security_state" size="4">')
    out.extend(f'    <evalue name="{ENUM_NAMES[k]}" value="{v}"/>'
               for k, v in SECURITY_VALUES.items())
    out.append("  </enum>")
    flags("scr_flags", 8, SCR_FIELDS)
    flags("esr_flags", 8, ESR_FIELDS)
    flags("spsr_flags", 8, SPSR_FIELDS)
    return out


def _build_registers():
    regs = []
    for n in range(31):
        regs.append(Register(f"x{n}", 64, n, CORE, None, *_x(n)))
    regs.append(Register("sp", 64, 31, CORE, "data_ptr", *_x(SP)))
    regs.append(Register("pc", 64, 32, CORE, "code_ptr", _get_pc, _set_pc))
    regs.append(Register("cpsr", 32, 33, CORE, "cpsr_flags", _get_cpsr, _set_cpsr, True))
    for n in range(32):
        regs.append(Register(f"v{n}", 128, 34 + n, FPU, "aarch64v", *_v(n)))
    regs.append(Register("fpsr", 32, 66, FPU, None, *_sysreg_accessors("fpsr")))
    regs.append(Register("fpcr", 32, 67, FPU, None, *_sysreg_accessors("fpcr")))
    regnum = 68
    for gdb_name, key, type_ in SYSREG_NAMES:
        if key is None:
            get, put, bits, regime = _security, None, 32, False
        elif key not in BY_NAME:
            continue            # not in the system register table: not described
        elif key.startswith("sp_el"):
            (get, put), bits, regime = _sp_el(int(key[-1])), 64, False
        else:
            (get, put), bits, regime = _sysreg_accessors(key), 64, BY_NAME[key].regime
        regs.append(Register(gdb_name, bits, regnum, SYSREGS, type_, get, put, regime,
                             "system"))
        regnum += 1
    return regs


# --- the description -----------------------------------------------------------------------------

FPU_TYPES = """\
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v2u" type="uint64" count="2"/>
  <vector id="v2i" type="int64" count="2"/>
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v4u" type="uint32" count="4"/>
  <vector id="v4i" type="int32" count="4"/>
  <vector id="v8f" type="ieee_half" count="8"/>
  <vector id="v8u" type="uint16" count="8"/>
  <vector id="v8i" type="int16" count="8"/>
  <vector id="v16u" type="uint8" count="16"/>
  <vector id="v16i" type="int8" count="16"/>
  <vector id="v1u" type="uint128" count="1"/>
  <vector id="v1i" type="int128" count="1"/>"""

# union name -> [(field, vector type)]: the views of a V register gdb's AArch64 code knows
FPU_UNIONS = [
    ("vnd", [("f", "v2d"), ("u", "v2u"), ("s", "v2i")]),
    ("vns", [("f", "v4f"), ("u", "v4u"), ("s", "v4i")]),
    ("vnh", [("f", "v8f"), ("u", "v8u"), ("s", "v8i")]),
    ("vnb", [("u", "v16u"), ("s", "v16i")]),
    ("vnq", [("u", "v1u"), ("s", "v1i")]),
    ("aarch64v", [("d", "vnd"), ("s", "vns"), ("h", "vnh"), ("b", "vnb"), ("q", "vnq")]),
]


class Description:
    """A target description: registers by gdb number, the `g` packet layout, and the XML
    annexes gdb reads (target.xml plus one file per feature)."""

    def __init__(self, registers, architecture="aarch64"):
        self.registers = sorted(registers, key=lambda r: r.regnum)
        self.by_number = {r.regnum: r for r in self.registers}
        self.by_name = {r.name: r for r in self.registers}
        self.g_registers = [r for r in self.registers if r.feature in (CORE, FPU)]
        self.g_size = sum(r.size for r in self.g_registers)
        self.architecture = architecture
        self.annexes = self._build_xml()

    def _feature_xml(self, feature):
        lines = ['<?xml version="1.0"?>', '<!DOCTYPE feature SYSTEM "gdb-target.dtd">',
                 f'<feature name="{feature}">']
        if feature == CORE:
            lines.append('  <flags id="cpsr_flags" size="4">')
            lines.extend(f'    <field name="{f}" start="{lo}" end="{hi}"/>'
                         for f, lo, hi in CPSR_FIELDS)
            lines.append("  </flags>")
        elif feature == FPU:
            lines.append(FPU_TYPES)
            for name, fields in FPU_UNIONS:
                lines.append(f'  <union id="{name}">')
                lines.extend(f'    <field name="{f}" type="{t}"/>' for f, t in fields)
                lines.append("  </union>")
        elif feature == SYSREGS:
            lines.extend(_types_xml())
        previous = None
        for r in self.registers:
            if r.feature != feature:
                continue
            attrs = [f'name="{xml_escape(r.name)}"', f'bitsize="{r.bitsize}"']
            if previous is None or r.regnum != previous + 1:
                attrs.append(f'regnum="{r.regnum}"')
            if r.type:
                attrs.append(f'type="{r.type}"')
            if r.group:
                attrs.append(f'group="{r.group}"')
            if r.feature == SYSREGS:
                attrs.append('save-restore="no"')
            lines.append(f"  <reg {' '.join(attrs)}/>")
            previous = r.regnum
        lines.append("</feature>")
        return "\n".join(lines) + "\n"

    def _build_xml(self):
        features = []
        for r in self.registers:
            if r.feature not in features:
                features.append(r.feature)
        annexes = {ANNEX.get(f, f + ".xml"): self._feature_xml(f).encode() for f in features}
        target = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
                  '<target version="1.0" xmlns:xi="http://www.w3.org/2001/XInclude">',
                  f"  <architecture>{self.architecture}</architecture>"]
        target += [f'  <xi:include href="{name}"/>' for name in annexes]
        target.append("</target>")
        annexes["target.xml"] = ("\n".join(target) + "\n").encode()
        return annexes


AARCH64 = Description(_build_registers())


# --- registers of a CpuState ---------------------------------------------------------------------

def read_register(state, reg):
    """Register `reg` of CpuState `state` as target-order (little-endian) bytes, or None if it
    cannot be read."""
    try:
        value = reg.get(state)
    except Exception:          # an accessor the model refuses: shown as unavailable
        return None
    return (value & ((1 << reg.bitsize) - 1)).to_bytes(reg.size, "little")


def write_register(state, reg, data, core=None):
    """Write little-endian `data` (exactly the register's size) into `reg` of `state`; `core`
    (the Core running `state`, if live) drops cached translations when the regime changes.
    Raises RegisterWriteError when the register cannot be written."""
    if reg.set is None:
        raise RegisterWriteError(f"{reg.name} is read-only")
    if len(data) != reg.size:
        raise RegisterWriteError(f"{reg.name} is {reg.size} bytes, not {len(data)}")
    try:
        reg.set(state, int.from_bytes(data, "little"))
    except RegisterWriteError:
        raise
    except Exception as exc:
        raise RegisterWriteError(f"{reg.name}: {exc or type(exc).__name__}") from None
    if reg.regime and core is not None:
        core.regime_changed()
