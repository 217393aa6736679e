"""Granules: the RMM's per-4 KB state and reference count (TF-RMM `lib/granule`), the
Non-secure buffer accessors every command uses for host-provided pages, and the delegation
commands (TF-RMM `runtime/rmi/granule.c`; digest 4.9, 5.7, 5.8).

Only granules inside the platform's DRAM banks are tracked. Untracked addresses, addresses
that are not 4 KB aligned and granules in another state all fail a lookup the same way.
"""

from enum import IntEnum

from machine.cpu.gpc import PAS_NONSECURE, PAS_REALM

from .abi import GRANULE_SIZE, Status
from .platform import GTSI_SUCCESS, PlatformFault

ZERO_GRANULE = bytes(GRANULE_SIZE)


class GranuleState(IntEnum):          # TF-RMM lib/granule/include/granule_types.h
    NS = 0
    DELEGATED = 1
    RD = 2
    REC = 3
    REC_AUX = 4
    DATA = 5
    RTT = 6
    PDEV = 7
    PDEV_AUX = 8
    VDEV = 9
    VDEV_AUX = 10
    PARTIAL = 11
    INTERNAL = 12
    PSMMU_ST_L2 = 13


class Granule:
    """A tracked granule that is not NS. `owner` is the RD address of the realm that owns an
    RTT/DATA/REC granule, or the REC address owning a REC_AUX granule."""

    __slots__ = ("pa", "state", "refcount", "owner")

    def __init__(self, pa, state, owner=None):
        self.pa, self.state, self.refcount, self.owner = pa, state, 0, owner

    def __repr__(self):
        return f"Granule({self.pa:#x}, {self.state.name}, ref={self.refcount})"


class GranuleTable:
    """Every granule of the DRAM banks; NS granules are not stored."""

    def __init__(self, regions):
        self.regions = sorted((base, base + size) for base, size in regions)
        self._granules = {}

    def tracked(self, pa):
        if pa % GRANULE_SIZE:
            return False
        return any(base <= pa < top for base, top in self.regions)

    def state(self, pa):
        """The state of the granule at `pa`, or None if `pa` is not a tracked granule."""
        if not self.tracked(pa):
            return None
        g = self._granules.get(pa)
        return GranuleState.NS if g is None else g.state

    def find(self, pa, state):
        """The Granule at `pa` if it is tracked and in `state` (TF-RMM find_lock_granule)."""
        g = self._granules.get(pa)
        if g is not None:
            return g if g.state == state else None
        if state == GranuleState.NS and self.tracked(pa):
            return Granule(pa, GranuleState.NS)
        return None

    def find_pair(self, pa1, state1, pa2, state2):
        """Both granules or None; the same address twice fails (TF-RMM
        find_lock_two_granules)."""
        if pa1 == pa2:
            return None
        g1, g2 = self.find(pa1, state1), self.find(pa2, state2)
        if g1 is None or g2 is None:
            return None
        return g1, g2

    def is_ns(self, pa):
        return self.state(pa) == GranuleState.NS

    def transition(self, pa, state, owner=None):
        """Move the granule at `pa` to `state` (refcount 0); returns its Granule."""
        if state == GranuleState.NS:
            self._granules.pop(pa, None)
            return None
        g = self._granules.get(pa)
        if g is None:
            g = self._granules[pa] = Granule(pa, state, owner)
        g.state, g.owner, g.refcount = state, owner, 0
        return g

    def get(self, pa):
        """The stored Granule at `pa` (None when NS or untracked)."""
        return self._granules.get(pa)

    def items(self):
        return self._granules.values()


# --- Non-secure buffers --------------------------------------------------------------------------

def ns_granule_ok(rmm, pa):
    """The granule holding `pa` is tracked and NS, as TF-RMM checks before an NS access."""
    return rmm.granules.is_ns(pa - pa % GRANULE_SIZE)


def ns_read(rmm, pa, size):
    """`size` bytes of host memory at `pa` (within one granule), or None if the granule is not
    a tracked NS granule or the access faults (TF-RMM ns_buffer_read)."""
    if not ns_granule_ok(rmm, pa):
        return None
    try:
        return bytes(rmm.platform.read(pa, size, PAS_NONSECURE))
    except PlatformFault:
        return None


def ns_write(rmm, pa, data):
    if not ns_granule_ok(rmm, pa):
        return False
    try:
        rmm.platform.write(pa, bytes(data), PAS_NONSECURE)
    except PlatformFault:
        return False
    return True


def read_ns_struct(rmm, pa, struct, name=None):
    """Parse `struct` from the 4 KB aligned NS page at `pa` (None on any failure); the decoded
    value is handed to the tracer under `name`."""
    if pa % GRANULE_SIZE:
        return None
    data = ns_read(rmm, pa, struct.sizeof())
    if data is None:
        return None
    value = struct.parse(data)
    if name:
        rmm.note(name, value)
    return value


def write_ns_struct(rmm, pa, struct, value):
    if pa % GRANULE_SIZE:
        return False
    return ns_write(rmm, pa, struct.build(value))


# --- Realm memory --------------------------------------------------------------------------------

def write_realm(rmm, pa, data):
    rmm.platform.write(pa, bytes(data), PAS_REALM)


def scrub(rmm, pa):
    """Zero a granule the RMM owns, through the Realm PAS."""
    write_realm(rmm, pa, ZERO_GRANULE)


def free_granule(rmm, pa):
    """An object granule goes back to DELEGATED: scrubbed, so that an unlocked DELEGATED granule
    only ever holds zeroes (digest 4.9)."""
    scrub(rmm, pa)
    rmm.granules.transition(pa, GranuleState.DELEGATED)


# --- RMI_GRANULE_RANGE_DELEGATE / UNDELEGATE (digest 5.7, 5.8) -----------------------------------

def _range_args_ok(base, top):
    return not base % GRANULE_SIZE and not top % GRANULE_SIZE and top >= base + GRANULE_SIZE


def granule_range_delegate(rmm, base, top):
    # TF-RMM does one granule per call; X1 is preset to base for every error.
    if not _range_args_ok(base, top):
        return Status.ERROR_INPUT, base
    if rmm.granules.state(base) != GranuleState.NS:
        return Status.ERROR_INPUT, base
    if rmm.platform.delegate(base) != GTSI_SUCCESS:
        return Status.ERROR_INPUT, base
    rmm.granules.transition(base, GranuleState.DELEGATED)
    return Status.SUCCESS, base + GRANULE_SIZE


def granule_range_undelegate(rmm, base, top):
    if not _range_args_ok(base, top):
        return Status.ERROR_INPUT, base
    if rmm.granules.state(base) != GranuleState.DELEGATED:
        return Status.ERROR_INPUT, base
    scrub(rmm, base)                      # before the granule leaves the Realm PAS
    if rmm.platform.undelegate(base) != GTSI_SUCCESS:
        return Status.ERROR_INPUT, base
    rmm.granules.transition(base, GranuleState.NS)
    return Status.SUCCESS, base + GRANULE_SIZE


HANDLERS = {
    "GRANULE_RANGE_DELEGATE": granule_range_delegate,
    "GRANULE_RANGE_UNDELEGATE": granule_range_undelegate,
}
