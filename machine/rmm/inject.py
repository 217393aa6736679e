"""Fault injection: deterministic (seeded) answers that a real RMM may give and a robust host
must handle.

`busy` is the probability that reserving an SRO context finds none free while some are in use
on other CPUs (RMI_BUSY, digest 6.1). `incomplete` is the probability, at each point where
TF-RMM may stop early, that it does: a physical IRQ pending between blocks or granules of a
map/unmap (RMM_RTT_MAP_UNMAP_CHECK_ISR_EL1 builds, digest 6.6), a donation that consumes only
part of the granules offered, a reclaim batch smaller than the list, one more
RMI_OP_CONTINUE before a REC SRO completes.
"""

import random


class Injector:
    def __init__(self, busy=0.0, incomplete=0.0, seed=0):
        self.p_busy, self.p_incomplete = busy, incomplete
        self.rng = random.Random(seed)

    def busy(self):
        return self.p_busy > 0 and self.rng.random() < self.p_busy

    def incomplete(self):
        return self.p_incomplete > 0 and self.rng.random() < self.p_incomplete

    def cut(self, n):
        """How many of `n` items to process now: `n`, or fewer (at least 1)."""
        if n > 1 and self.incomplete():
            return self.rng.randint(1, n - 1)
        return n


NO_INJECTION = Injector()
