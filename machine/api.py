"""A small Python API in the style of Unicorn's: one bare CPU, memory you map, registers by
name, and `run` that says why it stopped. See docs/api.md."""

from typing import NamedTuple

from .board.clock import VirtualClock
from .cpu.core import Core
from .cpu.exceptions import EC_NAMES
from .cpu.state import NONSECURE, REALM, ROOT, SECURE, SP
from .cpu.sysregs import BY_NAME
from .devices.generic_timer import GenericTimer
from .memory.bus import PhysicalBus

SECURITY_STATES = (SECURE, NONSECURE, REALM, ROOT)
SCR_NS_NSE = {SECURE: 0, NONSECURE: 1, REALM: (1 << 62) | 1, ROOT: 1}
SCR_RW, SCR_HCE = 1 << 10, 1 << 8
CPACR_FPEN_NO_TRAP = 0b11 << 20          # SIMD&FP usable at EL0 and EL1
_CHUNK = 1 << 20


class RunResult(NamedTuple):
    """Why `Cpu.run` returned.

    reason: 'until' (the address was reached), 'count' (N instructions retired),
    'exception' (an exception was taken: ec/iss/esr/far describe it and pc is its vector),
    'wfi' (the CPU is waiting for an interrupt), 'stop' (the model stopped: see message).
    """

    reason: str
    pc: int
    retired: int
    ec: int | None = None
    iss: int | None = None
    esr: int | None = None
    far: int | None = None
    message: str = ""

    @property
    def exception_name(self):
        return EC_NAMES.get(self.ec, "") if self.ec is not None else ""


class Cpu:
    """One AArch64 CPU with no devices: `Cpu(el=1)` starts at EL1 using SP_EL1, MMU off."""

    def __init__(self, el=1, security=NONSECURE):
        if el not in (0, 1, 2, 3):
            raise ValueError(f"el must be 0..3, not {el!r}")
        if security not in SECURITY_STATES:
            raise ValueError(f"security must be one of {', '.join(SECURITY_STATES)}")
        self.bus = PhysicalBus()
        self.core = Core(self.bus)
        # The generic timer counts virtual time: 2**shift ns per retired instruction.
        self.clock = VirtualClock()
        self.timer = GenericTimer(self.core, self.clock)
        s = self.core.s
        # SCR_EL3 as firmware would leave it for the chosen security state: {NSE,NS}, RW
        # (lower ELs are AArch64) and HCE (HVC enabled).
        s.sr["scr_el3"] = SCR_NS_NSE[security] | SCR_RW | SCR_HCE
        s.sr["cpacr_el1"] = CPACR_FPEN_NO_TRAP
        s.select_sp(el, 1 if el else 0)
        s.security = ROOT if el == 3 else security
        self._regions = 0

    # --- memory ---------------------------------------------------------------------------------

    def map(self, addr, size):
        """Map `size` bytes of zeroed RAM at physical address `addr` (4 KB aligned)."""
        self._regions += 1
        self.bus.add_ram(f"ram{self._regions}", addr, size)

    def write(self, addr, data):
        self.bus.write_bytes(addr, bytes(data))

    def read(self, addr, size):
        return self.bus.read_bytes(addr, size)

    # --- registers ------------------------------------------------------------------------------

    def reg(self, name):
        s = self.core.s
        name = name.lower()
        if name == "pc":
            return s.pc
        if name == "sp":
            return s.x[SP]
        if name in ("xzr", "wzr"):
            return 0
        if name[0] in "xw" and name[1:].isdigit() and int(name[1:]) < 31:
            value = s.x[int(name[1:])]
            return value & 0xFFFF_FFFF if name[0] == "w" else value
        if name[0] == "v" and name[1:].isdigit() and int(name[1:]) < 32:
            return s.v[int(name[1:])]
        if name in BY_NAME:
            return BY_NAME[name].get(s)
        raise KeyError(f"unknown register {name!r}")

    def set_reg(self, name, value):
        s = self.core.s
        name = name.lower()
        if name == "pc":
            s.pc = value & 0xFFFF_FFFF_FFFF_FFFF
        elif name == "sp":
            s.x[SP] = value & 0xFFFF_FFFF_FFFF_FFFF
        elif name[0] in "xw" and name[1:].isdigit() and int(name[1:]) < 31:
            s.x[int(name[1:])] = value & (0xFFFF_FFFF if name[0] == "w" else
                                          0xFFFF_FFFF_FFFF_FFFF)
        elif name[0] == "v" and name[1:].isdigit() and int(name[1:]) < 32:
            s.v[int(name[1:])] = value & ((1 << 128) - 1)
        elif name in BY_NAME:
            BY_NAME[name].set(s, value)
            self.core.regime_changed()
        else:
            raise KeyError(f"unknown register {name!r}")

    # --- execution ------------------------------------------------------------------------------

    def run(self, until=None, count=None):
        """Run until the PC reaches `until`, `count` instructions retire, an exception is taken,
        or the CPU waits for an interrupt. With neither bound, runs until one of the latter."""
        core = self.core
        core.stop_on_exception = True
        if until is not None:
            core.breakpoints.add(until)
        retired = 0
        try:
            while True:
                chunk = _CHUNK if count is None else count - retired
                if chunk <= 0:
                    return RunResult("count", core.s.pc, retired)
                before = core.icount
                stop = core.run(chunk)
                retired += core.icount - before
                self.clock.advance(self.clock.insns_to_ns(core.icount - before))
                if stop.reason == "count":
                    continue
                if stop.reason == "breakpoint" and stop.pc == until:
                    return RunResult("until", stop.pc, retired)
                if stop.reason == "exception":
                    exc = stop.exception
                    return RunResult("exception", stop.pc, retired, exc.ec, exc.iss, exc.esr,
                                     exc.far)
                return RunResult(stop.reason, stop.pc, retired, message=stop.message)
        finally:
            if until is not None:
                core.breakpoints.discard(until)
