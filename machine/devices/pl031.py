"""Arm PrimeCell real-time clock (PL031, DDI 0224), counting seconds of virtual time from a
fixed epoch so that runs are deterministic."""

from .base import Device
from .primecell import id_registers

RTCDR, RTCMR, RTCLR, RTCCR, RTCIMSC, RTCRIS, RTCMIS, RTCICR = range(0, 0x20, 4)
IDS = id_registers(0x0004_1031)
NS_PER_S = 1_000_000_000


class Pl031(Device):
    name = "pl031"

    def __init__(self, irq=None, epoch=0):
        super().__init__()
        self.irq = irq
        self.epoch = epoch
        self.reset()

    def reset(self):
        self.offset = 0          # RTCDR = seconds of virtual time + offset (set by RTCLR)
        self.match = 0
        self.imsc = 0
        self.ris = 0
        self._update()

    def _seconds(self):
        now = self.clock.now() if self.clock is not None else 0
        return (self.epoch + now // NS_PER_S + self.offset) & 0xFFFF_FFFF

    def read(self, offset, size):
        if offset == RTCDR:
            return self._seconds()
        if offset == RTCMR:
            return self.match
        if offset == RTCLR:
            return self._seconds()
        if offset == RTCCR:
            return 1                 # always started
        if offset == RTCIMSC:
            return self.imsc
        if offset == RTCRIS:
            return self.ris
        if offset == RTCMIS:
            return self.ris & self.imsc
        return IDS.get(offset, 0)

    def write(self, offset, size, value):
        value &= 0xFFFF_FFFF
        if offset == RTCLR:
            self.offset += value - self._seconds()
        elif offset == RTCMR:
            self.match = value
        elif offset == RTCIMSC:
            self.imsc = value & 1
        elif offset == RTCICR:
            self.ris &= ~value & 1
        self._update()

    def next_event(self):
        if not self.imsc or self.clock is None:
            return None
        delta = (self.match - self._seconds()) & 0xFFFF_FFFF
        return self.clock.now() + delta * NS_PER_S if delta else None

    def tick(self, now):
        if self._seconds() == self.match:
            self.ris = 1
        self._update()

    def _update(self):
        if self.irq is not None:
            self.irq.set(self.ris & self.imsc)
