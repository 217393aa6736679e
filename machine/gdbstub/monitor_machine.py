"""`monitor ...` commands of the whole machine (MachineTarget): CPUs, realms, RTTs, granules
and RMI tracing (docs/gdb.md, "The whole machine").

    el                  current EL and security state of each CPU
    realms              each realm: RD, state, VMID, RECs, RIM
    rtt REALM IPA       the realm's stage 2 entries for IPA, level by level
    granule PA          RMM state, owner and GPI of a granule
    trace rmi on|off    one line per RMI call on gdb's console
    icount              instructions retired, per CPU, and virtual time
"""

import logging

from machine.cpu.gpc import GPI_NAMES
from machine.firmware.gpt import PPS
from machine.rmm import s2tt
from machine.rmm.abi import GRANULE_SIZE

from .features import SECURITY_NAMES
from .monitor import MonitorCommand, MonitorError

log = logging.getLogger("machine.gdbstub")


def _number(word, what):
    try:
        return int(word, 0)
    except ValueError:
        raise MonitorError(f"{what} must be a number, not {word!r}") from None


def _engine(request):
    rmm = request.target.rmm
    if rmm is None:
        raise MonitorError("the machine has no RMM")
    return rmm


# --- CPUs ----------------------------------------------------------------------------------------

def _el(request, args):
    target = request.target
    lines = []
    for core in target.machine.cores:
        if not core.powered:
            lines.append(f"cpu{core.index}: off")
            continue
        s = core.s
        line = f"cpu{core.index}: EL{s.el} {SECURITY_NAMES[s.security]}, pc {s.pc:#x}"
        thread = target.thread_of(core)
        if thread != core.index + 1:
            name = next(c.name for c in target.contexts() if c.id == thread)
            line += f", running {name}"
        if s.halted:
            line += ", waiting for an interrupt"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _icount(request, args):
    machine = request.target.machine
    per_cpu = ", ".join(f"cpu{core.index} {core.icount}" for core in machine.cores)
    return (f"icount: {machine.icount} ({per_cpu}), virtual time "
            f"{machine.clock.now()} ns\n")


# --- realms --------------------------------------------------------------------------------------

def _realms(request, args):
    rmm = _engine(request)
    target = request.target
    recs = target.recs()
    if not rmm.realms:
        return "no realms\n"
    lines = []
    for realm in rmm.realms.values():
        n = target.realm_number(realm)
        s2 = realm.s2
        lines.append(f"realm {n}: RD {realm.rd:#x}, {realm.state.name}, VMID {s2.vmid}, "
                     f"IPA {s2.ipa_bits} bits, RTT {s2.rtt_base:#x} (level {s2.start_level}, "
                     f"{s2.num_root_rtts} root{'s' if s2.num_root_rtts > 1 else ''})")
        lines.append(f"  RIM {realm.rim.hex()}")
        mine = [r for r in recs if r.realm is realm]
        for r in mine:
            rec = r.rec
            core = target.core_running(rec)
            if core is not None:
                state, pc = f"running on cpu{core.index}", core.s.pc
            else:
                state, pc = "runnable" if rec.runnable else "not runnable", rec.pc
            lines.append(f"  rec {rec.index}: REC {rec.rec:#x}, {state}, pc {pc:#x} "
                         f"(thread {r.thread})")
        if not mine:
            lines.append("  no RECs")
    return "\n".join(lines) + "\n"


def find_realm(request, word):
    """The realm named by `word`: its number n ("realm n") or its RD address."""
    rmm = _engine(request)
    value = _number(word, "REALM")
    for realm in rmm.realms.values():
        if realm.rd == value or request.target.realm_number(realm) == value:
            return realm
    raise MonitorError(f"no realm {word} (give its number or its RD address; 'monitor "
                       "realms' lists them)")


def _describe(entry, level):
    kind = s2tt.kind(entry, level)
    text = kind.name
    if kind == s2tt.Kind.TABLE:
        text += f" -> RTT {s2tt.pa_of(entry, level):#x}"
    elif kind in s2tt.LIVE:
        text += f" PA {s2tt.pa_of(entry, level):#x} ({s2tt.map_size(level) >> 10} KB)"
    return text


def _rtt(request, args):
    if len(args) != 2:
        raise MonitorError("usage: monitor rtt REALM IPA")
    rmm = _engine(request)
    realm = find_realm(request, args[0])
    ipa = _number(args[1], "IPA")
    if not 0 <= ipa < realm.ipa_size:
        raise MonitorError(f"IPA {ipa:#x} is beyond the realm's {realm.s2.ipa_bits}-bit IPA "
                           "space")
    s2 = realm.s2
    half = "protected" if realm.in_par(ipa) else "unprotected"
    lines = [f"realm {request.target.realm_number(realm)} IPA {ipa:#x} ({half}):"]
    for level in range(s2.start_level, s2tt.PAGE_LEVEL + 1):
        walk = rmm.rtt.walk(s2, ipa, level)
        if walk.level != level:
            break
        lines.append(f"  L{level} RTT {walk.table:#x}[{walk.index}] = {walk.entry:#018x}  "
                     f"{_describe(walk.entry, level)}")
    return "\n".join(lines) + "\n"


# --- granules ------------------------------------------------------------------------------------

def _granule(request, args):
    if len(args) != 1:
        raise MonitorError("usage: monitor granule PA")
    machine = request.target.machine
    pa = _number(args[0], "PA")
    base = pa - pa % GRANULE_SIZE
    if not 0 <= base < 1 << PPS:
        raise MonitorError(f"{pa:#x} is beyond the {PPS}-bit protected physical space")
    rmm = machine.firmware.rmm
    state = None if rmm is None else rmm.granule_state(base)
    if state is None:
        parts = ["no RMM" if rmm is None else "not tracked by the RMM"]
    else:
        parts = [state.name]
        g = rmm.granules.get(base)
        if g is not None and g.owner is not None:
            parts.append(f"owner {g.owner:#x}")
        if g is not None and g.refcount:
            parts.append(f"refcount {g.refcount}")
    parts.append(f"GPI {GPI_NAMES.get(machine.gpt.gpi(base), 'invalid')}")
    return f"granule {base:#x}: {', '.join(parts)}\n"


# --- RMI tracing ---------------------------------------------------------------------------------

def _console_writer(session):
    """Trace lines to the gdb connection while gdb waits for the machine to stop (the only
    time the machine runs RMI calls); dropped to the log once gdb has gone."""
    server = session.server

    def write(line):
        current = server.session
        if current is not None and current.awaiting_stop and not current.detached:
            try:
                current.console(line + "\n")
                return
            except OSError:
                pass
        log.info("%s", line)
    return write


def _trace(request, args):
    target = request.target
    _engine(request)
    if args not in ([], ["on"], ["off"]):
        raise MonitorError("usage: monitor trace rmi [on|off]")
    if args == ["on"]:
        target.trace_rmi(_console_writer(request.session))
    elif args == ["off"]:
        target.trace_rmi(None)
    return f"trace rmi: {'on' if target.tracing_rmi else 'off'}\n"


COMMANDS = [
    MonitorCommand("el", "el: current EL and security state of each CPU", _el),
    MonitorCommand("icount", "icount: instructions retired (all CPUs, each CPU) and virtual "
                             "time", _icount),
    MonitorCommand("realms", "realms: the live realms: RD, state, VMID, RECs, RIM", _realms),
    MonitorCommand("rtt", "rtt REALM IPA: the realm's stage 2 entries for IPA, level by "
                          "level (REALM: its number or RD address)", _rtt),
    MonitorCommand("granule", "granule PA: RMM state, owner and GPI of the granule at PA",
                   _granule),
    MonitorCommand("trace rmi", "trace rmi [on|off]: print each RMI call on the console", _trace),
]
