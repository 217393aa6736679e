"""What every device model implements, and how devices raise interrupts and see time.

A device is mapped at a physical address by the machine definition (machine/board/) and
receives accesses by byte offset within its region. Device registers that the TRM defines
answer as the TRM says; offsets it leaves reserved read as zero and ignore writes
(RAZ/WI) unless the TRM says they abort, in which case the device raises DeviceError and the
CPU takes a synchronous external abort. Devices never see a Python exception from a guest
access: bad offsets and sizes are handled inside the model.
"""

from abc import ABC, abstractmethod

from machine.memory.bus import BusError


class DeviceError(BusError):
    """The device refuses the access: the CPU takes a synchronous external abort."""


class Device(ABC):
    """Base class: subclasses implement read/write and, when they keep time, next_event/tick.

    `clock` is the machine's VirtualClock (set by the machine when the device is attached).
    """

    name = "device"
    size = 0x1000

    def __init__(self):
        self.clock = None

    @abstractmethod
    def read(self, offset, size):
        """The value of the `size`-byte register at `offset`."""

    @abstractmethod
    def write(self, offset, size, value):
        """Write the `size`-byte register at `offset`."""

    def reset(self):  # noqa: B027 - optional: a device without state keeps this
        """Put the device in its power-on state."""

    def next_event(self):
        """Virtual time (ns) of this device's next timed event, or None."""
        return None

    def tick(self, now):  # noqa: B027 - optional: only timed devices override it
        """Advance the device's timed behaviour to virtual time `now` (ns)."""


class InterruptLine:
    """One interrupt input of an interrupt controller: `set(level)` drives it.

    A level-sensitive line stays asserted while the device holds it high; an edge-triggered
    one is latched by the controller on the rising edge. The controller decides from its own
    configuration (GICD_ICFGR) which applies.
    """

    __slots__ = ("controller", "intid", "cpu", "level")

    def __init__(self, controller, intid, cpu=None):
        self.controller, self.intid, self.cpu = controller, intid, cpu
        self.level = False

    def set(self, level):
        level = bool(level)
        if level != self.level:
            self.level = level
            self.controller.set_input(self.intid, level, self.cpu)

    def pulse(self):
        self.set(True)
        self.set(False)


class NullController:
    """An interrupt controller that drops every signal (for devices used without a GIC)."""

    def set_input(self, intid, level, cpu=None):
        pass
