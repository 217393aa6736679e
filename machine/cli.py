"""The `fvp-rme` command: run | inspect | measure | bench."""

import argparse
import json
import sys


class NotLanded(Exception):
    """A subcommand (or option) whose feature is not implemented yet."""


def _not_landed(feature):
    def command(args):
        raise NotLanded(f"fvp-rme {args.command}: {feature} is not implemented yet")
    return command


def cmd_run(args):
    if args.kernel:
        raise NotLanded("fvp-rme run --kernel: the machine (board, firmware, RMM) is not "
                        "implemented yet")
    return run_bundled()


def run_bundled():
    """Until the board and the realm demo land, `fvp-rme run` runs the simplest bundled
    program the interpreter can run: the sort/CRC workload, on a bare CPU."""
    from .api import Cpu
    from .bench import WORKLOADS
    from .images.elf import load_elf

    path = WORKLOADS["sort_crc"]
    image = load_elf(path)
    cpu = Cpu(el=1)
    image.load_into(cpu)
    cpu.set_reg("pc", image.entry)
    result = cpu.run(count=50_000_000)
    ok = result.reason == "exception" and result.ec == 0x3C
    print(f"fvp-rme: ran {path.name} on a bare CPU (the board and the realm demo have not "
          f"landed yet): {result.retired} instructions, x0 = {cpu.reg('x0'):#x}, "
          f"{'finished with BRK' if ok else 'stopped: ' + result.reason}")
    return 0 if ok else 1


def cmd_bench(args):
    from . import bench

    results = bench.run_all(args.workload or None)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(bench.format_table(results))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fvp-rme",
        description="A Python model of the Arm FVP Base RevC platform with RME (Arm CCA).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run the machine (with no arguments: the bundled realm demo)",
                         description="Boot the FVP Base RevC RME machine.")
    run.add_argument("--kernel", metavar="IMAGE", help="image to boot at NS-EL2")
    run.set_defaults(func=cmd_run)

    inspect = sub.add_parser("inspect", help="describe images, device trees and tokens",
                             description="Describe ELF/Image/DTB files and CCA tokens.")
    inspect.add_argument("files", nargs="+", metavar="FILE")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.set_defaults(func=_not_landed("image inspection"))

    measure = sub.add_parser("measure", help="predict the RIM of a realm built from an image",
                             description="Compute the Realm Initial Measurement offline.")
    measure.add_argument("--image", metavar="FILE", required=True)
    measure.add_argument("--json", action="store_true", help="machine-readable output")
    measure.set_defaults(func=_not_landed("realm measurement"))

    bench = sub.add_parser("bench", help="interpreter speed on fixed workloads",
                           description="Run the fixed workloads on this interpreter and on "
                                       "Unicorn and print instructions, MIPS and the ratio.")
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.add_argument("--workload", action="append", metavar="NAME",
                       help="run only this workload (repeatable)")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NotLanded as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
