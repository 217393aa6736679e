"""One strace-like line per RMI call:

    RMI_RTT_CREATE(rd=0x88000000, rtt=0x88003000, ipa=0x80000000, level=2) = RMI_SUCCESS
    RMI_REC_CREATE(rd=.., rec=.., params=..) = RMI_INCOMPLETE[DONATE] handle=0 donate_req={cnt=16}

Register words with fields are decoded through their abi.Word; structures the engine read or
wrote (RmiRealmParams, RmiRecParams, RmiRecEnter/Exit, address lists) come from the engine's
`decoded` mapping, already parsed by the abi construct definitions.
"""

from collections.abc import Mapping

from .abi import (
    COMMANDS,
    SMC_UNKNOWN,
    SVE_HINT,
    Fid,
    MemCategory,
    MemReq,
    RecExitReason,
    Ripas,
    RmiContinueFlags,
    RmiFunctionId,
    RmiOpMemDonateReq,
    RmiResult,
    RmiResultIncomplete,
    RmiRttProtMapFlags,
    RmiRttUnmapFlags,
    RmiRttUnprotMapFlags,
    RmiStatusCode,
    RttEntryState,
    Status,
    TrackingRegionState,
    desc_fields,
)

_UNMAPS = (Fid.RTT_DATA_UNMAP, Fid.RTT_UNPROT_UNMAP, Fid.RTT_DEV_UNMAP)
ARG_WORDS = {
    **{(f, "flags"): RmiRttProtMapFlags for f in (Fid.RTT_DATA_MAP, Fid.RTT_DEV_MAP)},
    (Fid.RTT_UNPROT_MAP, "flags"): RmiRttUnprotMapFlags,
    **{(f, "flags"): RmiRttUnmapFlags for f in _UNMAPS},
    (Fid.OP_CONTINUE, "flags"): RmiContinueFlags,
}
OUT_WORDS = {
    **{(f, "donate_req"): RmiOpMemDonateReq for f in Fid},
    **{(f, "desc"): None for f in _UNMAPS},     # an RmiAddrRangeDesc, shown as a range
}
BLOCK_NAMES = ("4K", "2M", "1G", "512G")
OUT_ENUMS = {
    (Fid.RTT_READ_ENTRY, "state"): RttEntryState,
    (Fid.RTT_READ_ENTRY, "ripas"): Ripas,
    (Fid.GRANULE_TRACKING_GET, "category"): MemCategory,
    (Fid.GRANULE_TRACKING_GET, "state"): TrackingRegionState,
}
SIGNED_ARGS = ("level",)
HIDDEN_FIELDS = ("rpv",)


def _hex(value):
    return f"{value:#x}"


def _num(value):
    """Small numbers (counts, levels, sizes in bits) in decimal, the rest in hex."""
    return str(value) if value < 4096 else _hex(value)


def format_range(word):
    """An RmiAddrRangeDesc as base+count x block size (UNDELEGATED marked)."""
    base, cnt, sz, st = desc_fields(word)
    return f"{base:#x}+{cnt}x{BLOCK_NAMES[sz]}" + ("(U)" if st else "")


def _fields(container):
    """`{a=1, b=0x10}` of the non-zero public fields of a parsed structure or word."""
    parts = []
    for name, value in container.items():
        if name.startswith("_") or name in HIDDEN_FIELDS or not value:
            continue
        if isinstance(value, list) and not any(value):
            continue
        if isinstance(value, Mapping):
            parts.append(f"{name}={_fields(value)}")
        elif isinstance(value, list):
            while not value[-1]:
                value = value[:-1]
            parts.append(f"{name}=[{', '.join(_num(v) for v in value)}]")
        elif isinstance(value, bytes):
            parts.append(f"{name}={value.hex()}")
        else:
            parts.append(f"{name}={_num(value)}")
    return "{" + ", ".join(parts) + "}"


def _word(word, value):
    return _fields(word.decode(value))


def _arg(fid, name, value):
    if name in SIGNED_ARGS and value >> 63:
        return f"{name}={value - (1 << 64)}"
    word = ARG_WORDS.get((fid, name))
    if word is not None:
        return f"{name}={_word(word, value)}"
    return f"{name}={_num(value)}"


def format_status(x0):
    """X0 as the host sees it: status name (RmiStatusCode), RTT level or INCOMPLETE request."""
    if x0 == SMC_UNKNOWN:
        return "SMC_UNKNOWN"
    result = RmiResult.decode(x0)
    if x0 >> 16:
        return _hex(x0)
    name = RmiStatusCode.parse(bytes([result.status]))
    if isinstance(name, int):                  # not a status code
        return _hex(x0)
    name = f"RMI_{name}"
    if result.status == Status.INCOMPLETE:
        mem_req = RmiResultIncomplete.get(x0, "mem_req")
        label = MemReq(mem_req).name if mem_req in MemReq._value2member_map_ else mem_req
        return f"{name}[{label}]"
    if result.status in (Status.ERROR_RTT, Status.ERROR_RTT_AUX):
        index = result.index
        return f"{name}(level {index - 256 if index > 127 else index})"
    return name


def _outputs(fid, command, regs_out):
    if regs_out[0] == SMC_UNKNOWN:
        return []
    status = RmiResult.get(regs_out[0], "status")
    parts = []
    for i, name in enumerate(command.outs, start=1):
        value = regs_out[i]
        words = (fid, name) in OUT_WORDS
        if not value and (words or status not in (Status.SUCCESS, Status.INCOMPLETE)):
            continue
        enum = OUT_ENUMS.get((fid, name))
        if enum is not None and value in enum._value2member_map_:
            parts.append(f"{name}={enum(value).name}")
        elif words:
            word = OUT_WORDS[(fid, name)]
            parts.append(f"{name}={format_range(value) if word is None else _word(word, value)}")
        else:
            parts.append(f"{name}={_num(value)}")
    return parts


def _decoded(decoded):
    parts = []
    for name, value in decoded.items():
        if isinstance(value, Mapping):
            if name == "exit" and "exit_reason" in value:
                reason = value["exit_reason"]
                label = RecExitReason(reason).name if reason < 11 else _hex(reason)
                rest = {k: v for k, v in value.items() if k != "exit_reason"}
                parts.append(f"exit={label} {_fields(rest)}")
            else:
                parts.append(f"{name}={_fields(value)}")
        elif isinstance(value, list):                 # address-range descriptors
            parts.append(f"{name}=[{', '.join(format_range(v) for v in value)}]")
        else:
            parts.append(f"{name}={value}")
    return parts


def format_call(regs_in, regs_out, decoded=None):
    """One line describing the RMI call `regs_in` and its result `regs_out`."""
    fid = regs_in[0] & 0xFFFF_FFFF & ~SVE_HINT
    command = COMMANDS.get(fid)
    if command is None:
        call = f"SMC({_hex(regs_in[0])}, {', '.join(_hex(r) for r in regs_in[1:7])})"
        return f"{call} = {format_status(regs_out[0])}"
    name = RmiFunctionId.parse(fid.to_bytes(4, "little"))
    fid = Fid(fid)
    args = ", ".join(_arg(fid, arg, regs_in[i]) for i, arg in enumerate(command.args, 1))
    line = f"RMI_{name}({args}) = {format_status(regs_out[0])}"
    extra = _outputs(fid, command, regs_out) + _decoded(decoded or {})
    return " ".join([line, *extra])
