"""The RMM engine's view of the board (machine.rmm.platform.RmmPlatform): physical memory
checked by the same granule protection table the CPUs check, the EL3 granule transition
service on that table, and the CPUs for REC entry."""

from machine.cpu.exceptions import MachineStop
from machine.cpu.gpc import GpcFault, GranuleProtection
from machine.memory.bus import PAGE_MASK, PAGE_SIZE, BusError
from machine.rmm.platform import PlatformFault

from .gpt import GPCCR_EL3


class BoardRmmPlatform:
    def __init__(self, machine):
        self.machine = machine
        self.bus = machine.bus
        self.gpt = machine.gpt
        # The RMM's accesses are checked like a PE's, against the firmware's GPT.
        self.gpc = GranuleProtection(machine.bus, {"gpccr_el3": GPCCR_EL3,
                                                   "gptbr_el3": machine.gpt.gptbr})
        self.core = None            # the CPU whose SMC is being served (set by the firmware)

    # --- memory ----------------------------------------------------------------------------------

    def _check(self, pa, size, pas):
        for page in range(pa & ~PAGE_MASK, pa + max(size, 1), PAGE_SIZE):
            try:
                self.gpc.check(page, pas)
            except GpcFault as fault:
                raise PlatformFault(pa, pas, str(fault)) from None

    def read(self, pa, size, pas):
        self._check(pa, size, pas)
        try:
            return self.bus.read_bytes(pa, size)
        except BusError as exc:
            raise PlatformFault(pa, pas, str(exc)) from None

    def write(self, pa, data, pas):
        self._check(pa, len(data), pas)
        try:
            self.bus.write_bytes(pa, data)
        except BusError as exc:
            raise PlatformFault(pa, pas, str(exc)) from None

    # --- the granule transition service (RMM_GTSI_DELEGATE / UNDELEGATE) --------------------

    def _transition(self, result):
        if result == 0:                          # TLBI RPALOS on every PE (TF-A does this)
            for core in self.machine.cores:
                core.flush_tlb()
        return result

    def delegate(self, pa):
        return self._transition(self.gpt.delegate(pa))

    def undelegate(self, pa):
        return self._transition(self.gpt.undelegate(pa))

    def dram_regions(self):
        return list(self.machine.ns_memory)

    # --- the calling CPU --------------------------------------------------------------------

    def ich_lrs(self):
        return list(self.core.gic_cpu.ich_lr)

    def tlbi_ipa(self, vmid, ipa, size):
        for core in self.machine.cores:
            core.flush_tlb()

    def enter_rec(self, rec, run_pa):
        runner = self.machine.rec_runner
        if runner is None:
            raise MachineStop("RMI_REC_ENTER: running realms on the CPU is not implemented yet")
        return runner.enter(self.core, rec, run_pa)
