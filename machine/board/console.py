"""Where a UART's bytes go and come from: `--uart0 stdio | tcp:HOST:PORT | file:PATH | none`.

Backends are polled by the scheduler between slices (never blocking), so the machine stays
deterministic for a given input stream.
"""

import os
import select
import socket
import sys


class ConsoleError(ValueError):
    """A console specification that cannot be used."""


class NullConsole:
    def write(self, data):
        pass

    def poll_input(self, limit=256):
        """Up to `limit` bytes of input that are ready now (never blocks)."""
        return b""

    def close(self):
        pass


class StdioConsole(NullConsole):
    def __init__(self, stdin=None, stdout=None):
        self.out = stdout or sys.stdout.buffer
        self.inp = stdin if stdin is not None else sys.stdin
        self.eof = self.inp is None

    def write(self, data):
        self.out.write(data)
        self.out.flush()

    def poll_input(self, limit=256):
        if self.eof or limit <= 0:
            return b""
        try:
            fd = self.inp.fileno()
            ready, _, _ = select.select([fd], [], [], 0)
        except (OSError, ValueError):
            self.eof = True
            return b""
        if not ready:
            return b""
        data = os.read(fd, limit)
        if not data:
            self.eof = True
        return data


class FileConsole(NullConsole):
    def __init__(self, path):
        try:
            self.file = open(path, "wb")  # noqa: SIM115 - kept open for the machine's life
        except OSError as exc:
            raise ConsoleError(f"cannot open console file {path}: {exc.strerror}") from None

    def write(self, data):
        self.file.write(data)
        self.file.flush()

    def close(self):
        self.file.close()


class TcpConsole(NullConsole):
    """Listens on HOST:PORT; output before a client connects is kept and sent on connect."""

    def __init__(self, host, port):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.listener.bind((host, port))
        except OSError as exc:
            raise ConsoleError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self.listener.listen(1)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.client = None
        self.pending = bytearray()

    def _accept(self):
        if self.client is None:
            try:
                self.client, _ = self.listener.accept()
                self.client.setblocking(False)
            except BlockingIOError:
                return
            self._flush()

    def _flush(self):
        if self.client is not None and self.pending:
            try:
                sent = self.client.send(self.pending)
                del self.pending[:sent]
            except BlockingIOError:
                pass
            except OSError:
                self.client = None

    def write(self, data):
        self.pending += data
        self._accept()
        self._flush()

    def poll_input(self, limit=256):
        self._accept()
        if self.client is None or limit <= 0:
            return b""
        try:
            data = self.client.recv(limit)
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if not data:
            self.client.close()
            self.client = None
        return data

    def close(self):
        if self.client is not None:
            self.client.close()
        self.listener.close()


def open_console(spec):
    """A console backend from its command-line specification."""
    if spec in (None, "none"):
        return NullConsole()
    if spec == "stdio":
        return StdioConsole()
    kind, _, rest = spec.partition(":")
    if kind == "file" and rest:
        return FileConsole(rest)
    if kind == "tcp" and rest:
        host, _, port = rest.rpartition(":")
        if not port.isdigit():
            raise ConsoleError(f"tcp console needs tcp:HOST:PORT, not {spec!r}")
        return TcpConsole(host or "127.0.0.1", int(port))
    raise ConsoleError(f"unknown console {spec!r} (stdio, tcp:HOST:PORT, file:PATH or none)")
