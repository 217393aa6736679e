"""System registers as a table: encoding, name, reset value, lowest EL allowed, behaviour.

MRS/MSR (register) decode (op0, op1, CRn, CRm, op2) through `BY_ENCODING`; the debugger and
the Python API reach the same definitions through `BY_NAME`. A register not in the table stops
the machine with its encoding named (see isa/system.py).
"""

from .exceptions import Undefined


class SysReg:
    """One system register. `min_el` is the lowest EL that may access it (others UNDEFINED);
    `read`/`write` override plain storage in `s.sr[name]`; `writable` masks writable bits."""

    __slots__ = ("name", "key", "reset", "min_el", "_read", "_write", "writable", "read_only")

    def __init__(self, name, key, reset=0, min_el=1, read=None, write=None, writable=None,
                 read_only=False):
        self.name, self.key, self.reset, self.min_el = name, key, reset, min_el
        self._read, self._write = read, write
        self.writable = writable
        self.read_only = read_only

    def check(self, s):
        if s.el < self.min_el:
            raise Undefined()

    def read(self, s):
        self.check(s)
        return self.get(s)

    def write(self, s, value):
        self.check(s)
        if self.read_only:
            raise Undefined()
        self.set(s, value)

    # unchecked access, for the debugger and the API
    def get(self, s):
        if self._read is not None:
            return self._read(s)
        return s.sr.get(self.name, self.reset)

    def set(self, s, value):
        value &= 0xFFFF_FFFF_FFFF_FFFF
        if self.writable is not None:
            value = (s.sr.get(self.name, self.reset) & ~self.writable) | (value & self.writable)
        if self._write is not None:
            self._write(s, value)
        else:
            s.sr[self.name] = value


def encoding_name(op0, op1, crn, crm, op2):
    return f"S{op0}_{op1}_C{crn}_C{crm}_{op2}"


# --- PSTATE fields and special-purpose registers (C5.2) -------------------------------------------

def _set_nzcv(s, v):
    s.nzcv = (v >> 28) & 0xF


def _set_daif(s, v):
    s.daif = (v >> 6) & 0xF


def _set_spsel(s, v):
    s.select_sp(s.el, v & 1)


def _set_fpcr(s, v):
    s.fpcr = v & 0x07FF_9F00


def _set_fpsr(s, v):
    s.fpsr = v & 0xF800_009F


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


def _cntvct(s):
    return s.core.icount


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

_sp0, _sp1, _sp2 = _sp_el(0), _sp_el(1), _sp_el(2)
_pan, _uao, _ssbs, _dit = _flag("pan", 22), _flag("uao", 23), _flag("ssbs", 12), _flag("dit", 24)

TABLE = [
    # name, (op0, op1, CRn, CRm, op2), options
    ("nzcv", (3, 3, 4, 2, 0), dict(min_el=0, read=lambda s: s.nzcv << 28, write=_set_nzcv)),
    ("daif", (3, 3, 4, 2, 1), dict(min_el=0, read=lambda s: s.daif << 6, write=_set_daif)),
    ("fpcr", (3, 3, 4, 4, 0), dict(min_el=0, read=lambda s: s.fpcr, write=_set_fpcr)),
    ("fpsr", (3, 3, 4, 4, 1), dict(min_el=0, read=lambda s: s.fpsr, write=_set_fpsr)),
    ("currentel", (3, 0, 4, 2, 2), dict(read=lambda s: s.el << 2, read_only=True)),
    ("spsel", (3, 0, 4, 2, 0), dict(read=lambda s: s.spsel, write=_set_spsel)),
    ("pan", (3, 0, 4, 2, 3), dict(read=_pan[0], write=_pan[1])),
    ("uao", (3, 0, 4, 2, 4), dict(read=_uao[0], write=_uao[1])),
    ("ssbs", (3, 3, 4, 2, 6), dict(min_el=0, read=_ssbs[0], write=_ssbs[1])),
    ("dit", (3, 3, 4, 2, 5), dict(min_el=0, read=_dit[0], write=_dit[1])),
    ("sp_el0", (3, 0, 4, 1, 0), dict(read=_sp0[0], write=_sp0[1])),
    ("sp_el1", (3, 4, 4, 1, 0), dict(min_el=2, read=_sp1[0], write=_sp1[1])),
    ("sp_el2", (3, 6, 4, 1, 0), dict(min_el=3, read=_sp2[0], write=_sp2[1])),
    ("tpidr_el0", (3, 3, 13, 0, 2), dict(min_el=0)),
    ("tpidrro_el0", (3, 3, 13, 0, 3), dict(min_el=0)),
    ("tpidr_el1", (3, 0, 13, 0, 4), {}),
    ("tpidr_el2", (3, 4, 13, 0, 2), dict(min_el=2)),
    ("tpidr_el3", (3, 6, 13, 0, 2), dict(min_el=3)),
    ("ctr_el0", (3, 3, 0, 0, 1), dict(min_el=0, reset=CTR_EL0_VALUE, read_only=True)),
    ("dczid_el0", (3, 3, 0, 0, 7), dict(min_el=0, reset=DCZID_EL0_VALUE, read_only=True)),
    ("cntvct_el0", (3, 3, 14, 0, 2), dict(min_el=0, read=_cntvct, read_only=True)),
    ("cntfrq_el0", (3, 3, 14, 0, 0), dict(min_el=0, reset=100_000_000)),
]

# Per-EL exception and control registers (EL1, EL2, EL3 encodings differ only in op1).
_PER_EL = [
    ("sctlr", (3, None, 1, 0, 0)),
    ("vbar", (3, None, 12, 0, 0)),
    ("esr", (3, None, 5, 2, 0)),
    ("far", (3, None, 6, 0, 0)),
    ("elr", (3, None, 4, 0, 1)),
    ("spsr", (3, None, 4, 0, 0)),
]
_EL_OP1 = {1: 0, 2: 4, 3: 6}
for _base, (_op0, _, _crn, _crm, _op2) in _PER_EL:
    for _el, _op1 in _EL_OP1.items():
        TABLE.append((f"{_base}_el{_el}", (_op0, _op1, _crn, _crm, _op2), dict(min_el=_el)))

BY_ENCODING = {}
BY_NAME = {}
for _name, _key, _opts in TABLE:
    _reg = SysReg(_name, _key, **_opts)
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
