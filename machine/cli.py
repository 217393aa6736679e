"""The `fvp-rme` command: run | inspect | measure | bench."""

import argparse
import json
import sys
import time


def print_trace(line):
    print(line, file=sys.stderr, flush=True)


def parse_injection(text):
    """'busy=0.1,incomplete=0.2,seed=3' -> an RMM fault Injector."""
    from .rmm import Injector

    values = {"busy": 0.0, "incomplete": 0.0, "seed": 0}
    for item in text.split(","):
        name, _, value = item.partition("=")
        if name not in values or not value:
            raise argparse.ArgumentTypeError(
                f"--rmm-inject takes busy=P,incomplete=P,seed=N, not {text!r}")
        try:
            values[name] = int(value) if name == "seed" else float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--rmm-inject: {item!r} is not a number") from None
    return Injector(**values)


def parse_size(text):
    """'512M', '2G', '1073741824' -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B")
    try:
        if text and text[-1] in units:
            return int(text[:-1]) * units[text[-1]]
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 512M, 2G)") from None


def cmd_run(args):
    from .board import registry

    if args.machine == "help":
        for name in sorted(registry.available()):
            definition = registry.lookup(name)
            print(f"{name:20} {definition.description}")
        return 0
    if not args.kernel:
        args.kernel = str(demo_image())
    return run_machine(args, registry.lookup(args.machine))


def run_machine(args, definition):
    from .board.boot import BootConfig, build
    from .board.console import ConsoleError
    from .images import ImageError

    if args.attest_seed is not None:
        from .rmm import attestation

        attestation.set_seed(args.attest_seed)
    config = BootConfig(kernel=args.kernel, definition=definition, cpus=args.cpus,
                        memory=args.memory, append=args.append, modules=args.module or [],
                        module_args=args.module_args or [], initrd=args.initrd, dtb=args.dtb,
                        dump_dtb=args.dump_dtb, consoles={"uart0": args.uart0},
                        icount_shift=args.icount_shift, rmm_inject=args.rmm_inject,
                        rmm_trace=print_trace if args.trace == "rmi" else None)
    try:
        machine = build(config)
    except (ImageError, ConsoleError, ValueError) as exc:
        print(f"fvp-rme: {exc}", file=sys.stderr)
        return 2
    if args.wait_gdb and args.gdb is None:
        print("fvp-rme: --wait-gdb needs --gdb [HOST:]PORT", file=sys.stderr)
        return 2
    start = time.perf_counter()
    if args.gdb is not None:
        from .gdbstub.machine_target import GdbAddressError, serve_machine

        try:
            result = serve_machine(machine, args.gdb, args.wait_gdb, args.max_insns)
        except GdbAddressError as exc:
            print(f"fvp-rme: {exc}", file=sys.stderr)
            return 2
    else:
        result = machine.run(args.max_insns)
    seconds = time.perf_counter() - start
    if result.status:
        print(f"fvp-rme: {result.reason}", file=sys.stderr)
    if args.stats:
        print(machine.stats(seconds), file=sys.stderr)
    return result.status


def demo_image():
    """The bundled realm demo: the host hypervisor that creates, runs and destroys the hello
    and attestation realms (images/host/host.elf, built from stubs/)."""
    from .bench import IMAGES

    return IMAGES / "host" / "host.elf"


DEFAULT_REALM_IPA = 0x8000_0000


def cmd_inspect(args):
    from .board import registry
    from .images import ImageError
    from .images.inspect import format_report, inspect_file

    definition = registry.lookup("fvp-base-revc")
    status = 0
    results = {}
    for path in args.files:
        try:
            info = inspect_file(path, definition)
        except ImageError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        results[path] = info
        if info.get("verified") is False:
            print(f"{path}: the token does not verify", file=sys.stderr)
            status = 1
        if not args.json:
            print(format_report(path, info))
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return status


def cmd_measure(args):
    from .images import ImageError
    from .images.loader import read_file
    from .rmm.predict import RealmLayout, predict_rim

    try:
        image = read_file(args.image)
    except ImageError as exc:
        print(exc, file=sys.stderr)
        return 2
    layout = RealmLayout(ipa=args.ipa, algorithm=args.hash, vcpus=args.vcpus, entry=args.entry,
                         s2sz=args.s2sz, num_bps=args.num_bps, num_wps=args.num_wps)
    try:
        rim, steps = predict_rim(image, layout)
    except ValueError as exc:
        print(f"fvp-rme measure: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"rim": rim.hex(), "algorithm": args.hash,
                          "steps": [{"step": s.what, "rim": s.rim.hex()} for s in steps]},
                         indent=2))
        return 0
    if args.verbose:
        for step in steps:
            print(f"{step.what:32} {step.rim.hex()}")
    print(f"RIM ({args.hash}): {rim.hex()}")
    return 0


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

    run = sub.add_parser("run", help="run the machine (without --kernel: the bundled realm demo)",
                         description="Boot the FVP Base RevC RME machine.")
    run.add_argument("--kernel", metavar="IMAGE",
                     help="image to boot at NS-EL2 (ELF, arm64 Image, gzip'd Image or raw)")
    run.add_argument("--machine", default="fvp-base-revc",
                     help="machine definition ('help' lists them)")
    run.add_argument("--cpus", type=int, default=1, metavar="N", help="1 to 8 CPUs")
    run.add_argument("--memory", type=parse_size, default="2G", metavar="SIZE",
                     help="Non-secure DRAM (default 2G)")
    run.add_argument("--append", metavar="ARGS", help="kernel (or Xen) command line")
    run.add_argument("--module", action="append", metavar="FILE",
                     help="a Xen multiboot module (first: the dom0 kernel); repeatable")
    run.add_argument("--module-args", action="append", metavar="ARGS",
                     help="command line of the module of the same position")
    run.add_argument("--initrd", metavar="FILE", help="initial ramdisk")
    run.add_argument("--dtb", default="auto", metavar="auto|FILE",
                     help="device tree: generated from the machine (auto) or a file")
    run.add_argument("--dump-dtb", metavar="FILE", help="write the device tree to FILE")
    run.add_argument("--uart0", default="stdio", metavar="stdio|tcp:HOST:PORT|file:PATH|none",
                     help="where UART0 (the console) goes")
    run.add_argument("--max-insns", type=int, metavar="N",
                     help="stop (exit 4) after N instructions")
    run.add_argument("--icount-shift", type=int, default=2, metavar="S",
                     help="each instruction takes 2**S ns of virtual time (default 2)")
    run.add_argument("--trace", choices=["rmi"],
                     help="print one line per RMI call (command, arguments, status, outputs)")
    run.add_argument("--rmm-inject", type=parse_injection, metavar="busy=P,incomplete=P,seed=N",
                     help="make the RMM answer RMI_BUSY / split SROs into extra INCOMPLETE "
                          "steps with these probabilities, to exercise a host's retry paths")
    run.add_argument("--attest-seed", metavar="TEXT",
                     help="derive the model's attestation keys from TEXT (reproducible keys)")
    run.add_argument("--stats", action="store_true",
                     help="print instructions, MIPS and per-EL counts at the end")
    run.add_argument("--gdb", metavar="[HOST:]PORT",
                     help="serve gdb on this TCP port while the machine runs (127.0.0.1 "
                          "unless a host is given; port 0 picks a free one)")
    run.add_argument("--wait-gdb", action="store_true",
                     help="with --gdb: hold the machine at reset until gdb continues it")
    run.set_defaults(func=cmd_run)

    inspect = sub.add_parser("inspect", help="describe images, device trees and tokens",
                             description="Describe ELF/Image/DTB files and CCA tokens.")
    inspect.add_argument("files", nargs="+", metavar="FILE")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.set_defaults(func=cmd_inspect)

    measure = sub.add_parser("measure", help="predict the RIM of a realm built from an image",
                             description="Compute the Realm Initial Measurement offline.")
    measure.add_argument("--image", metavar="FILE", required=True,
                         help="the realm image, loaded page by page from the IPA")
    measure.add_argument("--ipa", type=lambda v: int(v, 0), default=DEFAULT_REALM_IPA,
                         metavar="ADDR", help=f"IPA of the image (default {DEFAULT_REALM_IPA:#x})")
    measure.add_argument("--hash", default="sha256", choices=("sha256", "sha384", "sha512"))
    measure.add_argument("--vcpus", type=int, default=1, metavar="N",
                         help="RECs created (the first RUNNABLE at the image's entry)")
    measure.add_argument("--entry", type=lambda v: int(v, 0), metavar="ADDR",
                         help="the first REC's PC (default: the IPA)")
    measure.add_argument("--s2sz", type=int, default=40, help="RmiRealmParams.s2sz")
    measure.add_argument("--num-bps", type=int, default=1, help="RmiRealmParams.num_bps")
    measure.add_argument("--num-wps", type=int, default=1, help="RmiRealmParams.num_wps")
    measure.add_argument("--verbose", action="store_true", help="each measured step")
    measure.add_argument("--json", action="store_true", help="machine-readable output")
    measure.set_defaults(func=cmd_measure)

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
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
