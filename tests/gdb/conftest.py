"""Fixtures for the gdb stub tests: the test program (built with the cross toolchain), the
stub in a subprocess (`python -m machine.gdbstub`), and gdb-multiarch driven through
pygdbmi's MI interface."""

import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

PROGRAM_DIR = Path(__file__).resolve().parent / "program"
TEST_PROGRAM = object()         # the gdb fixture's default ELF: tests/gdb/program, built once
REPO = Path(__file__).resolve().parents[2]
CFLAGS = ["-g", "-O0", "-fno-omit-frame-pointer", "-ffreestanding", "-nostdlib", "-static",
          "-fno-pie", "-no-pie", "-mstrict-align", "-mgeneral-regs-only",
          "-fno-stack-protector", "-Wall", "-Werror"]
LDFLAGS = ["-Wl,--build-id=none", "-Wl,-z,max-page-size=4096", "-Wl,--no-warn-rwx-segments"]


@pytest.fixture(scope="session")
def program(tmp_path_factory):
    """The test program's ELF file (tests/gdb/program), built once per session."""
    out = tmp_path_factory.mktemp("gdbprog") / "prog.elf"
    cmd = ["aarch64-linux-gnu-gcc", *CFLAGS, "-T", str(PROGRAM_DIR / "link.ld"), "-o",
           str(out), str(PROGRAM_DIR / "start.S"), str(PROGRAM_DIR / "prog.c"), *LDFLAGS]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"building the gdb test program failed:\n{done.stderr}")
    return out


def symbols(elf):
    out = subprocess.run(["aarch64-linux-gnu-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {name: int(addr, 16) for addr, _, name in (line.split() for line in out.splitlines()
                                                      if len(line.split()) == 3)}


@pytest.fixture(scope="session")
def program_symbols(program):
    return symbols(program)


class RspClient:
    """A raw GDB remote protocol client: framing written out here, independently of the
    stub's own code."""

    def __init__(self, host, port, timeout=10):
        self.sock = socket.create_connection((host, port), timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.ack = True
        self.naks = 0
        self.console = []          # text of O packets

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, payload):
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        total = sum(payload) & 0xFF
        self.sock.sendall(b"$" + payload + b"#" + f"{total:02x}".encode())

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the stub closed the connection")
        self.buf += data

    def read_packet(self, timeout=10):
        """The next packet's raw data (acks skipped, counted in .naks for '-')."""
        deadline = time.monotonic() + timeout
        while True:
            while self.buf[:1] in (b"+", b"-"):
                self.naks += self.buf[:1] == b"-"
                del self.buf[:1]
            start = self.buf.find(b"$")
            end = self.buf.find(b"#", start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0 and len(self.buf) >= end + 3:
                payload = bytes(self.buf[start + 1:end])
                assert int(self.buf[end + 1:end + 3], 16) == sum(payload) & 0xFF
                del self.buf[:end + 3]
                if self.ack:
                    self.sock.sendall(b"+")
                return payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no packet; buffered {bytes(self.buf[:80])!r}")
            self._fill(left)

    def expect_ack(self, timeout=10):
        """The next acknowledgement byte ('+' or '-')."""
        deadline = time.monotonic() + timeout
        while not self.buf:
            self._fill(max(deadline - time.monotonic(), 0.01))
        byte = bytes(self.buf[:1])
        del self.buf[:1]
        return byte

    def cmd(self, payload, timeout=10):
        """Send a packet and return its reply, collecting O packets on the way."""
        self.send(payload)
        while True:
            reply = self.read_packet(timeout)
            if reply.startswith(b"O") and reply != b"OK" and len(reply) % 2 == 1:
                self.console.append(bytes.fromhex(reply[1:].decode()).decode())
                continue
            return reply

    def close(self):
        self.sock.close()


@pytest.fixture
def rsp():
    clients = []

    def connect(host, port):
        client = RspClient(host, port)
        clients.append(client)
        return client
    yield connect
    for c in clients:
        c.close()


class Stub:
    """`python -m machine.gdbstub --elf ELF --port 0` in a subprocess."""

    def __init__(self, elf, *extra):
        # stderr goes to a file: a pipe nobody drains could fill up and block the stub
        self.log = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "machine.gdbstub", "--elf", str(elf), "--port", "0",
             *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)})
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"the stub did not start: {line!r} {self.stderr()}")
        self.host, self.port = match.group(1), int(match.group(2))

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def wait(self, timeout=10):
        return self.proc.wait(timeout)

    def stderr(self):
        """Everything the stub has written on stderr so far."""
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        stop_process(self.proc)
        self.proc.stdout.close()
        self.log.close()


def stop_process(proc):
    """SIGTERM `proc` if it still runs, then SIGKILL after 5 s; reaps it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Gdb:
    """gdb-multiarch over MI (pygdbmi), async so that -exec-interrupt works while running."""

    def __init__(self, elf=None):
        from pygdbmi.gdbcontroller import GdbController

        cmd = ["gdb-multiarch", "--nx", "--quiet", "--interpreter=mi3"]
        if elf is not None:
            cmd.append(str(elf))
        self.ctl = GdbController(command=cmd, time_to_check_for_additional_output_sec=0.02)
        self.token = 100
        self.pending = []        # records read but not consumed yet
        for setting in ("mi-async on", "confirm off", "pagination off", "width 0",
                        "architecture aarch64"):
            self.mi(f"-gdb-set {setting}")

    def _read(self, timeout):
        records = self.ctl.get_gdb_response(timeout_sec=timeout, raise_error_on_timeout=False)
        self.pending.extend(records)

    def mi(self, command, timeout=10, error_ok=False):
        """Run an MI command; returns (result record, records before it)."""
        self.token += 1
        token = self.token
        self.ctl.write(f"{token}{command}", read_response=False)
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                record = self.pending.pop(0)
                if record["type"] == "result" and record["token"] == token:
                    if record["message"] == "error" and not error_ok:
                        raise AssertionError(f"{command}: {record['payload']}\n{seen}")
                    # keep async records that may follow in the queue for wait_stopped
                    self.pending[:0] = [r for r in seen if r["type"] == "notify"]
                    return record, seen
                seen.append(record)
            if time.monotonic() > deadline:
                raise AssertionError(f"{command}: no result within {timeout} s\n{seen}")
            self._read(0.2)

    def console(self, command, timeout=10):
        """A CLI command; returns its console output."""
        quoted = command.replace("\\", "\\\\").replace('"', '\\"')
        _, seen = self.mi(f'-interpreter-exec console "{quoted}"', timeout)
        return "".join(r["payload"] for r in seen if r["type"] in ("console", "target")
                       and isinstance(r["payload"], str))

    def wait_stopped(self, timeout=30):
        """The payload of the next *stopped record."""
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                record = self.pending.pop(0)
                if record["type"] == "notify" and record["message"] == "stopped":
                    return record["payload"]
            if time.monotonic() > deadline:
                raise AssertionError(f"no *stopped within {timeout} s")
            self._read(0.2)

    def connect(self, address):
        self.mi(f"-target-select remote {address}", timeout=20)
        return self.wait_stopped(10)

    def run_to(self, location):
        self.mi(f"-break-insert {location}")
        self.mi("-exec-continue")
        return self.wait_stopped()

    def value(self, expression):
        record, _ = self.mi(f'-data-evaluate-expression "{expression}"')
        return record["payload"]["value"]

    def close(self):
        try:
            self.ctl.exit()
        except Exception:
            pass


@pytest.fixture
def stub(program):
    started = []

    def start(*extra):
        s = Stub(program, *extra)
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


@pytest.fixture
def gdb(request):
    """Starts gdb-multiarch on an ELF file (default: the test program, built on first use)
    or on none (None)."""
    sessions = []

    def start(elf=TEST_PROGRAM):
        if elf is TEST_PROGRAM:
            elf = request.getfixturevalue("program")
        g = Gdb(elf)
        sessions.append(g)
        return g
    yield start
    for g in sessions:
        g.close()


@pytest.fixture
def session(stub, gdb):
    """A stub serving the program and a gdb connected to it, stopped at the entry point."""
    s = stub()
    g = gdb()
    g.connect(s.address)
    g.stub = s
    return g
