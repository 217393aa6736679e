"""The execution engine of one processing element: decode cache and run loop.

Decoded instructions are cached per physical page, in a list indexed by the byte offset within
the page (the entries at offsets that are not a multiple of 4 raise the PC alignment fault).
The instruction TLB maps a virtual page straight to that list, so the hot loop is one dict
lookup, one list index and one call per instruction.
"""

import logging
from typing import NamedTuple

from machine.memory.bus import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, BusError

from . import (
    interrupts,
    isa,  # noqa: F401  (registers the instruction encodings)
)
from .decode import ENCODINGS, DecodeTable, Unallocated, Unimplemented, insn
from .exceptions import (
    EC_ILLEGAL_STATE,
    DataAbort,
    GuestException,
    LoopExit,
    MachineStop,
    PCAlignment,
    Recheck,
    TakeException,
    exception_target,
)
from .fpaccess import FP_TRAPPED, FPTrapTarget, uses_fp
from .isa.ldst import DataAbortSyndrome
from .mmu import FETCH, Mmu
from .state import CpuState
from .sysregs import SysRegs
from .translate import closure, compile_block, env_of

log = logging.getLogger("machine.cpu")

TABLE = DecodeTable(ENCODINGS)

UNDEFINED = insn("raise Undefined()", ends_block=True)

MAX_BLOCK = 64       # instructions in one translated block
MAX_DISPATCH = 1024  # instructions one call of a block may retire (looping blocks)
HOT = 64         # executions of an entry before its block is translated


BREAKPOINT, WATCHPOINT = "breakpoint", "watchpoint"
VA_PAGE_MASK = (1 << 44) - 1     # VA[55:12] in a TLBI by-VA operand


class Stop(NamedTuple):
    """Why `Core.run` returned: 'count', 'breakpoint', 'watchpoint' (`watch` is the
    (address, kind) accessed), 'exception', 'wfi' or 'stop'."""

    reason: str
    pc: int
    exception: GuestException | None = None
    message: str = ""
    watch: tuple | None = None


def _misaligned(pc):
    raise PCAlignment(far=pc)


class _PageExit(Exception):
    """The tier-1 loop's PC left the page whose decoded list it indexes."""


_PAGE_EXIT = _PageExit()


def _leave_page(pc):
    raise _PAGE_EXIT


_LEAVING = [_leave_page] * PAGE_SIZE


def _retire(code):
    """A dropped decoded-code list leaves the tier-1 loop that may be running it."""
    if code is not None:
        code[:PAGE_SIZE] = _LEAVING


class Core:
    def __init__(self, bus, state=None):
        self.s = state or CpuState()
        self.bus = bus
        self.mmu = Mmu(self.s, bus)
        self.sysregs = SysRegs(self)
        self.s.core = self
        self.env = env_of(self.s, self.mmu)
        self.pages = {}          # physical page -> decoded-code list (tier 1)
        self.closures = {}       # (instruction word, fp_ok) -> tier-1 closure
        self.itlb = {}           # virtual page -> decoded-code list
        self.fast_pages = {}     # physical page -> entry list of the tier-2 loop
        self.fitlb = {}          # virtual page -> tier-2 entry list
        self.block_by_code = {}  # code object of a translated block -> Block
        self.blocks = True       # use translated blocks when the run allows it
        self.peers = [self]      # the PEs a broadcast TLBI reaches
        self.breakpoints = set()
        self.icount = 0
        self.el_counts = [0, 0, 0, 0]    # instructions retired at each EL
        self._accounted = 0
        self._counting_el = self.s.el
        self.stop_on_exception = False
        self.exception_hook = None   # callable(exc, pc) -> new pc or None (board/firmware)
        self.warned = set()

    # --- decode cache ---------------------------------------------------------------------------

    def _cache_key(self, va):
        """(physical page of `va`, SIMD&FP enabled): what a decoded page depends on."""
        return self.mmu.fetch_page(va), FPTrapTarget(self.s) is None

    def code_list(self, va):
        key = self._cache_key(va)
        code = self.pages.get(key)
        if code is None:
            code = self._new_page(key)
        self.itlb[va >> PAGE_SHIFT] = code
        return code

    def _new_page(self, key):
        """The decoded-code list of a page: entries decode on first use. The tier-1 loop
        indexes it with `pc ^ page base`, which is the offset in the page and at least
        PAGE_SIZE for any other page: the second half holds `_leave_page` and larger indices
        raise IndexError, so the loop notices a page change without a test."""
        pa_page, fp_ok = key
        code = [_misaligned] * PAGE_SIZE + _LEAVING
        buf, off = self.bus.ram_page(pa_page << PAGE_SHIFT)

        def decode_here(pc):
            o = pc & PAGE_MASK
            word = int.from_bytes(buf[off + o:off + o + 4], "little")
            f = code[o] = self.decode_word(word, pc, fp_ok)
            return f(pc)

        for o in range(0, PAGE_SIZE, 4):
            code[o] = decode_here
        self.pages[key] = code
        self.bus.watch_code(pa_page, self.invalidate_page)
        return code

    def decode_op(self, word, pc, fp_ok=True):
        try:
            decoded = TABLE.decode(word)
        except Unallocated:
            return UNDEFINED
        except Unimplemented as exc:
            self._warn(f"unimplemented instruction {word:#010x} ({exc}) at {pc:#x}: "
                       "taken as undefined")
            return UNDEFINED
        if not fp_ok and uses_fp(decoded):
            return FP_TRAPPED
        return decoded

    def decode_word(self, word, pc, fp_ok=True):
        """The tier-1 closure of `word`: it depends on the word and `fp_ok` only (the PC is
        its argument), so equal words anywhere share one."""
        key = (word, fp_ok)
        f = self.closures.get(key)
        if f is None:
            f = self.closures[key] = closure(self.decode_op(word, pc, fp_ok), self.env)
        return f

    # --- tier 2: translated blocks ----------------------------------------------------------

    def fast_list(self, va):
        key = self._cache_key(va)
        fast = self.fast_pages.get(key)
        if fast is None:
            fast = self._new_fast_page(key)
        self.fitlb[va >> PAGE_SHIFT] = fast
        return fast

    def _new_fast_page(self, key):
        """Entries start as profiling trampolines running the tier-1 closure; at HOT executions
        an entry is replaced by the block translated from there."""
        code = self.pages.get(key) or self._new_page(key)
        fast = [_misaligned] * PAGE_SIZE + _LEAVING      # indexed as in _new_page
        counts = {}

        def profile(pc):
            o = pc & PAGE_MASK
            c = counts.get(o, 0) + 1
            if c >= HOT:
                f = fast[o] = self._translate_block(key, pc) or code[o]
                return f(pc)
            counts[o] = c
            return code[o](pc)

        for o in range(0, PAGE_SIZE, 4):
            fast[o] = profile
        self.fast_pages[key] = fast
        return fast

    def _translate_block(self, key, pc):
        """The Block function for the straight-line code at `pc`, or None if it would hold a
        single instruction."""
        pa_page, fp_ok = key
        buf, off = self.bus.ram_page(pa_page << PAGE_SHIFT)
        ops = []
        o = pc & PAGE_MASK
        while o < PAGE_SIZE and len(ops) < MAX_BLOCK:
            word = int.from_bytes(buf[off + o:off + o + 4], "little")
            decoded = self.decode_op(word, pc + len(ops) * 4, fp_ok)
            ops.append(decoded)
            if decoded.ends_block:
                break
            o += 4
        if len(ops) < 2:
            return None
        block = compile_block(ops, self.env, MAX_DISPATCH)
        self.block_by_code[block.code] = block
        return block.fn

    def _warn(self, message):
        if message not in self.warned:
            self.warned.add(message)
            log.warning(message)

    def invalidate_page(self, pa_page):
        for fp_ok in (False, True):
            _retire(self.pages.pop((pa_page, fp_ok), None))
            _retire(self.fast_pages.pop((pa_page, fp_ok), None))
        self.itlb.clear()
        self.fitlb.clear()

    def flush_code(self):
        """Forget every decoded instruction (for tools and tests: instruction cache
        maintenance needs nothing, as isa/system.py explains)."""
        for code in (*self.pages.values(), *self.fast_pages.values()):
            _retire(code)
        self.pages.clear()
        self.fast_pages.clear()
        self.block_by_code.clear()
        self.itlb.clear()
        self.fitlb.clear()

    def regime_changed(self):
        """The translation regime changed (EL, security state, PAN): drop cached
        translations."""
        self.flush_tlb()

    def flush_tlb_broadcast(self):
        """A TLBI for the Inner/Outer Shareable domain: every PE in `peers` (the machine's
        cores; just this one for a bare CPU)."""
        for core in self.peers:
            core.flush_tlb()

    def flush_tlb(self):
        self.mmu.flush()
        self.itlb.clear()
        self.fitlb.clear()

    def invalidate_va(self, operand):
        """TLBI by VA (operand ASID:VA[55:12]): every cached translation of that page, for
        every ASID (a superset of what the operation must remove). The soft TLBs only hold
        the current regime, so a TLBI for another regime's VA drops at most a harmless
        extra page."""
        pages = self.mmu.invalidate_page_va(operand & VA_PAGE_MASK)
        if pages is None:
            self.flush_tlb()
            return
        for page in pages:
            self.itlb.pop(page, None)
            self.fitlb.pop(page, None)

    def invalidate_va_broadcast(self, operand):
        for core in self.peers:
            core.invalidate_va(operand)

    # --- run loop -------------------------------------------------------------------------------

    def run(self, max_insns):
        """Execute up to `max_insns` instructions; returns a Stop."""
        s = self.s
        done = 0
        start = s.pc
        pc, stop = self._before_next(s.pc, done)
        if stop is not None:
            return stop
        entries = 0                  # faults taken: they bound the run like instructions
        while done + entries < max_insns:
            self._counting_el = s.el         # where the next instructions run
            remaining = max_insns - done - entries
            block = None
            if self.breakpoints or self.mmu.watchpoints:
                # a breakpoint is passed over only where this run starts (so that a continue
                # makes progress), not where an exception, an interrupt or a recheck resumes
                pc, n, event = self._loop_bp(pc, remaining, pc == start and not done + entries)
            elif self.blocks and remaining >= 2 * MAX_DISPATCH:
                s.block_extra = 0
                pc, n, event, block = self._loop_fast(pc, remaining)
                n += s.block_extra
            else:
                pc, n, event = self._loop(pc, remaining)
            done += n
            if event is None:
                continue
            if block is not None and isinstance(event, BaseException):
                # Raised inside a translated block: find the instruction that raised.
                index = block.faulting_index(event.__traceback__)
                done -= block.length - 1 - index
                pc = (pc + 4 * index) & 0xFFFF_FFFF_FFFF_FFFF
            completed = isinstance(event, Recheck) or \
                isinstance(event, GuestException) and bool(event.return_offset)
            self._account(done + completed)
            if isinstance(event, GuestException):
                if event.return_offset:
                    done += 1           # SVC/HVC/SMC complete before the exception is taken
                else:
                    entries += 1        # a fault retires nothing, but uses up the budget
                try:
                    pc = self.take_exception(event, pc)
                except LoopExit as exit_:          # firmware: this CPU stops (CPU_OFF, ...)
                    return self._stop(Stop(exit_.reason, exit_.next_pc), exit_.next_pc, done)
                except MachineStop as stop:
                    return self._stop(Stop("stop", pc, message=str(stop)), pc, done)
                if self.stop_on_exception:
                    return self._stop(Stop("exception", pc, event), pc, done)
            elif isinstance(event, Recheck):
                done += 1
                pc = event.next_pc if event.next_pc is not None else \
                    (pc + 4) & 0xFFFF_FFFF_FFFF_FFFF
                if not s.il:
                    pc = self.take_interrupt(pc)
                elif done + entries < max_insns:
                    # the next instruction takes the Illegal Execution state exception
                    pc, stop = self._before_next(pc, done)
                    if stop is not None:
                        return stop
            elif isinstance(event, LoopExit):
                done += 1
                pc = event.next_pc
                return self._stop(Stop(event.reason, pc), pc, done)
            elif isinstance(event, MachineStop):
                return self._stop(Stop("stop", pc, message=str(event)), pc, done)
            else:                        # BREAKPOINT or WATCHPOINT
                return self._stop(Stop(event, pc, watch=self.mmu.watch_hit), pc, done)
        return self._stop(Stop("count", pc), pc, done)

    def _stop(self, result, pc, done):
        self.s.pc = pc
        self.icount += done
        self._account(done)
        self._accounted = 0
        return result

    def _account(self, done):
        """Attribute the instructions retired since the last EL change to the EL they ran at
        (every EL change ends a loop: exceptions, ERET, firmware hooks)."""
        self.el_counts[self._counting_el] += done - self._accounted
        self._accounted = done
        self._counting_el = self.s.el

    def _loop(self, pc, limit):
        """The tier-1 loop: one decoded closure per instruction. Returns (pc, retired, event)
        where event is what stopped it, or None when `limit` instructions have retired; on an
        exception `pc` is the faulting instruction's address."""
        itlb = self.itlb
        code_list = self.code_list
        done = 0
        try:
            while done < limit:
                retired = done
                base = pc ^ (pc & PAGE_MASK)
                code = itlb.get(pc >> PAGE_SHIFT) or code_list(pc)     # may raise a fetch abort
                try:
                    for retired in range(done, limit):  # noqa: B007 (the count on leaving)
                        pc = code[pc ^ base](pc)
                    retired = limit
                except _PageExit:
                    pass
                except IndexError:              # pc ^ base beyond the list: a distant page
                    if pc ^ base < PAGE_SIZE:
                        raise                   # raised by an instruction: a model bug
                done = retired
        except (GuestException, LoopExit, MachineStop, Recheck) as event:
            return pc, retired, event
        return pc, done, None

    def _loop_fast(self, pc, limit):
        """The tier-2 loop: entries are translated blocks once hot. Blocks count the
        instructions they retire beyond one per dispatch in s.block_extra; a dispatch retires
        at most MAX_DISPATCH, so the loop stops in time never to exceed `limit`. Returns (pc,
        dispatches, event, the Block that raised or None)."""
        s = self.s
        fitlb = self.fitlb
        fast_list = self.fast_list
        stop_at = limit - MAX_DISPATCH
        done = 0
        try:
            while done + s.block_extra <= stop_at:
                base = pc ^ (pc & PAGE_MASK)
                code = fitlb.get(pc >> PAGE_SHIFT) or fast_list(pc)
                try:
                    while done + s.block_extra <= stop_at:
                        pc = code[pc ^ base](pc)
                        done += 1
                except _PageExit:
                    pass
                except IndexError:              # as in _loop
                    if pc ^ base < PAGE_SIZE:
                        raise
        except (GuestException, LoopExit, MachineStop, Recheck) as event:
            return pc, done, event, self._raising_block(event.__traceback__)
        return pc, done, None, None

    def _raising_block(self, tb):
        while tb is not None:
            block = self.block_by_code.get(tb.tb_frame.f_code)
            if block is not None:
                return block
            tb = tb.tb_next
        return None

    def _loop_bp(self, pc, limit, skip_first=True):
        """As _loop, for debugging: stops at an address in self.breakpoints (event
        BREAKPOINT), except at the address it starts from so that continuing from a
        breakpoint makes progress, and after an instruction that hit a watchpoint (event
        WATCHPOINT, the access in self.mmu.watch_hit)."""
        itlb = self.itlb
        bps = self.breakpoints
        mmu = self.mmu
        code_list = self.code_list
        done = 0
        first = skip_first
        mmu.watch_hit = None
        try:
            while done < limit:
                if pc in bps and not first:
                    return pc, done, BREAKPOINT
                first = False
                code = itlb.get(pc >> PAGE_SHIFT)
                if code is None:
                    code = code_list(pc)
                pc = code[pc & PAGE_MASK](pc)
                done += 1
                if mmu.watch_hit is not None:
                    return pc, done, WATCHPOINT
        except (GuestException, LoopExit, MachineStop, Recheck) as event:
            return pc, done, event
        return pc, done, None

    # --- debugging ----------------------------------------------------------------------------

    def add_watchpoint(self, va, length, kind, scope=None):
        """Stop after an access of `kind` ('r', 'w' or 'a') touching [va, va + length), made
        where `scope` matches (Mmu.add_watchpoint)."""
        self.mmu.add_watchpoint(va, length, kind, scope)
        self.flush_tlb()

    def remove_watchpoint(self, va, length, kind):
        self.mmu.remove_watchpoint(va, length, kind)
        self.flush_tlb()

    def _before_next(self, pc, done):
        """What happens before the next instruction: the Illegal Execution state exception
        after an illegal exception return (PSTATE.IL, D1.4.4), else a pending interrupt.
        Returns (pc, a Stop to return or None)."""
        if not self.s.il:
            return self.take_interrupt(pc), None
        exc = GuestException(ec=EC_ILLEGAL_STATE)
        pc = self.take_exception(exc, pc)
        if self.stop_on_exception:
            return pc, self._stop(Stop("exception", pc, exc), pc, done)
        return pc, None

    def _abort_syndrome(self, pc):
        """ISV and the instruction syndrome of the load/store at `pc`, for a stage 2 data
        abort a hypervisor may emulate (D24.2.40 ISS: valid for aborts taken to EL2)."""
        try:
            pa = self.mmu.translate(pc, FETCH).pa
            return DataAbortSyndrome(self.bus.read(pa, 4))
        except (GuestException, BusError):
            return 0

    def interrupt_lines(self):
        return interrupts.any_line(self.s)

    def take_interrupt(self, pc):
        """Take the pending asynchronous exception, if one is unmasked; returns the PC to run
        from. `pc` is the next instruction (the preferred return address)."""
        found = interrupts.pending(self.s) if interrupts.any_line(self.s) else None
        if found is None:
            return pc
        kind, target = found
        self.s.halted = False
        if self.exception_hook is not None:
            new_pc = self.exception_hook(None, pc, kind, target)
            if new_pc is not None:
                return new_pc
        return TakeException(self.s, target, None, pc, interrupts.VECTOR[kind])

    def take_exception(self, exc, pc):
        """Take a synchronous exception raised by the instruction at `pc`; returns the new PC."""
        if isinstance(exc, DataAbort) and exc.ipa is not None and not exc.iss & (1 << 7):
            exc.iss |= self._abort_syndrome(pc)
        if self.exception_hook is not None:
            new_pc = self.exception_hook(exc, pc)
            if new_pc is not None:
                return new_pc
        return TakeException(self.s, exception_target(self.s, exc), exc, pc)
