"""Deterministic virtual time, and the system counter that the generic timers count.

Virtual time is in nanoseconds and only moves when the scheduler calls `advance` between
slices: each retired instruction is worth 2**shift ns (`insns_to_ns`), so a CPU that runs a
slice of N instructions moves time by N << shift after the slice. Everything a CPU reads
during a slice (CNTPCT_EL0, CNTVCT_EL0, the memory-mapped CNTCV, timer ISTATUS) sees the
time at the start of that slice: a loop polling the counter spins until the slice ends.

The system counter is the Arm Generic Timer's CNTCV: 100 MHz (CNTFID0), one tick every
10 ns. It counts while CNTCR.EN is set, which firmware sets at boot, so it starts enabled;
disabling it freezes the value, and CNTCV can be written (machine/devices/system_counter.py
is the memory-mapped interface).
"""

FREQUENCY = 100_000_000                 # Hz, CNTFID0
TICK_NS = 1_000_000_000 // FREQUENCY    # ns per counter tick
COUNT_MASK = (1 << 64) - 1


class VirtualClock:
    def __init__(self, shift=2):
        self.shift = shift
        self._now = 0
        # The counter is base_count at base_ns and counts from there while enabled.
        self._base_ns = 0
        self._base_count = 0
        self.enabled = True

    # --- time --------------------------------------------------------------------------------

    def now(self):
        """Virtual time in ns."""
        return self._now

    def advance(self, ns):
        """Move time forward by `ns` (the scheduler, between slices)."""
        if ns < 0:
            raise ValueError("virtual time cannot go backwards")
        self._now += ns

    def insns_to_ns(self, insns):
        return insns << self.shift

    def ns_to_insns(self, ns):
        """Instructions to retire to cover `ns` (rounded up)."""
        return -(-ns >> self.shift)

    # --- the system counter --------------------------------------------------------------------

    @staticmethod
    def ns_to_ticks(ns):
        return ns // TICK_NS

    @staticmethod
    def ticks_to_ns(ticks):
        return ticks * TICK_NS

    def counter(self):
        """The system counter value (CNTCV) now."""
        if not self.enabled:
            return self._base_count
        return (self._base_count + (self._now - self._base_ns) // TICK_NS) & COUNT_MASK

    def set_counter(self, value):
        """Write CNTCV."""
        self._base_count = value & COUNT_MASK
        self._base_ns = self._now

    def enable(self, on):
        """CNTCR.EN: start or stop the counter, keeping its value."""
        on = bool(on)
        if on != self.enabled:
            self.set_counter(self.counter())
            self.enabled = on

    def time_of_count(self, count):
        """The earliest virtual time (ns, not before now) at which the counter reads at least
        `count`; None if that never happens (counter disabled and below it)."""
        current = self.counter()
        if current >= count:
            return self._now
        if not self.enabled:
            return None
        # counter() >= count once (t - base_ns) // TICK_NS >= count - base_count
        return self._base_ns + (count - self._base_count) * TICK_NS
