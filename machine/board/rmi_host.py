"""A Python host for tests and scripts: RMI called through the real path, an SMC executed by
a CPU of the machine at Non-secure EL2, taken to the EL3 model and routed to the RMM.

    machine = Machine(registry.lookup("fvp-base-revc"))
    host = RmiHost(machine)
    result = host.rmi.version(0x20000)          # RmiCall(status, index, outputs, regs)
    result = host.rmi.realm_create(rd, params_pa)

Every RMI command of machine.rmm.abi.COMMANDS is a method named after it in lower case, with
the command's argument registers as parameters and its outputs by name in the result.
"""

from typing import NamedTuple

from machine.rmm.abi import COMMANDS, RmiResult, Status

SMC_0 = 0xD4000003               # SMC #0
B_SELF = 0x14000000              # B .
MAX_INSNS = 50_000_000           # per call: a REC_ENTER runs the realm until it exits


class RmiCall(NamedTuple):
    status: Status | int
    index: int
    outputs: dict
    regs: list                   # x0..x7 after the SMC

    @property
    def ok(self):
        return self.status == Status.SUCCESS


class HostError(Exception):
    """The call did not come back to the host (the machine stopped or the CPU is stuck)."""


class RmiHost:
    """Runs SMCs on CPU `cpu` at Non-secure EL2 from a code page at `scratch` (Non-secure
    DRAM the host owns; by default the last page of the first NS DRAM bank)."""

    def __init__(self, machine, cpu=0, scratch=None):
        self.machine = machine
        self.core = machine.cores[cpu]
        base, size = machine.ns_memory[0]
        self.scratch = scratch if scratch is not None else base + size - 0x1000
        machine.bus.write_bytes(self.scratch, SMC_0.to_bytes(4, "little")
                                + B_SELF.to_bytes(4, "little"))
        if not self.core.powered:
            machine.cpu_on(self.core, self.scratch + 4, 0)
        self.rmi = _Commands(self)

    def smc(self, *regs):
        """Execute SMC #0 with x0.. = `regs`; returns x0..x17 afterwards."""
        core, s = self.core, self.core.s
        s.x[0:len(regs)] = [r & 0xFFFF_FFFF_FFFF_FFFF for r in regs]
        s.pc = self.scratch
        s.halted = False
        back = self.scratch + 4
        core.breakpoints.add(back)
        try:
            event = self.machine.step(MAX_INSNS)
            while event is not None and getattr(event, "core", None) is not core:
                event = self.machine.step(MAX_INSNS)
        finally:
            core.breakpoints.discard(back)
        if event is None or s.pc != back:
            reason = getattr(event, "reason", "the instruction budget ran out")
            raise HostError(f"the SMC did not return to the host: {reason}")
        return list(s.x[:18])


class _Commands:
    def __init__(self, host):
        for fid, command in COMMANDS.items():
            setattr(self, fid.name.lower(), _method(host, fid, command))


def _method(host, fid, command):
    def call(*args):
        if len(args) != len(command.args):
            raise TypeError(f"{fid.name.lower()} takes {len(command.args)} arguments "
                            f"({', '.join(command.args)}), {len(args)} given")
        regs = host.smc(int(fid), *args)
        x0 = regs[0]
        status = RmiResult.get(x0, "status")
        try:
            status = Status(status)
        except ValueError:
            pass
        outputs = {name: regs[1 + i] for i, name in enumerate(command.outs)}
        return RmiCall(status, RmiResult.get(x0, "index"), outputs, regs[:8])
    call.__name__ = fid.name.lower()
    call.__doc__ = f"RMI_{fid.name}({', '.join(command.args)}) -> {', '.join(command.outs)}"
    return call
