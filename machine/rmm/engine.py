"""The RMM engine: answers the host's RMI SMCs as TF-RMM main does (digest 1).

    rmm = RmmEngine(platform)
    regs_out = rmm.handle(regs)     # regs = X0..X17 of the SMC as the host issued it

X0 is the FID: unknown FIDs (wrong call type, outside the RMI range, empty table slots) get
SMC_UNKNOWN before the global RMM state gate; the gate (digest 1.2) gives RMI_ERROR_GLOBAL;
then the command's handler runs its checks in the specification's order. The result
registers: X0 = RmiResult, X1..X3 the command's outputs (zero when unused), the other
registers as the host passed them (only RTT_READ_ENTRY also writes X4).
"""

import random

from . import features, granule, realm, rec, rtt, rtt_map, sro, unsupported
from .abi import (
    COMMANDS,
    GATE_ACTIVE,
    GATE_INIT,
    M64,
    SMC_UNKNOWN,
    SVE_HINT,
    Fid,
    RmmState,
    Status,
)
from .features import RmmConfig, feature_registers
from .granule import GranuleTable
from .inject import NO_INJECTION
from .s2tt import Rtts
from .trace import format_call

HANDLER_MODULES = (features, granule, realm, rtt, rtt_map, rec, sro, unsupported)
NUM_REGS = 18
RESULT_REGS = 4                        # X0..X3 are zeroed before every call


class VmidAllocator:
    def __init__(self, bits):
        self.count = 1 << bits
        self.used = set()

    def allocate(self):
        for vmid in range(self.count):
            if vmid not in self.used:
                self.used.add(vmid)
                return vmid
        return None

    def free(self, vmid):
        self.used.discard(vmid)


def _handler_table():
    table = {}
    for module in HANDLER_MODULES:
        for name, handler in module.HANDLERS.items():
            table[Fid[name]] = handler
    missing = set(COMMANDS) - set(table)
    if missing:
        raise RuntimeError(f"RMI commands without a handler: {sorted(f.name for f in missing)}")
    return table


HANDLERS = _handler_table()


class RmmEngine:
    # Features this RMM does not implement (FEATURES registers 2 and 3 report 0)
    max_aux_planes = 0
    da_enabled = False
    s2ap_indirect = False

    def __init__(self, platform, config=None, inject=None, trace=None):
        self.platform = platform
        self.config = config or RmmConfig()
        self.inject = inject or NO_INJECTION
        self.trace = trace
        self.state = RmmState.INIT
        self.features = feature_registers(self.config)
        self.granules = GranuleTable(platform.dram_regions())
        self.rtt = Rtts(platform)
        self.realms = {}                   # RD address -> Realm
        self.recs = {}                     # REC address -> Rec
        self.sro = sro.SroPool(self.config.max_cpus * self.config.sro_contexts_per_cpu)
        self.vmids = VmidAllocator(self.config.vmid_bits)
        self._ids = random.Random(self.config.seed)
        self._entering = {}                # REC address -> registers of its pending REC_ENTER
        self.decoded = {}
        self.last_call = None

    # --- the SMC interface -----------------------------------------------------------------------

    def handle(self, regs):
        """Registers after the RMM answered the SMC `regs`; None when a REC_ENTER hands the REC
        to a CPU that runs it asynchronously (see platform.py)."""
        regs_in = [int(r) & M64 for r in regs][:NUM_REGS]
        regs_in += [0] * (NUM_REGS - len(regs_in))
        self.decoded = {}
        out = self._dispatch(regs_in)
        if out is None:
            self._entering[regs_in[1]] = regs_in
            return None
        return self._finish(regs_in, out)

    def complete_rec_enter(self, rec_obj, exit_fields):
        """Deliver the exit of a REC that ran asynchronously; the registers its REC_ENTER SMC
        returns with."""
        regs_in = self._entering.pop(rec_obj.rec)
        self.decoded = {}
        return self._finish(regs_in, rec.complete_rec_enter(self, rec_obj, exit_fields))

    def _dispatch(self, regs_in):
        fid = regs_in[0] & 0xFFFF_FFFF & ~SVE_HINT
        command = COMMANDS.get(fid)
        if command is None:
            return (SMC_UNKNOWN,)
        if not self._gate_open(command.gate):
            return (Status.ERROR_GLOBAL,)
        return HANDLERS[fid](self, *regs_in[1:1 + len(command.args)])

    def _gate_open(self, gate):
        if gate == GATE_INIT:
            return self.state == RmmState.INIT
        if gate == GATE_ACTIVE:
            return self.state == RmmState.ACTIVE
        return True

    def _finish(self, regs_in, out):
        regs_out = list(regs_in)
        regs_out[:RESULT_REGS] = [0] * RESULT_REGS
        for i, value in enumerate(out):
            regs_out[i] = int(value) & M64
        self.last_call = (regs_in, regs_out, self.decoded)
        if self.trace is not None:
            self.trace(format_call(regs_in, regs_out, self.decoded))
        return regs_out

    # --- services for the command handlers ------------------------------------------------------

    def note(self, name, value):
        """Hand a structure the command read (or wrote) to the tracer."""
        self.decoded[name] = value

    def tlbi(self, realm_obj, ipa, size):
        self.platform.tlbi_ipa(realm_obj.s2.vmid, ipa, size)

    def new_realm_instance_id(self):
        return self._ids.getrandbits(64)

    # --- inspection (debugger, tests) ------------------------------------------------------------

    def granule_state(self, pa):
        return self.granules.state(pa)
