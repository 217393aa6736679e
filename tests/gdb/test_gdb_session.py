"""The stub against the real gdb-multiarch: the test program (tests/gdb/program) served by
`python -m machine.gdbstub` on a bare CPU at EL1, gdb driven through MI."""

import re
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gdb, pytest.mark.cross]


def source_line(text):
    """The line number of `text` in prog.c."""
    lines = (Path(__file__).parent / "program" / "prog.c").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_attach_names_the_context_and_stops_at_entry(session, program_symbols):
    frame = session.value("$pc")
    assert int(frame.split()[0], 16) == program_symbols["_start"]
    text = session.console("info threads")
    assert 'Thread 1 "cpu0" (EL1 Non-secure)' in text
    record, _ = session.mi("-thread-info")
    (thread,) = record["payload"]["threads"]
    assert thread["name"] == "cpu0" and thread["details"] == "EL1 Non-secure"


def test_break_continue_stepi(session):
    stop = session.run_to("square")
    assert stop["reason"] == "breakpoint-hit" and stop["frame"]["func"] == "square"
    assert stop["thread-id"] == "1"
    pc = int(session.value("$pc").split()[0], 16)
    session.mi("-exec-step-instruction")
    stop = session.wait_stopped()
    assert stop["reason"] == "end-stepping-range"
    assert int(session.value("$pc").split()[0], 16) == pc + 4
    # continuing stops at the breakpoint again, on the next call
    session.mi("-exec-continue")
    stop = session.wait_stopped()
    assert stop["reason"] == "breakpoint-hit" and session.value("x") == "2"


def test_registers(session):
    session.run_to("square")
    text = session.console("info registers")
    names = [line.split()[0] for line in text.splitlines() if line.strip()]
    for name in [f"x{n}" for n in range(31)] + ["sp", "pc", "cpsr"]:
        assert name in names
    assert re.search(r"^cpsr\s+0x[0-9a-f]+\s+\[ .*EL=1.*\]", text, re.M)
    text = session.console("info registers CurrentEL")
    assert re.search(r"CurrentEL\s+0x4\s+\[ EL=1 \]", text)
    assert "NonSecure" in session.console("info registers SecurityState")
    assert re.search(r"SCTLR_EL1\s+0x0\b", session.console("info registers SCTLR_EL1"))
    # x0 is square's argument: the first table entry
    assert session.value("$x0") == "1"
    record, _ = session.mi("-data-list-register-names")
    names = record["payload"]["register-names"]
    assert names[:34] == [f"x{n}" for n in range(31)] + ["sp", "pc", "cpsr"]
    assert names[34] == "v0" and names[66:68] == ["fpsr", "fpcr"]
    assert {"CurrentEL", "SCR_EL3", "HCR_EL2", "VTTBR_EL2", "GPCCR_EL3"} <= set(names)


def test_memory_globals_and_backtrace(session):
    session.run_to("square")
    text = session.console("x/8gx &table")
    values = [int(v, 16) for v in re.findall(r"0x([0-9a-f]{16})", text)]
    assert values == [1, 2, 3, 4, 5, 6, 7, 8]
    assert session.value("table[3]") == "4"
    assert session.value("sizeof(table)") == "64"
    record, _ = session.mi("-stack-list-frames")
    funcs = [f["func"] for f in record["payload"]["stack"]]
    assert funcs[:3] == ["square", "accumulate", "main"]
    text = session.console("bt")
    assert re.search(r"#0 .*square \(x=1\)", text) and "#2 " in text and "main ()" in text


def test_set_var_and_registers_write(session):
    session.run_to("accumulate")
    session.console("set var table[2] = 99")
    assert session.value("table[2]") == "99"
    text = session.console("x/1gx &table[2]")
    assert text.split()[-1] == "0x0000000000000063"
    session.console("set var $x5 = 0x1234")
    session.console("maint flush register-cache")
    assert session.value("$x5") == "4660"
    # the program sees gdb's write: 1 + 4 + 99*99 + 16 + ... (squares of the table)
    session.mi(f"-break-insert prog.c:{source_line('if (mode == 1)')}")
    session.mi("-exec-continue")
    session.wait_stopped()
    assert session.value("total") == str(sum(v * v for v in [1, 2, 99, 4, 5, 6, 7, 8]))


def test_watch_reports_the_new_value(session):
    record, _ = session.mi("-break-watch total")
    assert record["payload"]["wpt"]["exp"] == "total"
    session.mi("-exec-continue")
    stop = session.wait_stopped()
    assert stop["reason"] == "watchpoint-trigger"
    assert stop["value"] == {"old": "0", "new": str(sum(v * v for v in range(1, 9)))}
    assert stop["frame"]["func"] == "main"


def test_rwatch_and_hbreak(session):
    record, _ = session.mi("-break-watch -r mode")
    session.mi("-exec-continue")
    stop = session.wait_stopped()
    assert stop["reason"] == "read-watchpoint-trigger" and stop["frame"]["func"] == "main"
    session.mi("-break-delete")
    record, _ = session.mi("-break-insert -h spin")
    session.mi("-exec-continue")
    stop = session.wait_stopped()
    assert stop["reason"] == "breakpoint-hit" and stop["frame"]["func"] == "spin"


def test_interrupt_a_running_program(session):
    session.mi("-exec-continue")
    time.sleep(0.5)
    session.mi("-exec-interrupt")
    stop = session.wait_stopped()
    assert stop["reason"] == "signal-received" and stop["signal-name"] == "SIGINT"
    assert stop["frame"]["func"] == "spin"
    first = int(session.value("counter"))
    assert first > 0
    session.mi("-exec-continue")
    time.sleep(0.3)
    session.mi("-exec-interrupt")
    session.wait_stopped()
    assert int(session.value("counter")) > first


def test_detach_then_reattach(stub, gdb):
    s = stub()
    first = gdb()
    first.connect(s.address)
    first.run_to("spin")
    first.mi("-target-detach")
    first.close()
    time.sleep(0.5)                 # the machine runs on after the detach
    second = gdb()
    stop = second.connect(s.address)
    assert stop["frame"]["func"] == "spin"
    assert int(second.value("counter")) > 0
    assert 'Thread 1 "cpu0"' in second.console("info threads")
    # the breakpoint of the first gdb is gone: continue runs until interrupted
    second.mi("-exec-continue")
    time.sleep(0.3)
    second.mi("-exec-interrupt")
    assert second.wait_stopped()["reason"] == "signal-received"


def test_disconnect_leaves_the_machine_paused(stub, gdb):
    s = stub()
    first = gdb()
    first.connect(s.address)
    first.run_to("spin")
    first.ctl.gdb_process.kill()    # no detach: gdb just goes away (quit would detach)
    first.ctl.gdb_process.wait()
    second = gdb()
    second.connect(s.address)
    assert second.value("counter") == "0"
    assert second.value("$pc").split()[-1] in ("<spin>", "<spin+4>", "<spin+8>")


def test_monitor_commands(session, program_symbols):
    text = session.console("monitor help")
    for name in ("help", "icount", "phys", "exceptions"):
        assert re.search(rf"^\s+{name}\b", text, re.M)
    session.run_to("square")
    count = int(re.search(r"icount: (\d+)", session.console("monitor icount")).group(1))
    assert count > 100
    table = program_symbols["table"]
    assert "physical" in session.console("monitor phys on")
    session.console("maint flush dcache")
    assert session.console(f"x/2gx {table:#x}").split()[-2:] == ["0x0000000000000001",
                                                                    "0x0000000000000002"]
    assert "virtual" in session.console("monitor phys off")
    assert "unknown monitor command" in session.console("monitor frobnicate")


def test_kill_ends_the_stub(session):
    session.run_to("square")
    session.console("kill")
    assert session.stub.wait(10) == 0


def test_program_exit(session):
    session.run_to("main")          # past the .bss clearing
    session.console("set var mode = 1")
    session.mi("-exec-continue")
    stop = session.wait_stopped()
    assert stop["reason"] == "exited" and stop["exit-code"] == "052"
    session.close()
    assert session.stub.wait(10) == 42
