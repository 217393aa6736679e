"""The Realm Services Interface and the realm's PSCI/SMCCC calls: what the RMM does with an SMC
a REC executes (TF-RMM `runtime/rsi/*.c`, `handle_realm_rsi`; digest
rsi-measurement-attestation.md sections 0-2 and 4-6, rmi-v2-host-abi.md 9.3), including the
CCA attestation token (CBOR, COSE_Sign1 with ES384 over P-384, implemented here).

`call(ctx)` serves the SMC in the realm's registers `ctx.x` (the CPU's x list while the REC is
loaded) and returns an Outcome: with `exit` None the realm continues (after the SMC when
`advance`, else it executes the SMC again: how ATTESTATION_TOKEN_CONTINUE signs slice by
slice), otherwise the REC exits to the host with those RmiRecExit fields. Completion of
the calls that went to the host (RIPAS change, host call) happens at the next REC entry:
complete_ripas_change(), complete_host_call().

Result registers (digest 0): x0-x3 are zeroed before a call the RMM answers itself, x4-x7
keep the caller's values unless they are outputs, x8 and up are untouched (MEASUREMENT_READ
writes x1-x8). Calls handed to the host leave every register as the realm set it.

Where TF-RMM differs from the RMM specification the specification is followed (digest quirks):
MEASUREMENT_READ zero-pads the value in x1-x8, REALM_CONFIG writes the whole RsiRealmConfig
(reserved bytes zero) with the realm's RsiHashAlgorithm, IPA_STATE_SET reads flags bit 0.
"""

import struct
from typing import NamedTuple

from machine.cpu.gpc import PAS_REALM

from . import measurement, s2tt
from .abi import (
    GRANULE_SIZE,
    M64,
    PSCI_AFFINITY_INFO_FIDS,
    PSCI_ALREADY_ON,
    PSCI_CPU_ON_FIDS,
    PSCI_INVALID_PARAMETERS,
    PSCI_NOT_SUPPORTED,
    PSCI_ON,
    PSCI_SUCCESS,
    SMC_UNKNOWN,
    SVE_HINT,
    RecExitReason,
    Ripas,
    RmiRealmFlags0,
    RmiRecEnterFlags,
)
from .attestation import CCA_TOKEN_BUFFER, cca_token, realm_claims
from .realm import RealmState
from .rec import mpidr_to_rec_idx

# --- function IDs and return codes ---------------------------------------------------------------

RSI_BASE, RSI_LAST = 0xC400_0190, 0xC400_01AF
RSI_VERSION = 0xC400_0190
RSI_FEATURES = 0xC400_0191
RSI_MEASUREMENT_READ = 0xC400_0192
RSI_MEASUREMENT_EXTEND = 0xC400_0193
RSI_ATTESTATION_TOKEN_INIT = 0xC400_0194
RSI_ATTESTATION_TOKEN_CONTINUE = 0xC400_0195
RSI_REALM_CONFIG = 0xC400_0196
RSI_IPA_STATE_SET = 0xC400_0197
RSI_IPA_STATE_GET = 0xC400_0198
RSI_HOST_CALL = 0xC400_0199

RSI_SUCCESS, RSI_ERROR_INPUT, RSI_ERROR_STATE, RSI_INCOMPLETE = 0, 1, 2, 3
RSI_ACCEPT, RSI_REJECT = 0, 1
RSI_ABI_VERSIONS = (0x0001_0000, 0x0001_0001)
RSI_ABI_HIGHEST = 0x0001_0001

SMCCC_VERSION, SMCCC_VERSION_1_2 = 0x8000_0000, 0x0001_0002
PSCI_VERSION, PSCI_VERSION_1_1 = 0x8400_0000, 0x0001_0001
PSCI_CPU_SUSPEND_FIDS = (0x8400_0001, 0xC400_0001)
PSCI_CPU_OFF = 0x8400_0002
PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET = 0x8400_0008, 0x8400_0009
PSCI_FEATURES = 0x8400_000A
PSCI_INVALID_ADDRESS = -9 & M64
PSCI_RANGES = ((0x8400_0000, 0x8400_001F), (0xC400_0000, 0xC400_001F))
PSCI_FEATURES_SUPPORTED = frozenset(
    PSCI_CPU_SUSPEND_FIDS + PSCI_CPU_ON_FIDS + PSCI_AFFINITY_INFO_FIDS
    + (PSCI_CPU_OFF, PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET, PSCI_FEATURES, SMCCC_VERSION))

MEASUREMENT_WORDS = 8                         # a measurement register is 64 bytes
HOST_CALL_ALIGN = 0x100
HOST_CALL_GPRS = 31
REALM_CONFIG_RPV = 0x200
ESR_DABT_LOWER_TRANSLATION = 0x9000_0004      # EC 0x24, DFSC translation fault level 0


class Outcome(NamedTuple):
    exit: dict | None = None      # RmiRecExit fields, or None: back to the realm
    advance: bool = True          # the realm resumes after its SMC


class RealmCall:
    """What a call sees: the realm's registers `x`, the Rec, the Realm and the engine;
    `ich_vtr` is the physical CPU's ICH_VTR_EL2 (REALM_CONFIG reports it)."""

    def __init__(self, engine, realm, rec, x, ich_vtr=0):
        self.engine, self.realm, self.rec, self.x, self.ich_vtr = engine, realm, rec, x, ich_vtr

    def result(self, *values):
        """x0..x3 = values (zero beyond them): the RMM answers the call itself; the realm
        continues after its SMC."""
        vals = [v & M64 for v in values] + [0] * (4 - len(values))
        self.x[0:4] = vals
        return Outcome()


# --- realm memory through the realm's stage 2 ----------------------------------------------------

class Buffer(NamedTuple):
    pa: int | None        # the PA of the IPA, when it is assigned RAM
    level: int            # where the RTT walk stopped
    unmapped: bool        # RIPAS RAM but not backed (or DESTROYED): the host must map it


def realm_buffer(engine, realm, ipa):
    """Digest 0.1: where a buffer IPA (in the PAR) is, for the RMM's own accesses."""
    w = engine.rtt.walk(realm.s2, ipa, s2tt.PAGE_LEVEL)
    k = s2tt.kind(w.entry, w.level)
    if k == s2tt.Kind.ASSIGNED_RAM:
        offset = ipa & (s2tt.map_size(w.level) - 1)
        return Buffer(s2tt.pa_of(w.entry, w.level) + offset, w.level, False)
    unmapped = k in (s2tt.Kind.UNASSIGNED_RAM, s2tt.Kind.UNASSIGNED_DESTROYED,
                     s2tt.Kind.ASSIGNED_DESTROYED)
    return Buffer(None, w.level, unmapped)


def emulated_abort(ipa, level):
    """The SYNC exit TF-RMM fakes for an RSI buffer the host has not mapped (digest 9.3)."""
    return dict(exit_reason=RecExitReason.SYNC, esr=ESR_DABT_LOWER_TRANSLATION + level,
                hpfar=ipa >> 8)


def _words(data, n):
    return list(struct.unpack(f"<{n}Q", bytes(data).ljust(8 * n, b"\0")[:8 * n]))


# --- RSI commands --------------------------------------------------------------------------------

def rsi_version(c):
    req = c.x[1]
    if req in RSI_ABI_VERSIONS:
        c.result(RSI_SUCCESS, req, RSI_ABI_HIGHEST)
    else:
        c.result(RSI_ERROR_INPUT, RSI_ABI_HIGHEST, RSI_ABI_HIGHEST)


def rsi_features(c):
    value = RmiRealmFlags0.get(c.realm.flags0, "da") if c.x[1] == 0 else 0
    c.result(RSI_SUCCESS, value)


def rsi_measurement_read(c):
    index = c.x[1]
    if index >= 5:
        return c.result(RSI_ERROR_INPUT)
    value = c.realm.rim if index == 0 else c.realm.rems[index - 1]
    c.result(RSI_SUCCESS)
    # x1-x8 = the 64-byte measurement, unused bytes zero (TF-RMM keeps the caller's x5-x7)
    c.x[1:9] = _words(value, MEASUREMENT_WORDS)
    return None


def rsi_measurement_extend(c):
    index, size = c.x[1], c.x[2]
    if not 1 <= index <= 4 or size > 64:
        return c.result(RSI_ERROR_INPUT)
    data = struct.pack("<8Q", *c.x[3:11])[:size]
    rems = list(c.realm.rems)
    rems[index - 1] = measurement.digest(c.realm.algorithm, rems[index - 1] + data)
    c.realm.rems = rems
    return c.result(RSI_SUCCESS)


def buffer_argument(c, ipa, align=GRANULE_SIZE):
    """The realm buffer an RSI call names (digest 0.1): (its physical address, None), or
    (None, the Outcome to return: RSI_ERROR_INPUT, or an emulated abort for an IPA that is
    not mapped so the host can map it)."""
    if ipa % align or not c.realm.in_par(ipa):
        return None, c.result(RSI_ERROR_INPUT)
    buf = realm_buffer(c.engine, c.realm, ipa)
    if buf.unmapped:
        return None, Outcome(emulated_abort(ipa, buf.level), advance=False)
    if buf.pa is None:
        return None, c.result(RSI_ERROR_INPUT)
    return buf.pa, None


def realm_config(realm, ich_vtr):
    """The RsiRealmConfig page (digest 1.3): ipa_width, hash_algo (RsiHashAlgorithm, the same
    encoding as the realm's RmiHashAlgorithm; TF-RMM reports SHA-384 as 1), num_aux_planes,
    gicv3_vtr, ats_plane, rpv; reserved bytes zero (TF-RMM leaves them as they were)."""
    page = bytearray(GRANULE_SIZE)
    struct.pack_into("<QB", page, 0x00, realm.s2.ipa_bits, realm.algorithm)
    struct.pack_into("<QIxxxxQ", page, 0x10, 0, ich_vtr & 0xFFFF_FFFF, 0)
    page[REALM_CONFIG_RPV:REALM_CONFIG_RPV + 64] = bytes(realm.rpv).ljust(64, b"\0")[:64]
    return bytes(page)


def rsi_realm_config(c):
    pa, refused = buffer_argument(c, c.x[1])
    if refused:
        return refused
    c.engine.platform.write(pa, realm_config(c.realm, c.ich_vtr), PAS_REALM)
    return c.result(RSI_SUCCESS)


def _range_ok(realm, base, top):
    return not base % GRANULE_SIZE and not top % GRANULE_SIZE and base < top \
        and realm.in_par(base) and realm.in_par(top - 1)


def rsi_ipa_state_set(c):
    base, top, ripas, flags = c.x[1:5]
    if ripas > Ripas.RAM or not _range_ok(c.realm, base, top):
        return c.result(RSI_ERROR_INPUT)
    # RsiRipasChangeFlags.destroyed is bit 0, the other bits are reserved (TF-RMM compares the
    # whole of x4 with 1)
    c.rec.request_ripas_change(base, top, ripas, change_destroyed=bool(flags & 1))
    c.result(RSI_SUCCESS, top)
    return Outcome(dict(exit_reason=RecExitReason.RIPAS_CHANGE, ripas_base=base, ripas_top=top,
                        ripas_value=ripas))


def rsi_ipa_state_get(c):
    base, end = c.x[1], c.x[2]
    if not _range_ok(c.realm, base, end):
        return c.result(RSI_ERROR_INPUT)
    rtt = c.engine.rtt
    w = rtt.walk(c.realm.s2, base, s2tt.PAGE_LEVEL)
    ripas = _ripas(w.entry, w.level)
    if ripas is None:
        return c.result(RSI_ERROR_INPUT)
    entries = rtt.read_table(w.table)
    n = 1
    while w.index + n < s2tt.ENTRIES and _ripas(entries[w.index + n], w.level) == ripas:
        n += 1
    size = s2tt.map_size(w.level)
    run_top = (base & ~(size - 1)) + n * size
    return c.result(RSI_SUCCESS, min(end, run_top), ripas)


def _ripas(entry, level):
    return s2tt.RIPAS_OF.get(s2tt.kind(entry, level))


def rsi_host_call(c):
    ipa = c.x[1]
    pa, refused = buffer_argument(c, ipa, HOST_CALL_ALIGN)
    if refused:
        return refused
    raw = c.engine.platform.read(pa, HOST_CALL_ALIGN, PAS_REALM)
    imm = int.from_bytes(raw[0:4], "little")
    c.rec.host_call = ipa
    return Outcome(dict(exit_reason=RecExitReason.HOST_CALL, imm=imm, plane=0,
                        gprs=_words(raw[8:], HOST_CALL_GPRS)))


# --- attestation (digest sections 5, 6; the token itself: attestation.py) -----------------------

SIGN_SLICES = 16        # the realm token is signed in this many slices (TF-RMM: COSE sign steps)


class Attestation:
    """A REC's token retrieval (digest 6): the claims INIT snapshotted, the signing slices left,
    the CCA token once signed, `copied` bytes delivered so far. `signing` is set while a
    CONTINUE runs its slices: between two of them the CPU may take an interrupt
    (interrupted_call)."""

    def __init__(self, claims):
        self.claims, self.token, self.copied = claims, None, 0
        self.unsigned, self.signing = SIGN_SLICES, False


def rsi_attestation_token_init(c):
    challenge = struct.pack("<8Q", *c.x[1:9])
    c.rec.attestation = Attestation(realm_claims(c.realm, challenge))
    return c.result(RSI_SUCCESS, CCA_TOKEN_BUFFER)


def sign_slice(state):
    """One slice of the signing; the last one signs the realm token and builds the CCA token.
    Whether the token is complete."""
    state.unsigned -= 1
    if state.unsigned == 0:
        state.token = cca_token(state.claims)
    return state.token is not None


def rsi_attestation_token_continue(c):
    ipa, offset, size = c.x[1], c.x[2], c.x[3]
    if ipa % GRANULE_SIZE or offset >= GRANULE_SIZE or offset + size > GRANULE_SIZE or \
            not c.realm.in_par(ipa):
        return c.result(RSI_ERROR_INPUT)
    state = getattr(c.rec, "attestation", None)
    if state is None:
        return c.result(RSI_ERROR_STATE)
    if state.token is None:
        # One slice per execution of the SMC, the realm's registers untouched: the CPU runs
        # the next slice unless it takes an interrupt first (TF-RMM checks ISR_EL1 after
        # each slice), which ends this call as RSI_INCOMPLETE (interrupted_call).
        state.signing = not sign_slice(state)
        if state.signing:
            return Outcome(advance=False)
    pa, refused = buffer_argument(c, ipa)
    if refused:
        return refused
    if size == 0:
        return c.result(RSI_INCOMPLETE, 0)
    chunk = state.token[state.copied:state.copied + size]
    c.engine.platform.write(pa + offset, chunk, PAS_REALM)
    state.copied += len(chunk)
    if state.copied < len(state.token):
        return c.result(RSI_INCOMPLETE, len(chunk))
    c.rec.attestation = None
    return c.result(RSI_SUCCESS, len(chunk))


def interrupted_call(rec, x, pc):
    """The REC at `pc` exits for a physical interrupt (realm registers `x`): if that is
    between two signing slices of its CONTINUE, the call ends as TF-RMM ends it when ISR_EL1
    shows an interrupt pending (digest 6): x0 = RSI_INCOMPLETE, x1 = 0, the signing progress
    kept, the REC resumes after the SMC. Returns the PC the REC resumes at."""
    state = getattr(rec, "attestation", None)
    if state is None or not state.signing:
        return pc
    state.signing = False
    x[0:4] = [RSI_INCOMPLETE, 0, 0, 0]
    return (pc + 4) & M64


RSI_HANDLERS = {
    RSI_VERSION: rsi_version,
    RSI_FEATURES: rsi_features,
    RSI_MEASUREMENT_READ: rsi_measurement_read,
    RSI_MEASUREMENT_EXTEND: rsi_measurement_extend,
    RSI_ATTESTATION_TOKEN_INIT: rsi_attestation_token_init,
    RSI_ATTESTATION_TOKEN_CONTINUE: rsi_attestation_token_continue,
    RSI_REALM_CONFIG: rsi_realm_config,
    RSI_IPA_STATE_SET: rsi_ipa_state_set,
    RSI_IPA_STATE_GET: rsi_ipa_state_get,
    RSI_HOST_CALL: rsi_host_call,
}


# --- PSCI from the realm (digest 1.6 / 9.3) ------------------------------------------------------

def psci_exit(fid, target=0):
    gprs = [fid, target] + [0] * (HOST_CALL_GPRS - 2)
    return Outcome(dict(exit_reason=RecExitReason.PSCI, gprs=gprs))


def _target_index(c, mpidr):
    """The REC index the MPIDR names, or None when no such REC exists."""
    index = mpidr_to_rec_idx(mpidr)
    return index if index < c.realm.rec_count else None


def psci_call(c, fid):
    x = c.x
    if fid == PSCI_VERSION:
        return c.result(PSCI_VERSION_1_1)
    if fid == PSCI_FEATURES:
        return c.result(PSCI_SUCCESS if x[1] & 0xFFFF_FFFF in PSCI_FEATURES_SUPPORTED
                        else PSCI_NOT_SUPPORTED)
    if fid in PSCI_CPU_SUSPEND_FIDS:
        c.result(PSCI_SUCCESS)
        return psci_exit(fid)
    if fid == PSCI_CPU_OFF:
        c.rec.runnable = False
        c.result(PSCI_SUCCESS)
        return psci_exit(fid)
    if fid in PSCI_CPU_ON_FIDS:
        target, entry, context = x[1], x[2], x[3]
        if not c.realm.in_par(entry):
            return c.result(PSCI_INVALID_ADDRESS)
        index = _target_index(c, target)
        if index is None:
            return c.result(PSCI_INVALID_PARAMETERS)
        if index == c.rec.index:
            return c.result(PSCI_ALREADY_ON)
        c.rec.request_psci(fid, target, entry, context)
        return psci_exit(fid, target)
    if fid in PSCI_AFFINITY_INFO_FIDS:
        target, level = x[1], x[2]
        index = _target_index(c, target)
        if level != 0 or index is None:
            return c.result(PSCI_INVALID_PARAMETERS)
        if index == c.rec.index:
            return c.result(PSCI_ON)
        c.rec.request_psci(fid, target)
        return psci_exit(fid, target)
    if fid in (PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET):
        c.realm.state = RealmState.SYSTEM_OFF
        return psci_exit(fid)
    return c.result(PSCI_NOT_SUPPORTED)


def call(c):
    """Serve the realm's SMC (FID in x0, SVE hint bit ignored)."""
    fid = c.x[0] & 0xFFFF_FFFF & ~SVE_HINT
    if RSI_BASE <= fid <= RSI_LAST:
        handler = RSI_HANDLERS.get(fid)
        out = handler(c) if handler is not None else c.result(SMC_UNKNOWN)
    elif any(lo <= fid <= hi for lo, hi in PSCI_RANGES):
        out = psci_call(c, fid)
    elif fid == SMCCC_VERSION:
        out = c.result(SMCCC_VERSION_1_2)
    else:
        out = c.result(SMC_UNKNOWN)
    return out or Outcome()


# --- completions at the next REC entry -----------------------------------------------------------

def complete_ripas_change(rec, flags, gprs):
    """The realm's view of its RSI_IPA_STATE_SET once the host answered (digest 2.3): x0-x3 in
    the REC's saved `gprs`; the request is cleared."""
    req = rec.ripas_request
    reject = (RmiRecEnterFlags.get(flags, "ripas_response") and req.ripas == Ripas.RAM
              and req.addr != req.top)
    gprs[0:4] = [RSI_SUCCESS, req.addr, RSI_REJECT if reject else RSI_ACCEPT, 0]
    rec.request_ripas_change(0, 0, Ripas.EMPTY)


def complete_host_call(engine, realm, rec, results, gprs):
    """Copy the host's results into the realm's RsiHostCall (digest 1.5). Returns the
    emulated abort exit when the structure's page is no longer mapped (the call stays
    pending), else None."""
    ipa = rec.host_call
    buf = realm_buffer(engine, realm, ipa)
    if buf.unmapped:
        return emulated_abort(ipa, buf.level)
    rec.host_call = None
    if buf.pa is None:
        return None                    # TF-RMM quirk: dropped, x0 keeps the FID
    engine.platform.write(buf.pa + 8, struct.pack(f"<{HOST_CALL_GPRS}Q",
                                                  *[r & M64 for r in results]), PAS_REALM)
    gprs[0] = RSI_SUCCESS
    return None
