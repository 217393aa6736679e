"""What the RMM engine needs from the machine, as a Protocol.

The engine (engine.py) never touches the bus, the GPT or a CPU directly: it asks its platform.
The board implements this against its physical bus, its EL3 model (which owns the GPT that the
CPUs' granule protection checks read) and its CPUs; tests implement it with a dictionary of
GPIs (tests/rmm/rmm_testbed.py).

PAS values are machine.cpu.gpc.PAS_*. Addresses are physical; sizes in bytes.

Hand-over of a REC to the CPU (REC_ENTER, part 2)
-------------------------------------------------
RMI_REC_ENTER does every check of digest 5.15 steps 1-10 itself, then:

1. it stores the RmiRecEnter it read from the run page in `rec.enter` (a construct Container:
   `flags`, `gprs[0..30]`), moves `rec.last_exit` to `rec.previous_exit` (the RMM forgets the
   last ESR: the next entry validates EMUL_MMIO/INJECT_SEA against the exit this run ends
   with), marks the REC running (`rec.running`, REC granule refcount 1) and calls
   `platform.enter_rec(rec, run_pa)`; the realm is `engine.realms[rec.rd]`;
2. the platform does steps 11-13: a pending host call whose buffer is now unmapped gives the
   synthetic SYNC exit at once; otherwise it completes what `rec.enter.flags` answers for
   `rec.previous_exit` / `rec.ripas_request` / `rec.host_call` (emulated MMIO read value,
   RIPAS response, host call results), loads the REC into a CPU at Realm EL1 (rec.gprs,
   rec.pc, rec.pstate in SPSR format, rec.sysregs, VTTBR_EL2 = realm.vttbr(),
   VTCR_EL2 = realm.vtcr(), VMPIDR_EL2 = rec.vmpidr), applies TRAP_WFI/WFE, runs it until an
   exit the host must see, saves the context back into the Rec, records what the RMM must
   remember (`rec.last_exit` = rec.LastExit(esr, unprotected) for aborts, rec.request_psci(),
   rec.request_ripas_change(), `rec.runnable` for CPU_OFF, `realm.state` for SYSTEM_OFF) and
   returns the exit as a mapping of RmiRecExit fields (abi.RmiRecExit; missing fields zero);
3. the engine writes the RmiRecExit to run_pa + 0x800 (zero-filled first), clears
   `rec.running` and answers X0 = SUCCESS (ERROR_INPUT if that write faults).

If the REC runs asynchronously (the board keeps scheduling other CPUs while the realm runs),
`enter_rec` returns None: the REC stays running and `engine.handle()` returns None for that
SMC; when the REC exits, the platform calls `engine.complete_rec_enter(rec, exit)`, which does
step 3 and returns the registers the host's SMC returns with. Meanwhile other RMI calls see the
REC executing (REALM_TERMINATE -> ERROR_REALM, REC_DESTROY -> ERROR_REC, ...).
"""

from collections.abc import Mapping, Sequence
from typing import Protocol


class PlatformFault(Exception):
    """A physical access the granule protection check or the bus refused."""

    def __init__(self, pa, pas=None, why=""):
        super().__init__(f"access to {pa:#x} refused{': ' + why if why else ''}")
        self.pa, self.pas = pa, pas


# RMM_GTSI_DELEGATE/UNDELEGATE results (fvp-base-revc-rme.md 4.9)
GTSI_SUCCESS = 0
E_RMM_BAD_ADDR = -2
E_RMM_BAD_PAS = -3


class RmmPlatform(Protocol):
    def read(self, pa: int, size: int, pas: int) -> bytes:
        """`size` bytes of physical memory at `pa` accessed in `pas`; raises PlatformFault if
        the GPC or the bus refuses (e.g. a host parameter page that is not Non-secure)."""

    def write(self, pa: int, data: bytes, pas: int) -> None:
        """Write physical memory in `pas`; raises PlatformFault like read()."""

    def delegate(self, pa: int) -> int:
        """RMM_GTSI_DELEGATE: GPI of the granule at `pa` NS -> Realm. 0, E_RMM_BAD_ADDR or
        E_RMM_BAD_PAS. Contents are not scrubbed."""

    def undelegate(self, pa: int) -> int:
        """RMM_GTSI_UNDELEGATE: GPI Realm -> NS. 0, E_RMM_BAD_ADDR or E_RMM_BAD_PAS."""

    def dram_regions(self) -> Sequence[tuple[int, int]]:
        """(base, size) of each delegable DRAM bank (the boot manifest's NS DRAM list); the
        RMM tracks every 4 KB granule in them."""

    def ich_lrs(self) -> Sequence[int]:
        """The calling CPU's ICH_LR<n>_EL2 values (n = 0..ICH_VTR_EL2.ListRegs), which the host
        programmed before REC_ENTER (digest 9.2)."""

    def tlbi_ipa(self, vmid: int, ipa: int, size: int) -> None:
        """Invalidate cached stage 2 (and combined stage 1+2) translations of VMID `vmid` for
        IPAs [ipa, ipa + size): a stage 2 descriptor in that range changed."""

    def enter_rec(self, rec, run_pa: int) -> Mapping | None:
        """Run `rec` (see the module docstring); the RmiRecExit fields, or None when the exit
        will be delivered later through engine.complete_rec_enter()."""
