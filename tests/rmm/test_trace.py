"""The strace-like call trace."""

from rmm_testbed import RAM, G, Host

from machine.rmm.abi import SMC_UNKNOWN, Fid, desc, rtt_error
from machine.rmm.trace import format_call


def traced():
    lines = []
    host = Host(trace=lines.append)
    host.boot()
    return host, lines


def test_lines_name_decode_and_report():
    host, lines = traced()
    rd, roots = host.realm_create(rpv=b"\x01" * 64)
    assert lines[-1].startswith(f"RMI_REALM_CREATE(rd={rd:#x}, params=")
    assert "= RMI_SUCCESS params={s2sz=40, num_bps=1, num_wps=1, " in lines[-1]
    assert f"rtt_base={roots:#x}" in lines[-1] and "rpv" not in lines[-1]
    host.call(Fid.RTT_CREATE, rd, host.delegated(), 1 << 30, 3)
    assert lines[-1].endswith("level=3) = RMI_ERROR_RTT(level 1)")
    host.call(Fid.RTT_READ_ENTRY, rd, RAM, (1 << 64) - 1)
    assert "level=-1) = RMI_ERROR_INPUT" in lines[-1]
    rec = host.delegated()
    host.call(Fid.REC_CREATE, rd, rec, host.scratch)
    assert lines[-1] == (f"RMI_REC_CREATE(rd={rd:#x}, rec={rec:#x}, params={host.scratch:#x}) = "
                         "RMI_INCOMPLETE[DONATE] handle=0 donate_req={cnt=16}")
    aux = host.delegated()
    host.call(Fid.OP_MEM_DONATE, 0, host.write_list([desc(aux, 1)]), 1)
    assert lines[-1].endswith(f"= RMI_INCOMPLETE[DONATE] consumed=1 donate_req={{cnt=15}} "
                              f"descs=[{aux:#x}+1x4K]")
    host.call(Fid.RTT_DATA_MAP, rd, RAM, RAM + G, 1 | (1 << 2), 0)
    assert "flags={list_count=1, oaddr_type=1}" in lines[-1]
    host.call(0xC4000151, 1, 2)
    assert lines[-1].startswith("SMC(0xc4000151, 0x1, 0x2") and lines[-1].endswith("SMC_UNKNOWN")


def test_format_call_without_engine():
    regs_in = [Fid.RTT_FOLD, 0x8800_0000, RAM, 3] + [0] * 14
    regs_out = [rtt_error(3), 0, 0, 0] + [0] * 14
    assert format_call(regs_in, regs_out) == (
        "RMI_RTT_FOLD(rd=0x88000000, ipa=0x80000000, level=3) = RMI_ERROR_RTT(level 3)")
    regs_out = [0, 0x8800_3000] + [0] * 16
    assert format_call(regs_in, regs_out).endswith("= RMI_SUCCESS rtt=0x88003000")
    assert format_call([Fid.VERSION, 0x10000] + [0] * 16, [SMC_UNKNOWN] + [0] * 17).endswith(
        "= SMC_UNKNOWN")
