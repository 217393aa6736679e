"""The GDB remote stub: gdb-multiarch attaches over TCP and sees each debug context (a CPU in
the Non-secure world, the RMM, a realm's REC) as a thread. See docs/gdb.md.

    from machine.gdbstub import CpuTarget, GdbServer, serve
    serve(CpuTarget(cpu), "127.0.0.1:1234", wait=True)
"""

from .features import AARCH64, Description, RegisterWriteError
from .monitor import BUILTINS, MonitorCommand, MonitorRegistry, MonitorRequest
from .server import KILLED, GdbServer, serve
from .target import (
    PAS_ANY,
    Context,
    CpuTarget,
    DebugTarget,
    MemoryAccessError,
    StopEvent,
)

__all__ = ["AARCH64", "BUILTINS", "KILLED", "PAS_ANY", "Context", "CpuTarget", "DebugTarget",
           "Description", "GdbServer", "MemoryAccessError", "MonitorCommand",
           "MonitorRegistry", "MonitorRequest", "RegisterWriteError", "StopEvent", "serve"]
