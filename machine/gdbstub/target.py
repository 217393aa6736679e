"""What the gdb stub debugs: the `DebugTarget` protocol, and `CpuTarget` over one bare CPU.

A target is a changing list of debug contexts. Each context is one gdb thread (id >= 1, a
name, a line of extra text) with its own register file and translation regime: a physical
CPU in the Non-secure world, the RMM, a REC of a realm. The stub asks the target for the list
whenever gdb asks (qfThreadInfo, qXfer:threads:read), so contexts may appear and disappear
between stops; every StopEvent names the context that stopped.

Run control is cooperative and single-threaded: the server calls `resume(actions)` once,
then `run(budget)` repeatedly (each call runs a bounded amount of guest code and returns
None while the target keeps running), polling its socket in between, and `interrupt()` when
gdb sends Ctrl-C.
"""

from typing import NamedTuple, Protocol, runtime_checkable

from machine.cpu.exceptions import (
    EC_BRK,
    EC_DATA_ABORT,
    EC_DATA_ABORT_LOWER,
    EC_FP_EXC,
    EC_GPC,
    EC_INSN_ABORT,
    EC_INSN_ABORT_LOWER,
    EC_PC_ALIGN,
    EC_SP_ALIGN,
    EC_UNKNOWN,
    MachineStop,
)
from machine.cpu.gpc import GpcFault
from machine.cpu.walk import FETCH, PA_BITS, READ, WalkFault, security_pas
from machine.memory.bus import PAGE_MASK, PAGE_SIZE

from . import features
from .features import AARCH64, SECURITY_NAMES, Description, RegisterWriteError
from .monitor import MonitorCommand, MonitorRequest

# gdb's signal numbers (include/gdb/signals.h)
SIGINT, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGBUS, SIGSEGV = 2, 4, 5, 6, 8, 10, 11

# StopEvent reasons
BREAKPOINT, WATCHPOINT, STEP = "breakpoint", "watchpoint", "step"
INTERRUPT, SIGNAL, EXITED = "interrupt", "signal", "exited"

# `pas` argument of the memory accessors: None = virtual (the context's translation regime);
# a PAS number (machine.cpu.gpc.PAS_*) = physical, checked by the granule protection check in
# that PAS; PAS_ANY = physical with no granule protection check.
PAS_ANY = -1

M64 = (1 << 64) - 1
MAX_EXCEPTIONS_PER_RUN = 64     # exceptions let run within one CpuTarget.run call


class Context(NamedTuple):
    """One debug context, shown to gdb as a thread."""

    id: int                 # gdb thread id, >= 1, unique while the context exists
    name: str               # `info threads` shows it ("cpu0", "rmm", "realm 1 rec 0")
    extra: str = ""         # details refreshed at every stop ("EL2 Realm", "not running")
    core: int | None = None  # the physical CPU it runs on, if any


class StopEvent(NamedTuple):
    """Why the target stopped.

    reason: BREAKPOINT (the context's PC is at an address given to add_breakpoint), WATCHPOINT
    (`watch` is (address accessed, 'r' or 'w'); the access has completed), STEP (a requested
    single step finished), INTERRUPT (interrupt() was called), SIGNAL (anything else worth a
    stop: an exception caught, the model stopping; `signal` says which), EXITED (the machine
    is gone; `exit_code`). `message` is shown on gdb's console before the stop.
    """

    reason: str
    thread: int
    signal: int = SIGTRAP
    watch: tuple | None = None
    message: str = ""
    exit_code: int = 0


class MemoryAccessError(Exception):
    """A debugger memory access that cannot be done (translation fault, granule protection,
    not RAM). The message says why."""


class WatchpointError(Exception):
    """A watchpoint the target cannot set in the context asked for. The message says why."""


def vmid(state):
    """The VMID of `state`'s stage 2: VTTBR_EL2.VMID, 16 bits when VTCR_EL2.VS is 1, else 8."""
    vttbr = state.sr.get("vttbr_el2", 0) >> 48
    return vttbr if (state.sr.get("vtcr_el2", 0) >> 19) & 1 else vttbr & 0xFF


class WatchScope(NamedTuple):
    """The accesses a watchpoint set in a debug context matches, besides its addresses: those
    made in that context's translation regime, as a debugger programs the watchpoint for it
    (Arm ARM D2.10, AArch64.StateMatch): DBGWCR<n>_EL1.SSC selects the security state,
    HMC/PAC the ELs of the regime (EL2 alone, EL3 alone, or EL1 and EL0), and an EL1&0
    regime is a guest's, so the watchpoint is linked to a VMID match breakpoint
    (DBGBCR<n>_EL1.BT 0b1001) on its VMID. `state_match` is what Mmu.add_watchpoint calls."""

    security: str
    els: tuple
    vmid: int | None

    @classmethod
    def of(cls, state):
        """The scope of the regime `state` (a CpuState, live or saved) runs in."""
        if state.el >= 2:
            return cls(state.security, (state.el,), None)
        return cls(state.security, (0, 1), vmid(state))

    def state_match(self, state):
        return state.security == self.security and state.el in self.els \
            and (self.vmid is None or vmid(state) == self.vmid)


@runtime_checkable
class DebugTarget(Protocol):
    """The interface the gdb stub drives (see docs/gdb.md, "Writing a target").

    `thread` arguments are Context ids; regnum is a gdb register number of `description`.
    """

    description: Description

    def contexts(self) -> list[Context]:
        """The contexts that exist now, in the order gdb should list them."""

    def read_register(self, thread: int, regnum: int) -> bytes | None:
        """Register `regnum` of the context, little-endian, exactly its size; None if it has
        no value now (gdb shows <unavailable>)."""

    def write_register(self, thread: int, regnum: int, data: bytes) -> None:
        """Write the register or raise features.RegisterWriteError."""

    def read_memory(self, thread: int, addr: int, length: int, pas: int | None = None) -> bytes:
        """Up to `length` bytes at `addr`: virtual in the context's translation regime when
        `pas` is None (no TLB fill, no guest-visible side effect), else physical in that PAS.
        May return fewer bytes than asked when a later page fails; raises MemoryAccessError
        when not even the first byte can be read."""

    def write_memory(self, thread: int, addr: int, data: bytes, pas: int | None = None) -> None:
        """Write all of `data` or nothing; raises MemoryAccessError."""

    def context_pas(self, thread: int) -> int:
        """The physical address space the context's accesses use (for `monitor phys on`)."""

    def add_breakpoint(self, thread: int, addr: int, kind: str) -> None:
        """Stop any context whose PC reaches virtual address `addr` ('sw' or 'hw': gdb's Z0
        or Z1; both are emulator breakpoints, guest memory is never patched). `thread` is
        the context gdb had selected, should the target scope breakpoints."""

    def remove_breakpoint(self, thread: int, addr: int, kind: str) -> None: ...

    def add_watchpoint(self, thread: int, addr: int, length: int, kind: str) -> None:
        """Stop after an access of kind 'r', 'w' or 'a' touching [addr, addr + length) made
        in the context `thread` belongs to (a target with several regimes matches accesses
        in that context's regime: WatchScope); the server passes the thread gdb had selected
        when it first inserted the watchpoint. Raises WatchpointError if the context has no
        virtual addresses to watch."""

    def remove_watchpoint(self, thread: int, addr: int, length: int, kind: str) -> None: ...

    def resume(self, actions: dict[int, str]) -> None:
        """Resume: `actions` maps context ids to 'c' (continue) or 's' (one instruction);
        contexts not listed stay stopped where the target can keep them stopped."""

    def run(self, budget: int) -> StopEvent | None:
        """Run up to about `budget` instructions; a StopEvent when the target stopped, None
        while it is still running (or idle, waiting for an interrupt)."""

    def interrupt(self) -> StopEvent:
        """Stop now (gdb's Ctrl-C, or a new gdb attaching); names a context that was
        running."""

    @property
    def idle(self) -> bool:
        """True while nothing will happen without an outside event (every CPU in WFI): the
        server then waits on its socket instead of spinning."""

    def icount(self) -> int:
        """Instructions retired so far (all CPUs)."""

    def monitor_commands(self) -> list[MonitorCommand]:
        """Extra `monitor` commands this target offers."""


# --- one bare CPU --------------------------------------------------------------------------------

def exception_signal(ec):
    """The gdb signal that best names a synchronous exception class."""
    if ec in (EC_DATA_ABORT, EC_DATA_ABORT_LOWER, EC_INSN_ABORT, EC_INSN_ABORT_LOWER, EC_GPC):
        return SIGSEGV
    if ec in (EC_PC_ALIGN, EC_SP_ALIGN):
        return SIGBUS
    if ec == EC_UNKNOWN:
        return SIGILL
    if ec == EC_FP_EXC:
        return SIGFPE
    return SIGTRAP


def debug_translate(walker, state, va):
    """PA of `va` in the regime of `state`'s EL, as a privileged data read (PAN ignored;
    execute-only pages reached as fetches). Walker.stage1 is what Mmu.translate calls,
    without building the abort: nothing is cached, no guest state changes."""
    try:
        return walker.stage1(va, READ, state.el, pan=0).pa
    except MachineStop as stop:
        raise MemoryAccessError(f"cannot translate {va:#x}: {stop}") from None
    except WalkFault as fault:
        try:
            return walker.stage1(va, FETCH, state.el, pan=0).pa
        except WalkFault:
            pass
        raise MemoryAccessError(f"cannot translate {va:#x} at EL{state.el}: {fault}") from None


def ram_address(bus, pa):
    """`pa`, if it is RAM (the debugger does not access devices)."""
    if bus.ram_page(pa) is None:
        raise MemoryAccessError(f"physical address {pa:#x} is not RAM (the debugger does "
                                "not access devices)")
    return pa


def checked_physical(bus, gpc, pa, pas):
    """Physical address `pa` accessed in `pas`: within the PA space, allowed by the granule
    protection check (unless PAS_ANY) and RAM."""
    if pa >> PA_BITS:
        raise MemoryAccessError(f"{pa:#x} is beyond the {PA_BITS}-bit physical space")
    if pas != PAS_ANY:
        try:
            gpc.check(pa, pas)
        except GpcFault as exc:
            raise MemoryAccessError(str(exc)) from None
    return ram_address(bus, pa)


class CpuTarget:
    """A DebugTarget over one machine.api.Cpu: a single context, thread 1.

    `stop_on_exception`: an exception the CPU takes stops it at the vector (a bare CPU has no
    firmware: an exception is usually the end of the program) and gdb sees a signal (SIGSEGV
    for aborts, SIGILL for undefined instructions, SIGBUS for alignment, SIGTRAP otherwise);
    `monitor exceptions run` lets them run. `exit_on_brk`: BRK #0 ends the program with
    exit code X0 & 0xff (gdb sees the process exit) — the convention of tests/c programs.
    """

    THREAD = 1

    def __init__(self, cpu, name="cpu0", exit_on_brk=False, stop_on_exception=True):
        self.cpu = cpu
        self.core = cpu.core
        self.name = name
        self.description = AARCH64
        self.exit_on_brk = exit_on_brk
        self.stop_on_exception = stop_on_exception
        self.exited = None          # the EXITED StopEvent once the program has ended
        self._mode = None           # None (stopped), 'c' or 's'
        self._started = False       # the current continue has run its first chunk
        self._idle = False
        self._bp_refs = {}          # address -> number of gdb breakpoints there

    # --- contexts --------------------------------------------------------------------------------

    def contexts(self):
        s = self.core.s
        extra = f"EL{s.el} {SECURITY_NAMES[s.security]}"
        if self.exited is not None:
            extra += ", exited"
        elif s.halted:
            extra += ", waiting for an interrupt"
        return [Context(self.THREAD, self.name, extra, 0)]

    def _check(self, thread):
        if thread != self.THREAD:
            raise MemoryAccessError(f"no context {thread}")

    # --- registers -------------------------------------------------------------------------------

    def read_register(self, thread, regnum):
        reg = self.description.by_number.get(regnum)
        if reg is None or thread != self.THREAD:
            return None
        return features.read_register(self.core.s, reg)

    def write_register(self, thread, regnum, data):
        reg = self.description.by_number.get(regnum)
        if reg is None or thread != self.THREAD:
            raise RegisterWriteError(f"no register {regnum} in context {thread}")
        features.write_register(self.core.s, reg, data, self.core)

    # --- memory ----------------------------------------------------------------------------------

    def context_pas(self, thread):
        return security_pas(self.core.s.security)

    def _translate(self, va):
        return debug_translate(self.core.mmu.walker, self.core.s, va)

    def _pa(self, addr, pas):
        """The physical address of RAM byte `addr` (virtual when `pas` is None)."""
        if pas is None:
            return ram_address(self.core.bus, self._translate(addr))
        return checked_physical(self.core.bus, self.core.mmu.gpc, addr, pas)

    @staticmethod
    def _pages(addr, length):
        """(address, length) pieces of [addr, addr + length) that stay within a page."""
        while length > 0:
            n = min(length, PAGE_SIZE - (addr & PAGE_MASK))
            yield addr, n
            addr = (addr + n) & M64
            length -= n

    def read_memory(self, thread, addr, length, pas=None):
        self._check(thread)
        out = bytearray()
        for page_addr, n in self._pages(addr & M64, length):
            try:
                pa = self._pa(page_addr, pas)
            except MemoryAccessError:
                if not out:
                    raise
                break
            out += self.core.bus.read_bytes(pa, n)
        return bytes(out)

    def write_memory(self, thread, addr, data, pas=None):
        self._check(thread)
        pieces = []
        pos = 0
        for page_addr, n in self._pages(addr & M64, len(data)):
            pieces.append((self._pa(page_addr, pas), data[pos:pos + n]))
            pos += n
        for pa, chunk in pieces:
            # write_bytes drops decoded instructions of the page (gdb may patch code)
            self.core.bus.write_bytes(pa, chunk)

    # --- breakpoints and watchpoints -------------------------------------------------------------

    def add_breakpoint(self, thread, addr, kind):
        self._bp_refs[addr] = self._bp_refs.get(addr, 0) + 1
        self.core.breakpoints.add(addr)

    def remove_breakpoint(self, thread, addr, kind):
        refs = self._bp_refs.get(addr, 0) - 1
        if refs > 0:
            self._bp_refs[addr] = refs
            return
        self._bp_refs.pop(addr, None)
        self.core.breakpoints.discard(addr)

    def add_watchpoint(self, thread, addr, length, kind):
        self.core.add_watchpoint(addr, length, kind)

    def remove_watchpoint(self, thread, addr, length, kind):
        self.core.remove_watchpoint(addr, length, kind)

    # --- run control -----------------------------------------------------------------------------

    def resume(self, actions):
        self._mode = actions.get(self.THREAD)
        self._started = False
        self._idle = False

    @property
    def idle(self):
        return self._idle

    def interrupt(self):
        self._mode = None
        self._idle = False
        return StopEvent(INTERRUPT, self.THREAD, SIGINT)

    def icount(self):
        return self.core.icount

    def run(self, budget):
        if self.exited is not None:
            self._mode = None
            return self.exited
        mode = self._mode
        if mode is None:
            return None
        core = self.core
        s = core.s
        # Core.run always returns at an exception: with exceptions that run on, a fault
        # taken again at its own vector would otherwise keep Core.run from ever returning.
        core.stop_on_exception = True
        if mode == "s":
            self._mode = None
            s.halted = False            # a debugger step gets past WFI
            stop = core.run(1)
            if stop.reason == "exception" and not self.stop_on_exception \
                    and not self._is_exit(stop):
                return StopEvent(STEP, self.THREAD)     # stepped into the vector
            return self._event(stop, step=True)
        if s.halted:
            if not core.interrupt_lines():
                self._idle = True       # WFI with nothing to wake the CPU: it sleeps
                return None
            s.halted = False
        self._idle = False
        end = core.icount + max(budget, 1)
        for _ in range(MAX_EXCEPTIONS_PER_RUN):
            if self._started and s.pc in core.breakpoints:
                # Core.run does not stop at a breakpoint on the address it starts from (so
                # that a continue makes progress): from the second call on, check it here.
                self._mode = None
                return StopEvent(BREAKPOINT, self.THREAD)
            self._started = True
            stop = core.run(max(end - core.icount, 1))
            if stop.reason in ("count", "wfi", "wfe"):
                return None
            if stop.reason != "exception" or self.stop_on_exception or self._is_exit(stop):
                break
            if core.icount >= end or s.halted:
                return None             # an exception taken, and the vector runs on
        else:
            return None
        self._mode = None
        return self._event(stop)

    def _is_exit(self, stop):
        exc = stop.exception
        return self.exit_on_brk and exc.ec == EC_BRK and not exc.iss & 0xFFFF

    def _event(self, stop, step=False):
        reason = stop.reason
        if reason == "breakpoint":
            return StopEvent(BREAKPOINT, self.THREAD)
        if reason == "watchpoint":
            return StopEvent(WATCHPOINT, self.THREAD, watch=stop.watch)
        if reason == "exception":
            exc = stop.exception
            s = self.core.s
            if self._is_exit(stop):
                self.exited = StopEvent(EXITED, 0, exit_code=s.x[0] & 0xFF,
                                        message=f"program ended with BRK #0, x0 = "
                                                f"{s.x[0]:#x}\n")
                return self.exited
            elr = s.sr.get(f"elr_el{s.el}", 0)
            return StopEvent(SIGNAL, self.THREAD, exception_signal(exc.ec),
                             message=f"{exc} from {elr:#x}, taken to EL{s.el} at its vector "
                                     f"{stop.pc:#x}\n")
        if reason == "stop":
            return StopEvent(SIGNAL, self.THREAD, SIGABRT,
                             message=f"the model stopped: {stop.message}\n")
        return StopEvent(STEP if step else SIGNAL, self.THREAD)

    # --- monitor commands ------------------------------------------------------------------------

    def monitor_commands(self):
        return [MonitorCommand("exceptions", "exceptions [stop|run]: stop at each exception "
                               "taken (default) or let the vectors run", self._mon_exceptions)]

    def _mon_exceptions(self, request: MonitorRequest, args):
        if args:
            if args[0] not in ("stop", "run"):
                return "usage: monitor exceptions [stop|run]\n"
            self.stop_on_exception = args[0] == "stop"
        state = "stop at" if self.stop_on_exception else "run"
        return f"exceptions: {state} the vector\n"
