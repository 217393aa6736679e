"""RECs: what a REC holds, RMI_REC_CREATE and RMI_REC_DESTROY as SROs (auxiliary granules donated
and reclaimed), RMI_REC_ENTER's checks and hand-over, RMI_PSCI_COMPLETE (TF-RMM
`runtime/rmi/rec.c`, `runtime/rmi/run.c`; digest 4.2, 4.3, 4.11, 5.13-5.16, 6.3, 6.4)."""

from enum import IntEnum
from typing import NamedTuple

from . import measurement
from .abi import (
    GRANULE_SIZE,
    PSCI_AFFINITY_INFO_FIDS,
    PSCI_ALREADY_ON,
    PSCI_CPU_ON_FIDS,
    PSCI_DENIED,
    PSCI_OFF,
    PSCI_ON,
    PSCI_SUCCESS,
    REC_ENTER_READ_SIZE,
    REC_EXIT_OFFSET,
    REC_RUN_GPRS,
    IchLr,
    MemReq,
    Ripas,
    RmiRecCreateFlags,
    RmiRecEnter,
    RmiRecEnterFlags,
    RmiRecExit,
    RmiRecMpidr,
    RmiRecParams,
    Status,
    donate_req,
    incomplete,
)
from .granule import GranuleState, free_granule, ns_read, ns_write, read_ns_struct
from .realm import REC_AUX_GRANULES, RealmState
from .sro import GranuleReclaim, SroOp, run_sro

MAX_RECS = (1 << 10) - 1             # FEAT1.MAX_RECS_ORDER = 10
PSTATE_EL1H_DAIF_MASKED = 0x3C5      # SPSR: EL1h, D, A, I, F masked
SCTLR_EL1_RESET = 0xC50878           # TF-RMM SCTLR_EL1_FLAGS (SPAN EIS nTWE nTWI EOS nAA ...)
SCTLR_EE = 1 << 25
MPIDR_EL1_AFF3_SHIFT = 32
ESR_EC_SHIFT, ESR_EC_DABT_LOWER, ESR_ISV = 26, 0x24, 1 << 24


class PendingOp(IntEnum):
    NONE = 0
    PSCI_COMPLETE = 1
    VDEV_REQUEST = 2
    VDEV_COMPLETE = 3


class PsciRequest(NamedTuple):
    """A PSCI call the realm made that the host must complete (CPU_ON / AFFINITY_INFO):
    `target_mpidr` in MPIDR_EL1 format (the realm's X1)."""
    fid: int
    target_mpidr: int
    entry: int = 0
    context_id: int = 0


class RipasRequest:
    """The realm's pending RSI_IPA_STATE_SET: RTT_SET_RIPAS must continue at `addr` and may not
    go beyond `top`. With no request, addr = top = 0 and every RTT_SET_RIPAS fails."""

    def __init__(self, base=0, top=0, ripas=Ripas.EMPTY, change_destroyed=False):
        self.addr, self.top, self.ripas, self.change_destroyed = base, top, ripas, change_destroyed


class LastExit(NamedTuple):
    """What REC_ENTER must know about the previous exit to validate EMUL_MMIO/INJECT_SEA."""
    esr: int
    unprotected: bool = False        # the abort was at an unprotected IPA

    @property
    def data_abort(self):
        return (self.esr >> ESR_EC_SHIFT) & 0x3F == ESR_EC_DABT_LOWER

    @property
    def emulatable(self):
        return self.data_abort and bool(self.esr & ESR_ISV)


def rec_mpidr_to_idx(mpidr):
    """REC index of an RmiRecMpidr: Aff3:Aff2:Aff1:Aff0[3:0] (digest 4.2)."""
    g = RmiRecMpidr.get
    return (g(mpidr, "aff0") | g(mpidr, "aff1") << 4 | g(mpidr, "aff2") << 12
            | g(mpidr, "aff3") << 20)


def mpidr_to_rec_idx(mpidr_el1):
    """REC index of an MPIDR_EL1 value (Aff3 at [39:32]), as the realm passes to PSCI."""
    return ((mpidr_el1 & 0xF) | ((mpidr_el1 >> 8) & 0xFF) << 4 | ((mpidr_el1 >> 16) & 0xFF) << 12
            | ((mpidr_el1 >> MPIDR_EL1_AFF3_SHIFT) & 0xFF) << 20)


def rec_mpidr_to_mpidr(mpidr):
    aff3 = RmiRecMpidr.get(mpidr, "aff3")
    return (mpidr & 0x00FF_FFFF) | aff3 << MPIDR_EL1_AFF3_SHIFT


class Rec:
    """A REC's context and the requests between it and the host.

    gprs[0..30], pc, pstate (SPSR format) and sysregs (EL1 system registers by lower-case name)
    are the saved vCPU context while the REC is not running; `vmpidr` is its VMPIDR_EL2.
    `runnable` comes from RmiRecParams.flags and PSCI CPU_ON/CPU_OFF; `running` is true inside
    REC_ENTER. `pending_op`/`psci_request`, `ripas_request`, `host_call` are what the realm asked
    the host for; `previous_exit` (set by REC_ENTER from `last_exit`) is what this entry
    completes, `enter` the RmiRecEnter the host wrote."""

    def __init__(self, rec_addr, realm, params, aux):
        self.rec = rec_addr
        self.rd = realm.rd
        self.mpidr = params.mpidr
        self.index = rec_mpidr_to_idx(params.mpidr)
        self.vmpidr = rec_mpidr_to_mpidr(params.mpidr) | 1 << 31
        self.gprs = list(params.gprs) + [0] * (REC_RUN_GPRS - len(params.gprs))
        self.pc = params.pc
        self.pstate = PSTATE_EL1H_DAIF_MASKED
        self.sysregs = {"sctlr_el1": SCTLR_EL1_RESET}
        self.runnable = bool(RmiRecCreateFlags.get(params.flags, "runnable"))
        self.running = False
        self.aux = list(aux)
        self.pending_op = PendingOp.NONE
        self.psci_request = None
        self.ripas_request = RipasRequest()
        self.host_call = None
        self.last_exit = None
        self.previous_exit = None
        self.enter = None
        self.run_addr = None

    # --- hooks for the realm side (RSI handling, part 2) -----------------------------------------

    def request_ripas_change(self, base, top, ripas, change_destroyed=False):
        self.ripas_request = RipasRequest(base, top, Ripas(ripas), change_destroyed)

    def request_psci(self, fid, target_mpidr, entry=0, context_id=0):
        self.pending_op = PendingOp.PSCI_COMPLETE
        self.psci_request = PsciRequest(fid, target_mpidr, entry, context_id)

    def reset(self, pc, context_id, caller_sctlr):
        """PSCI CPU_ON of this REC (digest 5.16 step 8)."""
        self.gprs = [0] * REC_RUN_GPRS
        self.gprs[0] = context_id
        self.pc = pc
        self.pstate = PSTATE_EL1H_DAIF_MASKED
        self.sysregs["sctlr_el1"] = SCTLR_EL1_RESET | (caller_sctlr & SCTLR_EE)
        self.runnable = True


# --- RMI_REC_CREATE (digest 5.13, 6.3, 6.4) ------------------------------------------------------

class RecCreate(SroOp):
    """REC_CREATE in flight: 16 auxiliary granules are donated, then OP_CONTINUE validates the RD
    and the parameters; on failure the granules are reclaimed before the error is returned."""

    def __init__(self, rd, rec, params_addr):
        self.rd, self.rec, self.params_addr = rd, rec, params_addr
        self.aux = []
        self.failure = None
        self.reclaimer = None

    def donate_request(self):
        return donate_req(REC_AUX_GRANULES - len(self.aux))

    def donate(self, rmm, granules):
        limit = rmm.inject.cut(REC_AUX_GRANULES - len(self.aux))
        consumed = 0
        for pa in granules:
            if consumed == limit:
                break
            if rmm.granules.find(pa, GranuleState.DELEGATED) is None:
                if consumed == 0:                 # the first granule: abort the creation
                    return self.fail(Status.ERROR_INPUT)
                break                             # a later one: stop consuming
            rmm.granules.transition(pa, GranuleState.REC_AUX, owner=self.rec)
            self.aux.append(pa)
            consumed += 1
        if len(self.aux) < REC_AUX_GRANULES:
            return incomplete(MemReq.DONATE), consumed, self.donate_request()
        return incomplete(MemReq.NONE), consumed, 0

    def fail(self, status):
        self.failure = status
        self.reclaimer = GranuleReclaim(self.aux)
        return incomplete(MemReq.RECLAIM), 0, 0

    def reclaim(self, rmm, list_pa, capacity):
        return self.reclaimer.reclaim(rmm, list_pa, capacity)

    def resume(self, rmm, ctx):
        if rmm.inject.incomplete():
            return incomplete(MemReq.NONE), 0, 0
        if self.failure is not None:
            free_granule(rmm, self.rec)
            return (self.failure,)
        status = self.create(rmm)
        if status != Status.SUCCESS:
            return self.fail(status)
        return Status.SUCCESS, 0, 0

    def create(self, rmm):
        """The checks of digest 5.13 steps 4-9, then the REC exists."""
        params = read_ns_struct(rmm, self.params_addr, RmiRecParams, "params")
        if params is None:
            return Status.ERROR_INPUT
        pair = rmm.granules.find_pair(self.rec, GranuleState.PARTIAL, self.rd, GranuleState.RD)
        if pair is None:
            return Status.ERROR_INPUT
        g_rd = pair[1]
        if g_rd.refcount == MAX_RECS:
            return Status.ERROR_REALM
        realm = rmm.realms[self.rd]
        if realm.state != RealmState.NEW:
            return Status.ERROR_REALM
        if RmiRecMpidr.reserved(params.mpidr) or rec_mpidr_to_idx(params.mpidr) != realm.rec_count:
            return Status.ERROR_INPUT
        if len(self.aux) != REC_AUX_GRANULES:
            return Status.ERROR_INPUT
        rec = Rec(self.rec, realm, params, self.aux)
        rmm.granules.transition(self.rec, GranuleState.REC, owner=self.rd)
        g_rd.refcount += 1
        realm.recs[rec.index] = self.rec
        realm.rec_count += 1
        rmm.recs[self.rec] = rec
        realm.rim = measurement.extend_rec(realm.rim, realm.algorithm, params)
        return Status.SUCCESS


def rec_create(rmm, rd_addr, rec_addr, params_addr):
    if rmm.granules.find(rec_addr, GranuleState.DELEGATED) is None:
        return (Status.ERROR_INPUT,)

    def start(ctx):
        # RD and params are only validated by the final OP_CONTINUE (digest 10.9).
        rmm.granules.transition(rec_addr, GranuleState.PARTIAL)
        ctx.op = RecCreate(rd_addr, rec_addr, params_addr)
        return incomplete(MemReq.DONATE), ctx.handle, ctx.op.donate_request()

    return run_sro(rmm, start)


# --- RMI_REC_DESTROY (digest 5.14) ---------------------------------------------------------------

class RecDestroy(SroOp):
    def __init__(self, rec, aux):
        self.rec = rec
        self.reclaimer = GranuleReclaim(aux)

    def reclaim(self, rmm, list_pa, capacity):
        return self.reclaimer.reclaim(rmm, list_pa, capacity)

    def resume(self, rmm, ctx):
        if rmm.inject.incomplete():
            return incomplete(MemReq.NONE), 0, 0
        free_granule(rmm, self.rec)
        return Status.SUCCESS, 0, 0


def rec_destroy(rmm, rec_addr):
    def body(ctx):
        if rmm.granules.find(rec_addr, GranuleState.REC) is None:
            return (Status.ERROR_INPUT,)
        rec = rmm.recs[rec_addr]
        if rec.running:
            return (Status.ERROR_REC,)
        realm = rmm.realms[rec.rd]
        rmm.granules.get(rec.rd).refcount -= 1
        del realm.recs[rec.index]            # the index is not reused (rec_count unchanged)
        del rmm.recs[rec_addr]
        rmm.granules.transition(rec_addr, GranuleState.PARTIAL)
        ctx.op = RecDestroy(rec_addr, rec.aux)
        return incomplete(MemReq.RECLAIM), ctx.handle, 0

    return run_sro(rmm, body)   # the SRO reservation is checked before X1 (step 1)


# --- RMI_REC_ENTER (digest 5.15) -----------------------------------------------------------------

def vgic_lrs_valid(lrs):
    """No non-invalid list register with HW = 1, no vINTID in two of them (step 8)."""
    seen = set()
    for lr in lrs:
        if not IchLr.get(lr, "state"):
            continue
        vintid = IchLr.get(lr, "vintid")
        if IchLr.get(lr, "hw") or vintid in seen:
            return False
        seen.add(vintid)
    return True


def entry_flags_valid(rec, flags):
    """EMUL_MMIO / INJECT_SEA only right after the exit they answer (steps 9, 10)."""
    last = rec.last_exit
    if RmiRecEnterFlags.get(flags, "inject_sea"):
        return last is not None and last.data_abort and last.unprotected
    if RmiRecEnterFlags.get(flags, "emul_mmio"):
        return last is not None and last.emulatable
    return True


def rec_enter(rmm, rec_addr, run_addr):
    if run_addr % GRANULE_SIZE or not rmm.granules.is_ns(run_addr):
        return (Status.ERROR_INPUT,)
    g = rmm.granules.find(rec_addr, GranuleState.REC)
    if g is None:
        return (Status.ERROR_INPUT,)
    rec = rmm.recs[rec_addr]
    if rec.running:
        return (Status.ERROR_REC,)
    data = ns_read(rmm, run_addr, REC_ENTER_READ_SIZE)
    if data is None:
        return (Status.ERROR_INPUT,)
    enter = RmiRecEnter.parse(data)
    rmm.note("enter", enter)
    if rmm.realms[rec.rd].state != RealmState.ACTIVE:
        return (Status.ERROR_REALM,)
    if not rec.runnable:
        return (Status.ERROR_REC,)
    if rec.pending_op == PendingOp.PSCI_COMPLETE:
        return (Status.ERROR_REC,)
    if not vgic_lrs_valid(rmm.platform.ich_lrs()):
        return (Status.ERROR_REC,)
    if not entry_flags_valid(rec, enter.flags):
        return (Status.ERROR_REC,)
    rec.enter, rec.run_addr = enter, run_addr
    rec.previous_exit, rec.last_exit = rec.last_exit, None    # the RMM forgets the last ESR
    rec.running, g.refcount = True, 1
    exit_fields = rmm.platform.enter_rec(rec, run_addr)
    if exit_fields is None:
        return None                          # delivered later by complete_rec_enter()
    return complete_rec_enter(rmm, rec, exit_fields)


def complete_rec_enter(rmm, rec, exit_fields):
    """The REC exited: write RmiRecExit to the run page (digest 5.15 step 14)."""
    rec.running = False
    rmm.granules.get(rec.rec).refcount = 0
    exit_value = RmiRecExit.parse(RmiRecExit.build(dict(exit_fields)))
    rmm.note("exit", exit_value)
    if not ns_write(rmm, rec.run_addr + REC_EXIT_OFFSET, RmiRecExit.build(exit_value)):
        return (Status.ERROR_INPUT,)
    return (Status.SUCCESS,)


# --- RMI_PSCI_COMPLETE (digest 5.16) -------------------------------------------------------------

def _complete_cpu_on(caller, target, req, status):
    """(RMI status, PSCI result for the caller) for a pending CPU_ON."""
    if status not in (PSCI_SUCCESS, PSCI_DENIED):
        return Status.ERROR_INPUT, None
    if target.running or target.runnable:
        # TF-RMM quirk: DENIED for a target already on is an error but completes the call.
        return (Status.ERROR_INPUT if status == PSCI_DENIED else Status.SUCCESS), PSCI_ALREADY_ON
    if status == PSCI_DENIED:
        return Status.SUCCESS, PSCI_DENIED
    target.reset(req.entry, req.context_id, caller.sysregs.get("sctlr_el1", 0))
    return Status.SUCCESS, PSCI_SUCCESS


def _complete_affinity_info(target, status):
    if status != PSCI_SUCCESS:
        return Status.ERROR_INPUT, None
    return Status.SUCCESS, PSCI_ON if target.running or target.runnable else PSCI_OFF


def psci_complete(rmm, calling_addr, target_addr, status):
    if calling_addr % GRANULE_SIZE or target_addr % GRANULE_SIZE:
        return (Status.ERROR_INPUT,)
    if rmm.granules.find_pair(calling_addr, GranuleState.REC, target_addr,
                              GranuleState.REC) is None:
        return (Status.ERROR_INPUT,)
    caller, target = rmm.recs[calling_addr], rmm.recs[target_addr]
    if caller.running:
        return (Status.ERROR_INPUT,)
    if caller.pending_op != PendingOp.PSCI_COMPLETE:
        return (Status.ERROR_INPUT,)
    if caller.rd != target.rd:
        return (Status.ERROR_INPUT,)
    req = caller.psci_request
    if target.index != mpidr_to_rec_idx(req.target_mpidr):
        return (Status.ERROR_INPUT,)
    if req.fid in PSCI_CPU_ON_FIDS:
        ret, result = _complete_cpu_on(caller, target, req, status)
    elif req.fid in PSCI_AFFINITY_INFO_FIDS:
        ret, result = _complete_affinity_info(target, status)
    else:
        return (Status.ERROR_INPUT,)
    if result is None:
        return (ret,)
    caller.gprs[0:4] = [result, 0, 0, 0]
    caller.pending_op, caller.psci_request = PendingOp.NONE, None
    return (ret,)


HANDLERS = {
    "REC_CREATE": rec_create,
    "REC_DESTROY": rec_destroy,
    "REC_ENTER": rec_enter,
    "PSCI_COMPLETE": psci_complete,
}
