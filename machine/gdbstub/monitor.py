"""`monitor ...` commands (gdb's qRcmd): a registry that targets and later code extend.

A command is a name of one or more words ("icount", "trace rmi"), a one-line help text and a
function `run(request, args)` where `args` is the list of the remaining words; it returns the
text to print (or None) and may also call `request.write(text)` to print as it goes. The
longest registered name that prefixes the command line wins.

    from machine.gdbstub.monitor import MonitorCommand
    MonitorCommand("realms", "realms: list the live realms", lambda request, args: "...")

Targets contribute commands through DebugTarget.monitor_commands(); the built-in ones are in
BUILTINS.
"""

from collections.abc import Callable
from typing import NamedTuple


class MonitorCommand(NamedTuple):
    name: str
    help: str
    run: Callable


class MonitorRequest:
    """What a command can see: the target, the selected context (`thread`), the connection's
    settings (`session`: `phys` is None for virtual accesses, "context" or a PAS number), and
    `write(text)` to print."""

    def __init__(self, target, thread, session, registry, write):
        self.target = target
        self.thread = thread
        self.session = session
        self.registry = registry
        self.write = write


class MonitorError(Exception):
    """A command that cannot run: the message is printed."""


class MonitorRegistry:
    def __init__(self, commands=()):
        self._commands = {}
        for command in commands:
            self.add(command)

    def add(self, command):
        key = tuple(command.name.split())
        if not key:
            raise ValueError("a monitor command needs a name")
        self._commands[key] = command
        return command

    def command(self, name, help):
        """Decorator form of add()."""
        def register(func):
            self.add(MonitorCommand(name, help, func))
            return func
        return register

    def __iter__(self):
        return iter(sorted(self._commands.values(), key=lambda c: c.name))

    def find(self, line):
        """(command, remaining words) for a command line, or (None, words)."""
        words = line.split()
        for n in range(len(words), 0, -1):
            command = self._commands.get(tuple(words[:n]))
            if command is not None:
                return command, words[n:]
        return None, words

    def run(self, request, line):
        command, args = self.find(line)
        if command is None:
            if not line.strip():
                return _help(request, [])
            return f"unknown monitor command '{line.strip()}'; 'monitor help' lists them\n"
        try:
            return command.run(request, args)
        except MonitorError as exc:
            return f"{command.name}: {exc}\n"


# --- built-in commands ---------------------------------------------------------------------------

BUILTINS = MonitorRegistry()


@BUILTINS.command("help", "help: list the monitor commands")
def _help(request, args):
    lines = ["monitor commands:"]
    lines += [f"  {command.help}" for command in request.registry]
    return "\n".join(lines) + "\n"


@BUILTINS.command("icount", "icount: instructions retired so far")
def _icount(request, args):
    return f"icount: {request.target.icount()}\n"


PAS_WORDS = {"secure": 0, "nonsecure": 1, "ns": 1, "root": 2, "realm": 3}
PAS_LABELS = {0: "Secure", 1: "Non-secure", 2: "Root", 3: "Realm"}


@BUILTINS.command("phys", "phys [on|off|secure|nonsecure|realm|root|any]: memory accesses "
                          "by physical address (on: in the context's PAS; any: no granule "
                          "check) or virtual (off)")
def _phys(request, args):
    from .target import PAS_ANY

    session = request.session
    if args:
        word = args[0].lower()
        if word == "off":
            session.phys = None
        elif word == "on":
            session.phys = "context"
        elif word == "any":
            session.phys = PAS_ANY
        elif word in PAS_WORDS:
            session.phys = PAS_WORDS[word]
        else:
            raise MonitorError("expected on, off, secure, nonsecure, realm, root or any")
    mode = session.phys
    if mode is None:
        text = "off: addresses are virtual, in the selected context's translation regime"
    elif mode == "context":
        pas = request.target.context_pas(request.thread)
        text = f"on: addresses are physical, in the context's PAS ({PAS_LABELS[pas]})"
    elif mode == PAS_ANY:
        text = "any: addresses are physical, with no granule protection check"
    else:
        text = f"on: addresses are physical, in the {PAS_LABELS[mode]} PAS"
    note = "" if not args else " (run 'maint flush dcache' if gdb cached memory)"
    return f"phys {text}{note}\n"
