"""A machine built from a MachineDefinition: RAM and devices on the physical bus, the CPUs,
the EL3 firmware, virtual time and the deterministic scheduler.

Scheduling: the powered, non-waiting CPUs run in a fixed round-robin order for a fixed
quantum of instructions each; then virtual time advances by one quantum and the timed
devices catch up. So the same inputs give the same output and the same instruction counts.
When every CPU waits for an interrupt, time jumps to the next device event; with none
pending, the machine has hung.
"""

from typing import NamedTuple

from machine.cpu import interrupts
from machine.cpu.core import Core
from machine.cpu.exceptions import EC_SMC, exception_target
from machine.cpu.state import REALM, ROOT
from machine.devices.base import Device
from machine.devices.generic_timer import GenericTimer
from machine.devices.gicv3 import Gicv3
from machine.firmware.el3 import El3Firmware
from machine.firmware.gpt import GPI_BY_NAME, GranuleProtectionTable
from machine.firmware.rmm_platform import BoardRmmPlatform
from machine.memory.bus import PhysicalBus
from machine.rmm import RmmEngine
from machine.rmm.recrun import RecRunner

from .clock import VirtualClock
from .console import open_console
from .factories import FACTORIES

QUANTUM = 5_000
GB = 1 << 30
MB = 1 << 20

# Exit statuses of `fvp-rme run` (docs/running.md)
EXIT_POWEROFF, EXIT_STOPPED, EXIT_RESET, EXIT_LIMIT, EXIT_HANG = 0, 1, 3, 4, 5


class Exit(NamedTuple):
    status: int
    reason: str


class DebugStop(NamedTuple):
    """A CPU stopped at a breakpoint or watchpoint (machine.cpu.core.Stop in `stop`)."""

    core: object
    stop: object


class Machine:
    def __init__(self, definition, cpus=1, memory=2 * GB, consoles=None, icount_shift=2,
                 rmm=True, rmm_trace=None, rmm_inject=None):
        if not 1 <= cpus <= definition.max_cpus:
            raise ValueError(f"--cpus must be 1..{definition.max_cpus}")
        self.definition = definition
        self.bus = PhysicalBus()
        self.clock = VirtualClock(icount_shift)
        self.consoles = {name: open_console(spec) for name, spec in (consoles or {}).items()}
        self.ns_memory = self._add_memory(memory)
        self.cores = [self._new_core(i) for i in range(cpus)]
        for core in self.cores:
            core.peers = self.cores
        self.gic = Gicv3(self.cores, spis=definition.gic["spis"])
        self.timed = [GenericTimer(core, self.clock, self.gic, i)
                      for i, core in enumerate(self.cores)]
        self.devices = {}
        for region in definition.devices:
            self._add_device(region)
        self.gpt = GranuleProtectionTable(self.bus, *self._gpt_layout())
        self.firmware = El3Firmware(self, self.gpt)
        self.rec_runner = None
        if rmm:
            self.firmware.rmm_platform = BoardRmmPlatform(self)
            self.firmware.rmm = RmmEngine(self.firmware.rmm_platform, trace=rmm_trace,
                                          inject=rmm_inject)
            self.rec_runner = RecRunner(self)
        self.gic.configure_for_nonsecure()
        for core in self.cores:
            self.firmware.reset_core(core)
            core.exception_hook = self._hook(core)
        self.exit = None
        self.icount = 0
        self._turn = 0                  # the next CPU of the current scheduler round

    # --- construction ------------------------------------------------------------------------

    def _add_memory(self, size):
        """Map the RAM regions; DRAM is sized so the OS gets `size` bytes of Non-secure DRAM
        (DRAM1 first, the rest in DRAM2). Returns the NS DRAM ranges for the device tree."""
        ns_ranges = []
        remaining = size
        for region in self.definition.memory:
            if region.kind != "dram":
                self.bus.add_ram(region.name, region.base, region.size)
                continue
            reserved = sum(c[1] for c in region.carve_outs)
            usable = region.size - reserved
            take = min(remaining, usable)
            if take <= 0:
                continue
            mapped = region.size if region.carve_outs else take
            self.bus.add_ram(region.name, region.base, mapped)
            ns_ranges.append((region.base, take))
            remaining -= take
        if remaining > 0:
            raise ValueError(f"--memory too large: {size // MB} MB requested")
        return ns_ranges

    def _gpt_layout(self):
        """(L0 base, L1 base, L1 size, protected regions) as TF-A lays them out on the FVP."""
        sram = self.definition.memory_region("trusted-sram")
        l0 = sram.base + sram.size - 0x2000
        regions = [(base, size, "nonsecure") for base, size in self.ns_memory]
        dram1 = self.definition.memory_region("dram1")
        for offset, size, gpi, _name in dram1.carve_outs:
            regions.append((dram1.base + offset, size, gpi))
        l1_base = dram1.base + dram1.size - MB
        return l0, l1_base, MB, [(b, s, GPI_BY_NAME[g]) for b, s, g in regions]

    def _new_core(self, index):
        core = Core(self.bus)
        core.index = index
        core.mpidr = self.definition.mpidr(index)
        core.s.sr["mpidr_el1"] = core.mpidr
        core.powered = False
        core.s.halted = True
        core.machine = self
        return core

    def _add_device(self, region):
        device = FACTORIES[region.model](self, region)
        device.clock = self.clock
        self.devices[region.name] = device
        self.bus.add_mmio(region.name, region.base, region.size, device)
        if type(device).next_event is not Device.next_event:
            self.timed.append(device)

    def spi_line(self, n):
        return self.gic.spi_line(n)

    def console(self, name):
        return self.consoles.get(name) or self.consoles.setdefault(name, open_console(None))

    def _hook(self, core):
        """The core's exception hook: a realm's exception to EL2 goes to the REC runner (the
        RMM's R-EL2), the rest to the EL3 firmware. `kind`/`target` are given for an
        asynchronous exception (exc None)."""
        def hook(exc, pc, kind=None, target=None):
            if self.rec_runner is not None and core.s.security == REALM:
                if exc is not None:
                    target = exception_target(core.s, exc)
                vect = interrupts.VECTOR[kind] if exc is None else None
                new_pc = self.rec_runner.on_exception(core, exc, pc, target, vect)
                if new_pc is not None:
                    return new_pc
            if exc is not None and exc.ec == EC_SMC:
                # the SMC's return address: where REC_ENTER's world switch saves the host PC
                core.s.pc = (pc + exc.return_offset) & 0xFFFF_FFFF_FFFF_FFFF
            return self.firmware.on_exception(core, exc, pc)
        return hook

    # --- power (the firmware's PSCI calls these) -------------------------------------------------

    def core_by_affinity(self, affinity):
        for core in self.cores:
            if core.mpidr & 0xFF_00FF_FFFF == affinity:
                return core
        return None

    def valid_entry(self, address):
        return any(base <= address < base + size for base, size in self.ns_memory)

    def cpu_on(self, core, entry, context, el=2):
        self.firmware.reset_core(core)
        self.firmware.enter_nonsecure(core, entry, (context, 0, 0, 0), el=el)
        core.powered = True

    def cpu_off(self, core):
        core.powered = False
        core.s.halted = True

    def standby(self, core):
        core.s.halted = True

    def system(self, kind):
        if kind == "off":
            self.exit = Exit(EXIT_POWEROFF, "system off")
        else:
            self.exit = Exit(EXIT_RESET, "system reset requested")

    # --- booting and running -------------------------------------------------------------------

    def load(self, placed):
        for addr, data, memsz in placed.chunks:
            self.bus.write_bytes(addr, bytes(data) + bytes(max(memsz - len(data), 0)))

    def boot(self, entry, dtb_address, el=2):
        """Power on CPU 0 at `entry` per the arm64 boot protocol (x0 = the DTB)."""
        core = self.cores[0]
        self.firmware.enter_nonsecure(core, entry, (dtb_address, 0, 0, 0), el=el)
        core.powered = True

    def boot_el3(self, entry, dtb_address):
        """Power on CPU 0 at EL3 (Root, MMU off, DAIF masked, x0 = the DTB) for an EL3 image:
        it is the firmware, so the Python EL3 model stands aside and exceptions to EL3 go to
        the image's own vectors."""
        core = self.cores[0]
        self.firmware.native = True
        s = core.s
        s.x[0:4] = [dtb_address, 0, 0, 0]
        s.select_sp(3, 1)
        s.security = ROOT
        s.daif = 0b1111
        s.pc = entry
        s.halted = False
        core.powered = True
        core.regime_changed()

    def run(self, max_insns=None):
        """Run until the machine exits; returns an Exit."""
        while self.exit is None:
            budget = None if max_insns is None else max_insns - self.icount
            if budget is not None and budget <= 0 or self.step(budget) is None:
                self.exit = Exit(EXIT_LIMIT, f"instruction limit reached ({max_insns})")
        self.close()
        return self.exit

    def close(self):
        for console in self.consoles.values():
            console.close()

    def step(self, budget=None):
        """Run scheduler rounds. Returns the Exit when the machine exits, a DebugStop when a
        CPU stops at a breakpoint or watchpoint (the round resumes with that CPU), or None
        once at least `budget` instructions have retired."""
        start = self.icount
        while self.exit is None:
            ran = False
            while self._turn < len(self.cores):
                core = self.cores[self._turn]
                if core.powered and not core.s.halted:
                    before = core.icount
                    stop = core.run(QUANTUM)
                    self.icount += core.icount - before
                    ran = True
                    if stop.reason in ("breakpoint", "watchpoint"):
                        return DebugStop(core, stop)
                    self._after_slice(core, stop)
                    if self.exit is not None:
                        return self.exit
                self._turn += 1
            self._turn = 0
            self._advance(ran)
            if budget is not None and self.icount - start >= budget:
                return None
        return self.exit

    def _after_slice(self, core, stop):
        if stop.reason == "stop":
            self.exit = Exit(EXIT_STOPPED, f"CPU {core.index}: {stop.message}")
        elif stop.reason in ("wfi", "wfe"):
            core.s.halted = True

    def _advance(self, ran):
        if ran:
            self.clock.advance(QUANTUM << self.clock.shift)
        else:
            deadline = self._next_event()
            if deadline is None:
                self.exit = Exit(EXIT_HANG, "every CPU is waiting for an interrupt and no "
                                            "device has an event pending: the guest hangs")
                return
            self.clock.advance(max(deadline - self.clock.now(), 0))
        now = self.clock.now()
        for device in self.timed:
            device.tick(now)
        self._poll_consoles()
        for core in self.cores:
            if core.powered and core.s.halted and interrupts.any_line(core.s):
                core.s.halted = False

    def stats(self, seconds):
        """One paragraph for --stats: instructions retired, speed, and where they ran."""
        per_el = [sum(core.el_counts[el] for core in self.cores) for el in range(4)]
        mips = self.icount / seconds / 1e6 if seconds else 0.0
        lines = [f"instructions: {self.icount:,} in {seconds:.2f} s ({mips:.2f} MIPS), "
                 f"virtual time {self.clock.now() / 1e6:.3f} ms"]
        lines.append("per EL: " + ", ".join(f"EL{el} {count:,}" for el, count in
                                            enumerate(per_el)))
        for core in self.cores:
            lines.append(f"cpu{core.index}: {core.icount:,} instructions"
                         + ("" if core.powered else " (off)"))
        return "\n".join(lines)

    def _next_event(self):
        events = [e for e in (d.next_event() for d in self.timed) if e is not None]
        return min(events) if events else None

    def _poll_consoles(self):
        """Feed console input to the UARTs, no more than each receive FIFO has room for (the
        rest waits in the host's buffers, so piped input is never dropped)."""
        for name, console in self.consoles.items():
            device = self.devices.get(name)
            if device is None or not hasattr(device, "receive"):
                continue
            data = console.poll_input(device.rx_space())
            if data:
                device.receive(data)
