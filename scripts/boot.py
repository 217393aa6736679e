#!/usr/bin/env python3
"""Scripted boot: run `fvp-rme run ...` under pexpect, wait for each stage of the console
output in turn (with a timeout each), answer prompts, report the time per stage, and on a
timeout or an early exit fail with the console transcript.

    scripts/boot.py --stage 'hello from EL2' --stage 'type a line: =>hello world' \\
        --stage 'powering off' -- --kernel tests/board/build/board.elf --cpus 2

A stage is a regular expression, optionally followed by `=>TEXT`: TEXT and a newline are
typed once the stage is seen. Exit status: 0 when every stage was seen and fvp-rme exited
with the expected status (--exit, default 0), 1 otherwise.
"""

import argparse
import io
import sys
import time
from dataclasses import dataclass, field

import pexpect


@dataclass
class Stage:
    pattern: str
    send: str | None = None          # typed (with a newline) once the pattern is seen
    timeout: float = 120.0


@dataclass
class Result:
    ok: bool
    timings: list = field(default_factory=list)     # (pattern, seconds)
    exit_status: int | None = None
    transcript: str = ""
    failure: str = ""

    def report(self):
        lines = [f"  {seconds:7.2f} s  {pattern}" for pattern, seconds in self.timings]
        if not self.ok:
            lines.append(f"FAILED: {self.failure}")
            lines.append("console transcript:")
            lines.append(self.transcript)
        return "\n".join(lines)


def scripted_boot(run_args, stages, expected_exit=0, command=None):
    """Run fvp-rme with `run_args` and go through `stages`; returns a Result."""
    command = command or [sys.executable, "-m", "machine.cli", "run"]
    child = pexpect.spawn(command[0], command[1:] + list(run_args), encoding="utf-8",
                          codec_errors="replace")
    child.logfile_read = io.StringIO()
    result = Result(ok=False)
    start = time.monotonic()
    try:
        for stage in stages:
            try:
                child.expect(stage.pattern, timeout=stage.timeout)
            except pexpect.TIMEOUT:
                result.failure = f"no {stage.pattern!r} within {stage.timeout} s"
                return result
            except pexpect.EOF:
                result.failure = f"fvp-rme exited before {stage.pattern!r}"
                return result
            result.timings.append((stage.pattern, time.monotonic() - start))
            if stage.send is not None:
                child.sendline(stage.send)
        child.expect(pexpect.EOF, timeout=stages[-1].timeout if stages else 120)
        child.close()
        result.exit_status = child.exitstatus
        if result.exit_status != expected_exit:
            result.failure = f"fvp-rme exited with {result.exit_status}, not {expected_exit}"
            return result
        result.ok = True
        return result
    finally:
        result.transcript = child.logfile_read.getvalue()
        if child.isalive():
            child.terminate(force=True)


def parse_stage(text, timeout):
    pattern, arrow, send = text.partition("=>")
    return Stage(pattern, send if arrow else None, timeout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", action="append", default=[], metavar="REGEX[=>TEXT]",
                        help="console output to wait for, in order (then type TEXT)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per stage")
    parser.add_argument("--exit", type=int, default=0, help="the expected exit status")
    parser.add_argument("run_args", nargs=argparse.REMAINDER,
                        help="-- then the arguments of fvp-rme run")
    args = parser.parse_args(argv)
    run_args = args.run_args[1:] if args.run_args[:1] == ["--"] else args.run_args
    stages = [parse_stage(text, args.timeout) for text in args.stage]
    result = scripted_boot(run_args, stages, args.exit)
    print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
