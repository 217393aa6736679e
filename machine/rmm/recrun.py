"""Running RECs on the board's CPUs: the world switch of RMI_REC_ENTER and the REC exits
(TF-RMM `runtime/core/run.c`, `exit.c`, `handler.c`; digest rmi-v2-host-abi.md 5.15 and 9,
the hand-over contract in machine/rmm/platform.py).

REC_ENTER runs the REC on the calling CPU asynchronously. `RecRunner.enter` saves the host's
context of that CPU (HostContext, kept in `saved_host[cpu index]` while the realm runs),
completes what the RmiRecEnter answers (emulated MMIO read, RIPAS change, host call, SEA
injection), loads the REC at Realm EL1 with the RMM's EL2 controls (stage 2 = the realm's
RTTs, SMC trapped by HCR_EL2.TSC, IRQ/FIQ/SError routed to EL2) and returns None: the CPU
resumes at the REC's PC. The realm's exceptions to EL2 come back through the board's exception
hook to `on_exception`: RSI and PSCI calls the RMM answers itself resume the realm; every
other cause is an exit: the REC's context is saved into the Rec, the host's context is
restored, the RmiRecExit is handed to engine.complete_rec_enter() and the host resumes after
its SMC with the results in x0...

The virtual GIC is not switched: with RMI 2.0 the host programs ICH_*_EL2 itself before the
entry and reads them after the exit (digest 9.2); the RMM only clears ICH_HCR_EL2.En on exit.
"""

from dataclasses import dataclass, field

from machine.cpu import interrupts
from machine.cpu.exceptions import (
    EC_DATA_ABORT,
    EC_DATA_ABORT_LOWER,
    EC_HVC,
    EC_INSN_ABORT,
    EC_INSN_ABORT_LOWER,
    EC_SMC,
    EC_SYSREG,
    EC_WFX,
    DataAbort,
    InstructionAbort,
    MachineStop,
    TakeException,
    Undefined,
)
from machine.cpu.state import REALM
from machine.devices.generic_timer import CTL_ISTATUS, TIMERS
from machine.devices.gic_cpuif import HCR_EN, ICH_VTR_VALUE

from . import rsi, s2tt
from .abi import M64, REC_RUN_GPRS, RecExitReason, Ripas, RmiRecEnterFlags
from .rec import LastExit

# The REC's EL1 (and EL0) system registers the RMM context-switches.
REALM_EL1_REGS = (
    "sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "amair_el1", "vbar_el1",
    "elr_el1", "spsr_el1", "esr_el1", "far_el1", "afsr0_el1", "afsr1_el1", "par_el1",
    "contextidr_el1", "tpidr_el0", "tpidrro_el0", "tpidr_el1", "cpacr_el1", "cntkctl_el1",
    "csselr_el1", "mdscr_el1", "cntv_ctl_el0", "cntv_cval_el0", "cntp_ctl_el0",
    "cntp_cval_el0",
)

# HCR_EL2 for a realm (D24.2.48): VM, FMO, IMO, AMO, TSC, RW; TWI/TWE per RmiRecEnter.flags
HCR_VM, HCR_FMO, HCR_IMO, HCR_AMO = 1 << 0, 1 << 3, 1 << 4, 1 << 5
HCR_TWI, HCR_TWE, HCR_TSC, HCR_RW = 1 << 13, 1 << 14, 1 << 19, 1 << 31
HCR_REALM = HCR_VM | HCR_FMO | HCR_IMO | HCR_AMO | HCR_TSC | HCR_RW
CNTHCTL_EL1PCTEN_EL1PCEN = 0b11       # the realm's EL1 physical counter and timer untrapped
CPTR_EL2_RES1 = 0x32FF                # no SIMD&FP/SVE traps
# SCR_EL3 for the Realm world: NSE, NS, RES1 [5:4], HCE, RW
SCR_NS, SCR_RES1, SCR_HCE, SCR_RW, SCR_NSE = 1 << 0, 0x30, 1 << 8, 1 << 10, 1 << 62
SCR_EL3_REALM = SCR_NSE | SCR_NS | SCR_RES1 | SCR_HCE | SCR_RW

# ESR ISS fields of a data abort (D24.2.40)
ISV, SSE, SF, WNR = 1 << 24, 1 << 21, 1 << 15, 1 << 6
SAS_SHIFT, SRT_SHIFT = 22, 16
ESR_IL = 1 << 25
ISS_SET_FNV_EA_FSC = (3 << 11) | (1 << 10) | (1 << 9) | 0x3F
ISS_EMULATABLE = ISV | (3 << SAS_SHIFT) | SF | WNR | ISS_SET_FNV_EA_FSC   # SRT/SSE/AR/IL removed
FSC_SEA = 0x10
EC_SHIFT = 26

# ISS of a trapped MSR/MRS (EC 0x18): Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10],
# Rt [9:5], CRm [4:1], direction [0] (1 = read)
SYSREG_RT_SHIFT, SYSREG_RT_MASK, SYSREG_READ = 5, 0x1F << 5, 1
ICC_PMR_EL1 = (3, 0, 4, 6, 0)            # (op0, op1, CRn, CRm, op2)


def forwarded_sysreg(iss):
    """The GIC CPU interface registers TF-RMM forwards to the host: op0 = 3, op1 in {0, 4},
    CRn = 12, CRm = 8..15 (ICC_SGI*R_EL1, ...) and ICC_PMR_EL1."""
    op0, op2, op1 = (iss >> 20) & 3, (iss >> 17) & 7, (iss >> 14) & 7
    crn, crm = (iss >> 10) & 0xF, (iss >> 1) & 0xF
    return (op0 == 3 and op1 in (0, 4) and crn == 12 and crm >= 8) or \
        (op0, op1, crn, crm, op2) == ICC_PMR_EL1


EXIT_OF_INTERRUPT = {interrupts.IRQ: RecExitReason.IRQ, interrupts.FIQ: RecExitReason.FIQ,
                     interrupts.SERROR: RecExitReason.SERROR}


@dataclass
class HostContext:
    """The host's state of one CPU, saved across a REC run: PC (after its SMC), PSTATE,
    registers, banked SPs, SIMD&FP and every system register (the realm run changes the EL1
    ones, EL2 controls and SCR_EL3)."""

    pc: int
    pstate: int
    security: str
    x: list
    sp_el: list
    v: list
    fpcr: int
    fpsr: int
    sr: dict = field(default_factory=dict)

    @classmethod
    def capture(cls, s, pc):
        s.select_sp(s.el, s.spsel)              # bank the current SP
        return cls(pc, s.spsr_value(), s.security, s.x[0:31], list(s.sp_el), list(s.v),
                   s.fpcr, s.fpsr, dict(s.sr))

    def restore(self, s):
        s.x[0:31] = self.x
        s.sp_el[:] = self.sp_el
        s.v[:] = self.v
        s.fpcr, s.fpsr = self.fpcr, self.fpsr
        s.sr.clear()
        s.sr.update(self.sr)
        _set_pstate(s, self.pstate, self.security)


def _set_pstate(s, spsr, security):
    s.restore_spsr(spsr)
    s.el, s.spsel = (spsr >> 2) & 3, spsr & 1
    s.x[31] = s.sp_el[s.sp_index()]
    s.security = security
    s.exclusive = None
    s.halted = False


def _mask(size_log2):
    return (1 << (8 << size_log2)) - 1


def emulated_read_value(esr, value):
    """The value an emulated MMIO load writes to its register (digest 9.1): masked to the
    access size, sign-extended if SSE, truncated to 32 bits unless SF."""
    sas = (esr >> SAS_SHIFT) & 3
    value &= _mask(sas)
    if esr & SSE and value >> ((8 << sas) - 1):
        value |= M64 & ~_mask(sas)
    return value if esr & SF else value & 0xFFFF_FFFF


def realm_timers(core):
    """The exit's timer fields (digest 9.2): the realm's EL1 physical and virtual timers, CTL
    with ISTATUS as a read would give it, CVAL (the realm's CNTVOFF is 0)."""
    sr, timer = core.s.sr, getattr(core, "timer", None)
    fields = {}
    for t in TIMERS:
        if t.prefix in ("cntp", "cntv"):
            ctl = sr.get(f"{t.prefix}_ctl_{t.el}", 0)
            if timer is not None and timer.istatus(t):
                ctl |= CTL_ISTATUS
            fields[f"{t.prefix}_ctl"] = ctl
            fields[f"{t.prefix}_cval"] = sr.get(f"{t.prefix}_cval_{t.el}", 0)
    return fields


class RecRunner:
    """REC entry and exit on the machine's CPUs (machine.rec_runner)."""

    def __init__(self, machine):
        self.machine = machine
        self.saved_host = {}          # CPU index -> HostContext while a REC runs there
        self.running = {}             # CPU index -> the Rec it runs
        self._abort_far = {}          # REC address -> FAR of its last data abort exit
        self._ripas_pending = set()   # RECs whose RIPAS change request the host answers next

    @property
    def engine(self):
        return self.machine.firmware.rmm

    # --- entry ---------------------------------------------------------------------------------

    def enter(self, core, rec, run_pa):
        """platform.enter_rec: returns the exit fields when the REC does not run (a host call
        buffer now unmapped), else None with the CPU switched to the REC."""
        engine = self.engine
        realm = engine.realms[rec.rd]
        flags = rec.enter.flags
        gprs, pc = list(rec.gprs), rec.pc
        if rec.host_call is not None:
            early = rsi.complete_host_call(engine, realm, rec, rec.enter.gprs, gprs)
            if early is not None:
                rec.last_exit = LastExit(early["esr"])
                return early
        if rec.rec in self._ripas_pending:
            self._ripas_pending.discard(rec.rec)
            rsi.complete_ripas_change(rec, flags, gprs)
        prev = rec.previous_exit
        if prev is not None and prev.esr >> EC_SHIFT == EC_SYSREG and prev.esr & SYSREG_READ:
            rt = (prev.esr >> SYSREG_RT_SHIFT) & 0x1F
            if rt != 31:
                gprs[rt] = rec.enter.gprs[0]
        inject_sea = bool(RmiRecEnterFlags.get(flags, "inject_sea"))
        if not inject_sea and RmiRecEnterFlags.get(flags, "emul_mmio"):
            esr = rec.previous_exit.esr
            srt = (esr >> SRT_SHIFT) & 0x1F
            if not esr & WNR and srt != 31:
                gprs[srt] = emulated_read_value(esr, rec.enter.gprs[0])
            pc = (pc + 4) & M64
        rec.gprs, rec.pc = gprs, pc
        s = core.s
        self.saved_host[core.index] = HostContext.capture(s, s.pc)
        self.running[core.index] = rec
        self._load(core, rec, realm, flags)
        if inject_sea:
            pc = TakeException(s, 1, DataAbort(iss=FSC_SEA, far=self._abort_far.get(rec.rec, 0)),
                               pc)
        s.pc = pc
        return None

    def _load(self, core, rec, realm, flags):
        s = core.s
        s.x[0:31] = rec.gprs
        sr = {k: v for k, v in s.sr.items() if k not in REALM_EL1_REGS}
        sr.update((k, rec.sysregs[k]) for k in REALM_EL1_REGS if k in rec.sysregs)
        hcr = HCR_REALM
        if RmiRecEnterFlags.get(flags, "trap_wfi"):
            hcr |= HCR_TWI
        if RmiRecEnterFlags.get(flags, "trap_wfe"):
            hcr |= HCR_TWE
        sr.update(hcr_el2=hcr, vttbr_el2=realm.vttbr(), vtcr_el2=realm.vtcr(),
                  vmpidr_el2=rec.vmpidr, mpidr_el1=rec.vmpidr, cntvoff_el2=0,
                  cnthctl_el2=CNTHCTL_EL1PCTEN_EL1PCEN, cptr_el2=CPTR_EL2_RES1,
                  scr_el3=SCR_EL3_REALM)
        s.sr.clear()
        s.sr.update(sr)
        fp = getattr(rec, "fp", None)
        s.v[:] = fp[0] if fp else [0] * 32
        s.fpcr, s.fpsr = (fp[1], fp[2]) if fp else (0, 0)
        s.sp_el[0] = rec.sysregs.get("sp_el0", 0)
        s.sp_el[1] = rec.sysregs.get("sp_el1", 0)
        _set_pstate(s, rec.pstate, REALM)
        self._switched(core)

    def _switched(self, core):
        core.regime_changed()
        gic_cpu = getattr(core, "gic_cpu", None)
        if gic_cpu is not None:
            gic_cpu.update_virtual()
        timer = getattr(core, "timer", None)
        if timer is not None:
            timer.update()

    # --- the realm's exceptions to EL2 ----------------------------------------------------------

    def on_exception(self, core, exc, pc, target, vect):
        """The board's hook for an exception the realm takes to (R-)EL2: the PC to resume at
        (in the realm, or in the host after an exit). `exc` is None for an interrupt, then
        `vect` tells which (the IRQ/FIQ/SError vector offset)."""
        rec = self.running.get(core.index)
        if rec is None or target != 2:
            return None
        if exc is None:
            kind = {v: k for k, v in interrupts.VECTOR.items()}[vect]
            pc = rsi.interrupted_call(rec, core.s.x, pc)
            return self._exit(core, rec, dict(exit_reason=EXIT_OF_INTERRUPT[kind]), pc)
        ec = exc.ec
        if ec == EC_SMC:
            return self._smc(core, rec, pc)
        if ec in (EC_DATA_ABORT, EC_DATA_ABORT_LOWER, EC_INSN_ABORT, EC_INSN_ABORT_LOWER) \
                and getattr(exc, "ipa", None) is not None:
            return self._stage2_abort(core, rec, exc, pc)
        if ec == EC_WFX:                       # trapped WFI/WFE: PC advanced
            esr = (EC_WFX << EC_SHIFT) | ESR_IL | (exc.iss & 1)
            return self._exit(core, rec, dict(exit_reason=RecExitReason.SYNC, esr=esr),
                              (pc + 4) & M64)
        if ec == EC_SYSREG and forwarded_sysreg(exc.iss):
            return self._sysreg_exit(core, rec, exc, pc)
        if ec in (EC_HVC, EC_SYSREG):          # UNDEFINED for the realm (digest 9.3)
            return TakeException(core.s, 1, Undefined(), pc)
        raise MachineStop(f"RMM: realm exception {exc} at {pc:#x} on CPU {core.index} is not "
                          "handled")

    def _smc(self, core, rec, pc):
        realm = self.engine.realms[rec.rd]
        outcome = rsi.call(rsi.RealmCall(self.engine, realm, rec, core.s.x, ICH_VTR_VALUE))
        next_pc = (pc + 4) & M64 if outcome.advance else pc
        if outcome.exit is None:
            return next_pc
        fields = outcome.exit
        if fields["exit_reason"] == RecExitReason.SYNC:        # emulated abort
            rec.last_exit = LastExit(fields["esr"])
        elif fields["exit_reason"] == RecExitReason.RIPAS_CHANGE:
            self._ripas_pending.add(rec.rec)
        return self._exit(core, rec, fields, next_pc)

    def _stage2_abort(self, core, rec, exc, pc):
        """Digest 9.3 / rsi 2.5: an abort the RMM handles (SEA injected) or reports."""
        realm = self.engine.realms[rec.rd]
        s = core.s
        ipa = exc.ipa
        data = exc.ec in (EC_DATA_ABORT, EC_DATA_ABORT_LOWER)
        unprotected = not realm.in_par(ipa)
        if ipa >= realm.ipa_size or (unprotected and not data) or \
                (not unprotected and self._ripas(realm, ipa) == Ripas.EMPTY):
            cls = DataAbort if data else InstructionAbort
            return TakeException(s, 1, cls(iss=FSC_SEA, far=exc.far), pc)
        ec = EC_DATA_ABORT_LOWER if data else EC_INSN_ABORT_LOWER
        fields = dict(exit_reason=RecExitReason.SYNC, hpfar=((ipa >> 12) << 4) & M64)
        if data and unprotected and exc.iss & ISV:
            # the RMM remembers the whole syndrome (SRT, SSE, SF) to complete the emulation
            full_esr = (ec << EC_SHIFT) | ESR_IL | (exc.iss & 0x1FF_FFFF)
            fields.update(esr=(ec << EC_SHIFT) | (exc.iss & ISS_EMULATABLE),
                          far=(exc.far or 0) & 0xFFF)
            if exc.iss & WNR:
                srt = (exc.iss >> SRT_SHIFT) & 0x1F
                value = s.x[srt] if srt != 31 else 0
                fields["gprs"] = [value & _mask((exc.iss >> SAS_SHIFT) & 3)] + \
                    [0] * (REC_RUN_GPRS - 1)
        else:                                  # not emulatable: no ISV, retried after a fix
            full_esr = fields["esr"] = (ec << EC_SHIFT) | ESR_IL | (exc.iss & ISS_SET_FNV_EA_FSC)
        rec.last_exit = LastExit(full_esr, unprotected and data)
        self._abort_far[rec.rec] = exc.far or 0
        return self._exit(core, rec, fields, pc)

    def _sysreg_exit(self, core, rec, exc, pc):
        """A GIC system register access the host emulates (ICC_SGI1R_EL1 ...): the value an
        MSR writes in gprs[0], Rt cleared from the ISS; PC advanced (digest 9.3)."""
        rt = (exc.iss >> SYSREG_RT_SHIFT) & 0x1F
        fields = dict(exit_reason=RecExitReason.SYNC,
                      esr=(EC_SYSREG << EC_SHIFT) | ESR_IL | (exc.iss & ~SYSREG_RT_MASK))
        if not exc.iss & SYSREG_READ:
            fields["gprs"] = [core.s.x[rt] if rt != 31 else 0] + [0] * (REC_RUN_GPRS - 1)
        rec.last_exit = LastExit((EC_SYSREG << EC_SHIFT) | ESR_IL | exc.iss)
        return self._exit(core, rec, fields, (pc + 4) & M64)

    def _ripas(self, realm, ipa):
        w = self.engine.rtt.walk(realm.s2, ipa, s2tt.PAGE_LEVEL)
        return s2tt.RIPAS_OF.get(s2tt.kind(w.entry, w.level))

    # --- exit --------------------------------------------------------------------------------

    def _exit(self, core, rec, fields, rec_pc):
        """Save the REC, restore the host, deliver the exit: the host's PC."""
        s = core.s
        rec.pc = rec_pc
        rec.gprs = s.x[0:31]
        s.select_sp(s.el, s.spsel)
        rec.pstate = s.spsr_value()
        rec.sysregs.update((k, s.sr[k]) for k in REALM_EL1_REGS if k in s.sr)
        rec.sysregs["sp_el0"], rec.sysregs["sp_el1"] = s.sp_el[0], s.sp_el[1]
        rec.fp = (list(s.v), s.fpcr, s.fpsr)
        fields = dict(fields, **realm_timers(core))
        del self.running[core.index]
        host = self.saved_host.pop(core.index)
        host.restore(s)
        gic_cpu = getattr(core, "gic_cpu", None)
        if gic_cpu is not None:
            gic_cpu.ich_hcr &= ~HCR_EN
        self._switched(core)
        regs = self.engine.complete_rec_enter(rec, fields)
        s.x[0:len(regs)] = [r & M64 for r in regs]
        return host.pc
