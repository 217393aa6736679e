"""Running realms on the board's CPU: RMI SMCs issued by CPU 0 at Non-secure EL2, REC entry
and exit through the world switch (machine/rmm/recrun.py), the realm's RSI and PSCI calls
(machine/rmm/rsi.py), and the isolation of realm memory from the host."""

import hashlib
import struct

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from rmm_testbed import G, Host

from machine.board.fvp import definition
from machine.board.machine import Machine
from machine.cpu.state import NONSECURE
from machine.rmm.abi import REC_EXIT_OFFSET, Fid, RecExitReason, RmiRecExit, Status, desc, status_of
from machine.rmm.realm import RealmState

MB = 1 << 20
RAM = 0x8000_0000                       # the realm's RAM IPA (its image runs from here)
UNPROTECTED = 1 << 39                   # s2sz 40: the upper half of the IPA space
MMIO = UNPROTECTED | 0x1C09_0000        # an emulated device IPA
LAZY = RAM + 16 * G                     # RIPAS RAM without DATA in every test realm
SMC, B_SELF, HVC = 0xD400_0003, 0x1400_0000, 0xD400_0002


# --- A64 encoders (enough for the realm test programs) -------------------------------------------

def movz(rd, imm16, hw=0):
    return 0xD280_0000 | hw << 21 | imm16 << 5 | rd


def movk(rd, imm16, hw):
    return 0xF280_0000 | hw << 21 | imm16 << 5 | rd


def mov_imm(rd, value):
    """MOVZ + MOVKs for a 64-bit constant."""
    words = [movz(rd, value & 0xFFFF)]
    words += [movk(rd, (value >> 16 * hw) & 0xFFFF, hw) for hw in range(1, 4)
              if (value >> 16 * hw) & 0xFFFF]
    return words


def mov_reg(rd, rm):
    return 0xAA00_03E0 | rm << 16 | rd           # ORR Xd, XZR, Xm


def add_imm(rd, rn, imm12):
    return 0x9100_0000 | imm12 << 10 | rn << 5 | rd


def str_w(rt, rn, offset):
    return 0xB900_0000 | (offset // 4) << 10 | rn << 5 | rt


def ldr_w(rt, rn, offset):
    return 0xB940_0000 | (offset // 4) << 10 | rn << 5 | rt


def str_x(rt, rn, offset=0):
    return 0xF900_0000 | (offset // 8) << 10 | rn << 5 | rt


def ldr_x(rt, rn, offset=0):
    return 0xF940_0000 | (offset // 8) << 10 | rn << 5 | rt


def smc_call(fid, *args):
    """x0 = fid, x1.. = args, SMC #0."""
    words = mov_imm(0, fid)
    for i, a in enumerate(args, 1):
        words += mov_imm(i, a)
    return words + [SMC]


def program(*parts):
    words = [w for part in parts for w in (part if isinstance(part, list) else [part])]
    return struct.pack(f"<{len(words)}I", *words)


SYSTEM_OFF = smc_call(0x8400_0008) + [B_SELF]


# --- the host: RMI SMCs from CPU 0 at Non-secure EL2 ---------------------------------------------

class BoardPlatformView:
    """What rmm_testbed.Host needs of a platform, on the board's physical memory."""

    def __init__(self, machine):
        self.machine = machine
        self.bus = machine.bus
        self.regions = list(machine.ns_memory)

    def ns_write(self, pa, data):
        self.bus.write_bytes(pa, bytes(data))

    def ns_read(self, pa, size):
        return self.bus.read_bytes(pa, size)


class BoardHost(Host):
    """rmm_testbed.Host whose calls are real SMCs executed by CPU 0 at NS-EL2: `smc #0; b .`
    at an NS page at the top of DRAM, run until the PC is past the SMC."""

    MAX_STEPS = 200

    def __init__(self, machine):
        self.machine = machine
        self.platform = BoardPlatformView(machine)
        self.rmm = machine.firmware.rmm
        base, size = self.platform.regions[0]
        self.next_free, self.top = base, base + size - G
        self.code = self.top
        self.platform.ns_write(self.code, program(SMC, B_SELF))
        self.core = machine.cores[0]
        machine.firmware.enter_nonsecure(self.core, self.code, el=2)
        self.core.powered = True
        self.core.breakpoints.add(self.code + 4)
        self.scratch = self.alloc()
        self.list_page = self.alloc()

    def call(self, fid, *args):
        s = self.core.s
        regs = [int(fid)] + [a & (1 << 64) - 1 for a in args]
        s.x[0:18] = regs + [0] * (18 - len(regs))
        s.pc = self.code
        for _ in range(self.MAX_STEPS):
            stop = self.core.run(10_000)
            assert stop.reason in ("breakpoint", "count"), stop
            if stop.reason == "breakpoint" and s.pc == self.code + 4:
                assert s.security == NONSECURE and s.el == 2
                return s.x[0:18]
        raise AssertionError("the SMC did not return")


class Realm:
    """A realm (s2sz 40) with L2/L3 RTTs for [RAM, RAM + 2 MB), `image` loaded and measured
    at RAM, `extra` more measured zero pages after it, REC 0 at RAM; activated."""

    def __init__(self, host, image, extra=0, recs=1):
        self.host = host
        host.boot()
        self.rd, self.roots = host.realm_create()
        self.l2, self.l3 = host.delegated(), host.delegated()
        assert host.status(Fid.RTT_CREATE, self.rd, self.l2, RAM, 2) == Status.SUCCESS
        assert host.status(Fid.RTT_CREATE, self.rd, self.l3, RAM, 3) == Status.SUCCESS
        self.data = []
        for i, chunk in enumerate([image] + [b""] * extra):
            src = host.alloc()
            host.platform.ns_write(src, bytes(chunk).ljust(G, b"\0"))
            data = host.delegated()
            assert host.status(Fid.RTT_DATA_MAP_INIT, self.rd, data, RAM + i * G, src,
                               1) == Status.SUCCESS
            self.data.append(data)
        # RIPAS RAM, not backed: where the host maps DATA on demand
        out = host.call(Fid.RTT_INIT_RIPAS, self.rd, LAZY, LAZY + G)
        assert out[:2] == [0, LAZY + G]
        self.rec, status = host.rec_create(self.rd, pc=RAM)
        assert status == Status.SUCCESS
        self.recs = [self.rec]
        for mpidr in range(1, recs):                 # secondary RECs: off until CPU_ON
            rec, status = host.rec_create(self.rd, pc=RAM, mpidr=mpidr, flags=0)
            assert status == Status.SUCCESS
            self.recs.append(rec)
        assert host.status(Fid.REALM_ACTIVATE, self.rd) == Status.SUCCESS
        self.run = host.alloc()

    @property
    def rec_obj(self):
        return self.host.rmm.recs[self.rec]

    def enter(self, flags=0, gprs=(), rec=None):
        enter = struct.pack("<Q", flags).ljust(0x200, b"\0") + struct.pack(
            "<31Q", *(list(gprs) + [0] * (31 - len(gprs))))
        self.host.platform.ns_write(self.run, enter)
        out = self.host.call(Fid.REC_ENTER, rec or self.rec, self.run)
        status = status_of(out[0])
        if status != Status.SUCCESS:
            return status, None
        raw = self.host.platform.ns_read(self.run + REC_EXIT_OFFSET, 0x800)
        return status, RmiRecExit.parse(raw)

    def destroy(self):
        host = self.host
        assert host.status(Fid.REALM_TERMINATE, self.rd) == Status.SUCCESS
        out = host.call(Fid.RTT_DATA_UNMAP, self.rd, RAM, RAM + len(self.data) * G, 0, 0)
        assert out[:2] == [0, RAM + len(self.data) * G]
        assert host.rec_destroy(self.rec) == Status.SUCCESS
        assert host.call(Fid.RTT_DESTROY, self.rd, RAM, 3)[:2] == [0, self.l3]
        assert host.call(Fid.RTT_DESTROY, self.rd, RAM, 2)[:2] == [0, self.l2]
        assert host.status(Fid.REALM_DESTROY, self.rd) == Status.SUCCESS
        host.undelegate(self.rd)
        host.undelegate(self.roots, 2)
        for pa in (self.l2, self.l3, self.rec, *self.data):
            host.undelegate(pa)


@pytest.fixture
def host():
    machine = Machine(definition(), cpus=1, memory=64 * MB)
    return BoardHost(machine)


# --- the tests -----------------------------------------------------------------------------------

MMIO_IMAGE = program(
    mov_imm(1, 0x1234), add_imm(1, 1, 0x10),      # x1 = 0x1244
    mov_imm(2, MMIO),
    str_w(1, 2, 8),                               # emulated MMIO write -> exit
    ldr_w(3, 2, 12),                              # emulated MMIO read -> exit
    add_imm(4, 3, 1),
    SYSTEM_OFF)


def test_mmio_exits_then_system_off_and_teardown(host):
    realm = Realm(host, MMIO_IMAGE)
    core = host.core
    # the MMIO write exits with an ISV syndrome, the value and the IPA
    status, ex = realm.enter()
    assert status == Status.SUCCESS
    assert ex.exit_reason == RecExitReason.SYNC
    assert ex.esr >> 26 == 0x24 and ex.esr & (1 << 24)             # EC, ISV
    assert (ex.esr >> 22) & 3 == 2 and ex.esr & (1 << 6)           # SAS word, WnR
    assert (ex.esr >> 16) & 0x1F == 0                               # SRT removed
    assert ex.gprs[0] == 0x1244
    assert (ex.hpfar >> 4) << 12 | ex.far == MMIO + 8
    assert core.s.security == NONSECURE and 0 not in host.machine.rec_runner.saved_host
    # the host completes the write; the read exits next
    status, ex = realm.enter(flags=1)
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.SYNC
    assert ex.esr & (1 << 24) and not ex.esr & (1 << 6)
    assert (ex.hpfar >> 4) << 12 | ex.far == MMIO + 12
    assert ex.gprs[0] == 0
    # the host supplies the value read; the realm powers off
    status, ex = realm.enter(flags=1, gprs=[0xFFFF_FFFF_AABB_CCDD])
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    assert ex.gprs[0] == 0x8400_0008
    rec = realm.rec_obj
    assert rec.gprs[3] == 0xAABB_CCDD and rec.gprs[4] == 0xAABB_CCDE
    assert host.rmm.realms[realm.rd].state == RealmState.SYSTEM_OFF
    assert realm.enter()[0] == Status.ERROR_REALM
    realm.destroy()


def test_emul_mmio_is_only_accepted_after_an_mmio_exit(host):
    realm = Realm(host, program(SYSTEM_OFF))
    assert realm.enter(flags=1)[0] == Status.ERROR_REC


RSI_IMAGE = program(
    smc_call(0xC400_0190, 0x1_0001),                       # RSI_VERSION 1.1
    mov_reg(19, 0), mov_reg(20, 1), mov_reg(21, 2),
    smc_call(0xC400_0196, RAM + G),                        # RSI_REALM_CONFIG
    mov_reg(22, 0),
    smc_call(0xC400_0193, 1, 8, 0x1122_3344_5566_7788),     # MEASUREMENT_EXTEND REM0
    mov_reg(23, 0),
    smc_call(0xC400_0192, 1),                              # MEASUREMENT_READ REM0
    mov_reg(24, 0), mov_reg(25, 1), mov_reg(26, 2), mov_reg(27, 3), mov_reg(28, 4),
    smc_call(0xC400_0190, 0x2_0000),                       # unsupported version
    mov_reg(9, 0), mov_reg(10, 1),
    smc_call(0x8400_0000),                                 # PSCI_VERSION
    mov_reg(11, 0),
    smc_call(0xC400_01A4),                                 # not dispatched
    mov_reg(12, 0),
    HVC,                                                   # UNDEFINED in a realm
    B_SELF).ljust(0xA00, b"\0") + program(SYSTEM_OFF)        # VBAR_EL1 + 0x200 (sync, SPx)


def test_rsi_calls_answered_inside_the_realm(host):
    realm = Realm(host, RSI_IMAGE, extra=1)
    realm.rec_obj.sysregs["vbar_el1"] = RAM + 0x800
    status, ex = realm.enter()
    assert status == Status.SUCCESS
    g = realm.rec_obj.gprs
    assert g[19:22] == [0, 0x1_0001, 0x1_0001]
    assert g[22] == 0 and g[23] == 0
    rem0 = hashlib.sha256(bytes(32) + (0x1122_3344_5566_7788).to_bytes(8, "little")).digest()
    assert g[24] == 0 and g[25:29] == list(struct.unpack("<4Q", rem0))
    assert g[9:11] == [1, 0x1_0001]
    assert g[11] == 0x1_0001
    assert g[12] == (1 << 64) - 1
    config = host.machine.bus.read_bytes(realm.data[1], 0x240)
    assert struct.unpack_from("<QB", config) == (40, 0)
    assert config[0x200:0x240] == bytes(64)
    assert host.rmm.realms[realm.rd].rems[0] == rem0
    # the HVC took an UNDEF at the realm's EL1 vector, which powered the realm off
    assert realm.rec_obj.sysregs["esr_el1"] >> 26 == 0
    assert ex.exit_reason == RecExitReason.PSCI and ex.gprs[0] == 0x8400_0008


RIPAS_IMAGE = program(
    smc_call(0xC400_0197, RAM + 2 * G, RAM + 3 * G, 1, 0),      # IPA_STATE_SET RAM
    mov_reg(19, 0), mov_reg(20, 1), mov_reg(21, 2),
    smc_call(0xC400_0198, RAM + 2 * G, RAM + 4 * G),            # IPA_STATE_GET
    mov_reg(22, 0), mov_reg(23, 1), mov_reg(24, 2),
    SYSTEM_OFF)


def test_ripas_change_exit(host):
    realm = Realm(host, RIPAS_IMAGE)
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.RIPAS_CHANGE
    assert (ex.ripas_base, ex.ripas_top, ex.ripas_value) == (RAM + 2 * G, RAM + 3 * G, 1)
    out = host.call(Fid.RTT_SET_RIPAS, realm.rd, realm.rec, RAM + 2 * G, RAM + 3 * G)
    assert out[:2] == [0, RAM + 3 * G]
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    g = realm.rec_obj.gprs
    assert g[19:22] == [0, RAM + 3 * G, 0]                   # SUCCESS, all done, ACCEPT
    assert g[22:25] == [0, RAM + 3 * G, 1]                   # one RAM page, then EMPTY


def test_host_cannot_read_realm_memory(host):
    realm = Realm(host, program(SYSTEM_OFF))
    core, s = host.core, host.core.s
    host.platform.ns_write(host.code, program(ldr_x(0, 1), B_SELF))
    core.flush_code()
    s.x[1] = realm.data[0]
    s.pc = host.code
    core.stop_on_exception = True
    stop = core.run(100)
    assert stop.reason == "exception"
    exc = stop.exception
    assert exc.ec == 0x25 and exc.iss & 0x3F == 0x28              # GPF, taken to NS-EL2
    assert s.sr["esr_el2"] >> 26 == 0x25 and s.sr["far_el2"] == realm.data[0]


HOST_CALL_IMAGE = program(
    mov_imm(9, RAM + G),
    mov_imm(5, 0x77), str_w(5, 9, 0),                      # RsiHostCall.imm
    mov_imm(6, 0xABC), str_x(6, 9, 8),                     # RsiHostCall.gprs[0]
    smc_call(0xC400_0199, RAM + G),                        # RSI_HOST_CALL
    mov_reg(19, 0), ldr_x(20, 9, 8), ldr_x(21, 9, 16),
    SYSTEM_OFF)


def test_host_call_exit_and_results(host):
    realm = Realm(host, HOST_CALL_IMAGE, extra=1)
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.HOST_CALL
    assert ex.imm == 0x77 and ex.gprs[0] == 0xABC and ex.plane == 0
    status, ex = realm.enter(gprs=[0x1111, 0x2222])
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    assert realm.rec_obj.gprs[19:22] == [0, 0x1111, 0x2222]


def test_physical_irq_exits(host):
    realm = Realm(host, program(B_SELF))
    s = host.core.s
    s.irq_line = True                    # a physical interrupt while the realm runs
    status, ex = realm.enter()
    s.irq_line = False
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.IRQ
    assert realm.rec_obj.pc == RAM and s.security == NONSECURE


SEA_VECTOR = 0xA00                       # VBAR_EL1 = RAM + 0x800: current EL, SP_ELx, sync


def sea_image(*body):
    return program(*body, B_SELF).ljust(SEA_VECTOR, b"\0") + program(SYSTEM_OFF)


def test_inject_sea_after_an_mmio_exit(host):
    realm = Realm(host, sea_image(mov_imm(2, MMIO), ldr_w(3, 2, 0)))
    realm.rec_obj.sysregs["vbar_el1"] = RAM + 0x800
    status, ex = realm.enter()
    assert ex.exit_reason == RecExitReason.SYNC and ex.esr & (1 << 24)
    status, ex = realm.enter(flags=2)                      # INJECT_SEA
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    regs = realm.rec_obj.sysregs
    assert regs["esr_el1"] >> 26 == 0x25 and regs["esr_el1"] & 0x3F == 0x10
    assert regs["far_el1"] == MMIO and regs["elr_el1"] == RAM + 12


def test_access_to_empty_ripas_takes_an_sea_in_the_realm(host):
    realm = Realm(host, sea_image(mov_imm(2, RAM + 8 * G), ldr_w(3, 2, 0)))
    realm.rec_obj.sysregs["vbar_el1"] = RAM + 0x800
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    regs = realm.rec_obj.sysregs
    assert regs["esr_el1"] >> 26 == 0x25 and regs["esr_el1"] & 0x3F == 0x10
    assert regs["far_el1"] == RAM + 8 * G


def msr_icc_sgi1r_el1(rt):
    return 0xD518_CBA0 | rt                      # MSR S3_0_C12_C11_5, Xt


def test_sgi_write_is_forwarded_to_the_host(host):
    realm = Realm(host, program(mov_imm(5, 0x0100_0000_0001), msr_icc_sgi1r_el1(5),
                                SYSTEM_OFF))
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.SYNC
    assert ex.esr >> 26 == 0x18 and (ex.esr >> 5) & 0x1F == 0 and not ex.esr & 1
    assert ex.gprs[0] == 0x0100_0000_0001
    status, ex = realm.enter()                           # PC was advanced past the MSR
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI


SECONDARY = 0x100                                        # REC 1's entry point (offset)
CPU_ON_IMAGE = program(
    smc_call(0xC400_0003, 1, RAM + SECONDARY, 0x55),     # CPU_ON(MPIDR 1, entry, context)
    mov_reg(19, 0),
    SYSTEM_OFF).ljust(SECONDARY, b"\0") + program(
    mov_reg(20, 0),
    smc_call(0x8400_0002),                               # CPU_OFF
    B_SELF)


def test_psci_cpu_on_through_psci_complete(host):
    realm = Realm(host, CPU_ON_IMAGE, recs=2)
    rec0, rec1 = realm.recs
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    assert ex.gprs[0:2] == [0xC400_0003, 1]
    assert realm.enter()[0] == Status.ERROR_REC          # PSCI_COMPLETE first
    assert host.status(Fid.PSCI_COMPLETE, rec0, rec1, 0) == Status.SUCCESS
    status, ex = realm.enter(rec=rec1)
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    assert ex.gprs[0] == 0x8400_0002
    r1 = host.rmm.recs[rec1]
    assert r1.gprs[20] == 0x55 and r1.gprs[0] == 0 and not r1.runnable
    assert realm.enter(rec=rec1)[0] == Status.ERROR_REC
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.gprs[0] == 0x8400_0008
    assert realm.rec_obj.gprs[19] == 0


def test_abort_on_unbacked_ram_exits_and_retries_after_data_map(host):
    realm = Realm(host, program(mov_imm(2, LAZY + 0x10), ldr_x(3, 2), SYSTEM_OFF))
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.SYNC
    assert ex.esr >> 26 == 0x24 and not ex.esr & (1 << 24)        # not emulatable
    assert ex.esr & 0x3F == 0x07 and ex.far == 0                   # translation fault, L3
    assert ex.hpfar >> 4 << 12 == LAZY
    page = host.delegated()
    out = host.call(Fid.RTT_DATA_MAP, realm.rd, LAZY, LAZY + G, 1, desc(page, 1))
    assert out[:2] == [0, LAZY + G]
    assert realm.enter(flags=1)[0] == Status.ERROR_REC             # not an emulatable abort
    status, ex = realm.enter()                                     # the load is retried
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    assert realm.rec_obj.gprs[3] == 0                              # DATA_MAP zeroes it


def msr_cntv(op2, rt):
    return 0xD51B_E300 | op2 << 5 | rt           # MSR CNTV_CTL_EL0 (1) / CNTV_CVAL_EL0 (2)


def test_exits_report_the_realm_timers(host):
    realm = Realm(host, program(mov_imm(1, 1), msr_cntv(2, 31), msr_cntv(1, 1),
                                mov_imm(2, MMIO), str_w(1, 2, 0), SYSTEM_OFF))
    status, ex = realm.enter()
    assert ex.exit_reason == RecExitReason.SYNC
    assert ex.cntv_ctl == 0b101 and ex.cntv_cval == 0               # ENABLE, ISTATUS
    assert host.core.s.sr.get("cntv_ctl_el0", 0) == 0               # the host's own timer


def test_rec_enter_from_a_program_run_by_the_scheduler(host):
    """The machine's own run loop: the host program enters the REC, which computes and powers
    off; the host then powers the machine off."""
    realm = Realm(host, program(mov_imm(7, 41), add_imm(7, 7, 1), SYSTEM_OFF))
    machine, core = host.machine, host.core
    host.platform.ns_write(realm.run, bytes(0x300))
    host.platform.ns_write(host.code, program(SMC, mov_reg(19, 0), mov_imm(0, 0x8400_0008), SMC,
                                              B_SELF))
    core.flush_code()
    core.breakpoints.clear()
    s = core.s
    s.x[0:3] = [Fid.REC_ENTER, realm.rec, realm.run]
    s.pc = host.code
    result = machine.run(max_insns=100_000)
    assert result.reason == "system off"
    assert s.x[19] == 0 and realm.rec_obj.gprs[7] == 42
    ex = RmiRecExit.parse(host.platform.ns_read(realm.run + REC_EXIT_OFFSET, 0x800))
    assert ex.exit_reason == RecExitReason.PSCI
    assert machine.cores[0].el_counts[1] > 0


# --- attestation ------------------------------------------------------------------------------

CHALLENGE = [0x0101_0101_0101_0101 * i for i in range(1, 9)]
ATTEST_IMAGE = program(
    smc_call(0xC400_0195, RAM + G, 0, G), mov_reg(19, 0),     # CONTINUE before INIT
    smc_call(0xC400_0194, *CHALLENGE), mov_reg(20, 0), mov_reg(21, 1),
    smc_call(0xC400_0195, RAM + G, 0, G), mov_reg(22, 0), mov_reg(23, 1),
    SYSTEM_OFF)


def verify_es384(cose_key, sign1):
    """Check a COSE_Sign1's ES384 signature (RFC 9052 Sig_structure) with cryptography."""
    key = cbor2.loads(cose_key)
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(key[-2], "big"),
                                           int.from_bytes(key[-3], "big"),
                                           ec.SECP384R1()).public_key()
    protected, _unprotected, payload, signature = sign1
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    der = encode_dss_signature(int.from_bytes(signature[:48], "big"),
                               int.from_bytes(signature[48:], "big"))
    public.verify(der, to_sign, ec.ECDSA(hashes.SHA384()))


def test_attestation_token(host):
    realm = Realm(host, ATTEST_IMAGE, extra=1)
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.PSCI
    g = realm.rec_obj.gprs
    assert g[19] == 2                                          # RSI_ERROR_STATE
    assert g[20:22] == [0, 4096]
    assert g[22] == 0 and 0 < g[23] <= 4096                    # SUCCESS, token length
    raw = host.machine.bus.read_bytes(realm.data[1], g[23])
    token = cbor2.loads(raw)
    assert len(cbor2.dumps(token)) == g[23] and token.tag == 907
    collection = token.value
    assert list(collection) == [44234, 44241]
    assert collection[44234][0] == collection[44241][0] == 263
    platform = cbor2.loads(collection[44234][1])
    realm_token = cbor2.loads(collection[44241][1])
    assert platform.tag == realm_token.tag == 18
    claims = cbor2.loads(realm_token.value[2])
    assert claims[10] == struct.pack("<8Q", *CHALLENGE)
    r = host.rmm.realms[realm.rd]
    assert claims[44238] == r.rim and claims[44239] == list(r.rems)
    assert claims[44236] == "sha-256" and claims[265] == "tag:arm.com,2024:realm#2.0.0"
    plat_claims = cbor2.loads(platform.value[2])
    assert plat_claims[10] == hashlib.sha256(claims[44237]).digest()     # bound to the RAK
    verify_es384(claims[44237], realm_token.value)

