"""`python -m machine.gdbstub --elf FILE [--port N]`: load an ELF image into a bare CPU at EL1
and serve it to gdb, holding at the entry point until gdb continues.

Prints `listening on HOST:PORT` on stdout once the socket is open (port 0 picks a free
port). Exits when gdb kills the program (status 0) or when the program ends with BRK #0 and
no gdb is connected (status: its exit code).
"""

import argparse
import logging
import sys

from machine.api import Cpu
from machine.images import ImageError
from machine.images.elf import load_elf

from .server import KILLED, GdbServer
from .target import CpuTarget


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m machine.gdbstub",
                                     description="Serve an ELF program on a bare AArch64 CPU "
                                                 "to gdb.")
    parser.add_argument("--elf", required=True, metavar="FILE", help="the program to load")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument("--el", type=int, default=1, choices=(1, 2, 3),
                        help="exception level the CPU starts at")
    parser.add_argument("--no-exit-on-brk", action="store_true",
                        help="BRK #0 is an exception like any other, not the program's end")
    parser.add_argument("--run", action="store_true",
                        help="start running at once instead of waiting for gdb")
    parser.add_argument("--debug", action="store_true", help="log every packet on stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(name)s: %(message)s")
    try:
        image = load_elf(args.elf)
    except ImageError as exc:
        print(f"python -m machine.gdbstub: {exc}", file=sys.stderr)
        return 2
    cpu = Cpu(el=args.el)
    image.load_into(cpu)
    cpu.set_reg("pc", image.entry)
    target = CpuTarget(cpu, exit_on_brk=not args.no_exit_on_brk)
    server = GdbServer(target, args.host, args.port)
    print(f"listening on {server.host}:{server.port}", flush=True)
    result = server.serve_forever(wait=not args.run)
    return 0 if result == KILLED else result


if __name__ == "__main__":
    sys.exit(main())
