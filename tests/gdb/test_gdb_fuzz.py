"""Protocol fuzzing over a raw socket: a few thousand random and mutated packets (bad
checksums, truncations, huge lengths, random binary, valid packets with random arguments,
Ctrl-C bytes, detaches), then the stub must still be alive and a real gdb must attach and
work."""

import random
import re
import select
import socket
import time

import pytest

pytestmark = [pytest.mark.gdb, pytest.mark.cross]

PACKETS = 3000
SEED = 20240611


class Fuzzer:
    def __init__(self, address, symbols, seed):
        self.address = address
        self.rng = random.Random(seed)
        self.ram = [v for k, v in symbols.items() if k in ("table", "counter", "main")]
        self.sock = None
        self.reconnects = 0
        self.received = 0
        self.connect()

    def connect(self):
        """(Re)connect; the stub refuses a connection while it still serves the old one."""
        if self.sock is not None:
            self.settle()
            self.sock.close()
        host, port = self.address
        for _ in range(100):
            time.sleep(0.01)
            try:
                sock = socket.create_connection((host, port), 5)
            except ConnectionRefusedError:
                continue
            readable, _, _ = select.select([sock], [], [], 0.02)
            try:
                if readable and not sock.recv(1, socket.MSG_PEEK):
                    sock.close()            # refused: the old connection was still open
                    continue
            except ConnectionError:
                sock.close()
                continue
            break
        self.sock = sock
        self.sock.setblocking(False)
        self.reconnects += 1

    def settle(self):
        """Wait until the stub has answered what was sent (closing with replies unread
        would reset the connection and lose the packets it has not read yet)."""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            before = self.received
            readable, _, _ = select.select([self.sock], [], [], 0.05)
            if not readable:
                return
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionError:
                return
            if not data:
                return
            self.received += len(data)
            if self.received == before:
                return

    def drain(self, timeout=0.0):
        """Read and discard replies; reconnect if the stub closed the connection."""
        while True:
            readable, _, _ = select.select([self.sock], [], [], timeout)
            if not readable:
                return
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionError:
                data = b""
            if not data:
                self.connect()
                return
            self.received += len(data)
            timeout = 0.0

    def pump(self, data):
        """Send without ever blocking while the stub is trying to send to us."""
        deadline = time.monotonic() + 20
        while data:
            assert time.monotonic() < deadline, "the stub stopped reading"
            readable, writable, _ = select.select([self.sock], [self.sock], [], 1)
            if readable:
                self.drain()
            if writable:
                try:
                    n = self.sock.send(data)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    self.connect()
                    return
                data = data[n:]

    # --- random pieces ----------------------------------------------------------------------

    def addr(self):
        r = self.rng
        choice = r.random()
        if choice < 0.3:
            return r.choice(self.ram) + r.randrange(-64, 256)
        if choice < 0.5:
            return 0x4000_0000 + r.randrange(0x10000)
        if choice < 0.6:
            return r.choice([0, 1, (1 << 64) - 1, (1 << 48), 0x8000_0000_0000_0000])
        return r.getrandbits(r.choice([8, 16, 32, 48, 64]))

    def length(self):
        r = self.rng
        return r.choice([0, 1, 2, 4, 8, 16, r.randrange(4096), r.randrange(1 << 20),
                         (1 << 64) - 1, r.getrandbits(32)])

    def num(self, value):
        """Hex, occasionally malformed or absurdly long."""
        r = self.rng.random()
        if r < 0.03:
            return "".join(self.rng.choice("0123456789abcdef") for _ in range(40))
        if r < 0.05:
            return self.rng.choice(["", "-1", "0x10", "zz", " 1", "1_0", "+5"])
        return f"{value:x}"

    def hexdata(self, n):
        return bytes(self.rng.getrandbits(8) for _ in range(min(n, 300))).hex()

    def tid(self):
        return self.rng.choice(["1", "-1", "0", "2", "p1.1", "p1.-1", "ff", "", "x"])

    def valid(self):
        r = self.rng
        a, n = self.addr(), self.length()
        choices = [
            lambda: "?", lambda: "g", lambda: "G" + self.hexdata(r.choice([788, 700, 10])),
            lambda: f"p{self.num(r.randrange(120))}",
            lambda: f"P{self.num(r.randrange(120))}={self.hexdata(r.choice([4, 8, 16, 3]))}",
            lambda: f"m{self.num(a)},{self.num(n)}",
            lambda: f"M{self.num(a)},{self.num(n)}:{self.hexdata(n)}",
            lambda: f"Z{r.randrange(6)},{self.num(a)},{self.num(r.choice([4, 8, n]))}",
            lambda: f"z{r.randrange(6)},{self.num(a)},{self.num(r.choice([4, 8, n]))}",
            lambda: f"H{r.choice('gcx')}{self.tid()}", lambda: f"T{self.tid()}",
            lambda: "vCont?",
            lambda: "vCont" + "".join(f";{r.choice(['c', 's', 'C05', 'S02', 't', 'r1,2', 'q'])}"
                                      + r.choice(["", ":" + self.tid()])
                                      for _ in range(r.randrange(1, 4))),
            lambda: r.choice(["c", "s", f"c{self.num(a)}", f"s{self.num(a)}", "C05",
                              f"S0b;{self.num(a)}", "Cxyz"]),
            lambda: f"qXfer:features:read:{r.choice(['target.xml', 'aarch64-core.xml', 'x', ''])}"
                    f":{self.num(r.randrange(5000))},{self.num(n)}",
            lambda: f"qXfer:threads:read::{self.num(r.randrange(500))},{self.num(n)}",
            lambda: f"qXfer:{r.choice(['memory-map', 'libraries', 'features'])}:"
                    f"{r.choice(['read', 'write', ''])}:",
            lambda: "qRcmd," + r.choice(["help", "icount", "phys on", "phys any", "phys off",
                                         "phys realm", "phys bogus", "exceptions run",
                                         "exceptions stop", "", "x" * 50,
                                         "\u00e9\u0000"]).encode().hex(),
            lambda: f"qRcmd,{self.hexdata(r.randrange(20))}",
            lambda: f"qThreadExtraInfo,{self.tid()}",
            lambda: "qSupported:" + ";".join(r.choice(["swbreak+", "hwbreak+", "foo-",
                                                       "x=1", "multiprocess+"])
                                             for _ in range(3)),
            lambda: r.choice(["qC", "qAttached", "qfThreadInfo", "qsThreadInfo", "qTStatus",
                              "vMustReplyEmpty", "qOffsets", "qSymbol::", "!", "QStartNoAckMode",
                              "D", "vRun", "vAttach;1", "qL1200000000000000000", "bc", "bs"]),
        ]
        return r.choice(choices)().encode("latin-1", "replace")

    def binary_x(self):
        a, data = self.addr(), bytes(self.rng.getrandbits(8) for _ in range(
            self.rng.randrange(64)))
        escaped = bytearray()
        for b in data:
            if b in b"$#}*":
                escaped += bytes([0x7D, b ^ 0x20])
            else:
                escaped.append(b)
        n = len(data) if self.rng.random() < 0.8 else self.length()
        return f"X{a:x},{n:x}:".encode() + bytes(escaped)

    @staticmethod
    def frame(payload):
        return b"$" + payload + b"#" + f"{sum(payload) & 0xFF:02x}".encode()

    def one(self):
        r = self.rng
        kind = r.random()
        if kind < 0.55:
            return self.frame(self.valid())
        if kind < 0.62:
            return self.frame(self.binary_x())
        if kind < 0.70:                          # bad checksum
            return b"$" + self.valid() + b"#" + r.choice([b"00", b"zz", b"f", b""])
        if kind < 0.78:                          # mutated
            data = bytearray(self.frame(self.valid()))
            for _ in range(r.randrange(1, 4)):
                data[r.randrange(len(data))] = r.getrandbits(8)
            return bytes(data)
        if kind < 0.84:                          # truncated
            data = self.frame(self.valid())
            return data[:r.randrange(len(data))]
        if kind < 0.90:                          # random binary junk
            return bytes(r.getrandbits(8) for _ in range(r.randrange(1, 200)))
        if kind < 0.93:
            return r.choice([b"\x03", b"+", b"-", b"---", b"$", b"#", b"}"])
        if kind < 0.95:                          # a huge packet
            return b"$" + b"m" + b"1" * r.randrange(5000, 40000) + b"#00"
        if kind < 0.97:                          # RLE and escapes in odd places
            return self.frame(r.choice([b"m0*\xff,4", b"}", b"*", b"g}", b"qRcmd,*}"]))
        return self.frame(b"vCont;c")


def test_fuzz_then_gdb_still_works(stub, gdb, program_symbols):
    s = stub("--no-exit-on-brk")
    fuzzer = Fuzzer((s.host, s.port), program_symbols, SEED)
    for i in range(PACKETS):
        fuzzer.pump(fuzzer.one())
        if i % 50 == 0:
            fuzzer.drain(0.01)
        if fuzzer.rng.random() < 0.01:
            fuzzer.connect()                    # gdb goes away (after a detach, or not)
    fuzzer.pump(b"\x03")
    fuzzer.drain(0.2)
    fuzzer.sock.close()
    assert s.proc.poll() is None, s.stderr()
    assert fuzzer.received > 10_000 and fuzzer.reconnects > 10

    g = gdb()
    stop = g.connect(s.address)
    assert stop["thread-id"] == "1"
    assert 'Thread 1 "cpu0"' in g.console("info threads")
    assert re.search(r"^pc\s+0x", g.console("info registers pc"), re.M)
    table = program_symbols["table"]
    g.console("monitor phys any")               # whatever the fuzzing did to the MMU
    g.console(f"set {{long}}{table:#x} = 0x1234abcd")
    g.console("maint flush dcache")
    assert g.console(f"x/1gx {table:#x}").split()[-1] == "0x000000001234abcd"
    g.mi("-exec-step-instruction")
    assert g.wait_stopped()["thread-id"] == "1"
    assert re.search(r"icount: \d+", g.console("monitor icount"))
    g.console("kill")
    assert s.wait(10) == 0
    log = s.stderr()
    assert "Traceback" not in log, log
