"""The memory-mapped system counter and timer control frames of the Arm Generic Timer (Arm ARM
I5: "System level implementation of the Generic Timer"), over the machine's VirtualClock:

- CNTControlBase (counter control, FVP 0x2A43_0000): CNTCR (EN, HDBG), CNTSR, CNTCV
  (64-bit, writable), CNTFID0 = 100 MHz and the CNTFID1 = 0 end marker;
- CNTReadBase (FVP 0x2A80_0000): CNTCV, read-only;
- CNTCTLBase (FVP 0x2A81_0000): CNTFRQ, CNTNSAR, CNTTIDR, CNTACR<n>, CNTVOFF<n>. No
  memory-mapped timer frame (CNTBaseN) is modelled, so CNTTIDR reads 0 and the per-frame
  CNTACR<n>/CNTVOFF<n> are RAZ/WI.

Every frame ends with the CounterID0-11 registers (0xFD0-0xFFC, I5.7), laid out as CoreSight
peripheral/component IDs (PIDR4-7, PIDR0-3, CIDR0-3): JEP106 Arm, component class 0xF;
the part numbers are IMPLEMENTATION DEFINED and made up here.

`clock` is the VirtualClock; the machine sets it after construction (Device.clock).
Accesses are 32-bit, and 64-bit to CNTCV; other sizes and reserved offsets are RAZ/WI.
"""

from machine.board.clock import FREQUENCY

from .base import Device

CNTCR, CNTSR, CNTCV, CNTID, CNTFID0, CNTFID1 = 0x000, 0x004, 0x008, 0x01C, 0x020, 0x024
CNTCR_EN, CNTCR_HDBG = 1 << 0, 1 << 1
CNTFRQ, CNTNSAR, CNTTIDR = 0x000, 0x004, 0x008
ID_BASE = 0xFD0


def counter_ids(part):
    pidr = [0x04, 0, 0, 0, part & 0xFF, 0xB0 | (part >> 8), 0x0B, 0]
    return dict(zip(range(ID_BASE, 0x1000, 4), pidr + [0x0D, 0xF0, 0x05, 0xB1], strict=True))


class _Frame(Device):
    size = 0x1_0000
    ids = {}

    def __init__(self, clock=None):
        super().__init__()
        self.clock = clock
        self.reset()

    def read_id(self, offset, size):
        return self.ids.get(offset, 0) if size == 4 else 0

    def read_count(self, offset, size, base):
        """CNTCV at `base` (64-bit, or its 32-bit halves)."""
        value = self.clock.counter()
        if offset == base and size in (4, 8):
            return value & ((1 << (8 * size)) - 1)
        if offset == base + 4 and size == 4:
            return value >> 32
        return None


class CounterControl(_Frame):
    """CNTControlBase."""

    name = "cnt-control"
    ids = counter_ids(0x101)

    def reset(self):
        self.hdbg = 0
        if self.clock is not None:
            self.clock.enable(True)

    def read(self, offset, size):
        value = self.read_count(offset, size, CNTCV)
        if value is not None:
            return value
        if size != 4:
            return 0
        if offset == CNTCR:
            return (CNTCR_EN if self.clock.enabled else 0) | self.hdbg
        if offset == CNTFID0:
            return FREQUENCY
        if offset in (CNTSR, CNTID, CNTFID1):
            return 0             # not halted, FCACK = entry 0; no scaling; end of the table
        return self.read_id(offset, size)

    def write(self, offset, size, value):
        clock = self.clock
        if offset == CNTCR and size == 4:
            self.hdbg = value & CNTCR_HDBG
            clock.enable(value & CNTCR_EN)
        elif offset == CNTCV and size == 8:
            clock.set_counter(value)
        elif offset in (CNTCV, CNTCV + 4) and size == 4:
            shift = 8 * (offset - CNTCV)
            current = clock.counter()
            clock.set_counter((current & ~(0xFFFF_FFFF << shift)) |
                              ((value & 0xFFFF_FFFF) << shift))


class CounterRead(_Frame):
    """CNTReadBase: the count, read-only."""

    name = "cnt-read"
    ids = counter_ids(0x102)

    def read(self, offset, size):
        value = self.read_count(offset, size, 0)
        return value if value is not None else self.read_id(offset, size)

    def write(self, offset, size, value):
        pass


class TimerControl(_Frame):
    """CNTCTLBase: the memory-mapped timers' control frame (no timer frames implemented)."""

    name = "cnt-ctl"
    ids = counter_ids(0x103)

    def reset(self):
        self.cntfrq = FREQUENCY
        self.cntnsar = 0

    def read(self, offset, size):
        if size != 4:
            return 0
        if offset == CNTFRQ:
            return self.cntfrq
        if offset == CNTNSAR:
            return self.cntnsar
        return self.read_id(offset, size)     # CNTTIDR = 0, CNTACR/CNTVOFF RAZ

    def write(self, offset, size, value):
        if size != 4:
            return
        if offset == CNTFRQ:
            self.cntfrq = value & 0xFFFF_FFFF
        elif offset == CNTNSAR:
            self.cntnsar = value & 0xFF       # NS bits of the 8 possible frames
