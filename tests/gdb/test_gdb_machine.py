"""gdb on the whole machine (machine/gdbstub/machine_target.py): the board test program
(tests/board) under `fvp-rme run --gdb --wait-gdb` driven by the real gdb-multiarch; a
machine with a realm built by RMI calls served in a thread (REC and RMM contexts, the realm
monitor commands); and the target's run control and REC register file without gdb."""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from gdb.conftest import stop_process

from machine.board import registry
from machine.board.machine import EXIT_LIMIT, Machine
from machine.cpu.gpc import PAS_NONSECURE, PAS_REALM
from machine.gdbstub import GdbServer, MemoryAccessError, RegisterWriteError
from machine.gdbstub.machine_target import FIRST_REC_THREAD, RMM_THREAD, MachineTarget
from machine.gdbstub.monitor import BUILTINS, MonitorRegistry, MonitorRequest
from machine.gdbstub.target import BREAKPOINT, EXITED, STEP, WATCHPOINT, WatchpointError
from machine.rmm.abi import (
    Fid,
    MemReq,
    RmiRealmParams,
    RmiRecParams,
    RmiResultIncomplete,
    Status,
    build,
    desc,
    status_of,
)

REPO = Path(__file__).resolve().parents[2]
BOARD = REPO / "tests" / "board"
G = 4096
IPA = 0x8000_0000            # the realm's RAM; its program runs from there
LOOP = 0x8400_0000           # CPU 0's program in the in-process machines
SMC, NOP, B_SELF = 0xD4000003, 0xD503201F, 0x14000000
TEXT = "realm!!!" * 4        # in the realm's page after its program
TRANSCRIPT = ("board: you typed 'hello world'\n", "board: SGI exchanged with cpu 1\n",
              "board: powering off\n")


@pytest.fixture(scope="module")
def board_elf():
    subprocess.run(["make", "-s", "-C", str(BOARD)], check=True, capture_output=True)
    return BOARD / "build" / "board.elf"


class Fvp:
    """`fvp-rme run --kernel ELF --cpus 2 --gdb 127.0.0.1:0 --wait-gdb` in a subprocess; its
    stdin is the board's console input, stdout/stderr go to files."""

    def __init__(self, elf, *extra):
        self.out, self.err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "machine.cli", "run", "--kernel", str(elf), "--cpus", "2",
             "--gdb", "127.0.0.1:0", "--wait-gdb", *extra], cwd=REPO, stdin=subprocess.PIPE,
            stdout=self.out, stderr=self.err, env={**os.environ, "PYTHONPATH": str(REPO)})
        deadline = time.monotonic() + 30
        while not (match := re.search(r"listening on ([\d.]+:\d+)", self.stderr())):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise RuntimeError(f"fvp-rme did not start: {self.stderr()}")
            time.sleep(0.05)
        self.address = match.group(1)

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.close()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def stdout(self):
        self.out.seek(0)
        return self.out.read()

    def stop(self):
        stop_process(self.proc)
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        self.out.close()
        self.err.close()


@pytest.fixture
def fvp_of():
    """Starts `fvp-rme run --kernel ELF ...` (Fvp), stopped at the end of the test."""
    started = []

    def start(elf, *extra):
        f = Fvp(elf, *extra)
        started.append(f)
        return f
    yield start
    for f in started:
        f.stop()


@pytest.fixture
def fvp(fvp_of, board_elf):
    """Starts the board test program under `fvp-rme run`."""
    return lambda *extra: fvp_of(board_elf, *extra)


def continue_output(gdb, timeout=30):
    """(the next *stopped payload, the console text that came before it)."""
    text = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while gdb.pending:
            record = gdb.pending.pop(0)
            if record["type"] == "notify" and record["message"] == "stopped":
                return record["payload"], "".join(text)
            if record["type"] in ("target", "console") and isinstance(record["payload"], str):
                text.append(record["payload"])
        gdb._read(0.2)
    raise AssertionError(f"no *stopped within {timeout} s: {''.join(text)}")


def thread_names(gdb):
    record, _ = gdb.mi("-thread-info")
    return {t["name"]: t for t in record["payload"]["threads"]}


# --- the board program under fvp-rme run --gdb ---------------------------------------------------

@pytest.mark.gdb
@pytest.mark.cross
def test_board_program_under_gdb(fvp, gdb, board_elf):
    machine = fvp()
    machine.type("hello world\n")
    g = gdb(board_elf)
    stop = g.connect(machine.address)
    assert stop["frame"]["func"] == "_start" and stop["thread-id"] == "1"
    assert 'Thread 1 "cpu0 hyp" (EL2 Non-secure)' in g.console("info threads")
    assert set(thread_names(g)) == {"cpu0 hyp", "rmm"}          # CPU 1 is still off

    stop = g.run_to("secondary_main")
    assert stop["reason"] == "breakpoint-hit" and stop["frame"]["func"] == "secondary_main"
    threads = thread_names(g)
    assert threads["cpu1 hyp"]["id"] == stop["thread-id"]
    assert threads["cpu1 hyp"]["target-id"] == "Thread 2"       # cpu N is thread N + 1
    assert re.search(r"CurrentEL\s+0x8\s+\[ EL=2 \]", g.console("info registers CurrentEL"))
    # the debugger does not access devices: the UART registers are refused
    record, _ = g.mi('-interpreter-exec console "x/4wx 0x1c090000"', error_ok=True)
    assert record["payload"]["msg"] == "Cannot access memory at address 0x1c090000"

    text = g.console("monitor el")
    assert re.search(r"^cpu0: EL2 Non-secure, pc 0x[0-9a-f]+", text, re.M)
    assert re.search(r"^cpu1: EL2 Non-secure, pc 0x[0-9a-f]+$", text, re.M)
    assert g.console("monitor realms") == "no realms\n"
    assert g.console("monitor granule 0x80000000") == "granule 0x80000000: NS, GPI Non-secure\n"

    g.mi("-break-delete")
    g.mi("-exec-continue")
    stop = g.wait_stopped()
    assert stop["reason"] == "exited-normally"
    g.close()
    assert machine.proc.wait(20) == 0
    for line in TRANSCRIPT:
        assert line in machine.stdout()


@pytest.mark.gdb
@pytest.mark.cross
def test_interrupt_step_and_watch_across_cpus(fvp, gdb, board_elf):
    machine = fvp()
    g = gdb(board_elf)
    g.connect(machine.address)
    g.mi("-exec-continue")
    time.sleep(0.5)                 # the board spins reading the console: nothing typed yet
    g.mi("-exec-interrupt")
    stop = g.wait_stopped()
    assert stop["reason"] == "signal-received" and stop["signal-name"] == "SIGINT"
    assert stop["thread-id"] == "1" and stop["frame"]["func"] in ("getc", "main")
    pc = int(g.value("$pc").split()[0], 16)
    g.mi("-exec-step-instruction")
    assert g.wait_stopped()["reason"] == "end-stepping-range"
    assert int(g.value("$pc").split()[0], 16) != pc

    machine.type("hello world\n")
    # `pings` is written by CPU 1's interrupt handler: the watchpoint names cpu1 hyp
    g.mi("-break-watch pings")
    g.mi("-exec-continue")
    stop = g.wait_stopped()
    assert stop["reason"] == "watchpoint-trigger" and stop["value"] == {"old": "0", "new": "1"}
    assert thread_names(g)["cpu1 hyp"]["id"] == stop["thread-id"]
    assert stop["frame"]["func"] == "irq_handler"
    count = int(re.search(r"icount: (\d+) \(cpu0 \d+, cpu1 (\d+)\)",
                          g.console("monitor icount")).group(2))
    assert count > 0
    g.mi("-break-delete")
    g.mi("-target-detach")          # the machine runs on to its exit
    g.close()
    assert machine.proc.wait(20) == 0
    assert TRANSCRIPT[-1] in machine.stdout()


# --- a machine with a realm, built by RMI calls ------------------------------------------------

def movz(rd, imm16, hw=0):
    return 0xD2800000 | hw << 21 | imm16 << 5 | rd


def mov_imm(rd, value):
    """MOVZ and MOVKs for a 64-bit constant."""
    return [movz(rd, value & 0xFFFF)] + [0xF2800000 | hw << 21 | (value >> 16 * hw & 0xFFFF) << 5
                                         | rd for hw in (1, 2, 3) if value >> 16 * hw & 0xFFFF]


def code(*words):
    flat = [w for item in words for w in (item if isinstance(item, list) else [item])]
    return b"".join(w.to_bytes(4, "little") for w in flat)


# The realm: x7 = 41, x7 += 1, nop, spin; TEXT after it
REALM_PROGRAM = code(movz(7, 41), 0x910004E7, NOP, B_SELF)
REALM_IMAGE = REALM_PROGRAM + TEXT.encode()


SPIN = code(B_SELF)
VERSION_CALL = code(mov_imm(0, Fid.VERSION), mov_imm(1, 0x20000), SMC)


def rec_enter(rec, run):
    return code(mov_imm(0, Fid.REC_ENTER), mov_imm(1, rec), mov_imm(2, run), SMC)


def host_program(rec, run):
    """CPU 0 at NS-EL2: RMI_VERSION, then RMI_REC_ENTER of `rec`, then spin."""
    return VERSION_CALL + rec_enter(rec, run) + SPIN


class RmiHost:
    """Drives the machine's RMM engine with the registers of the host's RMI SMCs."""

    def __init__(self, machine):
        self.rmm = machine.firmware.rmm
        self.platform = machine.firmware.rmm_platform
        self.platform.core = machine.cores[0]
        self.next = 0x9000_0000

    def alloc(self, n=1, align=G):
        pa = -(-self.next // align) * align
        self.next = pa + n * G
        return pa

    def call(self, fid, *args):
        return self.rmm.handle([int(fid), *args] + [0] * (17 - len(args)))

    def ok(self, fid, *args):
        out = self.call(fid, *args)
        assert status_of(out[0]) == Status.SUCCESS, (fid.name, hex(out[0]))
        return out

    def delegated(self, n=1, align=G):
        pa = self.alloc(n, align)
        for g in range(pa, pa + n * G, G):
            self.ok(Fid.GRANULE_RANGE_DELEGATE, g, g + G)
        return pa

    def ns_write(self, pa, data):
        self.platform.write(pa, data, PAS_NONSECURE)

    def realm(self, image=REALM_IMAGE):
        """An active realm: one measured DATA page at IPA holding `image` (REALM_PROGRAM,
        then TEXT at +16) and a runnable REC 0 starting there. Returns (rd, data PA, Rec, run
        page)."""
        if not self.rmm.realms:
            self.ok(Fid.VERSION, 0x20000)
            self.ok(Fid.RMM_ACTIVATE)
        params, list_page, run = self.alloc(), self.alloc(), self.alloc()
        roots, rd = self.delegated(2, 2 * G), self.delegated()
        self.ns_write(params, build(RmiRealmParams, s2sz=40, num_bps=1, num_wps=1,
                                    rtt_level_start=1, rtt_num_start=2, rtt_base=roots))
        self.ok(Fid.REALM_CREATE, rd, params)
        self.ok(Fid.RTT_CREATE, rd, self.delegated(), IPA, 2)
        self.ok(Fid.RTT_CREATE, rd, self.delegated(), IPA, 3)
        src, data = self.alloc(), self.delegated()
        self.ns_write(src, image)
        self.ok(Fid.RTT_DATA_MAP_INIT, rd, data, IPA, src, 1)
        rec = self.delegated()
        self.ns_write(params, build(RmiRecParams, flags=1, mpidr=0, pc=IPA,
                                    gprs=[0x11, 0x22, 0, 0, 0, 0, 0, 0]))
        out = self.call(Fid.REC_CREATE, rd, rec, params)
        handle = out[1]
        while status_of(out[0]) == Status.INCOMPLETE:        # the SRO protocol
            if RmiResultIncomplete.get(out[0], "mem_req") == MemReq.DONATE:
                count = (out[2] >> 2) & 0x3FFF
                words = [desc(self.delegated(), 1) for _ in range(count)]
                self.ns_write(list_page, b"".join(w.to_bytes(8, "little") for w in words))
                out = self.call(Fid.OP_MEM_DONATE, handle, list_page, count)
            else:
                out = self.call(Fid.OP_CONTINUE, handle, 0)
        assert status_of(out[0]) == Status.SUCCESS
        self.ok(Fid.REALM_ACTIVATE, rd)
        return rd, data, self.rmm.recs[rec], run


def new_machine(program=SPIN):
    machine = Machine(registry.lookup("fvp-base-revc"), cpus=2)
    machine.bus.write_bytes(LOOP, program)
    machine.boot(LOOP, 0)
    return machine


@pytest.fixture
def realm_machine():
    """(machine, RD, DATA PA, Rec, host program length): CPU 0 at the host program."""
    machine = new_machine()
    rd, data, rec, run = RmiHost(machine).realm()
    program = host_program(rec.rec, run)
    machine.bus.write_bytes(LOOP, program)
    return machine, rd, data, rec, len(program)


def monitor(target, line, thread=1):
    registry = MonitorRegistry(list(BUILTINS) + target.monitor_commands())

    class Session:
        phys = None
    return registry.run(MonitorRequest(target, thread, Session(), registry, print), line)


@pytest.fixture
def serve_gdb(gdb):
    """serve_gdb(machine): the machine served in a thread, a gdb connected to it (killed at
    the end of the test)."""
    sessions = []

    def start(machine):
        server = GdbServer(MachineTarget(machine), "127.0.0.1", 0)
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        g = gdb(None)
        g.connect(f"127.0.0.1:{server.port}")
        sessions.append((g, serving))
        return g
    yield start
    for g, serving in sessions:
        g.console("kill")
        serving.join(10)
        assert not serving.is_alive()


@pytest.fixture
def served(realm_machine, serve_gdb):
    """The realm machine served in a thread, a gdb connected to it."""
    return serve_gdb(realm_machine[0])


@pytest.mark.gdb
@pytest.mark.cross
def test_realm_contexts_under_gdb(realm_machine, served):
    machine, rd, data, rec, _ = realm_machine
    g = served
    threads = thread_names(g)
    assert set(threads) == {"cpu0 hyp", "rmm", "realm 1 rec 0"}
    assert threads["realm 1 rec 0"]["target-id"] == f"Thread {FIRST_REC_THREAD}"
    assert threads["realm 1 rec 0"]["details"] == "EL1 Realm, saved (runnable)"
    assert threads["rmm"]["details"] == "EL2 Realm, last call RMI_REALM_ACTIVATE = RMI_SUCCESS"

    g.console(f"thread {threads['realm 1 rec 0']['id']}")
    assert int(g.value("$pc").split()[0], 16) == IPA
    assert g.value("$x1") == "34"
    assert "Realm" in g.console("info registers SecurityState")
    assert re.search(r"CurrentEL\s+0x4\s+\[ EL=1 \]", g.console("info registers CurrentEL"))
    # memory through the realm's stage 1 (off) and its RTTs, in the Realm PAS
    assert g.console(f"x/s {IPA + 16:#x}").split('"')[1] == TEXT
    assert "mov\tx7, #0x29" in g.console(f"x/i {IPA:#x}")
    g.console("set var $x2 = 0x1234")
    assert rec.gprs[2] == 0x1234

    g.console(f"thread {threads['rmm']['id']}")
    assert int(g.value("$x0")) == Fid.REALM_ACTIVATE and int(g.value("$x1")) == rd
    g.console("monitor phys on")
    g.console("maint flush dcache")
    assert g.console(f"x/s {data + 16:#x}").split('"')[1] == TEXT

    text = g.console("monitor realms")
    assert re.search(rf"^realm 1: RD {rd:#x}, ACTIVE, VMID 0, IPA 40 bits", text, re.M)
    assert re.search(rf"^  rec 0: REC {rec.rec:#x}, runnable, pc {IPA:#x} \(thread 1000\)",
                     text, re.M)
    assert re.search(r"^  RIM [0-9a-f]{64}$", text, re.M)
    text = g.console(f"monitor rtt 1 {IPA:#x}")
    assert re.search(rf"^  L3 RTT 0x[0-9a-f]+\[0\] = 0x[0-9a-f]{{16}}  ASSIGNED_RAM PA {data:#x}",
                     text, re.M)
    assert g.console(f"monitor granule {data:#x}") == \
        f"granule {data:#x}: DATA, owner {rd:#x}, GPI Realm\n"

    # CPU 0 makes an RMI call: its trace line reaches gdb's console while the machine runs
    assert g.console("monitor trace rmi on") == "trace rmi: on\n"
    g.console(f"thread {threads['cpu0 hyp']['id']}")
    g.console("monitor phys off")
    # (on the second instruction after the SMC: see test_breakpoint_after_an_smc)
    g.mi(f"-break-insert *{LOOP + len(VERSION_CALL) + 4:#x}")
    g.mi("-exec-continue")
    stop, output = continue_output(g)
    assert stop["reason"] == "breakpoint-hit"
    assert "RMI_VERSION(req=0x20000) = RMI_SUCCESS" in output
    assert thread_names(g)["rmm"]["details"].startswith("EL2 Realm, last call RMI_VERSION")


@pytest.mark.gdb
@pytest.mark.cross
def test_a_running_realm_under_gdb(realm_machine, served):
    machine, rd, data, rec, host_size = realm_machine
    g = served
    g.mi(f"-break-insert *{IPA + 4:#x}")             # in the realm: x7 += 1
    g.mi("-exec-continue")
    stop = g.wait_stopped()
    threads = thread_names(g)
    assert stop["reason"] == "breakpoint-hit"
    assert stop["thread-id"] == threads["realm 1 rec 0"]["id"]
    assert threads["realm 1 rec 0"]["details"] == "EL1 Realm, running on cpu0"
    assert threads["cpu0 hyp"]["details"] == "EL2 Non-secure, in REC_ENTER"
    assert threads["rmm"]["details"] == "EL2 Realm, serving RMI_REC_ENTER"
    assert g.value("$x7") == "41"
    g.mi("-exec-step-instruction")
    assert g.wait_stopped()["reason"] == "end-stepping-range"
    assert g.value("$x7") == "42" and int(g.value("$pc").split()[0], 16) == IPA + 8
    assert g.console(f"x/s {IPA + 16:#x}").split('"')[1] == TEXT
    assert re.search(r"^cpu0: EL1 Realm, pc 0x80000008, running realm 1 rec 0$",
                     g.console("monitor el"), re.M)
    assert re.search(r"^  rec 0: REC 0x[0-9a-f]+, running on cpu0, pc 0x80000008 ",
                     g.console("monitor realms"), re.M)

    g.console(f"thread {threads['cpu0 hyp']['id']}")            # the host, at its SMC
    assert int(g.value("$pc").split()[0], 16) == LOOP + host_size - 4
    assert re.search(r"CurrentEL\s+0x8\s+\[ EL=2 \]", g.console("info registers CurrentEL"))
    assert int(g.value("$x1")) == rec.rec
    g.console(f"thread {threads['rmm']['id']}")
    assert int(g.value("$x0")) == Fid.REC_ENTER and int(g.value("$x1")) == rec.rec


# --- the target without gdb ------------------------------------------------------------------

def test_rec_context_registers_and_memory(realm_machine):
    machine, rd, data, rec, _ = realm_machine
    target = MachineTarget(machine)
    (cpu0, rmm, rec0) = target.contexts()
    assert (cpu0.id, cpu0.name, rmm.id, rmm.name) == (1, "cpu0 hyp", RMM_THREAD, "rmm")
    assert (rec0.id, rec0.name, rec0.core) == (FIRST_REC_THREAD, "realm 1 rec 0", None)
    regs = target.description.by_name
    assert target.read_register(rec0.id, regs["v0"].regnum) is None       # has not run yet
    assert target.read_register(rec0.id, regs["SCTLR_EL2"].regnum) is None
    vttbr = int.from_bytes(target.read_register(rec0.id, regs["VTTBR_EL2"].regnum), "little")
    assert vttbr == machine.firmware.rmm.realms[rd].vttbr()
    target.write_register(rec0.id, regs["SP_EL1"].regnum, (0x8000_1000).to_bytes(8, "little"))
    target.write_register(rec0.id, regs["VBAR_EL1"].regnum, (0x8000_0800).to_bytes(8, "little"))
    assert rec.sysregs["sp_el1"] == 0x8000_1000 and rec.sysregs["vbar_el1"] == 0x8000_0800
    for name in ("HCR_EL2", "VTTBR_EL2"):
        with pytest.raises(RegisterWriteError):
            target.write_register(rec0.id, regs[name].regnum, bytes(8))
    with pytest.raises(RegisterWriteError, match="EL1 or EL0"):
        target.write_register(rec0.id, regs["cpsr"].regnum, (0x3C9).to_bytes(4, "little"))
    assert target.read_memory(rec0.id, IPA + 20, 8) == TEXT.encode()[4:12]
    target.write_memory(rec0.id, IPA + 16, b"REALM")
    assert target.read_memory(RMM_THREAD, data + 16, 8) == b"REALM!!!"  # rmm: physical, Realm
    assert target.context_pas(rec0.id) == target.context_pas(RMM_THREAD) == PAS_REALM
    with pytest.raises(MemoryAccessError, match="granule protection"):
        target.read_memory(1, data, 8, pas=PAS_NONSECURE)
    # a REC that is not on a CPU cannot be stepped
    target.resume({rec0.id: "s"})
    event = target.run(100)
    assert event.reason == STEP and "not running on a CPU" in event.message


def test_realm_monitor_commands(realm_machine):
    machine, rd, data, rec, _ = realm_machine
    target = MachineTarget(machine)
    assert "UNASSIGNED_EMPTY" in monitor(target, f"rtt {rd:#x} {IPA + G:#x}")
    assert "UNASSIGNED_NS" in monitor(target, f"rtt 1 {1 << 39:#x}")
    assert "beyond" in monitor(target, f"rtt 1 {1 << 40:#x}")
    assert "no realm 7" in monitor(target, "rtt 7 0")
    assert monitor(target, f"granule {rd:#x}") == f"granule {rd:#x}: RD, refcount 1, GPI Realm\n"
    assert "not tracked by the RMM, GPI any" in monitor(target, "granule 0x1c090000")
    assert monitor(target, "el") == f"cpu0: EL2 Non-secure, pc {LOOP:#x}\ncpu1: off\n"
    lines = []
    target.trace_rmi(lines.append)
    assert monitor(target, "trace rmi") == "trace rmi: on\n"
    RmiHost(machine).call(Fid.RTT_READ_ENTRY, rd, IPA, 3)
    assert lines[0].startswith(f"RMI_RTT_READ_ENTRY(rd={rd:#x}, ipa={IPA:#x}, level=3) = "
                               "RMI_SUCCESS")
    assert monitor(target, "trace rmi off") == "trace rmi: off\n"
    assert machine.firmware.rmm.trace is None


def test_a_cpu_running_a_rec(realm_machine):
    """While CPU 0 runs the REC, the REC's thread is the CPU and the hyp thread the host's
    context saved by the REC runner; breakpoints and steps in the realm name the REC."""
    machine, rd, data, rec, host_size = realm_machine
    target = MachineTarget(machine)
    target.add_breakpoint(1, IPA + 4, "hw")
    target.resume({1: "c"})
    event = target.run(10_000)
    assert (event.reason, event.thread) == (BREAKPOINT, FIRST_REC_THREAD)
    contexts = {c.name: c for c in target.contexts()}
    assert contexts["realm 1 rec 0"].core == 0
    assert target.thread_of(machine.cores[0]) == FIRST_REC_THREAD
    regs = target.description.by_name
    pc, x19 = regs["pc"].regnum, regs["x19"].regnum
    host_pc = int.from_bytes(target.read_register(1, pc), "little")
    assert host_pc == LOOP + host_size - 4
    target.write_register(1, x19, (0x1919).to_bytes(8, "little"))   # into the saved host
    assert machine.rec_runner.saved_host[0].x[19] == 0x1919
    target.resume({1: "s"})
    assert "not running on a CPU" in target.run(1).message          # the host is in REC_ENTER
    target.resume({FIRST_REC_THREAD: "s"})
    event = target.run(1)
    assert (event.reason, event.thread) == (STEP, FIRST_REC_THREAD)
    assert machine.cores[0].s.pc == IPA + 8 and machine.cores[0].s.x[7] == 42


def test_breakpoint_after_an_smc():
    machine = new_machine(VERSION_CALL + code(NOP) + SPIN)
    target = MachineTarget(machine)
    target.add_breakpoint(1, LOOP + len(VERSION_CALL), "sw")
    target.resume({1: "c"})
    event = target.run(10_000)
    assert event is not None and event.reason == BREAKPOINT


def test_breakpoints_where_a_slice_begins_and_the_instruction_limit():
    machine = new_machine()
    target = MachineTarget(machine, max_insns=50_000)
    target.add_breakpoint(1, LOOP, "sw")
    target.resume({1: "c"})
    event = target.run(10_000)          # CPU 0 is at the breakpoint before it runs at all
    assert (event.reason, event.thread, machine.icount) == (BREAKPOINT, 1, 0)
    # the CPU sits at the breakpoint: continuing runs the loop once and stops there again
    target.resume({1: "c"})
    event = target.run(10_000)
    assert event.reason == BREAKPOINT and machine.cores[0].icount == 1
    target.resume({1: "s"})
    assert target.run(1).reason == STEP and machine.icount == 2
    target.remove_breakpoint(1, LOOP, "sw")
    target.resume({1: "c"})
    while (event := target.run(20_000)) is None:
        pass
    assert event.reason == EXITED and event.exit_code == EXIT_LIMIT
    assert machine.icount >= 50_000 and "instruction limit" in event.message


@pytest.mark.cross
def test_wait_gdb_needs_gdb(board_elf):
    out = subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel",
                          str(board_elf), "--wait-gdb"], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert out.returncode == 2 and "--wait-gdb needs --gdb" in out.stderr
    out = subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel",
                          str(board_elf), "--gdb", "nowhere:port"], capture_output=True,
                         text=True, timeout=60, cwd=REPO)
    assert out.returncode == 2 and "cannot serve gdb on nowhere:port" in out.stderr


@pytest.mark.gdb
def test_symbol_helper_loads_host_and_realm_symbols():
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        ["gdb-multiarch", "-batch", "-nx", "-ex", "set confirm off", "-ex",
         f"source {root / 'scripts' / 'fvp-rme-gdb.py'}", "-ex", "fvp-rme-symbols hello",
         "-ex", "info address realm_main", "-ex", "info address main"],
        capture_output=True, text=True, timeout=60)
    assert "realm_main\" is a function at address 0x8" in out.stdout
    assert "\"main\" is a function at address 0x84" in out.stdout


# --- watchpoints belong to the context they are set in ----------------------------------------

SHARED = IPA + 0x100            # a realm variable's VA, and the same VA in the host's own space
STR_X10_X9 = 0xF900012A         # str x10, [x9]
PSCI_SYSTEM_OFF = 0x8400_0008
INTERACTIVE_HOST = REPO / "images" / "host" / "host-interactive.elf"
SYMBOL_HELPER = REPO / "scripts" / "fvp-rme-gdb.py"
SMP_CONTEXT = 0x5A5A            # stubs/realm/smp.c: what REC 1 stores in `reported`


def store(value):
    """x9 = SHARED, x10 = value, str x10, [x9]."""
    return code(mov_imm(9, SHARED), movz(10, value), STR_X10_X9)


# A realm stores 2 at SHARED (stage 1 is off: its IPA) and powers off (a REC exit).
WATCH_REALM = store(2) + code(mov_imm(0, PSCI_SYSTEM_OFF), SMC, B_SELF)


def watch_host(machine, entries):
    """CPU 0's program at NS-EL2 (stage 1 off): store 1 at SHARED, REC_ENTER each (Rec, run
    page) of `entries` in turn, store 3, spin. Returns (address of the first REC_ENTER,
    address of the spin)."""
    head = store(1)
    body = b"".join(rec_enter(rec.rec, run) for rec, run in entries) + store(3)
    machine.bus.write_bytes(LOOP, head + body + SPIN)
    return LOOP + len(head), LOOP + len(head) + len(body)


@pytest.fixture
def watch_machine():
    """(machine, the realm's DATA PA, the host's REC_ENTER, the host's spin): the host and
    a realm running WATCH_REALM both store at VA SHARED, each in its own memory."""
    machine = new_machine()
    _, data, rec, run = RmiHost(machine).realm(WATCH_REALM)
    return (machine, data, *watch_host(machine, [(rec, run)]))


def shared_value(gdb):
    gdb.console("maint flush dcache")
    return int(gdb.value(f"*(long *){SHARED:#x}"))


@pytest.mark.gdb
def test_a_realm_watchpoint_stops_in_the_rec_that_writes(watch_machine, serve_gdb):
    machine, data, enter, spin = watch_machine
    g = serve_gdb(machine)
    g.run_to(f"*{enter:#x}")
    assert shared_value(g) == 1                 # the host's store: not watched yet
    rec = thread_names(g)["realm 1 rec 0"]["id"]
    g.console(f"thread {rec}")
    assert shared_value(g) == 0                 # the realm's memory at the same VA
    # gdb inserts the watchpoint while it steps cpu0 off its breakpoint, with the host's
    # thread selected: the watchpoint is still the REC's
    g.mi(f'-break-watch "*(long *){SHARED:#x}"')
    g.mi("-exec-continue")
    stop = g.wait_stopped()
    assert stop["reason"] == "watchpoint-trigger" and stop["thread-id"] == rec
    assert stop["value"] == {"old": "0", "new": "2"}
    assert int(stop["frame"]["addr"], 16) == IPA + len(store(2))      # after the realm's str
    # with the host's thread selected the watchpoint stays the realm's: the host's store of 3
    # does not stop it
    g.console("thread 1")
    stop = g.run_to(f"*{spin:#x}")
    assert stop["reason"] == "breakpoint-hit" and stop["thread-id"] == "1"
    assert shared_value(g) == 3
    g.console(f"thread {rec}")
    assert shared_value(g) == 2


@pytest.mark.gdb
def test_a_host_watchpoint_does_not_stop_in_the_realm(watch_machine, serve_gdb):
    machine, data, enter, spin = watch_machine
    g = serve_gdb(machine)                      # thread 1: cpu0 hyp, the host at NS-EL2
    g.mi(f'-break-watch "*(long *){SHARED:#x}"')
    g.mi("-exec-continue")
    stop = g.wait_stopped()
    assert (stop["reason"], stop["thread-id"]) == ("watchpoint-trigger", "1")
    assert stop["value"] == {"old": "0", "new": "1"}
    g.mi("-exec-continue")                      # the realm runs and stores 2 in its memory
    stop = g.wait_stopped()
    assert (stop["reason"], stop["thread-id"]) == ("watchpoint-trigger", "1")
    assert stop["value"] == {"old": "1", "new": "3"}
    assert int(stop["frame"]["addr"], 16) == spin
    assert machine.bus.read_bytes(data + SHARED - IPA, 8) == (2).to_bytes(8, "little")


def test_a_rec_watchpoint_matches_its_realm_only():
    """Two realms store at the same IPA: a watchpoint set in realm 2's REC passes realm 1's
    store (another VMID) and the host's (Non-secure EL2), and stops at realm 2's."""
    machine = new_machine()
    host = RmiHost(machine)
    realms = [host.realm(WATCH_REALM) for _ in range(2)]
    watch_host(machine, [(rec, run) for _, _, rec, run in realms])
    target = MachineTarget(machine)
    threads = {c.name: c.id for c in target.contexts()}
    with pytest.raises(WatchpointError, match="physical addresses"):
        target.add_watchpoint(RMM_THREAD, SHARED, 8, "w")
    target.add_watchpoint(threads["realm 2 rec 0"], SHARED, 8, "w")
    target.resume({1: "c"})
    event = target.run(100_000)
    assert (event.reason, event.thread, event.watch) == \
        (WATCHPOINT, threads["realm 2 rec 0"], (SHARED, "w"))
    stored = [machine.bus.read_bytes(data + SHARED - IPA, 8) for _, data, _, _ in realms]
    assert stored == [(2).to_bytes(8, "little")] * 2
    assert machine.bus.read_bytes(SHARED, 8) == (1).to_bytes(8, "little")


@pytest.mark.gdb
def test_watch_a_realm_variable_with_the_symbol_helper(fvp_of, gdb):
    """The bundled host runs the smp realm: `watch reported` set in REC 0 stops in REC 1,
    which writes it, in secondary_main."""
    machine = fvp_of(INTERACTIVE_HOST)
    machine.type("create smp\nrun\npoweroff\n")
    g = gdb(None)
    g.console(f"source {SYMBOL_HELPER}")
    g.console("fvp-rme-symbols smp")
    g.connect(machine.address)
    stop = g.run_to("realm_main")
    assert stop["thread-id"] == thread_names(g)["realm 1 rec 0"]["id"]
    g.mi("-break-delete")
    g.mi("-break-watch reported")
    g.mi("-exec-continue")
    stop = g.wait_stopped()
    assert stop["reason"] == "watchpoint-trigger"
    assert stop["thread-id"] == thread_names(g)["realm 1 rec 1"]["id"]
    assert stop["value"] == {"old": "0", "new": str(SMP_CONTEXT)}
    assert stop["frame"]["func"] == "secondary_main"
    g.mi("-break-delete")
    g.mi("-exec-continue")
    assert g.wait_stopped()["reason"] == "exited-normally"
    g.close()
    assert machine.proc.wait(20) == 0
    assert f"realm: smp: vCPU 1 reported context {SMP_CONTEXT:#x}" in machine.stdout()
