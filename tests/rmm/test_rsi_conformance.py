"""RSI conformance (issue #7): every RSI command and the realm's PSCI calls, issued by realm code
at R-EL1 on the board's CPU, with each failure condition the RMM specification lists for it
(and TF-RMM's evaluation order where several hold at once: rsi-measurement-attestation.md
0.1, 1, 2, 6), return the documented result; buffers whose RIPAS is RAM but which are not
backed give the emulated data abort exit; an interrupt taken while the RMM signs a token ends
RSI_ATTESTATION_TOKEN_CONTINUE as RSI_INCOMPLETE with an IRQ exit and nothing lost.

Every test realm (s2sz 40) has its image at RAM, mapped RAM pages BUF and BUF2 after it, DEST
(mapped, then unmapped by the host: RIPAS DESTROYED), LAZY (RIPAS RAM, not backed), EMPTY
(RIPAS EMPTY) and two RECs (MPIDR 0 runs, MPIDR 1 is off).
"""

import functools
import hashlib
import struct
from typing import NamedTuple

import cbor2
import pytest
from test_rec_run import (
    B_SELF,
    LAZY,
    MB,
    RAM,
    SMC,
    SYSTEM_OFF,
    BoardHost,
    G,
    Realm,
    mov_imm,
    mov_reg,
    movz,
    program,
    smc_call,
    str_x,
    verify_es384,
)

from machine.board.fvp import definition
from machine.board.machine import Machine
from machine.cpu import sysregs
from machine.cpu.state import REALM
from machine.rmm.abi import REC_EXIT_OFFSET, Fid, RecExitReason, RmiRecExit, Status, desc

M64 = (1 << 64) - 1
BUF, BUF2, DEST = RAM + G, RAM + 2 * G, RAM + 3 * G
EMPTY = RAM + 8 * G
PAR_TOP = UNPROT = 1 << 39             # the PAR is the lower half of the 40-bit IPA space

# RsiCommandReturnCode, SMCCC and PSCI return values (RMM specification, PSCI DEN0022)
SUCCESS, ERROR_INPUT, ERROR_STATE, INCOMPLETE = 0, 1, 2, 3
NOT_SUPPORTED = M64                    # SMC_UNKNOWN / PSCI NOT_SUPPORTED, -1
INVALID_PARAMETERS, ALREADY_ON, INVALID_ADDRESS = -2 & M64, -4 & M64, -9 & M64
PSCI_ON = 0

RSI_VERSION, RSI_FEATURES = 0xC400_0190, 0xC400_0191
MEASUREMENT_READ, MEASUREMENT_EXTEND = 0xC400_0192, 0xC400_0193
TOKEN_INIT, TOKEN_CONTINUE = 0xC400_0194, 0xC400_0195
REALM_CONFIG, IPA_STATE_SET, IPA_STATE_GET, HOST_CALL = 0xC400_0196, 0xC400_0197, \
    0xC400_0198, 0xC400_0199
RSI_1_0, RSI_1_1 = 0x1_0000, 0x1_0001
SMCCC_VERSION = 0x8000_0000
PSCI_VERSION, PSCI_FEATURES, PSCI_SYSTEM_OFF = 0x8400_0000, 0x8400_000A, 0x8400_0008
CPU_ON, AFFINITY_INFO = 0xC400_0003, 0xC400_0004
PSCI_IMPLEMENTED = (0x8400_0001, 0xC400_0001, 0x8400_0002, 0x8400_0003, CPU_ON, 0x8400_0004,
                    AFFINITY_INFO, PSCI_SYSTEM_OFF, 0x8400_0009, PSCI_FEATURES, SMCCC_VERSION)
RIPAS_EMPTY, RIPAS_RAM, RIPAS_DESTROYED, RIPAS_DEV = 0, 1, 2, 3
CHALLENGE = [0x0123_4567_89AB_CDEF ^ (i * 0x1111) for i in range(8)]
INIT = (TOKEN_INIT, *CHALLENGE)
WHOLE_TOKEN = (TOKEN_CONTINUE, BUF, 0, G)


@pytest.fixture
def host():
    return BoardHost(Machine(definition(), cpus=1, memory=64 * MB))


def make_realm(host, image):
    """The realm of the module docstring running `image`; DEST unmapped by the host."""
    realm = Realm(host, image, extra=3, recs=2)
    out = host.call(Fid.RTT_DATA_UNMAP, realm.rd, DEST, DEST + G, 0, 0)
    assert out[:2] == [Status.SUCCESS, DEST + G]
    return realm


def capture():
    """x19..x27 = x0..x8: what the call returned."""
    return [mov_reg(19 + i, i) for i in range(9)]


def calls(*regs_list):
    return [w for regs in regs_list for w in smc_call(*regs)]


def answered(host, call, before=()):
    """Run `before` then `call` in a realm and power off; the call's x0..x8 (it must be
    answered inside the realm: the only exit is the SYSTEM_OFF)."""
    realm = make_realm(host, program(calls(*before), smc_call(*call), capture(), SYSTEM_OFF))
    status, ex = realm.enter()
    assert status == Status.SUCCESS
    assert (ex.exit_reason, ex.gprs[0]) == (RecExitReason.PSCI, PSCI_SYSTEM_OFF)
    return realm.rec_obj.gprs[19:28]


class Row(NamedTuple):
    name: str
    call: tuple                   # x0 (FID), x1, ...
    expect: tuple                 # x0, x1, ... as the realm reads them back
    before: tuple = ()            # calls issued first


def rows(fid, expect, cases, before=()):
    return [Row(name, (fid, *args), expect, before) for name, args in cases]


INPUT = (ERROR_INPUT,)
# RSI_ATTESTATION_TOKEN_CONTINUE: addr_align, addr_bound, offset_bound, size_overflow,
# size_bound (-> ERROR_INPUT) come before state (-> ERROR_STATE), which comes before the
# access to the buffer (EMPTY -> ERROR_INPUT, not backed -> emulated abort) and size 0.
CONTINUE_INPUT = [
    ("unaligned addr", (BUF + 1, 0, G)),
    ("addr 256-byte aligned only", (BUF + 0x100, 0, 0x100)),
    ("unprotected addr", (UNPROT | BUF, 0, G)),
    ("addr at the PAR top", (PAR_TOP, 0, G)),
    ("offset 4096", (BUF, G, 0)),
    ("offset -1", (BUF, M64, 0x100)),
    ("offset + size 4097", (BUF, 0, G + 1)),
    ("offset 0x100 + size 0xF01", (BUF, 0x100, 0xF01)),
    ("offset + size wraps", (BUF, 0x100, M64)),
    ("offset + size wraps to 0", (BUF, 0x100, (1 << 64) - 0x100)),
]
ROWS = [
    # RSI_VERSION: the lower revision is the highest supported one below the request
    *rows(RSI_VERSION, (SUCCESS, RSI_1_0, RSI_1_1, 0), [("1.0", (RSI_1_0,))]),
    *rows(RSI_VERSION, (SUCCESS, RSI_1_1, RSI_1_1, 0), [("1.1", (RSI_1_1,))]),
    *rows(RSI_VERSION, (ERROR_INPUT, RSI_1_1, RSI_1_1, 0),
          [("2.0", (0x2_0000,)), ("1.2", (0x1_0002,)), ("major 0xFFFF", (0xFFFF_0000,))]),
    Row("SVE hint bit in the FID", (RSI_VERSION | 1 << 16, RSI_1_0), (SUCCESS, RSI_1_0, RSI_1_1)),
    Row("x4-x8 preserved", (RSI_VERSION, RSI_1_0, 2, 3, 4, 5, 6, 7, 8),
        (SUCCESS, RSI_1_0, RSI_1_1, 0, 4, 5, 6, 7, 8)),
    # RSI_FEATURES: no failure conditions, unknown registers read as zero
    *rows(RSI_FEATURES, (SUCCESS, 0, 0, 0), [("register 0", (0,)), ("register 1", (1,)),
                                           ("register -1", (M64,))]),
    # RSI_MEASUREMENT_READ: index_bound
    *rows(MEASUREMENT_READ, (ERROR_INPUT, 0, 0, 0), [("index 5", (5,)), ("index -1", (M64,))]),
    Row("a SHA-256 value is zero-padded to 64 bytes",
        (MEASUREMENT_READ, 1, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88), (SUCCESS,) + (0,) * 8),
    # RSI_MEASUREMENT_EXTEND: index_bound, size_bound
    *rows(MEASUREMENT_EXTEND, INPUT, [
        ("index 0 (the RIM)", (0, 8, 1)), ("index 5", (5, 8, 1)), ("index -1", (M64, 8, 1)),
        ("size 65", (1, 65, 1)), ("size -1", (1, M64, 1)), ("index 0 and size 65", (0, 65, 1))]),
    # RSI_ATTESTATION_TOKEN_CONTINUE
    *rows(TOKEN_CONTINUE, INPUT, CONTINUE_INPUT, before=(INIT,)),
    *rows(TOKEN_CONTINUE, INPUT, [(f"without INIT: {n}", a) for n, a in CONTINUE_INPUT]),
    *rows(TOKEN_CONTINUE, (ERROR_STATE, 0), [
        ("without INIT", (BUF, 0, G)),
        ("without INIT: EMPTY buffer", (EMPTY, 0, G)),
        ("without INIT: buffer not backed (no abort)", (LAZY, 0, G)),
        ("without INIT: DESTROYED buffer (no abort)", (DEST, 0, G)),
        ("without INIT: size 0", (BUF, 0, 0))]),
    *rows(TOKEN_CONTINUE, (ERROR_INPUT, 0), [("EMPTY buffer", (EMPTY, 0, G)),
                                             ("EMPTY buffer, size 0", (EMPTY, 0, 0))],
          before=(INIT,)),
    *rows(TOKEN_CONTINUE, (INCOMPLETE, 0), [("size 0", (BUF, 0, 0))], before=(INIT,)),
    *rows(TOKEN_CONTINUE, (ERROR_STATE, 0), [("after the token", (BUF2, 0, G)),
                                             ("after the token, size 0", (BUF2, 0, 0))],
          before=(INIT, WHOLE_TOKEN)),
    # RSI_REALM_CONFIG: addr_align, addr_bound before the access to the buffer
    *rows(REALM_CONFIG, INPUT, [
        ("unaligned", (BUF + 8,)), ("half a granule", (BUF + 0x800,)),
        ("unprotected", (UNPROT | BUF,)), ("at the PAR top", (PAR_TOP,)),
        ("above the IPA space", ((1 << 64) - G,)), ("EMPTY", (EMPTY,)),
        ("unaligned, not backed (no abort)", (LAZY + 8,)),
        ("unprotected alias of a page not backed", (UNPROT | LAZY,)),
        ("unaligned, DESTROYED", (DEST + 8,))]),
    Row("a mapped RAM page", (REALM_CONFIG, BUF), (SUCCESS, 0, 0, 0)),
    # RSI_HOST_CALL: addr_align (256 bytes), addr_bound before the access to the structure
    *rows(HOST_CALL, INPUT, [
        ("unaligned", (BUF + 8,)), ("128-byte aligned", (BUF + 0x80,)),
        ("unprotected", (UNPROT | BUF,)), ("at the PAR top", (PAR_TOP,)), ("EMPTY", (EMPTY,)),
        ("EMPTY, second structure", (EMPTY + 0x100,)),
        ("unaligned, not backed (no abort)", (LAZY + 0x80,)),
        ("unprotected alias of a page not backed", (UNPROT | LAZY,))]),
    # RSI_IPA_STATE_SET: base_align, top_align, size_valid, rgn_bound, ripas_valid
    *rows(IPA_STATE_SET, INPUT, [
        ("base unaligned", (EMPTY + 8, EMPTY + G, RIPAS_RAM, 0)),
        ("top unaligned", (EMPTY, EMPTY + G + 8, RIPAS_RAM, 0)),
        ("base = top", (EMPTY, EMPTY, RIPAS_RAM, 0)),
        ("base > top", (EMPTY + G, EMPTY, RIPAS_RAM, 0)),
        ("top beyond the PAR", (PAR_TOP - G, PAR_TOP + G, RIPAS_RAM, 0)),
        ("unprotected range", (UNPROT | EMPTY, UNPROT | EMPTY + G, RIPAS_EMPTY, 0)),
        ("range above the IPA space", ((1 << 64) - 2 * G, (1 << 64) - G, RIPAS_RAM, 0)),
        ("RIPAS DESTROYED", (EMPTY, EMPTY + G, RIPAS_DESTROYED, 0)),
        ("RIPAS DEV", (EMPTY, EMPTY + G, RIPAS_DEV, 0)),
        ("RIPAS DESTROYED, base unaligned", (EMPTY + 8, EMPTY + G, RIPAS_DESTROYED, 1))]),
    # RSI_IPA_STATE_GET: base_align, end_align, size_valid, rgn_bound
    *rows(IPA_STATE_GET, INPUT, [
        ("base unaligned", (EMPTY + 8, EMPTY + G)), ("end unaligned", (EMPTY, EMPTY + G + 8)),
        ("base = end", (EMPTY, EMPTY)), ("base > end", (EMPTY + G, EMPTY)),
        ("end beyond the PAR", (PAR_TOP - G, PAR_TOP + G)),
        ("unprotected range", (UNPROT | RAM, UNPROT | RAM + G))]),
    Row("RIPAS RAM up to DEST", (IPA_STATE_GET, RAM, RAM + 16 * G), (SUCCESS, DEST, RIPAS_RAM)),
    Row("RIPAS DESTROYED", (IPA_STATE_GET, DEST, DEST + G), (SUCCESS, DEST + G, RIPAS_DESTROYED)),
    Row("RIPAS EMPTY up to LAZY", (IPA_STATE_GET, EMPTY, LAZY + 4 * G),
        (SUCCESS, LAZY, RIPAS_EMPTY)),
    Row("RIPAS RAM, not backed", (IPA_STATE_GET, LAZY, LAZY + G), (SUCCESS, LAZY + G, RIPAS_RAM)),
    Row("end at the PAR top", (IPA_STATE_GET, PAR_TOP - G, PAR_TOP),
        (SUCCESS, PAR_TOP, RIPAS_EMPTY)),
    # SMCCC and PSCI calls the RMM answers itself
    Row("SMCCC_VERSION", (SMCCC_VERSION,), (0x1_0002,)),
    Row("PSCI_VERSION", (PSCI_VERSION,), (0x1_0001,)),
    *[Row(f"PSCI_FEATURES {fid:#x}", (PSCI_FEATURES, fid), (0,)) for fid in PSCI_IMPLEMENTED],
    *rows(PSCI_FEATURES, (NOT_SUPPORTED,), [
        ("PSCI_FEATURES MIGRATE", (0x8400_0005,)),
        ("PSCI_FEATURES SYSTEM_SUSPEND", (0xC400_000E,)),
        ("PSCI_FEATURES RSI_VERSION", (RSI_VERSION,))]),
    # PSCI_CPU_ON: entry (INVALID_ADDRESS) before the target (INVALID_PARAMETERS, ALREADY_ON)
    *rows(CPU_ON, (INVALID_ADDRESS,), [
        ("CPU_ON entry unprotected", (1, UNPROT | RAM, 0)),
        ("CPU_ON entry at the PAR top", (1, PAR_TOP, 0)),
        ("CPU_ON entry outside the PAR, no such REC", (2, PAR_TOP, 0)),
        ("CPU_ON entry outside the PAR, self", (0, PAR_TOP, 0))]),
    *rows(CPU_ON, (INVALID_PARAMETERS,), [("CPU_ON no such REC", (2, RAM, 0)),
                                          ("CPU_ON MPIDR Aff1 = 1", (0x100, RAM, 0))]),
    *rows(CPU_ON, (ALREADY_ON,), [("CPU_ON self", (0, RAM, 0))]),
    Row("CPU_ON (SMC32) self", (0x8400_0003, 0, RAM, 0), (ALREADY_ON,)),
    # PSCI_AFFINITY_INFO: lowest_affinity_level and target before the answer for self
    *rows(AFFINITY_INFO, (INVALID_PARAMETERS,), [
        ("AFFINITY_INFO level 1", (1, 1)), ("AFFINITY_INFO no such REC", (2, 0)),
        ("AFFINITY_INFO level 1, self", (0, 1))]),
    *rows(AFFINITY_INFO, (PSCI_ON,), [("AFFINITY_INFO self", (0, 0))]),
    *rows(0x8400_0004, (PSCI_ON,), [("AFFINITY_INFO (SMC32) self", (0, 0))]),
    *[Row(f"PSCI {fid:#x} not implemented", (fid,), (NOT_SUPPORTED,))
      for fid in (0x8400_0005, 0xC400_000E, 0xC400_0000, 0x8400_0012)],
    # functions the RMM does not implement: SMC_UNKNOWN, x1-x3 zero
    *[Row(f"unknown FID {fid:#x}", (fid, 1, 2, 3), (NOT_SUPPORTED, 0, 0, 0))
      for fid in (0xC400_019A, 0xC400_019B, 0xC400_019E, 0xC400_01B0, 0xC400_018F,
                  0xC400_0150, 0x8000_0001, 0xC500_0041, 0x8400_0020, 0x0)],
]


RSI_NAMES = {RSI_VERSION: "VERSION", RSI_FEATURES: "FEATURES",
             MEASUREMENT_READ: "MEASUREMENT_READ", MEASUREMENT_EXTEND: "MEASUREMENT_EXTEND",
             TOKEN_CONTINUE: "CONTINUE", REALM_CONFIG: "REALM_CONFIG",
             IPA_STATE_SET: "IPA_STATE_SET", IPA_STATE_GET: "IPA_STATE_GET",
             HOST_CALL: "HOST_CALL"}


def row_id(row):
    command = RSI_NAMES.get(row.call[0])
    return f"{command}: {row.name}" if command and command != row.name else row.name


@pytest.mark.parametrize("row", ROWS, ids=[row_id(r) for r in ROWS])
def test_result_in_the_realm(host, row):
    assert answered(host, row.call, row.before)[:len(row.expect)] == list(row.expect)


# --- measurements ---------------------------------------------------------------------------

def words(value):
    """A 64-byte measurement register as the realm reads it: little-endian, zero-padded."""
    return list(struct.unpack("<8Q", bytes(value).ljust(64, b"\0")))


def test_measurement_read_of_the_rim(host):
    realm = make_realm(host, program(smc_call(MEASUREMENT_READ, 0), capture(), SYSTEM_OFF))
    realm.enter()
    rim = host.rmm.realms[realm.rd].rim
    assert realm.rec_obj.gprs[19:28] == [SUCCESS] + words(rim)


def test_measurement_extend(host):
    data = struct.pack("<8Q", *range(0x1010, 0x1018))
    extends = [(MEASUREMENT_EXTEND, i, size, *struct.unpack("<8Q", data))
               for i, size in ((1, 64), (2, 0), (3, 17), (4, 64))]
    image = [w for e in extends for w in smc_call(*e) + [str_x(0, 28, 8 * e[1])]]
    realm = make_realm(host, program(mov_imm(28, BUF2), image, SYSTEM_OFF))
    realm.enter()
    status = struct.unpack_from("<4Q", host.machine.bus.read_bytes(realm.data[2], 40), 8)
    assert status == (SUCCESS,) * 4
    zero = bytes(32)
    assert host.rmm.realms[realm.rd].rems == [hashlib.sha256(zero + data[:size]).digest()
                                              for size in (64, 0, 17, 64)]


def test_failed_extends_leave_the_rems(host):
    bad = [r.call for r in ROWS if r.call[0] == MEASUREMENT_EXTEND]
    realm = make_realm(host, program(calls(*bad), SYSTEM_OFF))
    realm.enter()
    assert host.rmm.realms[realm.rd].rems == [bytes(32)] * 4


# --- RSI_REALM_CONFIG -------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", [0, 1, 2], ids=["SHA-256", "SHA-512", "SHA-384"])
def test_realm_config_page(host, algorithm):
    """RsiRealmConfig: ipa_width 40, hash_algo (RsiHashAlgorithm: SHA-256 0, SHA-512 1,
    SHA-384 2), gicv3_vtr = the CPU's ICH_VTR_EL2; no aux planes, no ATS plane, the zero RPV
    the host gave, reserved bytes zero (the page held 0xEE before)."""
    host.realm_create = functools.partial(host.realm_create, algorithm=algorithm)
    realm = make_realm(host, program(smc_call(REALM_CONFIG, BUF), capture(), SYSTEM_OFF))
    host.machine.bus.write_bytes(realm.data[1], b"\xee" * G)
    realm.enter()
    assert realm.rec_obj.gprs[19] == SUCCESS
    expected = bytearray(G)
    struct.pack_into("<QB", expected, 0, 40, algorithm)
    struct.pack_into("<I", expected, 0x18, sysregs.BY_NAME["ich_vtr_el2"].get(host.core.s))
    assert host.machine.bus.read_bytes(realm.data[1], G) == bytes(expected)


# --- buffers with RIPAS RAM the host has not backed: the emulated data abort ---------------------

TRANSLATION_FAULT_L3 = (0x24 << 26) | 0b0001_11     # EC data abort from a lower EL, DFSC level 3


def smc_address(words_before, call):
    return RAM + 4 * (len(words_before) + len(smc_call(*call)) - 1)


@pytest.mark.parametrize("call, before", [((REALM_CONFIG, LAZY), ()),
                                          ((HOST_CALL, LAZY + 0x100), ()),
                                          ((TOKEN_CONTINUE, LAZY, 0, G), (INIT,)),
                                          ((REALM_CONFIG, DEST), ()),
                                          ((HOST_CALL, DEST + 0x300), ()),
                                          ((TOKEN_CONTINUE, DEST, 0x10, 0x20), (INIT,))],
                         ids=["REALM_CONFIG", "HOST_CALL", "CONTINUE", "REALM_CONFIG DESTROYED",
                              "HOST_CALL DESTROYED", "CONTINUE DESTROYED"])
def test_buffer_not_backed_exits_with_an_emulated_data_abort(host, call, before):
    """Digest 0.1: SYNC exit, ESR = data abort with a translation fault at the level the walk
    stopped, HPFAR = the granule's IPA, FAR 0; the realm's PC stays at the SMC and its
    registers are untouched."""
    head = calls(*before)
    realm = make_realm(host, program(head, smc_call(*call), capture(), SYSTEM_OFF))
    status, ex = realm.enter()
    assert status == Status.SUCCESS and ex.exit_reason == RecExitReason.SYNC
    page = call[1] & ~(G - 1)
    assert (ex.esr, ex.far, ex.hpfar >> 4 << 12) == (TRANSLATION_FAULT_L3, 0, page)
    rec = realm.rec_obj
    assert rec.pc == smc_address(head, call) and rec.gprs[:len(call)] == list(call)


@pytest.mark.parametrize("call, before", [((REALM_CONFIG, LAZY), ()),
                                          ((TOKEN_CONTINUE, LAZY, 0, G), (INIT,))],
                         ids=["REALM_CONFIG", "CONTINUE"])
def test_the_call_is_retried_once_the_host_maps_the_page(host, call, before):
    realm = make_realm(host, program(calls(*before), smc_call(*call), capture(), SYSTEM_OFF))
    assert realm.enter()[1].exit_reason == RecExitReason.SYNC
    page = host.delegated()
    assert host.call(Fid.RTT_DATA_MAP, realm.rd, LAZY, LAZY + G, 1, desc(page, 1))[:2] == \
        [Status.SUCCESS, LAZY + G]
    status, ex = realm.enter()
    assert (ex.exit_reason, ex.gprs[0]) == (RecExitReason.PSCI, PSCI_SYSTEM_OFF)
    assert realm.rec_obj.gprs[19] == SUCCESS
    assert host.machine.bus.read_bytes(page, G) != bytes(G)       # the RMM wrote the page


def test_host_call_retried_once_the_host_maps_the_page(host):
    realm = make_realm(host, program(smc_call(HOST_CALL, LAZY + 0x100), SYSTEM_OFF))
    assert realm.enter()[1].exit_reason == RecExitReason.SYNC
    page = host.delegated()
    host.call(Fid.RTT_DATA_MAP, realm.rd, LAZY, LAZY + G, 1, desc(page, 1))
    assert realm.enter()[1].exit_reason == RecExitReason.HOST_CALL


# --- RSI_IPA_STATE_SET that the host sees ---------------------------------------------------------

def test_ipa_state_set_up_to_the_par_top_exits(host):
    realm = make_realm(host, program(smc_call(IPA_STATE_SET, PAR_TOP - G, PAR_TOP, RIPAS_RAM, 0),
                                     SYSTEM_OFF))
    status, ex = realm.enter()
    assert ex.exit_reason == RecExitReason.RIPAS_CHANGE
    assert (ex.ripas_base, ex.ripas_top, ex.ripas_value) == (PAR_TOP - G, PAR_TOP, RIPAS_RAM)


@pytest.mark.parametrize("flags, changed", [(1, True), (3, True), (0, False), (2, False)])
def test_ipa_state_set_flags_bit_0_permits_destroyed(host, flags, changed):
    """RsiRipasChangeFlags: bit 0 = CHANGE_DESTROYED, the other bits reserved: RAM over a
    DESTROYED page happens only with bit 0 set."""
    realm = make_realm(host, program(smc_call(IPA_STATE_SET, DEST, DEST + G, RIPAS_RAM, flags),
                                     capture(), SYSTEM_OFF))
    assert realm.enter()[1].exit_reason == RecExitReason.RIPAS_CHANGE
    out = host.call(Fid.RTT_SET_RIPAS, realm.rd, realm.rec, DEST, DEST + G)
    assert (out[:2] == [Status.SUCCESS, DEST + G]) == changed
    realm.enter()
    progress = DEST + G if changed else DEST
    assert realm.rec_obj.gprs[19:21] == [SUCCESS, progress]


# --- PSCI_CPU_ON of a REC that is on --------------------------------------------------------------

SECONDARY = RAM + 0x800


def test_cpu_on_a_running_rec_is_already_on(host):
    cpu_on = smc_call(CPU_ON, 1, SECONDARY, 0)
    realm = make_realm(host, program(cpu_on, mov_reg(19, 0), cpu_on, mov_reg(20, 0),
                                     SYSTEM_OFF).ljust(0x800, b"\0") + program(B_SELF))
    rec0, rec1 = realm.recs
    for _ in range(2):
        status, ex = realm.enter()
        assert (ex.exit_reason, ex.gprs[0:2]) == (RecExitReason.PSCI, [CPU_ON, 1])
        assert host.status(Fid.PSCI_COMPLETE, rec0, rec1, 0) == Status.SUCCESS
    realm.enter()
    assert realm.rec_obj.gprs[19:21] == [SUCCESS, ALREADY_ON]


# --- attestation tokens -------------------------------------------------------------------------

def token_claims(raw):
    """The realm token's claims, after checking its signature with the RAK it carries."""
    collection = cbor2.loads(raw).value
    realm_token = cbor2.loads(collection[44241][1])
    claims = cbor2.loads(realm_token.value[2])
    verify_es384(claims[44237], realm_token.value)
    return claims


def test_token_fits_the_bound_init_gives(host):
    realm = make_realm(host, program(smc_call(*INIT), mov_reg(10, 0), mov_reg(11, 1),
                                     smc_call(*WHOLE_TOKEN), capture(), SYSTEM_OFF))
    realm.enter()
    g = realm.rec_obj.gprs
    assert g[10] == SUCCESS and g[19] == SUCCESS and 0 < g[20] <= g[11]
    claims = token_claims(host.machine.bus.read_bytes(realm.data[1], g[20]))
    assert claims[10] == struct.pack("<8Q", *CHALLENGE)


def test_init_abandons_the_token_in_progress(host):
    """INIT, part of a token, INIT with another challenge: the next token has the new one."""
    other = [~c & M64 for c in CHALLENGE]
    realm = make_realm(host, program(calls(INIT, (TOKEN_CONTINUE, BUF, 0, 0x40),
                                           (TOKEN_INIT, *other), (TOKEN_CONTINUE, BUF2, 0, G)),
                                     capture(), SYSTEM_OFF))
    realm.enter()
    g = realm.rec_obj.gprs
    assert g[19] == SUCCESS
    claims = token_claims(host.machine.bus.read_bytes(realm.data[2], g[20]))
    assert claims[10] == struct.pack("<8Q", *other)


# --- interrupts while the realm gets its token ----------------------------------------------------

CNTHP_INTID = 26                      # the host's EL2 physical timer PPI
PATTERN = 0x5A5A_5A5A_A5A5_A5A5


def add_reg(rd, rn, rm):
    return 0x8B00_0000 | rm << 16 | rn << 5 | rd


def cmp_imm(rn, imm12):
    return 0xF100_001F | imm12 << 10 | rn << 5          # SUBS XZR, Xn, #imm


def b_eq(offset_words):
    return 0x5400_0000 | (offset_words & 0x7_FFFF) << 5


def token_loop(chunk):
    """BUF[0] = PATTERN; INIT; then CONTINUE(BUF, x19, chunk) with x19 += x1 while the result is
    RSI_INCOMPLETE; x21 = the last result. Returns (image, the CONTINUE SMC's address)."""
    head = mov_imm(9, BUF) + mov_imm(10, PATTERN) + [str_x(10, 9)] + smc_call(*INIT) + \
        [movz(19, 0)]
    loop = mov_imm(0, TOKEN_CONTINUE) + mov_imm(1, BUF) + [mov_reg(2, 19)] + mov_imm(3, chunk)
    smc_at = len(head) + len(loop)
    tail = [SMC, add_reg(19, 19, 1), cmp_imm(0, INCOMPLETE)]
    tail.append(b_eq(len(head) - (smc_at + len(tail))))
    image = program(head, loop, tail, mov_reg(21, 0), SYSTEM_OFF)
    return image, RAM + 4 * smc_at


class HostTimer:
    """The host's EL2 physical timer through the GIC: PPI 26 enabled in Group 1 Non-secure,
    the distributor and CPU interface enabled, as a hypervisor's drivers leave them."""

    def __init__(self, host):
        self.machine, self.s = host.machine, host.core.s
        gic = self.machine.gic
        gic.distributor.write(0x0, 4, 0x12, secure=False)             # ARE_NS, EnableGrp1A
        gic.redistributors[0].write(0x1_0100, 4, 1 << CNTHP_INTID, secure=False)
        self.set("icc_igrpen1_el1", 1)

    def set(self, name, value):
        sysregs.BY_NAME[name].set(self.s, value)

    def arm(self, ticks):
        """Fire `ticks` counter ticks from now."""
        self.set("cnthp_cval_el2", self.machine.clock.counter() + ticks)
        self.set("cnthp_ctl_el2", 1)

    def time_passes(self, ns):
        """What the scheduler does between two slices: the clock moves, the timers tick."""
        clock = self.machine.clock
        clock.advance(ns)
        for timer in self.machine.timed:
            timer.tick(clock.now())


def enter_until(realm, pc):
    """RMI_REC_ENTER issued by the host CPU, run until the realm reaches `pc` (or, with the
    breakpoint there, executes it once more)."""
    host, core = realm.host, realm.host.core
    host.platform.ns_write(realm.run, bytes(0x300))
    s = core.s
    s.x[0:3] = [Fid.REC_ENTER, realm.rec, realm.run]
    s.pc = host.code
    core.breakpoints.add(pc)
    stop = core.run(10_000)
    assert (stop.reason, s.pc, s.security) == ("breakpoint", pc, REALM)


def resume_to_host(realm):
    """Run the CPU until the host's REC_ENTER returns: the RmiRecExit."""
    host, core = realm.host, realm.host.core
    core.breakpoints -= {b for b in core.breakpoints if b != host.code + 4}
    stop = core.run(10_000)
    assert (stop.reason, core.s.pc, core.s.x[0]) == ("breakpoint", host.code + 4, 0)
    return RmiRecExit.parse(host.platform.ns_read(realm.run + REC_EXIT_OFFSET, 0x800))


def test_interrupt_while_the_rmm_signs_ends_continue_incomplete(host):
    """The host timer fires while the RMM signs (between two signing slices): CONTINUE returns
    RSI_INCOMPLETE with no bytes, the REC exits with RMI_EXIT_IRQ after the SMC, the buffer is
    untouched; the host takes its interrupt, re-enters, the realm calls CONTINUE again and gets
    a token that verifies."""
    timer = HostTimer(host)
    image, smc_pc = token_loop(G)
    realm = make_realm(host, image)
    timer.arm(ticks=10)
    enter_until(realm, smc_pc)
    host.core.run(10)                                  # one signing slice, back at the SMC
    s = host.core.s
    assert (s.pc, s.x[0]) == (smc_pc, TOKEN_CONTINUE)
    timer.time_passes(1000)
    assert s.irq_line
    ex = resume_to_host(realm)
    assert ex.exit_reason == RecExitReason.IRQ
    rec = realm.rec_obj
    assert rec.pc == smc_pc + 4 and rec.gprs[0:2] == [INCOMPLETE, 0]
    assert host.machine.bus.read_bytes(realm.data[1], 8) == PATTERN.to_bytes(8, "little")
    timer.set("cnthp_ctl_el2", 0)                        # the host handles its timer
    assert not s.irq_line
    status, ex = realm.enter()
    assert (ex.exit_reason, ex.gprs[0]) == (RecExitReason.PSCI, PSCI_SYSTEM_OFF)
    assert rec.gprs[21] == SUCCESS
    claims = token_claims(host.machine.bus.read_bytes(realm.data[1], rec.gprs[19]))
    assert claims[10] == struct.pack("<8Q", *CHALLENGE)


def test_interrupt_between_continues_loses_nothing(host):
    """The host timer fires after some of the token was copied: the CPU takes the interrupt
    before the next CONTINUE (an IRQ exit with the realm at that SMC, registers untouched);
    after re-entry the realm carries on and the token it assembles verifies."""
    timer = HostTimer(host)
    image, smc_pc = token_loop(0x100)
    realm = make_realm(host, image)
    timer.arm(ticks=10)
    enter_until(realm, smc_pc)
    s = host.core.s
    for _ in range(100):                              # signed, then 0x100 bytes copied
        if s.x[19]:
            break
        host.core.run(10_000)
    assert (s.pc, s.x[19]) == (smc_pc, 0x100)
    timer.time_passes(1000)
    ex = resume_to_host(realm)
    rec = realm.rec_obj
    assert ex.exit_reason == RecExitReason.IRQ
    assert rec.pc == smc_pc and rec.gprs[0:4] == [TOKEN_CONTINUE, BUF, 0x100, 0x100]
    copied = host.machine.bus.read_bytes(realm.data[1], 0x100)
    timer.set("cnthp_ctl_el2", 0)
    status, ex = realm.enter()
    assert (ex.exit_reason, rec.gprs[21]) == (RecExitReason.PSCI, SUCCESS)
    raw = host.machine.bus.read_bytes(realm.data[1], rec.gprs[19])
    assert raw[:0x100] == copied
    assert token_claims(raw)[10] == struct.pack("<8Q", *CHALLENGE)
