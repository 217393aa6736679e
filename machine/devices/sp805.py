"""Arm watchdog module (SP805, DDI 0270): a 32-bit down-counter on a 32.768 kHz clock that
interrupts at zero and, if the interrupt is still pending at the next zero, requests a reset."""

from .base import Device
from .primecell import id_registers

WDOG_LOAD, WDOG_VALUE, WDOG_CONTROL, WDOG_INTCLR, WDOG_RIS, WDOG_MIS = range(0, 0x18, 4)
WDOG_LOCK = 0xC00
UNLOCK_KEY = 0x1ACC_E551
CONTROL_INTEN, CONTROL_RESEN = 1, 2
CLOCK_HZ = 32_768
IDS = id_registers(0x0014_1805)


class Sp805(Device):
    name = "sp805"

    def __init__(self, irq=None, reset_request=None):
        super().__init__()
        self.irq = irq
        self.reset_request = reset_request or (lambda: None)
        self.reset()

    def reset(self):
        self.load = 0xFFFF_FFFF
        self.control = 0
        self.ris = 0
        self.locked = False
        self.start_ns = 0            # time the counter was last loaded
        self._update()

    def _now(self):
        return self.clock.now() if self.clock is not None else 0

    def _elapsed_ticks(self):
        return (self._now() - self.start_ns) * CLOCK_HZ // 1_000_000_000

    def read(self, offset, size):
        if offset == WDOG_LOAD:
            return self.load
        if offset == WDOG_VALUE:
            if not self.control & CONTROL_INTEN:
                return self.load
            return self.load - self._elapsed_ticks() % (self.load + 1)
        if offset == WDOG_CONTROL:
            return self.control
        if offset == WDOG_RIS:
            return self.ris
        if offset == WDOG_MIS:
            return self.ris & self.control & CONTROL_INTEN
        if offset == WDOG_LOCK:
            return int(self.locked)
        return IDS.get(offset, 0)

    def write(self, offset, size, value):
        value &= 0xFFFF_FFFF
        if offset == WDOG_LOCK:
            self.locked = value != UNLOCK_KEY
            return
        if self.locked:
            return
        if offset == WDOG_LOAD:
            self.load = value
            self.start_ns = self._now()
        elif offset == WDOG_CONTROL:
            if value & CONTROL_INTEN and not self.control & CONTROL_INTEN:
                self.start_ns = self._now()
            self.control = value & 3
        elif offset == WDOG_INTCLR:
            self.ris = 0
            self.start_ns = self._now()
        self._update()

    def next_event(self):
        if not self.control & CONTROL_INTEN:
            return None
        period = (self.load + 1) * 1_000_000_000 // CLOCK_HZ
        return self.start_ns + period

    def tick(self, now):
        deadline = self.next_event()
        if deadline is None or now < deadline:
            return
        if self.ris and self.control & CONTROL_RESEN:
            self.reset_request()
        self.ris = 1
        self.start_ns = deadline
        self._update()

    def _update(self):
        if self.irq is not None:
            self.irq.set(self.ris and self.control & CONTROL_INTEN)
