"""How each device model of a machine definition is instantiated and wired: model name ->
callable(machine, region) returning the Device to map at region.base."""

from machine.devices.pl011 import Pl011
from machine.devices.pl031 import Pl031
from machine.devices.sp805 import Sp805
from machine.devices.system_counter import CounterControl, CounterRead, TimerControl
from machine.devices.v2m_sysregs import V2mSysRegs


def _spi(machine, region):
    return machine.spi_line(region.spi) if region.spi is not None else None


def make_pl011(machine, region):
    console = machine.console(region.name)
    return Pl011(output=console.write, irq=_spi(machine, region))


def make_v2m_sysregs(machine, region):
    return V2mSysRegs(power=machine.system)


def make_pl031(machine, region):
    return Pl031(irq=_spi(machine, region))


def make_sp805(machine, region):
    return Sp805(irq=_spi(machine, region), reset_request=lambda: machine.system("reset"))


FACTORIES = {
    "pl011": make_pl011,
    "v2m-sysregs": make_v2m_sysregs,
    "pl031": make_pl031,
    "sp805": make_sp805,
    "gicd": lambda machine, region: machine.gic.distributor,
    "gicr": lambda machine, region: machine.gic.redistributor_region(region.size),
    "cnt-control": lambda machine, region: CounterControl(),
    "cnt-read": lambda machine, region: CounterRead(),
    "cnt-ctl": lambda machine, region: TimerControl(),
}
