"""The RMI v2.0 host ABI, declared once: function IDs, status codes, every structure the host
shares with the RMM, and every bit-field word passed in registers, as `construct` definitions
(TF-RMM `lib/smc/include/smc-rmi.h`; digest /work/shared/reference/rmi-v2-host-abi.md).

Structures the RMM reads from or writes to host memory are `Struct`s laid out at the
specification's offsets (`layout`); a field declared narrower than its 8-byte slot is read with
the width TF-RMM uses (digest 4.1, "bytes read"). Register words with fields are `Word`s: the
field table, a `construct` BitStruct built from it (decode/encode for the trace and for
building values) and shift/mask accessors for the per-entry loops.
"""

from enum import IntEnum
from typing import NamedTuple

from construct import (
    Array,
    BitsInteger,
    BitStruct,
    Bytes,
    ByteSwapped,
    Container,
    Default,
    Enum,
    Int8ul,
    Int32ul,
    Int64sl,
    Int64ul,
    Padding,
    Struct,
)

GRANULE_SHIFT = 12
GRANULE_SIZE = 1 << GRANULE_SHIFT
M64 = (1 << 64) - 1
SMC_UNKNOWN = M64                  # SMCCC NOT_SUPPORTED / unknown function, -1
SMC_NOT_SUPPORTED = M64

RMI_ABI_VERSION = 0x0002_0000      # (major << 16) | minor: RMI 2.0
SVE_HINT = 1 << 16                 # SMCCC 1.3 "no live SVE state" FID bit, ignored (digest 1)


# --- function IDs (digest 2) ---------------------------------------------------------------------

class Fid(IntEnum):
    VERSION = 0xC4000150
    RTT_DATA_MAP_INIT = 0xC4000153
    REALM_ACTIVATE = 0xC4000157
    REALM_CREATE = 0xC4000158
    REALM_DESTROY = 0xC4000159
    REC_CREATE = 0xC400015A
    REC_DESTROY = 0xC400015B
    REC_ENTER = 0xC400015C
    RTT_CREATE = 0xC400015D
    RTT_DESTROY = 0xC400015E
    RTT_READ_ENTRY = 0xC4000161
    RTT_DEV_VALIDATE = 0xC4000163
    PSCI_COMPLETE = 0xC4000164
    FEATURES = 0xC4000165
    RTT_FOLD = 0xC4000166
    RTT_INIT_RIPAS = 0xC4000168
    RTT_SET_RIPAS = 0xC4000169
    RMM_CONFIG_SET = 0xC400016E
    PDEV_ABORT = 0xC4000174
    PDEV_COMMUNICATE = 0xC4000175
    PDEV_CREATE = 0xC4000176
    PDEV_DESTROY = 0xC4000177
    PDEV_GET_STATE = 0xC4000178
    PDEV_STREAM_KEY_REFRESH = 0xC400017A
    PDEV_SET_PUBKEY = 0xC400017B
    PDEV_STOP = 0xC400017C
    RTT_AUX_CREATE = 0xC400017D
    RTT_AUX_DESTROY = 0xC400017E
    RTT_AUX_FOLD = 0xC400017F
    RTT_AUX_MAP_PROTECTED = 0xC4000180
    RTT_AUX_MAP_UNPROTECTED = 0xC4000181
    RTT_AUX_UNMAP_PROTECTED = 0xC4000183
    RTT_AUX_UNMAP_UNPROTECTED = 0xC4000184
    VDEV_ABORT = 0xC4000185
    VDEV_COMMUNICATE = 0xC4000186
    VDEV_CREATE = 0xC4000187
    VDEV_DESTROY = 0xC4000188
    VDEV_GET_STATE = 0xC4000189
    VDEV_UNLOCK = 0xC400018A
    RTT_SET_S2AP = 0xC400018B
    VDEV_COMPLETE = 0xC400018E
    VDEV_GET_INTERFACE_REPORT = 0xC40001D0
    VDEV_GET_MEASUREMENTS = 0xC40001D1
    VDEV_LOCK = 0xC40001D2
    VDEV_START = 0xC40001D3
    PSMMU_ACTIVATE = 0xC40001D7
    PSMMU_DEACTIVATE = 0xC40001D8
    PSMMU_ST_L2_CREATE = 0xC40001DB
    PSMMU_ST_L2_DESTROY = 0xC40001DC
    GRANULE_TRACKING_GET = 0xC40001E1
    RMM_CONFIG_GET = 0xC40001EC
    GRANULE_RANGE_DELEGATE = 0xC40001F1
    GRANULE_RANGE_UNDELEGATE = 0xC40001F2
    GPT_L1_CREATE = 0xC40001F3
    RTT_DATA_MAP = 0xC40001F5
    RTT_DATA_UNMAP = 0xC40001F6
    RTT_DEV_MAP = 0xC40001F7
    RTT_DEV_UNMAP = 0xC40001F8
    RTT_UNPROT_MAP = 0xC40001FB
    RTT_UNPROT_UNMAP = 0xC40001FC
    REALM_TERMINATE = 0xC4000201
    RMM_ACTIVATE = 0xC4000202
    OP_CONTINUE = 0xC4000203
    PDEV_STREAM_CONNECT = 0xC4000204
    PDEV_STREAM_DISCONNECT = 0xC4000205
    PDEV_STREAM_COMPLETE = 0xC4000206
    PDEV_STREAM_KEY_PURGE = 0xC4000207
    OP_MEM_DONATE = 0xC4000208
    OP_MEM_RECLAIM = 0xC4000209
    OP_CANCEL = 0xC400020A


# The global RMM state and which commands it allows (digest 1.2)
class RmmState(IntEnum):
    INIT = 0
    INTERMEDIATE = 1
    ACTIVE = 2


GATE_ANY, GATE_INIT, GATE_ACTIVE = "any", "init", "active"


class Command(NamedTuple):
    """What the trace and the dispatcher know about an RMI command: the argument and output
    register names (X1.. in order) and the RMM states it may run in."""
    args: tuple
    outs: tuple
    gate: str = GATE_ACTIVE


_RTT_UNMAP_OUTS = ("out_top", "desc", "count")
COMMANDS = {
    Fid.VERSION: Command(("req",), ("lower", "higher"), GATE_ANY),
    Fid.FEATURES: Command(("index",), ("value",), GATE_ANY),
    Fid.RMM_CONFIG_GET: Command(("config",), (), GATE_ANY),
    Fid.GRANULE_TRACKING_GET: Command(("base", "top"), ("category", "state", "top"), GATE_ANY),
    Fid.RMM_CONFIG_SET: Command(("config",), (), GATE_INIT),
    Fid.RMM_ACTIVATE: Command((), (), GATE_INIT),
    Fid.GPT_L1_CREATE: Command(("addr",), ()),
    Fid.GRANULE_RANGE_DELEGATE: Command(("base", "top"), ("out_top",)),
    Fid.GRANULE_RANGE_UNDELEGATE: Command(("base", "top"), ("out_top",)),
    Fid.REALM_CREATE: Command(("rd", "params"), ()),
    Fid.REALM_ACTIVATE: Command(("rd",), ()),
    Fid.REALM_TERMINATE: Command(("rd",), ()),
    Fid.REALM_DESTROY: Command(("rd",), ()),
    Fid.RTT_CREATE: Command(("rd", "rtt", "ipa", "level"), ()),
    Fid.RTT_DESTROY: Command(("rd", "ipa", "level"), ("rtt", "top")),
    Fid.RTT_FOLD: Command(("rd", "ipa", "level"), ("rtt",)),
    Fid.RTT_READ_ENTRY: Command(("rd", "ipa", "level"), ("walk_level", "state", "desc", "ripas")),
    Fid.RTT_INIT_RIPAS: Command(("rd", "base", "top"), ("out_top",)),
    Fid.RTT_SET_RIPAS: Command(("rd", "rec", "base", "top"), ("out_top",)),
    Fid.RTT_DATA_MAP_INIT: Command(("rd", "data", "ipa", "src", "flags"), ()),
    Fid.RTT_DATA_MAP: Command(("rd", "base", "top", "flags", "oaddr"), ("out_top",)),
    Fid.RTT_DATA_UNMAP: Command(("rd", "base", "top", "flags", "oaddr"), _RTT_UNMAP_OUTS),
    Fid.RTT_UNPROT_MAP: Command(("rd", "base", "top", "flags", "oaddr"), ("out_top",)),
    Fid.RTT_UNPROT_UNMAP: Command(("rd", "base", "top", "flags", "oaddr"), _RTT_UNMAP_OUTS),
    Fid.REC_CREATE: Command(("rd", "rec", "params"), ("handle", "donate_req")),
    Fid.REC_DESTROY: Command(("rec",), ("handle",)),
    Fid.REC_ENTER: Command(("rec", "run"), ()),
    Fid.PSCI_COMPLETE: Command(("calling_rec", "target_rec", "status"), ()),
    Fid.OP_CONTINUE: Command(("handle", "flags"), ("x1", "donate_req")),
    Fid.OP_MEM_DONATE: Command(("handle", "list", "count"), ("consumed", "donate_req")),
    Fid.OP_MEM_RECLAIM: Command(("handle", "list", "capacity"), ("written",)),
    Fid.OP_CANCEL: Command(("handle",), ()),
    # Planes (digest 2.2): no aux planes here (FEAT3.MAX_NUM_AUX_PLANES = 0)
    Fid.RTT_AUX_CREATE: Command(("rd", "rtt", "ipa", "level", "index"), ()),
    Fid.RTT_AUX_DESTROY: Command(("rd", "ipa", "level", "index"), ("rtt", "top")),
    Fid.RTT_AUX_FOLD: Command(("rd", "ipa", "level", "index"), ("rtt",)),
    Fid.RTT_AUX_MAP_PROTECTED: Command(("rd", "ipa", "index"), ("tree", "level", "state", "ripas")),
    Fid.RTT_AUX_MAP_UNPROTECTED: Command(("rd", "ipa", "index"), ("tree", "level", "state")),
    Fid.RTT_AUX_UNMAP_PROTECTED: Command(("rd", "ipa", "index"), ("top",)),
    Fid.RTT_AUX_UNMAP_UNPROTECTED: Command(("rd", "ipa", "index"), ("top", "level")),
    Fid.RTT_SET_S2AP: Command(("rd", "rec", "base", "top"), ("out_top", "tree")),
    # Device assignment (digest 2.3): FEAT2.DA_EN = 0
    Fid.RTT_DEV_VALIDATE: Command(("rd", "rec", "base", "top"), ("out_top",)),
    Fid.RTT_DEV_MAP: Command(("rd", "vdev", "base", "top", "flags", "oaddr"), ("out_top",)),
    Fid.RTT_DEV_UNMAP: Command(("rd", "base", "top", "flags", "oaddr"), _RTT_UNMAP_OUTS),
    Fid.PDEV_ABORT: Command(("pdev",), ()),
    Fid.PDEV_COMMUNICATE: Command(("pdev", "data"), ()),
    Fid.PDEV_CREATE: Command(("pdev", "params"), ("handle", "donate_req")),
    Fid.PDEV_DESTROY: Command(("pdev",), ("handle",)),
    Fid.PDEV_GET_STATE: Command(("pdev",), ("state",)),
    Fid.PDEV_STREAM_KEY_REFRESH: Command(("pdev1", "pdev2", "stream"), ()),
    Fid.PDEV_SET_PUBKEY: Command(("pdev", "params"), ()),
    Fid.PDEV_STOP: Command(("pdev",), ()),
    Fid.VDEV_ABORT: Command(("rd", "pdev", "vdev"), ()),
    Fid.VDEV_COMMUNICATE: Command(("rd", "pdev", "vdev", "data"), ()),
    Fid.VDEV_CREATE: Command(("rd", "pdev", "vdev", "params"), ()),
    Fid.VDEV_DESTROY: Command(("rd", "pdev", "vdev"), ()),
    Fid.VDEV_GET_STATE: Command(("vdev",), ("state",)),
    Fid.VDEV_UNLOCK: Command(("rd", "pdev", "vdev"), ("x1",)),
    Fid.VDEV_COMPLETE: Command(("rec", "vdev"), ()),
    Fid.VDEV_GET_INTERFACE_REPORT: Command(("rd", "pdev", "vdev"), ()),
    Fid.VDEV_GET_MEASUREMENTS: Command(("rd", "pdev", "vdev", "params"), ()),
    Fid.VDEV_LOCK: Command(("rd", "pdev", "vdev"), ()),
    Fid.VDEV_START: Command(("rd", "pdev", "vdev"), ()),
    Fid.PSMMU_ACTIVATE: Command(("psmmu", "params"), ("handle", "donate_req")),
    Fid.PSMMU_DEACTIVATE: Command(("psmmu",), ("handle",)),
    Fid.PSMMU_ST_L2_CREATE: Command(("psmmu", "sid"), ("handle", "donate_req")),
    Fid.PSMMU_ST_L2_DESTROY: Command(("psmmu", "sid"), ("handle",)),
    Fid.PDEV_STREAM_CONNECT: Command(("params",), ("stream",)),
    Fid.PDEV_STREAM_DISCONNECT: Command(("pdev1", "pdev2", "stream"), ()),
    Fid.PDEV_STREAM_COMPLETE: Command(("pdev1", "pdev2", "stream"), ()),
    Fid.PDEV_STREAM_KEY_PURGE: Command(("pdev1", "pdev2", "stream"), ()),
}


# --- status codes (digest 3) ---------------------------------------------------------------------

class Status(IntEnum):
    SUCCESS = 0
    ERROR_INPUT = 1
    ERROR_REALM = 2
    ERROR_REC = 3
    ERROR_RTT = 4
    ERROR_NOT_SUPPORTED = 5
    ERROR_DEVICE = 6
    ERROR_RTT_AUX = 7
    ERROR_PSMMU_ST = 8
    ERROR_DPT = 9
    BUSY = 10
    ERROR_GLOBAL = 11
    ERROR_TRACKING = 12
    INCOMPLETE = 13
    BLOCKED = 14
    ERROR_GPT = 15
    ERROR_GRANULE = 16


# The same, as construct definitions (the trace names X0 and W0 through them)
RmiStatusCode = Enum(Int8ul, **{s.name: s.value for s in Status})
RmiFunctionId = Enum(Int32ul, **{f.name: f.value for f in Fid})


class MemReq(IntEnum):             # RmiOpMemReq: what an INCOMPLETE asks the host for next
    NONE = 0
    DONATE = 1
    RECLAIM = 2


# --- register words with fields ------------------------------------------------------------------

class Word:
    """A 64-bit register value (or little-endian memory word) made of bit fields.

    `fields` are (name, lsb, width); gaps are reserved and read back as `_resN`. `construct` is
    the BitStruct of the word (most significant field first, as BitStruct wants it, then
    byte-swapped for little endian); `decode`/`encode` use it. `get`/`put` are the plain
    shift-and-mask accessors derived from the same table, for loops over RTT entries."""

    def __init__(self, name, *fields):
        self.name = name
        self.fields = {n: (lsb, width) for n, lsb, width in fields}
        members, pos = [], 0
        for n, lsb, width in sorted(fields, key=lambda f: f[1]):
            if lsb > pos:
                members.append((f"_res{pos}", lsb - pos))
            members.append((n, width))
            pos = lsb + width
        if pos < 64:
            members.append((f"_res{pos}", 64 - pos))
        self.construct = ByteSwapped(BitStruct(
            *[n / Default(BitsInteger(width), 0) for n, width in reversed(members)]))

    def get(self, value, name):
        lsb, width = self.fields[name]
        return (value >> lsb) & ((1 << width) - 1)

    def put(self, name, field):
        lsb, width = self.fields[name]
        return (field & ((1 << width) - 1)) << lsb

    def mask(self, name):
        return self.put(name, -1)

    def reserved(self, value):
        """The bits of `value` outside every field."""
        used = 0
        for name in self.fields:
            used |= self.mask(name)
        return value & ~used & M64

    def decode(self, value):
        return self.construct.parse((value & M64).to_bytes(8, "little"))

    def encode(self, **fields):
        return int.from_bytes(self.construct.build(fields), "little")


# X0: RmiResult; for RMI_INCOMPLETE the upper bits are RmiResultDataIncomplete (digest 1.1)
RmiResult = Word("RmiResult", ("status", 0, 8), ("index", 8, 8))
RmiResultIncomplete = Word("RmiResultDataIncomplete", ("status", 0, 8), ("mem_req", 8, 2),
                           ("can_cancel", 10, 1))

# Feature registers (digest 4.4)
RmiFeatureRegister0 = Word(
    "RmiFeatureRegister0", ("s2sz", 0, 8), ("lpa2", 8, 1), ("sve_en", 9, 1), ("sve_vl", 10, 4),
    ("num_bps", 14, 6), ("num_wps", 20, 6), ("pmu_en", 26, 1), ("pmu_num_ctrs", 27, 5))
RmiFeatureRegister1 = Word(
    "RmiFeatureRegister1", ("rmi_gran_sz_4k", 0, 1), ("rmi_gran_sz_16k", 1, 1),
    ("rmi_gran_sz_64k", 2, 1), ("hash_sha_256", 3, 1), ("hash_sha_384", 4, 1),
    ("hash_sha_512", 5, 1), ("max_recs_order", 6, 4), ("l0gptsz", 10, 4), ("pps", 14, 3))
RmiFeatureRegister2 = Word(
    "RmiFeatureRegister2", ("da_en", 0, 1), ("da_coh", 1, 1), ("vsmmu", 2, 1), ("ats", 3, 1),
    ("max_vdevs_order", 4, 4), ("vdev_krou", 8, 1), ("non_tee_stream", 9, 1))
RmiFeatureRegister3 = Word(
    "RmiFeatureRegister3", ("max_num_aux_planes", 0, 4), ("rtt_plane", 4, 2),
    ("rtt_s2ap_indirect", 6, 1))
RmiFeatureRegister4 = Word("RmiFeatureRegister4", ("mec_count", 0, 64))
FEATURE_REGISTERS = (RmiFeatureRegister0, RmiFeatureRegister1, RmiFeatureRegister2,
                     RmiFeatureRegister3, RmiFeatureRegister4)

# Flags words (digest 4.1.1, 4.2, 4.3.1, 4.7)
RmiRealmFlags0 = Word("RmiRealmFlags0", ("lpa2", 0, 1), ("sve", 1, 1), ("pmu", 2, 1),
                      ("da", 3, 1), ("mec_policy", 7, 2))
RmiRealmFlags1 = Word("RmiRealmFlags1", ("rtt_tree_pp", 0, 1), ("s2ap_enc", 1, 1))
RmiRecCreateFlags = Word("RmiRecCreateFlags", ("runnable", 0, 1))
RmiRecMpidr = Word("RmiRecMpidr", ("aff0", 0, 4), ("aff1", 8, 8), ("aff2", 16, 8),
                   ("aff3", 24, 8))
RmiRecEnterFlags = Word(
    "RmiRecEnterFlags", ("emul_mmio", 0, 1), ("inject_sea", 1, 1), ("trap_wfi", 2, 1),
    ("trap_wfe", 3, 1), ("ripas_response", 4, 1), ("s2ap_response", 5, 1),
    ("dev_mem_response", 6, 1), ("force_p0", 7, 1))
RmiAddrRangeDesc = Word("RmiAddrRangeDesc", ("sz", 0, 2), ("cnt", 2, 10), ("addr", 12, 40),
                        ("st", 63, 1))
RmiOpMemDonateReq = Word("RmiOpMemDonateReq", ("sz", 0, 2), ("cnt", 2, 14), ("contig", 16, 1),
                         ("state", 17, 1))
RmiOpMemReclaimFlags = Word("RmiOpMemReclaimFlags", ("state", 0, 1))
RmiContinueFlags = Word("RmiContinueFlags", ("stop", 0, 1))
RmiRttProtMapFlags = Word("RmiRttProtMapFlags", ("oaddr_type", 0, 2), ("list_count", 2, 14))
RmiRttUnprotMapFlags = Word("RmiRttUnprotMapFlags", ("oaddr_type", 0, 2),
                            ("list_count", 2, 14), ("memattr", 16, 3), ("s2ap", 19, 4))
RmiRttUnmapFlags = Word("RmiRttUnmapFlags", ("oaddr_type", 0, 2), ("list_count", 2, 14))
RmiS2apDirect = Word("RmiS2apDirect", ("write", 0, 1), ("read", 1, 1))
# ICH_LR<n>_EL2, as REC_ENTER checks them (digest 5.15 step 8)
IchLr = Word("ICH_LR_EL2", ("vintid", 0, 32), ("pintid", 32, 13), ("priority", 48, 8),
             ("group", 60, 1), ("hw", 61, 1), ("state", 62, 2))

ADDR_BLOCK_SHIFT = (12, 21, 30, 39)   # RmiAddrBlockSize SZ 0..3: 4 KB, 2 MB, 1 GB, 512 GB
ADDR_LIST_MAX = GRANULE_SIZE // 8     # 512 descriptors, never crossing the list's granule
DESC_MAX_CNT = 1023
DONATE_MAX_CNT = (1 << 14) - 1


class AddrType(IntEnum):           # RmiAddrType (OADDR_TYPE)
    NONE = 0
    SINGLE = 1
    LIST = 2


class MemState(IntEnum):           # RmiOpMemState (descriptor ST / donate STATE)
    DELEGATED = 0
    UNDELEGATED = 1


class HashAlgorithm(IntEnum):      # RmiHashAlgorithm
    SHA_256 = 0
    SHA_512 = 1
    SHA_384 = 2


class MecPolicy(IntEnum):
    SHARED = 0
    PRIVATE = 1


class RttEntryState(IntEnum):      # RmiRttEntryState (digest 4.8)
    UNASSIGNED = 0
    ASSIGNED = 1
    TABLE = 2
    ASSIGNED_DEV = 3
    AUX_DESTROYED = 5


class Ripas(IntEnum):              # RmiRipas
    EMPTY = 0
    RAM = 1
    DESTROYED = 2
    DEV = 3


class RecExitReason(IntEnum):      # RmiRecExitReason (digest 4.3.3)
    SYNC = 0
    IRQ = 1
    FIQ = 2
    PSCI = 3
    RIPAS_CHANGE = 4
    HOST_CALL = 5
    SERROR = 6
    S2AP_CHANGE = 7
    VDEV_REQUEST = 8
    DEV_MEM_MAP = 9
    VDEV_P2P_BINDING = 10


class MemCategory(IntEnum):        # RmiMemCategory
    CONVENTIONAL = 0
    DEV_NCOH = 1
    DEV_COH = 2


class TrackingRegionState(IntEnum):
    RESERVED = 0
    NONE = 1
    FINE = 2
    COARSE = 3


RMI_MEASURE_CONTENT = 1            # RmiDataMeasureContent
RMI_NO_MEASURE_CONTENT = 0
PSCI_SUCCESS = 0
PSCI_NOT_SUPPORTED = -1 & M64
PSCI_INVALID_PARAMETERS = -2 & M64
PSCI_DENIED = -3 & M64
PSCI_ALREADY_ON = -4 & M64
PSCI_OFF, PSCI_ON = 1, 0           # AFFINITY_INFO results
PSCI_CPU_ON_FIDS = (0x84000003, 0xC4000003)
PSCI_AFFINITY_INFO_FIDS = (0x84000004, 0xC4000004)


# --- structures in host memory -------------------------------------------------------------------

def layout(size, *fields):
    """A Struct of `size` bytes with each (offset, name, subcon) at its offset; the gaps are
    reserved (zero when built, ignored when parsed). Fields default to zero."""
    members, pos = [], 0
    for offset, name, subcon in fields:
        if offset < pos:
            raise ValueError(f"{name} at {offset:#x} overlaps the previous field")
        if offset > pos:
            members.append(Padding(offset - pos))
        members.append(name / Default(subcon, _zero(subcon)))
        pos = offset + subcon.sizeof()
    if pos < size:
        members.append(Padding(size - pos))
    return Struct(*members)


def _zero(subcon):
    if isinstance(subcon, Bytes):
        return bytes(subcon.sizeof())
    if isinstance(subcon, Array):
        return [0] * subcon.count
    return 0


# RmiRealmParams (digest 4.1): narrow fields are read with TF-RMM's widths
RmiRealmParams = layout(
    GRANULE_SIZE,
    (0x000, "flags0", Int64ul),
    (0x008, "s2sz", Int32ul),
    (0x010, "sve_vl", Int32ul),
    (0x018, "num_bps", Int32ul),
    (0x020, "num_wps", Int32ul),
    (0x028, "pmu_num_ctrs", Int32ul),
    (0x030, "algorithm", Int8ul),
    (0x038, "num_aux_planes", Int32ul),
    (0x400, "rpv", Bytes(64)),
    (0x440, "ats_plane", Int64ul),
    (0x808, "rtt_base", Int64ul),
    (0x810, "rtt_level_start", Int64sl),
    (0x818, "rtt_num_start", Int32ul),
    (0x820, "flags1", Int64ul),
    (0xF80, "aux_rtt_base", Array(3, Int64ul)),
)
# The RmiRealmParams fields that the RIM measures (digest 4.12 step 1)
REALM_PARAMS_MEASURED = ("flags0", "s2sz", "sve_vl", "num_bps", "num_wps", "pmu_num_ctrs",
                         "algorithm")

REC_CREATE_NR_GPRS = 8
RmiRecParams = layout(
    GRANULE_SIZE,
    (0x000, "flags", Int64ul),
    (0x100, "mpidr", Int64ul),
    (0x200, "pc", Int64ul),
    (0x300, "gprs", Array(REC_CREATE_NR_GPRS, Int64ul)),
)
REC_PARAMS_MEASURED = ("flags", "pc", "gprs")      # mpidr is not measured (digest 4.12 step 3)

REC_RUN_GPRS = 31
REC_ENTER_READ_SIZE = 0x300                        # TF-RMM reads only this much of RmiRecEnter
RmiRecEnter = layout(
    REC_ENTER_READ_SIZE,
    (0x000, "flags", Int64ul),
    (0x200, "gprs", Array(REC_RUN_GPRS, Int64ul)),
)
REC_EXIT_OFFSET = 0x800
RmiRecExit = layout(
    0x800,
    (0x000, "exit_reason", Int64ul),
    (0x100, "esr", Int64ul),
    (0x108, "far", Int64ul),
    (0x110, "hpfar", Int64ul),
    (0x118, "rtt_tree", Int64ul),
    (0x120, "rtt_level", Int64ul),
    (0x200, "gprs", Array(REC_RUN_GPRS, Int64ul)),
    (0x400, "cntp_ctl", Int64ul),
    (0x408, "cntp_cval", Int64ul),
    (0x410, "cntv_ctl", Int64ul),
    (0x418, "cntv_cval", Int64ul),
    (0x500, "ripas_base", Int64ul),
    (0x508, "ripas_top", Int64ul),
    (0x510, "ripas_value", Int8ul),
    (0x520, "s2ap_base", Int64ul),
    (0x528, "s2ap_top", Int64ul),
    (0x530, "vdev_id_1", Int64ul),
    (0x538, "vdev_id_2", Int64ul),
    (0x540, "dev_mem_base", Int64ul),
    (0x548, "dev_mem_top", Int64ul),
    (0x550, "dev_mem_pa", Int64ul),
    (0x600, "imm", Int32ul),
    (0x608, "plane", Int64ul),
    (0x700, "pmu_ovf_status", Int64ul),
)
RmiRecRun = layout(
    GRANULE_SIZE,
    (0x000, "enter", RmiRecEnter),
    (REC_EXIT_OFFSET, "exit", RmiRecExit),
)

RmiRmmConfig = layout(
    GRANULE_SIZE,
    (0x000, "tracking_region_size", Int64ul),
    (0x008, "rmi_granule_size", Int64ul),
)

# RIM measurement descriptors (digest 4.12; rsi-measurement-attestation.md 3.4/3.5)
MEASUREMENT_SLOT_SIZE = 64
MEASURE_DESC_TYPE_DATA, MEASURE_DESC_TYPE_REC = 0, 1
MEASURE_DESC_SIZE = 0x100
RmmMeasurementDescriptorData = layout(
    MEASURE_DESC_SIZE,
    (0x00, "desc_type", Int8ul),
    (0x08, "len", Int64ul),
    (0x10, "rim", Bytes(MEASUREMENT_SLOT_SIZE)),
    (0x50, "ipa", Int64ul),
    (0x58, "flags", Int64ul),
    (0x60, "content", Bytes(MEASUREMENT_SLOT_SIZE)),
)
RmmMeasurementDescriptorRec = layout(
    MEASURE_DESC_SIZE,
    (0x00, "desc_type", Int8ul),
    (0x08, "len", Int64ul),
    (0x10, "rim", Bytes(MEASUREMENT_SLOT_SIZE)),
    (0x50, "content", Bytes(MEASUREMENT_SLOT_SIZE)),
)


# --- result packing ------------------------------------------------------------------------------

def result(status, index=0):
    """X0 for `status` with `index` (an RTT level is cast to 8 bits: level -1 is 0xFF)."""
    return RmiResult.put("status", status) | RmiResult.put("index", index)


def rtt_error(level):
    return result(Status.ERROR_RTT, level)


def incomplete(mem_req=MemReq.NONE):
    return RmiResultIncomplete.put("status", Status.INCOMPLETE) | RmiResultIncomplete.put(
        "mem_req", mem_req)


def status_of(x0):
    return RmiResult.get(x0, "status")


def desc(addr, cnt, sz=0, st=MemState.DELEGATED):
    """An RmiAddrRangeDesc word."""
    return (RmiAddrRangeDesc.put("addr", addr >> GRANULE_SHIFT) | RmiAddrRangeDesc.put("cnt", cnt)
            | RmiAddrRangeDesc.put("sz", sz) | RmiAddrRangeDesc.put("st", st))


def desc_fields(word):
    """(base PA, count, SZ, ST) of an RmiAddrRangeDesc word."""
    g = RmiAddrRangeDesc.get
    return g(word, "addr") << GRANULE_SHIFT, g(word, "cnt"), g(word, "sz"), g(word, "st")


def donate_req(cnt, sz=0, contig=0, state=MemState.DELEGATED):
    return (RmiOpMemDonateReq.put("sz", sz) | RmiOpMemDonateReq.put("cnt", cnt)
            | RmiOpMemDonateReq.put("contig", contig) | RmiOpMemDonateReq.put("state", state))


def parse(struct, data):
    return struct.parse(data)


def build(struct, **fields):
    return struct.build(Container(**fields))
