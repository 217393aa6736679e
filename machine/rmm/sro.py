"""Stateful RMI Operations: the SRO context pool and the control commands RMI_OP_CONTINUE /
OP_MEM_DONATE / OP_MEM_RECLAIM / OP_CANCEL (TF-RMM `runtime/rmi/sro.c`,
`lib/sro_context`; digest 6).

A command that may not finish in one call reserves a context first; if it returns
RMI_INCOMPLETE the context is sealed with the operation object (an `SroOp`) that continues it,
and remembers which OP_* command it expects next (from the INCOMPLETE's RmiOpMemReq).
"""

from abc import ABC, abstractmethod
from enum import IntEnum

from .abi import (
    DESC_MAX_CNT,
    GRANULE_SIZE,
    Fid,
    MemReq,
    RmiOpMemDonateReq,
    RmiResultIncomplete,
    Status,
    desc_fields,
    incomplete,
    status_of,
)
from .addr_list import OutputList, block_size, clip_count, read_list, write_list
from .granule import free_granule

EXPECTS = {MemReq.NONE: Fid.OP_CONTINUE, MemReq.DONATE: Fid.OP_MEM_DONATE,
           MemReq.RECLAIM: Fid.OP_MEM_RECLAIM}


class SroState(IntEnum):
    FREE = 0
    RESERVED = 1      # in use by a CPU inside an RMI call
    SEALED = 2        # parked, waiting for the host


class SroContext:
    __slots__ = ("handle", "state", "op", "expects")

    def __init__(self, handle):
        self.handle, self.state, self.op, self.expects = handle, SroState.FREE, None, None


class SroOp(ABC):
    """An operation in flight. Every operation continues (OP_CONTINUE); one that answers
    INCOMPLETE with a donation or reclaim request also implements the matching calls, which
    the dispatcher makes only after such a request (ctx.expects)."""
    fid = None

    @abstractmethod
    def resume(self, rmm, ctx):               # RMI_OP_CONTINUE
        """Continue the operation: the command's result registers."""

    def donate_request(self):
        """The pending RmiOpMemDonateReq word."""
        raise TypeError(f"{type(self).__name__} never requests a donation")

    def donate(self, rmm, granules):           # RMI_OP_MEM_DONATE, list validated
        raise TypeError(f"{type(self).__name__} never requests a donation")

    def reclaim(self, rmm, list_pa, capacity):  # RMI_OP_MEM_RECLAIM
        raise TypeError(f"{type(self).__name__} never requests a reclaim")


class SroPool:
    def __init__(self, size):
        self.contexts = [SroContext(h) for h in range(size)]

    def reserve(self, rmm):
        """(context, SUCCESS) or (None, BUSY / BLOCKED) (digest 6.1)."""
        if rmm.inject.busy():
            return None, Status.BUSY
        for ctx in self.contexts:
            if ctx.state == SroState.FREE:
                ctx.state, ctx.op, ctx.expects = SroState.RESERVED, None, None
                return ctx, Status.SUCCESS
        if all(ctx.state == SroState.SEALED for ctx in self.contexts):
            return None, Status.BLOCKED
        return None, Status.BUSY

    def sealed(self, handle):
        if 0 <= handle < len(self.contexts) and self.contexts[handle].state == SroState.SEALED:
            return self.contexts[handle]
        return None

    @staticmethod
    def seal(ctx, x0):
        ctx.state = SroState.SEALED
        if status_of(x0) == Status.INCOMPLETE:
            ctx.expects = EXPECTS[MemReq(RmiResultIncomplete.get(x0, "mem_req"))]
        else:                                  # BUSY from a continuation: try again later
            ctx.expects = Fid.OP_CONTINUE

    @staticmethod
    def release(ctx):
        ctx.state, ctx.op, ctx.expects = SroState.FREE, None, None

    def in_flight(self):
        return [ctx for ctx in self.contexts if ctx.state != SroState.FREE]


def run_sro(rmm, body):
    """Run an SRO-capable command: reserve a context, run `body(ctx)` and keep the context
    sealed if the body says INCOMPLETE (it has set ctx.op), else release it."""
    ctx, status = rmm.sro.reserve(rmm)
    if ctx is None:
        return (status,)
    out = body(ctx)
    if status_of(out[0]) == Status.INCOMPLETE:
        rmm.sro.seal(ctx, out[0])
    else:
        rmm.sro.release(ctx)
    return out


def _settle(rmm, ctx, out, release_terminal):
    """After an OP_* call ran the operation: INCOMPLETE or BUSY re-seal the context; another
    status releases it (OP_CONTINUE) or leaves it sealed as it was (DONATE/RECLAIM never
    release, digest 6.1)."""
    if status_of(out[0]) in (Status.INCOMPLETE, Status.BUSY):
        rmm.sro.seal(ctx, out[0])
    elif release_terminal:
        rmm.sro.release(ctx)
    else:
        ctx.state = SroState.SEALED
    return out


# --- RMI_OP_CONTINUE (digest 6.2) ----------------------------------------------------------------

def op_continue(rmm, handle, flags):
    ctx = rmm.sro.sealed(handle)
    if ctx is None:
        return (Status.ERROR_INPUT,)
    if ctx.expects != Fid.OP_CONTINUE:
        return (Status.ERROR_INPUT,)
    rmm.note("op", type(ctx.op).__name__)
    ctx.state = SroState.RESERVED
    # RmiContinueFlags.STOP is accepted and ignored, as TF-RMM does.
    return _settle(rmm, ctx, ctx.op.resume(rmm, ctx), release_terminal=True)


# --- RMI_OP_MEM_DONATE (digest 6.2) --------------------------------------------------------------

def _validate_donation(words, request):
    """Total bytes described, or None if a descriptor breaks the rules of step 6."""
    contig = RmiOpMemDonateReq.get(request, "contig")
    state = RmiOpMemDonateReq.get(request, "state")
    total, non_empty = 0, 0
    for w in words:
        base, cnt, sz, st = desc_fields(w)
        if cnt == 0:
            continue
        non_empty += 1
        size = block_size(sz) * cnt
        if base % block_size(sz) or cnt > DESC_MAX_CNT or st != state:
            return None
        if contig and (non_empty > 1 or size & (size - 1) or base % size):
            return None
        total += size
    return total


def requested_bytes(request):
    return (block_size(RmiOpMemDonateReq.get(request, "sz"))
            * RmiOpMemDonateReq.get(request, "cnt"))


def granules_of(words):
    """Every 4 KB granule the non-empty descriptors describe, in list order."""
    for w in words:
        base, cnt, sz, _ = desc_fields(w)
        for offset in range(0, cnt * block_size(sz), GRANULE_SIZE):
            yield base + offset


def op_mem_donate(rmm, handle, list_pa, count):
    ctx = rmm.sro.sealed(handle)
    if ctx is None:
        return (Status.ERROR_INPUT,)
    if ctx.expects != Fid.OP_MEM_DONATE:
        return (Status.ERROR_INPUT,)
    if list_pa % 8:
        return (Status.ERROR_INPUT,)
    words = read_list(rmm, list_pa, clip_count(list_pa, count), "descs")
    if words is None:
        return (Status.ERROR_INPUT,)
    request = ctx.op.donate_request()
    total = _validate_donation(words, request)
    if total is None or total > requested_bytes(request):
        return (Status.ERROR_INPUT,)
    if RmiOpMemDonateReq.get(request, "contig") and total not in (0, requested_bytes(request)):
        return (Status.ERROR_INPUT,)
    ctx.state = SroState.RESERVED
    return _settle(rmm, ctx, ctx.op.donate(rmm, granules_of(words)), release_terminal=False)


# --- RMI_OP_MEM_RECLAIM (digest 6.2) -------------------------------------------------------------

def op_mem_reclaim(rmm, handle, list_pa, capacity):
    capacity = clip_count(list_pa, capacity)
    ctx = rmm.sro.sealed(handle)
    if ctx is None:
        return (Status.ERROR_INPUT,)
    if list_pa % 8:
        return (Status.ERROR_INPUT,)
    if ctx.expects != Fid.OP_MEM_RECLAIM:
        return (Status.ERROR_INPUT,)
    if capacity == 0:
        return incomplete(MemReq.RECLAIM), 0
    ctx.state = SroState.RESERVED
    return _settle(rmm, ctx, ctx.op.reclaim(rmm, list_pa, capacity), release_terminal=False)


# --- RMI_OP_CANCEL (digest 6.2) ------------------------------------------------------------------

def op_cancel(rmm, handle):
    ctx = rmm.sro.sealed(handle)
    if ctx is None:
        return (Status.ERROR_INPUT,)
    return (Status.ERROR_INPUT,)               # no TF-RMM SRO can be cancelled


# --- returning donated granules ------------------------------------------------------------------

class GranuleReclaim:
    """Hands a list of granules back to the host in batches of descriptors (digest 6.2
    OP_MEM_RECLAIM steps 6-8); used by the REC SROs for their auxiliary granules. Each granule
    is scrubbed and becomes DELEGATED when its batch is formed."""

    def __init__(self, granules):
        self.pending = list(granules)
        self.queued = []                       # descriptor words not yet copied to the host

    def done(self):
        return not self.pending and not self.queued

    def reclaim(self, rmm, list_pa, capacity):
        if not self.queued:
            batch = self.pending[:rmm.inject.cut(capacity)]
            del self.pending[:len(batch)]
            out = OutputList(capacity)
            for pa in batch:
                free_granule(rmm, pa)
                out.add(pa, 0, 0)
            self.queued = out.words()
        copy = self.queued[:capacity]
        if not write_list(rmm, list_pa, copy):
            return Status.ERROR_INPUT, 0      # the batch stays queued for the next call
        del self.queued[:len(copy)]
        return (incomplete(MemReq.RECLAIM if not self.done() else MemReq.NONE), len(copy))


HANDLERS = {
    "OP_CONTINUE": op_continue,
    "OP_MEM_DONATE": op_mem_donate,
    "OP_MEM_RECLAIM": op_mem_reclaim,
    "OP_CANCEL": op_cancel,
}
