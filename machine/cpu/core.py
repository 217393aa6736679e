"""The execution engine of one processing element: decode cache and run loop.

Decoded instructions are cached per physical page, in a list indexed by the byte offset within
the page (the entries at offsets that are not a multiple of 4 raise the PC alignment fault).
The instruction TLB maps a virtual page straight to that list, so the hot loop is one dict
lookup, one list index and one call per instruction.
"""

import logging
from typing import NamedTuple

from machine.memory.bus import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE

from . import isa  # noqa: F401  (registers the instruction encodings)
from .decode import ENCODINGS, DecodeTable, Unallocated, Unimplemented, insn
from .exceptions import (
    GuestException,
    LoopExit,
    MachineStop,
    PCAlignment,
    TakeException,
    Undefined,
    exception_target,
)
from .mmu import Mmu
from .state import CpuState
from .sysregs import SysRegs
from .translate import closure, env_of

log = logging.getLogger("machine.cpu")

TABLE = DecodeTable(ENCODINGS)

UNDEFINED = insn("raise Undefined()", ends_block=True)


class Stop(NamedTuple):
    """Why `Core.run` returned: 'count', 'breakpoint', 'exception', 'wfi' or 'stop'."""

    reason: str
    pc: int
    exception: GuestException | None = None
    message: str = ""


def _misaligned(pc):
    raise PCAlignment(far=pc)


class Core:
    def __init__(self, bus, state=None):
        self.s = state or CpuState()
        self.bus = bus
        self.mmu = Mmu(self.s, bus)
        self.sysregs = SysRegs(self)
        self.s.core = self
        self.env = env_of(self.s, self.mmu)
        self.pages = {}          # physical page -> decoded-code list
        self.itlb = {}           # virtual page -> decoded-code list
        self.breakpoints = set()
        self.icount = 0
        self.stop_on_exception = False
        self.exception_hook = None   # callable(exc, pc) -> new pc or None (board/firmware)
        self.warned = set()

    # --- decode cache ---------------------------------------------------------------------------

    def code_list(self, va):
        pa_page = self.mmu.fetch_page(va)
        code = self.pages.get(pa_page)
        if code is None:
            code = self._new_page(pa_page)
        self.itlb[va >> PAGE_SHIFT] = code
        return code

    def _new_page(self, pa_page):
        code = [_misaligned] * PAGE_SIZE
        buf, off = self.bus.ram_page(pa_page << PAGE_SHIFT)

        def decode_here(pc):
            o = pc & PAGE_MASK
            word = int.from_bytes(buf[off + o:off + o + 4], "little")
            f = code[o] = self.decode_word(word, pc)
            return f(pc)

        for o in range(0, PAGE_SIZE, 4):
            code[o] = decode_here
        self.pages[pa_page] = code
        self.bus.watch_code(pa_page, self.invalidate_page)
        return code

    def decode_word(self, word, pc=None):
        try:
            decoded = TABLE.decode(word)
        except Unallocated:
            decoded = UNDEFINED
        except Unimplemented as exc:
            self._warn(f"unimplemented instruction {word:#010x} ({exc}) at {pc:#x}: "
                       "taken as undefined")
            decoded = UNDEFINED
        return closure(decoded, self.env)

    def _warn(self, message):
        if message not in self.warned:
            self.warned.add(message)
            log.warning(message)

    def invalidate_page(self, pa_page):
        if self.pages.pop(pa_page, None) is not None:
            self.itlb.clear()

    def flush_code(self):
        """IC IALLU and friends: forget every decoded instruction."""
        self.pages.clear()
        self.itlb.clear()

    def flush_tlb(self):
        self.mmu.flush()
        self.itlb.clear()

    # --- run loop -------------------------------------------------------------------------------

    def run(self, max_insns):
        """Execute up to `max_insns` instructions; returns a Stop."""
        pc = self.s.pc
        done = 0
        while done < max_insns:
            if self.breakpoints:
                pc, done, event = self._loop_bp(pc, done, max_insns)
            else:
                pc, done, event = self._loop(pc, done, max_insns)
            if event is None:
                break
            if isinstance(event, GuestException):
                if event.return_offset:
                    done += 1           # SVC/HVC/SMC complete before the exception is taken
                pc = self.take_exception(event, pc)
                if self.stop_on_exception:
                    return self._stop(Stop("exception", pc, event), pc, done)
            elif isinstance(event, LoopExit):
                done += 1
                pc = event.next_pc
                return self._stop(Stop(event.reason, pc), pc, done)
            elif isinstance(event, MachineStop):
                return self._stop(Stop("stop", pc, message=str(event)), pc, done)
            else:                        # a breakpoint address reached
                return self._stop(Stop("breakpoint", pc), pc, done)
        return self._stop(Stop("count", pc), pc, done)

    def _stop(self, result, pc, done):
        self.s.pc = pc
        self.icount += done
        return result

    def _loop(self, pc, done, limit):
        """The hot loop. Returns (pc, retired, event) where event is what stopped it, or None
        when `limit` instructions have retired; on an exception `pc` is the faulting
        instruction's address."""
        itlb = self.itlb
        code_list = self.code_list
        try:
            while done < limit:
                code = itlb.get(pc >> PAGE_SHIFT)
                if code is None:
                    code = code_list(pc)
                pc = code[pc & PAGE_MASK](pc)
                done += 1
        except (GuestException, LoopExit, MachineStop) as event:
            return pc, done, event
        return pc, done, None

    def _loop_bp(self, pc, done, limit):
        """As _loop, but stops at an address in self.breakpoints (the event is True), except at
        the address it starts from, so that continuing from a breakpoint makes progress."""
        itlb = self.itlb
        bps = self.breakpoints
        code_list = self.code_list
        first = True
        try:
            while done < limit:
                if pc in bps and not first:
                    return pc, done, True
                first = False
                code = itlb.get(pc >> PAGE_SHIFT)
                if code is None:
                    code = code_list(pc)
                pc = code[pc & PAGE_MASK](pc)
                done += 1
        except (GuestException, LoopExit, MachineStop) as event:
            return pc, done, event
        return pc, done, None

    def take_exception(self, exc, pc):
        """Take a synchronous exception raised by the instruction at `pc`; returns the new PC."""
        if self.exception_hook is not None:
            new_pc = self.exception_hook(exc, pc)
            if new_pc is not None:
                return new_pc
        return TakeException(self.s, exception_target(self.s, exc), exc, pc)
