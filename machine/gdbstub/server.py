"""The GDB remote serial protocol server.

One thread does everything: while the target runs, the server runs it in chunks
(`target.run(budget)`, sized to take about 20 ms) and polls its sockets without blocking
between chunks, for Ctrl-C (0x03), other packets, a disconnect, or a new connection. While
the target is stopped it blocks on the sockets. One gdb at a time is served; a second
connection is refused while one is open.

Connection rules (docs/gdb.md):
- a gdb connecting stops the machine if it is running;
- `detach` removes gdb's breakpoints and watchpoints and lets the machine run on;
- a gdb that goes away without detaching leaves the machine paused (its breakpoints and
  watchpoints removed) until the next gdb connects;
- `kill` ends serve_forever() (returns KILLED); the program exiting ends it (returns the
  exit code) once no gdb is connected.
"""

import logging
import select
import socket
import time

from . import packets
from .features import RegisterWriteError
from .monitor import BUILTINS, MonitorRegistry, MonitorRequest
from .packets import ACK, BAD, INTERRUPT_EVENT, NAK, PACKET, PACKET_SIZE, PacketError
from .target import (
    BREAKPOINT,
    EXITED,
    SIGABRT,
    SIGNAL,
    STEP,
    WATCHPOINT,
    MemoryAccessError,
    StopEvent,
    WatchpointError,
)

log = logging.getLogger("machine.gdbstub")

KILLED = "killed"

# Error replies (errno values, as gdbserver uses them)
E_PACKET = b"E01"
E_FAULT = b"E0e"       # EFAULT: memory cannot be accessed
E_INVAL = b"E16"       # EINVAL: bad thread, register or argument

MAX_MEMORY = (PACKET_SIZE - 32) // 2    # bytes in one m reply
MAX_WATCH = 1 << 20                     # longest watched range
SEND_TIMEOUT = 10.0                     # seconds a reply may wait for gdb to read
IDLE_POLL = 0.05                        # socket poll while every CPU sleeps in WFI
CHUNK_TIME = 0.02                       # target.run() time between two socket polls
MIN_CHUNK, MAX_CHUNK = 256, 1 << 20

SUPPORTED = (f"PacketSize={PACKET_SIZE:x};qXfer:features:read+;qXfer:threads:read+;"
             "vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+").encode()

Z_BREAK = {0: "sw", 1: "hw"}
Z_WATCH = {2: "w", 3: "r", 4: "a"}
WATCH_KEY = {2: "watch", 3: "rwatch", 4: "awatch"}


def parse_address(text):
    """`host:port`, `:port`, `port` (str or int) or a (host, port) tuple."""
    if isinstance(text, tuple):
        return text[0] or "127.0.0.1", int(text[1])
    if isinstance(text, int):
        return "127.0.0.1", text
    host, _, port = str(text).rpartition(":")
    return host or "127.0.0.1", int(port)


class Session:
    """One gdb connection: framing state, selected threads, gdb's breakpoints."""

    def __init__(self, server, sock):
        self.server = server
        self.sock = sock
        self.reader = packets.PacketReader()
        self.ack = True
        self.last_packet = None
        self.retries = 0
        self.gdb_features = set()
        self.g_thread = 0           # Hg: 0 or -1 = the last thread that stopped
        self.c_thread = -1          # Hc
        self.phys = None            # monitor phys: None, "context", a PAS number
        self.awaiting_stop = False  # gdb resumed the target and waits for a stop reply
        self.detached = False
        self.breakpoints = set()    # (type, address) of Z0/Z1
        self.watchpoints = []       # (type, address, length) of Z2/Z3/Z4
        self.watch_threads = {}     # (type, address, length) -> the thread it belongs to
        self.read_threads = {}      # (address, length) -> thread of its first m (watch_thread)
        self.watch_step = None      # thread stopped by a watchpoint, until it resumes
        self.threads_xml = b""

    # --- output ----------------------------------------------------------------------------------

    def send(self, payload):
        data = packets.frame(payload)
        self.last_packet = data
        self.retries = 0
        log.debug("-> %r", payload[:200])
        self.sock.sendall(data)

    def console(self, text):
        """Text for gdb's console as O packets (only while gdb waits for a reply)."""
        raw = text.encode("utf-8", "replace")
        step = (PACKET_SIZE - 8) // 2
        for i in range(0, len(raw), step):
            self.send(b"O" + packets.hexlify(raw[i:i + step]))

    # --- input -----------------------------------------------------------------------------------

    def feed(self, data):
        for event, payload in self.reader.feed(data):
            if event == PACKET:
                if self.ack:
                    self.sock.sendall(b"+")
                log.debug("<- %r", payload[:200])
                self.handle(payload)
            elif event == BAD:
                log.debug("<- bad packet %r", payload[:80])
                if self.ack:
                    self.sock.sendall(b"-")
            elif event == NAK:
                if self.ack and self.last_packet is not None and self.retries < 3:
                    self.retries += 1
                    self.sock.sendall(self.last_packet)
            elif event == INTERRUPT_EVENT:
                self.server.interrupt()
            elif event == ACK:
                pass
            if self.server.session is not self:
                return              # killed, or the connection dropped while replying

    def handle(self, payload):
        try:
            reply = self.dispatch(payload)
        except PacketError as exc:
            log.debug("bad packet %r: %s", payload[:80], exc)
            reply = E_PACKET
        except (OSError, ConnectionError):
            raise
        except Exception:
            log.exception("gdb packet %r", payload[:80])
            reply = E_PACKET
        if reply is not None:
            self.send(reply)

    # --- threads ---------------------------------------------------------------------------------

    def thread_ids(self):
        return [c.id for c in self.server.target.contexts()]

    def stop_thread(self):
        """The thread 'any' means: the one that stopped last, or the first context."""
        ids = self.thread_ids()
        last = self.server.last_stop
        if last is not None and last.thread in ids:
            return last.thread
        return ids[0] if ids else 0

    def general_thread(self):
        if self.g_thread in (0, -1):
            return self.stop_thread()
        return self.g_thread

    # --- stop replies ----------------------------------------------------------------------------

    def stop_reply(self, event):
        if event.reason == EXITED:
            return b"W%02x" % (event.exit_code & 0xFF)
        tid = event.thread
        parts = [b"T%02xthread:%x;" % (event.signal & 0xFF, tid)]
        if event.reason == BREAKPOINT:
            pc = self.server.target.read_register(tid, 32)
            pc = int.from_bytes(pc, "little") if pc else None
            if (0, pc) in self.breakpoints and "swbreak+" in self.gdb_features:
                parts.append(b"swbreak:;")
            elif (1, pc) in self.breakpoints and "hwbreak+" in self.gdb_features:
                parts.append(b"hwbreak:;")
        elif event.reason == WATCHPOINT and event.watch is not None:
            found = self.watchpoint_for(*event.watch)
            if found is not None:
                type_, start = found
                parts.append(b"%s:%x;" % (WATCH_KEY[type_].encode(), start))
                # gdb steps over an AArch64 watchpoint before reporting it: that step is
                # answered without running, as the access has already been done.
                self.watch_step = tid
        return b"".join(parts)

    def watchpoint_for(self, addr, access):
        """(Z type, start) of the gdb watchpoint an access of kind 'r'/'w' at addr hit."""
        for type_, start, length in self.watchpoints:
            kind = Z_WATCH[type_]
            if start <= addr < start + length and (kind == "a" or kind == access):
                return type_, start
        return None

    def report(self, event):
        """The target stopped: tell gdb if it is waiting."""
        self.g_thread = self.c_thread = event.thread if event.thread else self.g_thread
        if not self.awaiting_stop:
            return
        self.awaiting_stop = False
        self.threads_xml = b""
        if event.message:
            self.console(event.message)
        self.send(self.stop_reply(event))

    # --- resuming --------------------------------------------------------------------------------

    def resume(self, actions):
        """Resume `actions` ({thread: 'c'|'s'}); the reply comes when the target stops."""
        server = self.server
        self.awaiting_stop = True
        if server.exit_event is not None:
            self.report(server.exit_event)
            return None
        if self.watch_step is not None and actions == {self.watch_step: "s"}:
            tid, self.watch_step = self.watch_step, None
            server.last_stop = StopEvent(STEP, tid)
            self.report(server.last_stop)
            return None
        self.watch_step = None
        # gdb has inserted every watchpoint it keeps before resuming: forget the others
        self.watch_threads = {key: tid for key, tid in self.watch_threads.items()
                              if key in self.watchpoints}
        self.read_threads.clear()
        server.resume(actions)
        return None

    def set_pc(self, tid, text):
        addr = packets.parse_hex(text)
        self.server.target.write_register(tid, 32, addr.to_bytes(8, "little"))

    def resume_thread(self):
        if self.c_thread in (0, -1):
            return self.stop_thread()
        return self.c_thread

    # --- dispatch --------------------------------------------------------------------------------

    def dispatch(self, payload):
        if not payload:
            return b""
        head = payload[:1]
        text = payload.decode("latin-1")
        if head == b"q" or head == b"Q":
            return self.query(text)
        if head == b"v":
            return self.v_packet(text)
        handler = self.SIMPLE.get(head)
        if handler is None:
            return b""
        return handler(self, text, payload)

    def p_stop_reason(self, text, payload):
        server = self.server
        if server.exit_event is not None:
            return self.stop_reply(server.exit_event)
        tid = self.stop_thread()
        self.g_thread = self.c_thread = tid
        return b"T05thread:%x;" % tid if tid else b"S05"

    def p_g(self, text, payload):
        tid = self.general_thread()
        target = self.server.target
        if tid not in self.thread_ids():
            return E_INVAL
        out = []
        for reg in target.description.g_registers:
            data = target.read_register(tid, reg.regnum)
            out.append(packets.hexlify(data) if data is not None else b"xx" * reg.size)
        return b"".join(out)

    def p_G(self, text, payload):
        tid = self.general_thread()
        target = self.server.target
        data = packets.parse_hex_bytes(text[1:])
        if tid not in self.thread_ids() or len(data) > target.description.g_size:
            return E_INVAL
        pos = 0
        failed = False
        for reg in target.description.g_registers:
            if pos + reg.size > len(data):
                break
            value = data[pos:pos + reg.size]
            pos += reg.size
            if target.read_register(tid, reg.regnum) == value:
                continue
            try:
                target.write_register(tid, reg.regnum, value)
            except RegisterWriteError:
                failed = True
        return E_INVAL if failed else b"OK"

    def p_p(self, text, payload):
        regnum = packets.parse_hex(text[1:], 8)
        tid = self.general_thread()
        target = self.server.target
        reg = target.description.by_number.get(regnum)
        if reg is None or tid not in self.thread_ids():
            return E_INVAL
        data = target.read_register(tid, regnum)
        return packets.hexlify(data) if data is not None else b"xx" * reg.size

    def p_P(self, text, payload):
        num, eq, value = text[1:].partition("=")
        if not eq:
            raise PacketError("P without '='")
        regnum = packets.parse_hex(num, 8)
        data = packets.parse_hex_bytes(value)
        tid = self.general_thread()
        target = self.server.target
        reg = target.description.by_number.get(regnum)
        if reg is None or tid not in self.thread_ids() or len(data) != reg.size:
            return E_INVAL
        try:
            target.write_register(tid, regnum, data)
        except RegisterWriteError as exc:
            log.debug("register write refused: %s", exc)
            return E_INVAL
        return b"OK"

    def memory_pas(self):
        if self.phys == "context":
            return self.server.target.context_pas(self.general_thread())
        return self.phys

    def _addr_len(self, text):
        addr, comma, length = text.partition(",")
        if not comma:
            raise PacketError("expected ADDR,LENGTH")
        return packets.parse_hex(addr), packets.parse_hex(length)

    def p_m(self, text, payload):
        addr, length = self._addr_len(text[1:])
        if length > MAX_MEMORY:
            return E_INVAL
        if length == 0:
            return b""
        tid = self.general_thread()
        self.read_threads.setdefault((addr, length), tid)     # see watch_thread
        try:
            data = self.server.target.read_memory(tid, addr, length, self.memory_pas())
        except MemoryAccessError as exc:
            log.debug("memory read %#x+%#x: %s", addr, length, exc)
            return E_FAULT
        return packets.hexlify(data) if data else E_FAULT

    def _write(self, addr, data):
        try:
            self.server.target.write_memory(self.general_thread(), addr, data,
                                            self.memory_pas())
        except MemoryAccessError as exc:
            log.debug("memory write %#x+%#x: %s", addr, len(data), exc)
            return E_FAULT
        return b"OK"

    def p_M(self, text, payload):
        head, colon, hexdata = text[1:].partition(":")
        if not colon:
            raise PacketError("M without ':'")
        addr, length = self._addr_len(head)
        data = packets.parse_hex_bytes(hexdata)
        if len(data) != length:
            return E_INVAL
        return self._write(addr, data) if data else b"OK"

    def p_X(self, text, payload):
        head, colon, data = payload[1:].partition(b":")
        if not colon:
            raise PacketError("X without ':'")
        addr, length = self._addr_len(head.decode("latin-1"))
        if len(data) != length:
            return E_INVAL
        return self._write(addr, data) if data else b"OK"

    def p_Z(self, text, payload):
        fields = text[1:].split(";", 1)[0].split(",")
        if len(fields) != 3 or len(fields[0]) != 1 or fields[0] not in "01234":
            return b""          # an unknown Z type is unsupported, not an error
        type_ = int(fields[0])
        addr = packets.parse_hex(fields[1])
        length = packets.parse_hex(fields[2], 8)
        insert = text[0] == "Z"
        target = self.server.target
        tid = self.general_thread()
        if type_ in Z_BREAK:
            key = (type_, addr)
            if insert and key not in self.breakpoints:
                target.add_breakpoint(tid, addr, Z_BREAK[type_])
                self.breakpoints.add(key)
            elif not insert and key in self.breakpoints:
                target.remove_breakpoint(tid, addr, Z_BREAK[type_])
                self.breakpoints.discard(key)
            return b"OK"
        if not 0 < length <= MAX_WATCH or addr + length > 1 << 64:
            return E_INVAL
        key = (type_, addr, length)
        if insert and key not in self.watchpoints:
            tid = self.watch_thread(key, tid)
            try:
                target.add_watchpoint(tid, addr, length, Z_WATCH[type_])
            except WatchpointError as exc:
                log.debug("watchpoint refused: %s", exc)
                return E_INVAL
            self.watch_threads[key] = tid
            self.watchpoints.append(key)
        elif not insert and key in self.watchpoints:
            target.remove_watchpoint(self.watch_threads[key], addr, length, Z_WATCH[type_])
            self.watchpoints.remove(key)
        return b"OK"

    def watch_thread(self, key, selected):
        """The context a watchpoint belongs to. gdb does not say which thread a watchpoint
        was set in: it removes its watchpoints at every stop and inserts them again when it
        resumes, with the thread it selected last, which is the thread that stopped when gdb
        first steps that one over a breakpoint. But setting a watchpoint gdb reads the
        watched bytes through the thread the user selected, and gdb selects a thread other
        than the one that stopped only for the user. So a new watchpoint belongs to the
        thread that first read exactly its bytes since gdb resumed or selected such a thread
        (else to the selected thread), and keeps it while the thread lives and gdb keeps the
        watchpoint."""
        tid = self.watch_threads.get(key)
        if tid in self.thread_ids():
            return tid
        return self.read_threads.get(key[1:], selected)

    def remove_all_points(self):
        target = self.server.target
        tid = self.general_thread()
        for type_, addr in sorted(self.breakpoints):
            target.remove_breakpoint(tid, addr, Z_BREAK[type_])
        for key in self.watchpoints:
            type_, addr, length = key
            target.remove_watchpoint(self.watch_threads[key], addr, length, Z_WATCH[type_])
        self.breakpoints.clear()
        self.watchpoints.clear()
        self.watch_threads.clear()
        self.read_threads.clear()

    def p_H(self, text, payload):
        if len(text) < 3 or text[1] not in "gc":
            return E_INVAL
        tid = packets.parse_thread_id(text[2:])
        if tid not in (0, -1) and tid not in self.thread_ids():
            return E_INVAL
        if text[1] == "g":
            if tid not in (0, -1, self.stop_thread()):
                self.read_threads.clear()       # the user selected a thread: see watch_thread
            self.g_thread = tid
        else:
            self.c_thread = tid
        return b"OK"

    def p_T(self, text, payload):
        tid = packets.parse_thread_id(text[1:])
        return b"OK" if tid in self.thread_ids() else E_INVAL

    def p_c(self, text, payload):
        """c[addr], s[addr], C sig[;addr], S sig[;addr]: legacy resume."""
        action = text[0].lower()
        arg = text[1:]
        if text[0] in "CS":
            sig, _, arg = arg.partition(";")
            packets.parse_hex(sig, 2)           # signals are not delivered to the guest
        tid = self.resume_thread()
        if tid not in self.thread_ids():
            return E_INVAL
        if arg:
            self.set_pc(tid, arg)
        if action == "s":
            return self.resume({tid: "s"})
        return self.resume({t: "c" for t in self.thread_ids()})

    def p_D(self, text, payload):
        self.remove_all_points()
        self.detached = True
        self.server.detach()
        return b"OK"            # gdb then closes the connection

    def p_k(self, text, payload):
        self.server.kill()
        return None

    SIMPLE = {b"?": p_stop_reason, b"g": p_g, b"G": p_G, b"p": p_p, b"P": p_P, b"m": p_m,
              b"M": p_M, b"X": p_X, b"Z": p_Z, b"z": p_Z, b"H": p_H, b"T": p_T, b"c": p_c,
              b"s": p_c, b"C": p_c, b"S": p_c, b"D": p_D, b"k": p_k}

    # --- v packets -------------------------------------------------------------------------------

    def v_packet(self, text):
        if text == "vCont?":
            return b"vCont;c;C;s;S;t"
        if text.startswith("vCont;"):
            return self.v_cont(text[6:])
        if text.startswith("vKill"):
            self.send(b"OK")
            self.server.kill()
            return None
        return b""              # vMustReplyEmpty and everything else

    def v_cont(self, text):
        parsed = []
        for item in text.split(";"):
            action, colon, tid_text = item.partition(":")
            if not action or action[0] not in "cCsSt":
                return E_INVAL
            if action[0] in "CS":
                packets.parse_hex(action[1:], 2)
            elif len(action) != 1:
                return E_INVAL
            tid = packets.parse_thread_id(tid_text) if colon else -1
            if tid == 0:
                tid = self.stop_thread()
            parsed.append((action[0].lower(), tid))
        actions = {}
        stopped = []
        for ctx in self.thread_ids():
            for action, tid in parsed:
                if tid in (-1, ctx):
                    if action == "t":
                        stopped.append(ctx)
                    else:
                        actions[ctx] = action
                    break
        if not actions:
            if stopped:
                self.server.last_stop = StopEvent(STEP, stopped[0], 0)
                return b"T00thread:%x;" % stopped[0]
            return E_INVAL
        return self.resume(actions)

    # --- queries ---------------------------------------------------------------------------------

    def query(self, text):
        name, _, args = text.partition(":")
        if text.startswith("qRcmd,"):
            return self.q_rcmd(text[6:])
        if text.startswith("qThreadExtraInfo,"):
            tid = packets.parse_thread_id(text[17:])
            for ctx in self.server.target.contexts():
                if ctx.id == tid:
                    return packets.hexlify((ctx.extra or ctx.name).encode("utf-8", "replace"))
            return E_INVAL
        if name == "qSupported":
            self.gdb_features = set(args.split(";")) if args else set()
            return SUPPORTED
        if name == "QStartNoAckMode":
            self.send(b"OK")
            self.ack = False
            return None
        if name == "qAttached":
            return b"1"
        if name == "qC":
            return b"QC%x" % self.stop_thread()
        if name == "qfThreadInfo":
            ids = self.thread_ids()
            return b"m" + b",".join(b"%x" % t for t in ids) if ids else b"l"
        if name == "qsThreadInfo":
            return b"l"
        if name == "qSymbol":
            return b"OK"
        if name == "qXfer":
            return self.q_xfer(args)
        return b""

    def q_xfer(self, args):
        parts = args.split(":")
        if len(parts) != 4 or parts[1] != "read":
            return b""
        obj, _, annex, span = parts
        offset, length = self._addr_len(span)
        if obj == "features":
            data = self.server.target.description.annexes.get(annex)
            if data is None:
                return E_INVAL
        elif obj == "threads" and annex == "":
            if offset == 0 or not self.threads_xml:
                self.threads_xml = self.threads_document()
            data = self.threads_xml
        else:
            return b""
        length = min(length, PACKET_SIZE // 2 - 8)
        chunk = data[offset:offset + length]
        more = offset + length < len(data)
        return (b"m" if more else b"l") + packets.escape(chunk)

    def threads_document(self):
        from xml.sax.saxutils import escape, quoteattr

        lines = ['<?xml version="1.0"?>', "<threads>"]
        for ctx in self.server.target.contexts():
            core = f' core="{ctx.core:x}"' if ctx.core is not None else ""
            lines.append(f'  <thread id="{ctx.id:x}"{core} name={quoteattr(ctx.name)}>'
                         f"{escape(ctx.extra)}</thread>")
        lines.append("</threads>")
        return ("\n".join(lines) + "\n").encode("utf-8")

    def q_rcmd(self, hextext):
        line = packets.parse_hex_bytes(hextext).decode("utf-8", "replace")
        server = self.server
        request = MonitorRequest(server.target, self.general_thread(), self, server.commands,
                                 self.console)
        output = server.commands.run(request, line)
        if output:
            self.console(output)
        return b"OK"


class GdbServer:
    """Serves `target` (a DebugTarget) to gdb over TCP on host:port (port 0: any free port,
    `.port` says which)."""

    def __init__(self, target, host="127.0.0.1", port=0, commands=()):
        self.target = target
        self.listener = socket.create_server((host, port))
        self.host, self.port = self.listener.getsockname()[:2]
        registry = list(BUILTINS) + list(target.monitor_commands()) + list(commands)
        self.commands = MonitorRegistry(registry)
        self.session = None
        self.running = False
        self.last_stop = None
        self.exit_event = None
        self.finished = False
        self.result = None
        self.chunk = 4096

    # --- the loop --------------------------------------------------------------------------------

    def serve_forever(self, wait=True):
        """Serve until gdb kills the target (returns KILLED) or the program exits and no gdb
        is connected (returns the exit code). With `wait`, the target stays stopped until a
        gdb connects and resumes it; otherwise it starts running now."""
        if not wait:
            self.resume({ctx.id: "c" for ctx in self.target.contexts()})
        try:
            while not self.finished:
                self.poll()
        finally:
            self.close()
        return self.result

    def poll(self):
        """One iteration: a chunk of guest execution if running, then the sockets."""
        timeout = None
        if self.running:
            self.run_chunk()
            timeout = IDLE_POLL if self.running and self.target.idle else 0
            if not self.running:
                timeout = 0
        if self.finished:
            return
        if self.session is None and self.exit_event is not None:
            self.finish(self.exit_event.exit_code)
            return
        socks = [self.listener] + ([self.session.sock] if self.session else [])
        readable, _, _ = select.select(socks, [], [], timeout)
        session = self.session
        if session is not None and session.sock in readable:
            try:
                data = session.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.disconnect(session)
            else:
                try:
                    session.feed(data)
                except OSError as exc:
                    log.info("gdb connection lost: %s", exc)
                    self.disconnect(session)
        if self.listener in readable and not self.finished:
            self.accept()

    def run_chunk(self):
        start = time.perf_counter()
        try:
            event = self.target.run(self.chunk)
        except Exception as exc:            # a model bug must not take the server down
            log.exception("the target failed while running")
            thread = self.last_stop.thread if self.last_stop else 0
            ids = [c.id for c in self.target.contexts()]
            event = StopEvent(SIGNAL, thread if thread in ids else (ids[0] if ids else 0),
                              SIGABRT, message=f"internal error in the model: {exc!r}\n")
            self.target.interrupt()
        elapsed = time.perf_counter() - start
        if elapsed < CHUNK_TIME / 2:
            self.chunk = min(self.chunk * 2, MAX_CHUNK)
        elif elapsed > CHUNK_TIME * 2:
            self.chunk = max(self.chunk // 2, MIN_CHUNK)
        if event is not None:
            self.stopped(event)

    def stopped(self, event):
        self.running = False
        self.last_stop = event
        if event.reason == EXITED:
            self.exit_event = event
        session = self.session
        if session is not None and not session.detached:
            try:
                session.report(event)
            except OSError:
                self.disconnect(session)

    def resume(self, actions):
        self.target.resume(actions)
        self.running = True

    def interrupt(self):
        if self.running:
            self.stopped(self.target.interrupt())

    # --- connections -----------------------------------------------------------------------------

    def accept(self):
        try:
            sock, peer = self.listener.accept()
        except OSError:
            return
        if self.session is not None and not self._session_closed():
            log.info("refusing a second gdb connection from %s:%s", *peer[:2])
            sock.close()
            return
        sock.settimeout(SEND_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log.info("gdb connected from %s:%s", *peer[:2])
        if self.running:
            self.running = False
            self.last_stop = self.target.interrupt()
        self.session = Session(self, sock)

    def _session_closed(self):
        """Whether the current gdb has closed its connection (its EOF not yet seen): then
        it is disconnected now, so that a quick re-attach is not refused."""
        session = self.session
        try:
            readable, _, _ = select.select([session.sock], [], [], 0)
            if not readable:
                return False
            data = session.sock.recv(65536)
        except OSError:
            data = b""
        if data:
            try:
                session.feed(data)
            except OSError:
                data = b""
        if not data:
            self.disconnect(session)
        return self.session is None

    def disconnect(self, session):
        if self.session is not session:
            return
        self.session = None
        try:
            session.remove_all_points()
        except Exception:
            log.exception("removing gdb's breakpoints")
        if self.running and not session.detached:
            self.running = False
            self.last_stop = self.target.interrupt()
        close_gracefully(session.sock)
        log.info("gdb disconnected; the machine is %s", "running" if self.running else
                 "paused")

    def detach(self):
        """gdb detached: the machine runs on (it was stopped, so resume every context)."""
        if self.exit_event is None and not self.running:
            self.resume({ctx.id: "c" for ctx in self.target.contexts()})

    def kill(self):
        self.finish(KILLED)

    def finish(self, result):
        self.finished = True
        self.result = result
        if self.session is not None:
            close_gracefully(self.session.sock)
            self.session = None

    def close(self):
        if self.session is not None:
            close_gracefully(self.session.sock)
            self.session = None
        self.listener.close()


def close_gracefully(sock, linger=1.0):
    """Close a connection after gdb has read what was sent: shut down our side and drain
    until gdb closes its side (or `linger` seconds), so that no reset discards a reply."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + linger
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], left)
            if readable and not sock.recv(4096):
                break
    except OSError:
        pass
    sock.close()


def serve(target, address, wait=True):
    """Serve `target` to gdb at `address` ("[HOST:]PORT"; port 0 picks one) until gdb kills
    it or the program exits; with `wait` the machine holds until gdb resumes it. Returns
    serve_forever()'s result (KILLED or the exit code)."""
    import sys

    host, port = parse_address(address)
    server = GdbServer(target, host, port)
    print(f"fvp-rme: gdb stub listening on {server.host}:{server.port}"
          + (" (waiting for gdb)" if wait else ""), file=sys.stderr, flush=True)
    return server.serve_forever(wait=wait)
