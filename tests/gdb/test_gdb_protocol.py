"""The stub without gdb: packet framing and escaping, the register layout and target
description, and the server's answers to hand-written packets over a raw socket, for a
tiny hand-assembled program on a bare CPU served in a thread."""

import socket
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from machine.api import Cpu
from machine.gdbstub import AARCH64, KILLED, CpuTarget, GdbServer, packets
from machine.gdbstub.features import CORE, FPU, SYSREGS

# --- framing --------------------------------------------------------------------------------


def test_frame_and_checksum():
    assert packets.frame(b"OK") == b"$OK#9a"
    assert packets.frame(b"") == b"$#00"
    assert packets.checksum(b"qSupported") == sum(b"qSupported") & 0xFF


def test_escape_round_trip_every_byte():
    data = bytes(range(256)) * 2
    escaped = packets.escape(data)
    for special in b"$#*":
        assert special not in escaped
    assert escaped.count(b"}") == 2 * 4          # '}' itself is escaped as '}' ']'
    assert packets.decode(escaped) == data
    assert packets.escape(b"a}b") == b"a}]b" and packets.escape(b"#") == b"}\x03"


def test_run_length_decoding():
    assert packets.decode(b"0* ") == b"0" * 4           # ' ' = 32: 3 more repeats
    assert packets.decode(b"x*\"y") == b"x" * 6 + b"y"
    assert packets.decode(b"*!") == b"*!"                # nothing to repeat: literal


def test_reader_events():
    reader = packets.PacketReader()
    events = reader.feed(b"+$m0,4#fd-\x03$g#67junk$g#00")
    assert events == [("ack", b""), ("packet", b"m0,4"), ("nak", b""), ("interrupt", b""),
                      ("packet", b"g"), ("bad", b"g")]


def test_reader_split_input_and_binary_data():
    reader = packets.PacketReader()
    payload = b"X10,3:" + packets.escape(b"\x03#}")
    wire = packets.frame(payload)
    events = []
    for b in wire:
        events += reader.feed(bytes([b]))
    assert events == [("packet", b"X10,3:\x03#}")]


def test_reader_drops_overlong_packets():
    reader = packets.PacketReader()
    events = reader.feed(b"$" + b"A" * (packets.MAX_RAW + 10) + b"#00$g#67")
    assert events[0] == ("bad", b"") and events[-1] == ("packet", b"g")


@pytest.mark.parametrize("text", ["", "0x10", " 1", "1_0", "+1", "g", "1" * 17, "-1"])
def test_parse_hex_is_strict(text):
    with pytest.raises(packets.PacketError):
        packets.parse_hex(text)


def test_parse_thread_id():
    assert packets.parse_thread_id("-1") == -1
    assert packets.parse_thread_id("0") == 0
    assert packets.parse_thread_id("1f") == 0x1F
    assert packets.parse_thread_id("p1.2") == 2
    assert packets.parse_thread_id("p1.-1") == -1


# --- register layout and description ----------------------------------------------------------


def test_register_layout_matches_gdb():
    regs = AARCH64.registers
    assert [r.regnum for r in regs] == list(range(len(regs)))
    names = [r.name for r in regs]
    assert names[:34] == [f"x{n}" for n in range(31)] + ["sp", "pc", "cpsr"]
    assert names[34:66] == [f"v{n}" for n in range(32)] and names[66:68] == ["fpsr", "fpcr"]
    assert AARCH64.by_name["cpsr"].bitsize == 32 and AARCH64.by_name["v0"].bitsize == 128
    assert AARCH64.g_size == 31 * 8 + 8 + 8 + 4 + 32 * 16 + 4 + 4 == 788
    assert all(r.feature == SYSREGS for r in regs[68:])
    for name in ("CurrentEL", "SecurityState", "SCR_EL3", "HCR_EL2", "SCTLR_EL1", "TCR_EL2",
                 "TTBR0_EL3", "TTBR1_EL1", "VBAR_EL2", "ESR_EL2", "FAR_EL1", "ELR_EL3",
                 "SPSR_EL2", "VTTBR_EL2", "VTCR_EL2", "GPCCR_EL3", "GPTBR_EL3"):
        assert name in AARCH64.by_name, name


def test_target_xml_and_features():
    annexes = AARCH64.annexes
    target = ET.fromstring(annexes["target.xml"])
    assert target.find("architecture").text == "aarch64"
    includes = [e.get("href") for e in target if e.tag.endswith("include")]
    assert set(includes) == set(annexes) - {"target.xml"}
    seen = {}
    for name in includes:
        feature = ET.fromstring(annexes[name])
        seen[feature.get("name")] = [r.get("name") for r in feature.iter("reg")]
    assert seen[CORE][-3:] == ["sp", "pc", "cpsr"] and len(seen[CORE]) == 34
    assert len(seen[FPU]) == 34 and seen[FPU][0] == "v0"
    fpu = ET.fromstring(annexes["aarch64-fpu.xml"])
    assert fpu.find("reg").get("regnum") == "34" and fpu.find("reg").get("type") == "aarch64v"
    sysregs = ET.fromstring(annexes["fvp-rme-sysregs.xml"])
    first = sysregs.find("reg")
    assert first.get("regnum") == "68" and first.get("name") == "CurrentEL"
    assert all(r.get("save-restore") == "no" for r in sysregs.iter("reg"))


# --- the server over a raw socket --------------------------------------------------------------

CODE, DATA = 0x1000, 0x2000
LOOP = [0xD2800000,     # movz x0, #0
        0x91000400,     # loop: add x0, x0, #1
        0xF9000020,     # str x0, [x1]
        0x17FFFFFE]     # b loop
EXIT = [0xD2800540,     # movz x0, #42
        0xD4200000]     # brk #0


def make_cpu(words):
    cpu = Cpu(el=1)
    cpu.map(CODE, 0x2000)
    cpu.write(CODE, b"".join(w.to_bytes(4, "little") for w in words))
    cpu.set_reg("pc", CODE)
    cpu.set_reg("x1", DATA)
    return cpu


@pytest.fixture
def served(rsp):
    """serve(words) -> (client, server, thread) with the server in a thread."""
    started = []
    clients = []

    def serve(words=LOOP, **target_options):
        target = CpuTarget(make_cpu(words), **target_options)
        server = GdbServer(target, port=0)
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault(
            "value", server.serve_forever(wait=True)), daemon=True)
        thread.start()
        started.append((server, thread))
        client = rsp(server.host, server.port)
        client.result = result
        clients.append(client)
        return client, server, thread
    yield serve
    for client in clients:
        client.close()
    for server, thread in started:
        if thread.is_alive():
            server.finished = True
            try:                    # wake the server's select()
                socket.create_connection((server.host, server.port), 1).close()
            except OSError:
                pass
            thread.join(5)


def le64(value):
    return value.to_bytes(8, "little").hex().encode()


def test_handshake_and_unknown_packets(served):
    client, _, _ = served()
    reply = client.cmd("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
    for feature in (b"PacketSize=4000", b"qXfer:features:read+", b"qXfer:threads:read+",
                    b"vContSupported+", b"swbreak+", b"hwbreak+", b"QStartNoAckMode+"):
        assert feature in reply.split(b";")
    assert client.cmd("vMustReplyEmpty") == b""
    assert client.cmd("qNoSuchThing") == b""
    assert client.cmd("!") == b""
    assert client.cmd("?") == b"T05thread:1;"
    assert client.cmd("qAttached") == b"1"
    assert client.cmd("qC") == b"QC1"
    assert client.cmd("qfThreadInfo") == b"m1" and client.cmd("qsThreadInfo") == b"l"
    assert bytes.fromhex(client.cmd("qThreadExtraInfo,1").decode()) == b"EL1 Non-secure"
    assert client.cmd("T1") == b"OK" and client.cmd("T2") == b"E16"
    assert client.cmd("Hg2") == b"E16" and client.cmd("Hg1") == b"OK"
    assert client.cmd("vCont?") == b"vCont;c;C;s;S;t"


def test_bad_checksum_is_nakked_and_noack_mode(served):
    client, _, _ = served()
    client.send_raw(b"$g#00")
    assert client.expect_ack() == b"-"
    client.send_raw(b"$?#3f")
    assert client.expect_ack() == b"+"
    assert client.read_packet() == b"T05thread:1;"
    assert client.cmd("QStartNoAckMode") == b"OK"
    client.ack = False
    client.send_raw(b"$?#3f")
    assert client.read_packet() == b"T05thread:1;"      # no '+' in front any more
    assert client.buf == b""


def test_g_packet_is_the_description_size(served):
    client, _, _ = served()
    reply = client.cmd("g")
    assert len(reply) == 2 * AARCH64.g_size == 1576
    assert reply[32 * 16:33 * 16] == le64(CODE)                 # pc
    assert reply[33 * 16:33 * 16 + 8] == (0x3C5).to_bytes(4, "little").hex().encode()
    assert client.cmd("p44") == (4).to_bytes(8, "little").hex().encode()     # CurrentEL
    assert client.cmd("P44=" + "08" + "00" * 7) == b"E16"      # read-only
    assert client.cmd("p1000") == b"E16" and client.cmd("pzz") == b"E01"
    assert client.cmd("P1=" + le64(0x1234).decode()) == b"OK"
    assert client.cmd("p1") == le64(0x1234)
    assert client.cmd("G" + reply.decode()) == b"OK"
    assert client.cmd("p1") == le64(DATA)
    # cpsr: a write that changes EL moves the CPU to EL2 (SP_EL2)
    assert client.cmd("P21=c9030000") == b"OK"
    assert client.cmd("p44") == (8).to_bytes(8, "little").hex().encode()
    assert client.cmd("P21=d0030000") == b"E16"                 # nRW: AArch32


def test_memory_read_write_and_binary(served):
    client, _, _ = served()
    assert client.cmd(f"m{CODE:x},8") == (LOOP[0] | LOOP[1] << 32).to_bytes(8, "little").hex(
    ).encode()
    assert client.cmd(f"M{DATA:x},4:deadbeef") == b"OK"
    assert client.cmd(f"m{DATA:x},4") == b"deadbeef"
    data = b"$#}*\x03\x00\xff"
    client.send(f"X{DATA:x},{len(data):x}:".encode() + packets.escape(data))
    assert client.read_packet() == b"OK"
    assert client.cmd(f"m{DATA:x},{len(data):x}") == data.hex().encode()
    assert client.cmd(f"X{DATA:x},0:") == b"OK"
    assert client.cmd("m80000000,4") == b"E0e"                 # nothing mapped there
    assert client.cmd(f"m{CODE + 0x1ffc:x},8") == b"00000000"   # stops at the end of RAM
    assert client.cmd(f"m{CODE:x},ffffff") == b"E16"
    assert client.cmd(f"M{DATA:x},4:dead") == b"E16"
    assert client.cmd("mffffffffffffffff,10") == b"E0e"


def test_breakpoints_report_their_kind(served):
    client, _, _ = served()
    client.cmd("qSupported:swbreak+;hwbreak+")
    assert client.cmd(f"Z0,{CODE + 8:x},4") == b"OK"
    assert client.cmd("vCont;c") == b"T05thread:1;swbreak:;"
    assert client.cmd("p20") == le64(CODE + 8)
    assert client.cmd("p0") == le64(1)
    assert client.cmd("vCont;c") == b"T05thread:1;swbreak:;"     # next time round
    assert client.cmd("p0") == le64(2)
    assert client.cmd(f"z0,{CODE + 8:x},4") == b"OK"
    assert client.cmd(f"Z1,{CODE + 4:x},4") == b"OK"
    assert client.cmd("c") == b"T05thread:1;hwbreak:;"
    assert client.cmd("s") == b"T05thread:1;"
    assert client.cmd("p20") == le64(CODE + 8)
    assert client.cmd("Z9,0,0") == b""


def test_watchpoint_and_its_step_over(served):
    client, _, _ = served()
    assert client.cmd(f"Z2,{DATA:x},8") == b"OK"
    assert client.cmd("vCont;c") == f"T05thread:1;watch:{DATA:x};".encode()
    pc = client.cmd("p20")
    assert pc == le64(CODE + 12)                # stopped after the store
    assert client.cmd(f"z2,{DATA:x},8") == b"OK"
    # gdb's step over the watchpoint: answered at once, the store is done already
    assert client.cmd("vCont;s:1") == b"T05thread:1;"
    assert client.cmd("p20") == pc
    assert client.cmd(f"Z3,{DATA:x},8") == b"OK"
    assert client.cmd(f"Z4,{DATA + 4:x},4") == b"OK"
    assert client.cmd("vCont;s:1") == b"T05thread:1;"           # a real step this time
    assert client.cmd("p20") == le64(CODE + 4)
    assert client.cmd("vCont;c") == f"T05thread:1;awatch:{DATA + 4:x};".encode()
    assert client.cmd(f"Z2,0,{1 << 24:x}") == b"E16"            # too long a range


def test_interrupt_and_threads_xml(served):
    client, server, _ = served()
    client.send("vCont;c:1")
    client.send_raw(b"\x03")
    assert client.read_packet() == b"T02thread:1;"
    xml = client.cmd("qXfer:threads:read::0,fff")
    assert xml.startswith(b"l")
    thread = ET.fromstring(packets.decode(xml[1:])).find("thread")
    assert thread.attrib == {"id": "1", "core": "0", "name": "cpu0"}
    assert thread.text == "EL1 Non-secure"


def test_features_read_in_chunks(served):
    client, _, _ = served()
    for annex, data in AARCH64.annexes.items():
        got, offset = b"", 0
        while True:
            reply = client.cmd(f"qXfer:features:read:{annex}:{offset:x},100")
            got += packets.decode(reply[1:])
            offset += 0x100
            if reply[:1] == b"l":
                break
            assert reply[:1] == b"m"
        assert got == data
    assert client.cmd("qXfer:features:read:nope.xml:0,100") == b"E16"
    assert client.cmd("qXfer:features:read:target.xml:100000,100") == b"l"


def test_monitor(served):
    client, _, _ = served()
    assert client.cmd("qRcmd," + b"help".hex()) == b"OK"
    text = "".join(client.console)
    for name in ("help", "icount", "phys", "exceptions"):
        assert f"  {name}" in text
    client.console.clear()
    client.cmd(f"Z0,{CODE + 8:x},4")
    client.cmd("c")
    assert client.cmd("qRcmd," + b"icount".hex()) == b"OK"
    assert client.console == ["icount: 2\n"]
    client.console.clear()
    assert client.cmd("qRcmd," + b"phys realm".hex()) == b"OK"
    assert "Realm PAS" in client.console[0]
    assert client.cmd(f"m{CODE:x},4") == LOOP[0].to_bytes(4, "little").hex().encode()
    assert client.cmd("qRcmd," + b"nonsense".hex()) == b"OK"
    assert "unknown monitor command" in client.console[-1]
    assert client.cmd("qRcmd,zz") == b"E01"


def test_exit_and_kill(served):
    client, _, thread = served(EXIT, exit_on_brk=True)
    assert client.cmd("c") == b"W2a"
    assert client.cmd("?") == b"W2a"
    client.close()
    thread.join(5)
    assert client.result["value"] == 42
    client, _, thread = served(LOOP)
    client.send("k")
    client.close()
    thread.join(5)
    assert client.result["value"] == KILLED


def test_exception_stops_with_a_signal(served):
    client, _, _ = served([0xD4200020])           # brk #1
    assert client.cmd("c") == b"T05thread:1;"
    assert "BRK" in "".join(client.console)
    assert client.cmd("p20") == le64(0x200)       # VBAR_EL1 + 0x200: current EL, SP_EL1
    client.console.clear()
    client, _, _ = served([0xF9400020])           # ldr x0, [x1] with x1 unmapped
    client.cmd(f"P1={le64(0x9000_0000).decode()}")
    assert client.cmd("c") == b"T0bthread:1;"     # SIGSEGV


def test_detach_runs_on_and_reattach_stops(served, rsp):
    client, server, _ = served()
    assert client.cmd("D") == b"OK"
    client.close()                              # as gdb does after a detach
    other = rsp(server.host, server.port)
    assert other.cmd("?") == b"T05thread:1;"
    assert int.from_bytes(bytes.fromhex(other.cmd("p0").decode()), "little") > 0


def test_second_connection_is_refused(served, rsp):
    client, server, _ = served()
    assert client.cmd("?") == b"T05thread:1;"
    other = rsp(server.host, server.port)
    with pytest.raises((EOFError, ConnectionError)):
        other.cmd("?", timeout=5)
    assert client.cmd("qC") == b"QC1"


def test_exceptions_that_run_do_not_hang_the_server(served):
    client, _, _ = served([0xD4200020])           # brk #1, and no vector at VBAR_EL1 = 0
    assert client.cmd("qRcmd," + b"exceptions run".hex()) == b"OK"
    client.send("c")                              # faults at the vector, again and again
    time.sleep(0.2)
    client.send_raw(b"\x03")
    assert client.read_packet() == b"T02thread:1;"
    assert client.cmd("p20") == le64(0x200)
    assert client.cmd("s") == b"T05thread:1;"     # a step into the vector is just a step


def test_breakpoint_at_a_vector_with_exceptions_running(served):
    client, _, _ = served([0xD4000001])           # svc #0, vector at VBAR_EL1 + 0x200
    assert client.cmd(f"M200,4:{(0xD503201F).to_bytes(4, 'little').hex()}") == b"E0e"
    assert client.cmd("qRcmd," + b"exceptions run".hex()) == b"OK"
    assert client.cmd(f"Z0,{CODE + 0x200:x},4") == b"OK"
    vbar = AARCH64.by_name["VBAR_EL1"].regnum
    assert client.cmd(f"P{vbar:x}={le64(CODE).decode()}") == b"OK"
    assert client.cmd("c") == b"T05thread:1;"
    assert client.cmd("p20") == le64(CODE + 0x200)


def test_cpu_target_is_a_debug_target():
    from machine.gdbstub import DebugTarget

    assert isinstance(CpuTarget(make_cpu(LOOP)), DebugTarget)
