"""The whole board as a gdb target: `MachineTarget(machine)` is a DebugTarget over a
machine.board.machine.Machine (docs/gdb.md, "The whole machine").

Contexts, each a gdb thread with a stable id:

    cpuN hyp          thread N + 1    a powered-on CPU in the Non-secure world (the host, Xen)
    rmm               thread 100      the RMM: the RMI call being served, else the last one
    realm R rec I     thread 1000...  a REC of a live realm (ids in order of first sight)

A REC's registers are its saved context in the RMM engine's Rec (gprs, pc, pstate, EL1
system registers) and its memory is reached through the realm's stage 1 (the REC's saved EL1
registers) and the realm's RTTs (stage 2, realm.vttbr()/vtcr()) in the Realm PAS. While a
CPU runs a REC, the REC's thread is that CPU, live, and the CPU's "hyp" thread shows the
host's state saved at its REC_ENTER: the REC runner (machine.rec_runner) keeps them, by CPU
index, in `running` (the Rec) and `saved_host` (the host's HostContext).

Run control drives the machine's deterministic scheduler one round at a time (Machine.step):
breakpoints and watchpoints are set on every CPU and report the context that hit them (a
watchpoint matches the accesses of the regime of the context it was set in: WatchScope), a
single step runs one instruction on the CPU of the stepped context (the others stay where
they are), Ctrl-C stops every CPU (stopping is not stepping), and the machine's exit is the
program's exit (gdb's W packet with the exit status of `fvp-rme run`).
"""

import sys
from typing import NamedTuple

from machine.board.machine import EXIT_LIMIT, EXIT_STOPPED, DebugStop, Exit
from machine.cpu.gpc import PAS_NONSECURE, PAS_REALM, GranuleProtection
from machine.cpu.state import REALM, SP, CpuState
from machine.cpu.walk import Walker, security_pas
from machine.rmm.abi import Fid
from machine.rmm.trace import format_status

from . import features
from .features import AARCH64, FPU, SECURITY_NAMES, RegisterWriteError
from .monitor_machine import COMMANDS
from .server import GdbServer, parse_address
from .target import (
    BREAKPOINT,
    EXITED,
    INTERRUPT,
    SIGINT,
    STEP,
    WATCHPOINT,
    Context,
    CpuTarget,
    MemoryAccessError,
    StopEvent,
    WatchpointError,
    WatchScope,
    checked_physical,
    debug_translate,
    ram_address,
)

RMM_THREAD = 100
FIRST_REC_THREAD = 1000
RMM_CALL_REGS = 8                   # the rmm context shows x0-x7 of its call
CORE_REGS = 34                      # x0-x30, sp, pc, cpsr
HCR_VM, HCR_RW = 1 << 0, 1 << 31    # the RMM runs RECs with stage 2 on, EL1 in AArch64
SCR_REALM = (1 << 62) | 1           # SCR_EL3.{NSE, NS} = {1, 1}: Realm
REC_EL2_REGISTERS = ("VTTBR_EL2", "VTCR_EL2")   # the realm's, from its RD
BANKED_SP = ("sp_el0", "sp_el1")                # a REC's stack pointers in Rec.sysregs


# --- the register file and memory view of one context -------------------------------------------

class StateView:
    """A context whose registers are a CPU's live CpuState. Memory is virtual, in the state's
    current translation regime."""

    def __init__(self, state, walker, core=None):
        self.state, self.walker, self.core = state, walker, core

    @property
    def pas(self):
        return security_pas(self.state.security)

    def read(self, reg):
        return features.read_register(self.state, reg)

    def write(self, reg, data):
        features.write_register(self.state, reg, data, self.core)

    def translate(self, va):
        return debug_translate(self.walker, self.state, va)


def saved_state(x, sp_el, pc, pstate, security, sr):
    """A CpuState holding a saved context (PSTATE in SPSR format, the banked SPs)."""
    s = CpuState()
    s.x[:31] = x[:31]
    s.sp_el[:len(sp_el)] = sp_el
    s.pc, s.security, s.sr = pc, security, sr
    s.restore_spsr(pstate)
    s.el, s.spsel = (pstate >> 2) & 3, pstate & 1
    s.x[SP] = s.sp_el[s.sp_index()]
    return s


class SavedView(StateView):
    """A context kept in a record while it is not on a CPU, shown as a CpuState built from
    the record; `holds` says which registers the record has, writes go back into it."""

    def __init__(self, state, bus, gpc):
        super().__init__(state, Walker(state, bus, gpc))

    def holds(self, reg):
        return True

    def read(self, reg):
        return super().read(reg) if self.holds(reg) else None

    def write(self, reg, data):
        if not self.holds(reg):
            raise RegisterWriteError(f"{reg.name} is not part of this saved context")
        super().write(reg, data)
        self.store()

    def banked_sps(self):
        return [self.state.get_sp_el(n) for n in range(4)]


class HostView(SavedView):
    """The host's context of a CPU that runs a REC: the REC runner's HostContext (saved at
    the host's REC_ENTER SMC)."""

    def __init__(self, host, bus, gpc):
        s = saved_state(host.x, host.sp_el, host.pc, host.pstate, host.security, host.sr)
        s.v[:], s.fpcr, s.fpsr = host.v, host.fpcr, host.fpsr
        super().__init__(s, bus, gpc)
        self.host = host

    def store(self):
        s, host = self.state, self.host
        host.x, host.sp_el, host.pc = s.x[:31], self.banked_sps(), s.pc
        host.pstate, host.security = s.spsr_value(), s.security
        host.v, host.fpcr, host.fpsr = list(s.v), s.fpcr, s.fpsr


class RecView(SavedView):
    """A REC that is not running: its saved context in the engine's Rec, shown at Realm EL1
    with the realm's stage 2. Available: the general registers, PSTATE, SP_EL0/SP_EL1, the
    EL1 system registers, SIMD&FP once the REC has run (`rec.fp`) and the realm's
    VTTBR_EL2/VTCR_EL2 (read-only); other EL2/EL3 registers are not part of a REC."""

    def __init__(self, rec, realm, bus, gpc):
        sr = {k: v for k, v in rec.sysregs.items() if k not in BANKED_SP}
        sr.update(hcr_el2=HCR_VM | HCR_RW, scr_el3=SCR_REALM, vttbr_el2=realm.vttbr(),
                  vtcr_el2=realm.vtcr(), mpidr_el1=rec.vmpidr)
        s = saved_state(rec.gprs, [rec.sysregs.get(name, 0) for name in BANKED_SP], rec.pc,
                        rec.pstate, REALM, sr)
        self.fp = getattr(rec, "fp", None)          # (V registers, FPCR, FPSR)
        if self.fp is not None:
            s.v[:], s.fpcr, s.fpsr = self.fp
        super().__init__(s, bus, gpc)
        self.rec = rec

    def holds(self, reg):
        if reg.feature == FPU:
            return self.fp is not None
        return (reg.regnum < CORE_REGS or reg.name in ("CurrentEL", "SecurityState")
                or reg.name.endswith(("_EL0", "_EL1")) or reg.name in REC_EL2_REGISTERS)

    def write(self, reg, data):
        if reg.name in REC_EL2_REGISTERS:
            raise RegisterWriteError(f"{reg.name} is the realm's (its RD), not the REC's")
        if reg.name == "cpsr" and (int.from_bytes(data, "little") >> 2) & 3 > 1:
            raise RegisterWriteError("cpsr: a REC runs at EL1 or EL0")
        super().write(reg, data)

    def store(self):
        s, rec = self.state, self.rec
        rec.gprs[:31] = s.x[:31]
        rec.pc, rec.pstate = s.pc, s.spsr_value()
        for n, name in enumerate(BANKED_SP):
            rec.sysregs[name] = s.get_sp_el(n)
        rec.sysregs.update((k, v) for k, v in s.sr.items()
                           if k.endswith(("_el0", "_el1")) and k != "mpidr_el1")
        if self.fp is not None:
            rec.fp = (list(s.v), s.fpcr, s.fpsr)


class RmmView:
    """The RMM (at Realm EL2, modelled in Python): x0-x7 of the RMI call it serves or served
    last, and physical memory in the Realm PAS."""

    pas = PAS_REALM
    walker = None

    def __init__(self, regs):
        s = CpuState()
        s.security, s.el = REALM, 2
        s.x[:RMM_CALL_REGS] = regs[:RMM_CALL_REGS]
        self.state = s
        self.has_call = any(regs)

    def read(self, reg):
        if (reg.regnum < RMM_CALL_REGS and self.has_call) or reg.name in ("CurrentEL",
                                                                          "SecurityState"):
            return features.read_register(self.state, reg)
        return None

    def write(self, reg, data):
        raise RegisterWriteError("the rmm context is read-only")


class RecContext(NamedTuple):
    thread: int
    realm_number: int
    realm: object
    rec: object


# --- the target -----------------------------------------------------------------------------------

class MachineTarget:
    """A DebugTarget over a board Machine. `max_insns` ends the run like `fvp-rme run
    --max-insns` (exit status 4)."""

    def __init__(self, machine, max_insns=None):
        self.machine = machine
        self.description = AARCH64
        self.max_insns = max_insns
        self.gpc = GranuleProtection(machine.bus, machine.cores[0].s.sr)
        self.exited = None          # the EXITED StopEvent once the machine has exited
        self._mode = None           # None (stopped), ("c", None) or ("s", thread)
        self._bp_refs = {}          # address -> number of gdb breakpoints there
        self._reported = {}         # core index -> (pc, icount) of the breakpoint reported
        self._views = {}            # thread -> view, until the machine runs again
        self._realm_numbers = {}    # Realm -> n of "realm n"
        self._rec_threads = {}      # Rec -> thread id
        self._next_realm, self._next_rec = 1, FIRST_REC_THREAD
        self._rmi_trace = None      # the engine's tracer before `monitor trace rmi on`

    @property
    def rmm(self):
        return self.machine.firmware.rmm

    # --- contexts --------------------------------------------------------------------------------

    def recs(self):
        """The RECs of the live realms as RecContext tuples, numbering new realms and RECs."""
        rmm = self.rmm
        found = []
        if rmm is not None:
            for realm in rmm.realms.values():
                if realm not in self._realm_numbers:
                    self._realm_numbers[realm] = self._next_realm
                    self._next_realm += 1
                for index in sorted(realm.recs):
                    rec = rmm.recs[realm.recs[index]]
                    if rec not in self._rec_threads:
                        self._rec_threads[rec] = self._next_rec
                        self._next_rec += 1
                    found.append(RecContext(self._rec_threads[rec],
                                            self._realm_numbers[realm], realm, rec))
            live = set(rmm.realms.values())
            self._realm_numbers = {r: n for r, n in self._realm_numbers.items() if r in live}
        self._rec_threads = {r.rec: r.thread for r in found}
        return found

    def _rec_context(self, thread):
        return next((r for r in self.recs() if r.thread == thread), None)

    def realm_number(self, realm):
        self.recs()
        return self._realm_numbers.get(realm)

    def contexts(self):
        out = [Context(core.index + 1, f"cpu{core.index} hyp", self._cpu_extra(core),
                       core.index) for core in self.machine.cores if core.powered]
        if self.rmm is not None:
            out.append(Context(RMM_THREAD, "rmm", self._rmm_extra()))
            for r in self.recs():
                core = self.core_running(r.rec)
                out.append(Context(r.thread, f"realm {r.realm_number} rec {r.rec.index}",
                                   self._rec_extra(r, core),
                                   None if core is None else core.index))
        return out

    def running(self, core):
        """(the Rec `core` runs now or None, the host's context saved for it or None): the
        REC runner's `running` and `saved_host`, by CPU index."""
        runner = self.machine.rec_runner
        if runner is None:
            return None, None
        return runner.running.get(core.index), runner.saved_host.get(core.index)

    def _cpu_extra(self, core):
        rec, host = self.running(core)
        if host is not None:
            return f"EL{(host.pstate >> 2) & 3} {SECURITY_NAMES[host.security]}, in REC_ENTER"
        s = core.s
        extra = f"EL{s.el} {SECURITY_NAMES[s.security]}"
        return extra + (", waiting for an interrupt" if s.halted else "")

    def _rmm_extra(self):
        serving = self._serving()
        if serving is not None:
            return f"EL2 Realm, serving {_call_name(serving)}"
        last = self.rmm.last_call
        if last is None:
            return "EL2 Realm, no RMI call yet"
        return f"EL2 Realm, last call {_call_name(last[0])} = {format_status(last[1][0])}"

    def _rec_extra(self, r, core):
        if core is not None:
            return f"EL{core.s.el} Realm, running on cpu{core.index}"
        state = "runnable" if r.rec.runnable else "not runnable"
        return f"EL{(r.rec.pstate >> 2) & 3} Realm, saved ({state})"

    def _serving(self):
        """The registers of the RMI call in progress (a REC_ENTER whose REC runs), or None."""
        entering = getattr(self.rmm, "_entering", None)     # REC address -> registers
        return list(entering.values())[-1] if entering else None

    def core_running(self, rec):
        """The CPU that runs `rec` now, or None."""
        for core in self.machine.cores:
            if core.powered and self.running(core)[0] is rec:
                return core
        return None

    def thread_of(self, core):
        """The context a CPU runs now: the REC it runs, or its hyp thread."""
        rec = self.running(core)[0]
        if rec is not None:
            for r in self.recs():
                if r.rec is rec:
                    return r.thread
        return core.index + 1

    def _core_of(self, thread):
        """The CPU that runs the context now (None: the context is not on a CPU)."""
        cores = self.machine.cores
        if 1 <= thread <= len(cores):
            core = cores[thread - 1]
            if not core.powered:
                return None
            return None if self.running(core)[1] is not None else core
        r = self._rec_context(thread)
        return None if r is None else self.core_running(r.rec)

    def _view(self, thread):
        view = self._views.get(thread)
        if view is None:
            view = self._views[thread] = self._new_view(thread)
        return view

    def _new_view(self, thread):
        machine = self.machine
        cores = machine.cores
        if 1 <= thread <= len(cores) and cores[thread - 1].powered:
            core = cores[thread - 1]
            host = self.running(core)[1]
            if host is not None:
                return HostView(host, machine.bus, self.gpc)
            return StateView(core.s, core.mmu.walker, core)
        if thread == RMM_THREAD and self.rmm is not None:
            serving = self._serving()
            last = self.rmm.last_call
            return RmmView(serving or (last[0] if last else [0] * RMM_CALL_REGS))
        r = self._rec_context(thread)
        if r is None:
            raise MemoryAccessError(f"no context {thread}")
        core = self.core_running(r.rec)
        if core is not None:
            return StateView(core.s, core.mmu.walker, core)
        return RecView(r.rec, r.realm, machine.bus, self.gpc)

    # --- registers -------------------------------------------------------------------------------

    def read_register(self, thread, regnum):
        reg = self.description.by_number.get(regnum)
        if reg is None:
            return None
        try:
            view = self._view(thread)
        except MemoryAccessError:
            return None
        return view.read(reg)

    def write_register(self, thread, regnum, data):
        reg = self.description.by_number.get(regnum)
        if reg is None:
            raise RegisterWriteError(f"no register {regnum}")
        try:
            view = self._view(thread)
        except MemoryAccessError as exc:
            raise RegisterWriteError(str(exc)) from None
        view.write(reg, data)

    # --- memory ----------------------------------------------------------------------------------

    def context_pas(self, thread):
        try:
            return self._view(thread).pas
        except MemoryAccessError:
            return PAS_NONSECURE

    def _pa(self, view, addr, pas):
        """The physical address of RAM byte `addr`: virtual in the context's regime when `pas`
        is None (physical in the context's PAS when it has no regime), else physical."""
        if pas is None and view.walker is not None:
            return ram_address(self.machine.bus, view.translate(addr))
        return checked_physical(self.machine.bus, self.gpc, addr,
                                view.pas if pas is None else pas)

    def read_memory(self, thread, addr, length, pas=None):
        view = self._view(thread)
        bus = self.machine.bus
        out = bytearray()
        for page_addr, n in CpuTarget._pages(addr, length):
            try:
                pa = self._pa(view, page_addr, pas)
            except MemoryAccessError:
                if not out:
                    raise
                break
            out += bus.read_bytes(pa, n)
        return bytes(out)

    def write_memory(self, thread, addr, data, pas=None):
        view = self._view(thread)
        pieces = []
        pos = 0
        for page_addr, n in CpuTarget._pages(addr, len(data)):
            pieces.append((self._pa(view, page_addr, pas), data[pos:pos + n]))
            pos += n
        for pa, chunk in pieces:
            self.machine.bus.write_bytes(pa, chunk)      # drops decoded code of the page

    # --- breakpoints and watchpoints -------------------------------------------------------------

    def add_breakpoint(self, thread, addr, kind):
        self._bp_refs[addr] = self._bp_refs.get(addr, 0) + 1
        for core in self.machine.cores:
            core.breakpoints.add(addr)

    def remove_breakpoint(self, thread, addr, kind):
        refs = self._bp_refs.get(addr, 0) - 1
        if refs > 0:
            self._bp_refs[addr] = refs
            return
        self._bp_refs.pop(addr, None)
        for core in self.machine.cores:
            core.breakpoints.discard(addr)

    def add_watchpoint(self, thread, addr, length, kind):
        scope = self.watch_scope(thread)
        for core in self.machine.cores:
            core.add_watchpoint(addr, length, kind, scope)

    def watch_scope(self, thread):
        """The accesses a watchpoint set in `thread` matches: those of the context's regime,
        on any CPU (a REC's: Realm EL1/EL0 with its realm's VMID; a CPU's hyp thread: its
        security state and EL, or the host's at REC_ENTER)."""
        try:
            view = self._view(thread)
        except MemoryAccessError as exc:
            raise WatchpointError(str(exc)) from None
        if view.walker is None:
            raise WatchpointError("the rmm context has physical addresses only: watch in a "
                                  "REC's or a CPU's thread")
        return WatchScope.of(view.state)

    def remove_watchpoint(self, thread, addr, length, kind):
        for core in self.machine.cores:
            core.remove_watchpoint(addr, length, kind)

    # --- run control -----------------------------------------------------------------------------

    def resume(self, actions):
        self._views.clear()
        steps = [thread for thread, action in actions.items() if action == "s"]
        if steps:
            self._mode = ("s", steps[0])
        else:
            self._mode = ("c", None) if actions else None

    @property
    def idle(self):
        # The scheduler never waits: with every CPU in WFI virtual time jumps to the next
        # device event, and with none pending the machine exits (a hang).
        return False

    def icount(self):
        return self.machine.icount

    def interrupt(self):
        self._mode = None
        self._views.clear()
        return StopEvent(INTERRUPT, self._a_running_thread(), SIGINT)

    def _a_running_thread(self):
        for core in self.machine.cores:
            if core.powered and not core.s.halted:
                return self.thread_of(core)
        contexts = self.contexts()
        return contexts[0].id if contexts else 0

    def run(self, budget):
        self._views.clear()
        if self.exited is not None:
            self._mode = None
            return self.exited
        if self._mode is None:
            return None
        kind, thread = self._mode
        if kind == "s":
            self._mode = None
            return self._step(thread)
        event = self._continue(budget)
        if event is not None:
            self._mode = None
        return event

    def _continue(self, budget):
        """Scheduler rounds until `budget` instructions have retired or something stops."""
        machine = self.machine
        start = machine.icount
        while True:
            event = self._breakpoint_waiting()
            if event is not None:
                return event
            if self.max_insns is not None and machine.icount >= self.max_insns \
                    and machine.exit is None:
                machine.exit = Exit(EXIT_LIMIT, f"instruction limit reached ({self.max_insns})")
            # step(1) returns at the end of the current round: between rounds every CPU's
            # slice has ended, so a breakpoint where a slice would begin is checked above
            # (Core.run does not stop at the address it starts from).
            result = machine.step(1)
            if isinstance(result, Exit):
                return self._exited()
            if isinstance(result, DebugStop):
                return self._debug_stop(result)
            if machine.icount - start >= budget:
                return None

    def _breakpoint_waiting(self):
        """A running CPU whose next instruction is at a breakpoint it has not yet reported."""
        for core in self.machine.cores:
            s = core.s
            if core.powered and not s.halted and s.pc in core.breakpoints \
                    and self._reported.get(core.index) != (s.pc, core.icount):
                return self._hit(core)
        return None

    def _hit(self, core):
        self._reported[core.index] = (core.s.pc, core.icount)
        return StopEvent(BREAKPOINT, self.thread_of(core))

    def _debug_stop(self, debug_stop):
        core, stop = debug_stop
        if stop.reason == "watchpoint":
            return StopEvent(WATCHPOINT, self.thread_of(core), watch=stop.watch)
        return self._hit(core)

    def _step(self, thread):
        """One instruction on the CPU of `thread`; the other CPUs stay where they are."""
        core = self._core_of(thread)
        if core is None:
            return StopEvent(STEP, thread, message=f"{self._name(thread)} is not running on "
                                                   "a CPU: nothing to step\n")
        machine = self.machine
        core.s.halted = False               # a debugger step gets past WFI
        before = core.icount
        stop = core.run(1)
        machine.icount += core.icount - before
        if stop.reason in ("wfi", "wfe"):
            core.s.halted = True
        elif stop.reason == "stop":
            machine.exit = Exit(EXIT_STOPPED, f"CPU {core.index}: {stop.message}")
        if machine.exit is not None:
            return self._exited()
        if stop.reason == "watchpoint":
            return StopEvent(WATCHPOINT, thread, watch=stop.watch)
        return StopEvent(STEP, thread)

    def _name(self, thread):
        return next((c.name for c in self.contexts() if c.id == thread), f"thread {thread}")

    def _exited(self):
        if self.exited is None:
            status, reason = self.machine.exit
            self.exited = StopEvent(EXITED, 0, exit_code=status,
                                    message=f"fvp-rme: the machine exited with status "
                                            f"{status}: {reason}\n")
        return self.exited

    # --- RMI tracing (monitor trace rmi) ---------------------------------------------------------

    def trace_rmi(self, write):
        """Send each RMI call's trace line to `write` (None: back to the engine's own tracer).
        Returns whether tracing is on."""
        rmm = self.rmm
        if write is None:
            if self._rmi_trace is not None:
                rmm.trace, self._rmi_trace = self._rmi_trace[0], None
            return False
        if self._rmi_trace is None:
            self._rmi_trace = (rmm.trace,)
        rmm.trace = write
        return True

    @property
    def tracing_rmi(self):
        return self._rmi_trace is not None

    # --- monitor commands ------------------------------------------------------------------------

    def monitor_commands(self):
        return list(COMMANDS)


def _call_name(regs):
    fid = regs[0] & 0xFFFF_FFFF
    return f"RMI_{Fid(fid).name}" if fid in Fid._value2member_map_ else f"SMC {fid:#x}"


class GdbAddressError(Exception):
    """The address given to serve gdb on cannot be used."""


def serve_machine(machine, address, wait=False, max_insns=None):
    """Serve `machine` to gdb at `address` ("[HOST:]PORT"; port 0 picks one, printed on
    stderr) until it exits and gdb has gone, or gdb kills it (then Exit(EXIT_STOPPED, "killed
    by gdb")); returns the Exit. `wait` holds the machine at reset until gdb continues it.
    Raises GdbAddressError (the machine closed) when the address cannot be listened on."""
    try:
        host, port = parse_address(address)
        server = GdbServer(MachineTarget(machine, max_insns), host, port)
    except (OSError, ValueError) as exc:
        machine.close()
        raise GdbAddressError(f"cannot serve gdb on {address}: {exc}") from None
    print(f"fvp-rme: gdb stub listening on {server.host}:{server.port}"
          + (" (waiting for gdb)" if wait else ""), file=sys.stderr, flush=True)
    try:
        server.serve_forever(wait=wait)
    finally:
        machine.close()
    return machine.exit or Exit(EXIT_STOPPED, "killed by gdb")
