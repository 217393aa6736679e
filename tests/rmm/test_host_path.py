"""RMI through the real path on the FVP machine: an SMC executed by CPU 0 at Non-secure EL2
(machine.board.rmi_host), taken to the EL3 model, routed to the RMM engine; delegation flips
the GPI in the firmware's in-memory GPT, so the CPU's own granule protection check then
refuses the host access to the granule (EC 0x25 data abort, FSC 0x28), and undelegation
gives it back, scrubbed."""

import struct

import pytest

from machine.board import registry
from machine.board.machine import Machine
from machine.board.rmi_host import RmiHost
from machine.cpu.gpc import GPI_NONSECURE, GPI_REALM
from machine.rmm.abi import Status

LDR_X1_X2 = 0xF9400041           # LDR X1, [X2]
B_SELF = 0x14000000


@pytest.fixture
def host():
    machine = Machine(registry.lookup("fvp-base-revc"))
    return RmiHost(machine)


def test_version_and_features_through_an_smc(host):
    result = host.rmi.version(0x20000)                   # request RMI 2.0
    assert result.ok and result.outputs == {"lower": 0x20000, "higher": 0x20000}
    assert host.rmi.features(0).ok


def test_commands_before_activation_fail_with_error_global(host):
    base = host.machine.ns_memory[0][0] + 0x100_0000
    result = host.rmi.granule_range_delegate(base, base + 0x1000)
    assert result.status == Status.ERROR_GLOBAL


def host_load(host, address):
    """The host reads `address` with LDR: the result (x1) or the exception it took."""
    machine, core = host.machine, host.core
    code = host.scratch - 0x1000
    machine.bus.write_bytes(code, struct.pack("<II", LDR_X1_X2, B_SELF))
    core.stop_on_exception = True
    core.s.x[2] = address
    core.s.pc = code
    stop = core.run(1)
    core.stop_on_exception = False
    return stop


def test_delegated_granule_is_protected_from_the_host_and_scrubbed_on_return(host):
    machine = host.machine
    assert host.rmi.version(0x20000).ok and host.rmi.rmm_activate().ok
    granule = machine.ns_memory[0][0] + 0x100_0000
    machine.bus.write_bytes(granule, b"secret!!")
    assert host_load(host, granule).reason == "count"
    assert host.core.s.x[1] == int.from_bytes(b"secret!!", "little")
    result = host.rmi.granule_range_delegate(granule, granule + 0x1000)
    assert result.ok and result.outputs["out_top"] == granule + 0x1000
    assert machine.gpt.gpi(granule) == GPI_REALM
    stop = host_load(host, granule)
    assert stop.reason == "exception" and stop.exception.ec == 0x25      # same EL (EL2)
    assert stop.exception.iss & 0x3F == 0x28                               # GPF, not a walk
    host.core.s.select_sp(2, 1)                     # back from the host's EL2 vector
    result = host.rmi.granule_range_undelegate(granule, granule + 0x1000)
    assert result.ok and machine.gpt.gpi(granule) == GPI_NONSECURE
    assert host_load(host, granule).reason == "count" and host.core.s.x[1] == 0   # scrubbed
