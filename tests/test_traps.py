"""The EL2 and EL3 trap controls of system register accesses and system instructions.

Expected values come from the Arm ARM: the encodings of each register and instruction, the
ESR_ELx ISS of EC 0x18 (Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], Rt [9:5], CRm [4:1],
Direction [0], 1 for a read), the bit of each control in HCR_EL2, MDCR_EL2, MDCR_EL3, SCR_EL3,
CPACR_EL1 and CPTR_ELx, and the priority the "Accessing" pseudocode gives them: UNDEFINED at a
too low EL first, then the EL0 traps of SCTLR_EL1, then the traps to EL2, then those to EL3.
"""

import struct

import pytest

from machine.api import Cpu

BASE = 0x8_0000
DATA = BASE + 0x2000                 # X5 for the instructions that take an address
VALUE = 0x1234_5678_9ABC_DEF5        # X5 for MSR
VBAR = {1: 0x1000, 2: 0x2000, 3: 0x3000}
LOWER_EL = 0x400                     # vector offset: synchronous, from a lower EL (AArch64)
R, W = 1, 0                          # ISS.Direction

# HCR_EL2 bits
TID1, TID2, TIDCP, TACR, TSW, TPCP = 1 << 16, 1 << 17, 1 << 20, 1 << 21, 1 << 22, 1 << 23
TPU, TTLB, TVM, TGE, TDZ, TSC, TLOR = 1 << 24, 1 << 25, 1 << 26, 1 << 27, 1 << 28, 1 << 19, 1 << 35
# MDCR_EL2 (TDE, TDA, TDOSA, TDRA) and MDCR_EL3 (TDA, TDOSA) bits
TDE, TDA, TDOSA, TDRA = 1 << 8, 1 << 9, 1 << 10, 1 << 11
SCR_TLOR = 1 << 14
# SCTLR_EL1 bits enabling EL0 accesses
DZE, UCT, UCI = 1 << 14, 1 << 15, 1 << 26


def system_word(op0, op1, crn, crm, op2, rt, read):
    """MRS/MSR (op0 = 2, 3) or SYS/SYSL (op0 = 1): 1101 0101 00 L op0 op1 CRn CRm op2 Rt."""
    return (0xD500_0000 | (read << 21) | (op0 << 19) | (op1 << 16) | (crn << 12) | (crm << 8)
            | (op2 << 5) | rt)


def iss(op0, op1, crn, crm, op2, rt, read):
    return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read


def prepared(word, el=1, security="nonsecure", **regs):
    """A CPU at `el` about to execute `word` at BASE, with X5 an address (SYS) or VALUE and the
    registers `regs` set (SCR_EL3: bits added to the security state's)."""
    cpu = Cpu(el=el, security=security)
    cpu.map(BASE, 0x10000)
    cpu.write(BASE, struct.pack("<I", word))
    for target, vbar in VBAR.items():
        cpu.set_reg(f"vbar_el{target}", vbar)
    cpu.set_reg("pc", BASE)
    cpu.set_reg("x5", DATA if word >> 19 & 3 == 1 else VALUE)
    for name, value in regs.items():
        cpu.set_reg(name, cpu.reg(name) | value if name == "scr_el3" else value)
    return cpu


def run_one(word, el=1, security="nonsecure", **regs):
    cpu = prepared(word, el, security, **regs)
    return cpu, cpu.run(count=1)


def assert_trapped(cpu, result, target, syndrome, ec=0x18):
    """The exception (EC, ISS) was taken to `target` from a lower EL, returning to BASE."""
    assert (result.reason, result.ec, result.iss) == ("exception", ec, syndrome)
    assert cpu.core.s.el == target and result.pc == VBAR[target] + LOWER_EL
    assert cpu.reg(f"elr_el{target}") == BASE                 # the trapped instruction


def assert_retired(result):
    assert (result.reason, result.retired, result.pc) == ("count", 1, BASE + 4)


# name (as the Arm ARM spells it), encoding (op0, op1, CRn, CRm, op2), direction, EL,
# the control register and bits set, target EL; `extra` enables the EL0 access itself.
CASES = [
    ("ACTLR_EL1", (3, 0, 1, 0, 1), R, 1, "hcr_el2", TACR, 2, {}),
    ("ACTLR_EL1", (3, 0, 1, 0, 1), W, 1, "hcr_el2", TACR, 2, {}),
    ("REVIDR_EL1", (3, 0, 0, 0, 6), R, 1, "hcr_el2", TID1, 2, {}),
    ("CSSELR_EL1", (3, 2, 0, 0, 0), W, 1, "hcr_el2", TID2, 2, {}),
    ("CTR_EL0", (3, 3, 0, 0, 1), R, 0, "hcr_el2", TID2, 2, {"sctlr_el1": UCT}),
    ("CTR_EL0", (3, 3, 0, 0, 1), R, 0, "hcr_el2", TID2 | TGE, 2, {"sctlr_el1": UCT}),
    ("CONTEXTIDR_EL1", (3, 0, 13, 0, 1), W, 1, "hcr_el2", TVM, 2, {}),
    ("LORC_EL1", (3, 0, 10, 4, 3), R, 1, "hcr_el2", TLOR, 2, {}),
    ("LORSA_EL1", (3, 0, 10, 4, 0), W, 1, "scr_el3", SCR_TLOR, 3, {}),
    ("LORID_EL1", (3, 0, 10, 4, 7), R, 2, "scr_el3", SCR_TLOR, 3, {}),
    ("MDSCR_EL1", (2, 0, 0, 2, 2), R, 1, "mdcr_el2", TDA, 2, {}),
    ("DBGBVR0_EL1", (2, 0, 0, 0, 4), W, 1, "mdcr_el2", TDE, 2, {}),       # TDE: TDA is 1
    ("DBGWCR3_EL1", (2, 0, 0, 3, 7), W, 1, "hcr_el2", TGE, 2, {}),        # TGE: TDA is 1
    ("DBGCLAIMSET_EL1", (2, 0, 7, 8, 6), W, 2, "mdcr_el3", TDA, 3, {}),
    ("DBGAUTHSTATUS_EL1", (2, 0, 7, 14, 6), R, 1, "mdcr_el3", TDA, 3, {}),
    ("OSLAR_EL1", (2, 0, 1, 0, 4), W, 1, "mdcr_el2", TDOSA, 2, {}),
    ("OSDLR_EL1", (2, 0, 1, 3, 4), R, 1, "mdcr_el2", TDE, 2, {}),         # TDE: TDOSA is 1
    ("DBGPRCR_EL1", (2, 0, 1, 4, 4), W, 2, "mdcr_el3", TDOSA, 3, {}),
    ("OSLSR_EL1", (2, 0, 1, 1, 4), R, 1, "mdcr_el3", TDOSA, 3, {}),
    ("MDRAR_EL1", (2, 0, 1, 0, 0), R, 1, "mdcr_el2", TDRA, 2, {}),
    ("MDRAR_EL1", (2, 0, 1, 0, 0), R, 1, "mdcr_el2", TDE, 2, {}),         # TDE: TDRA is 1
    ("MDRAR_EL1", (2, 0, 1, 0, 0), R, 2, "mdcr_el3", TDA, 3, {}),         # no MDCR_EL3.TDRA
    ("DC ISW", (1, 0, 7, 6, 2), W, 1, "hcr_el2", TSW, 2, {}),
    ("DC CSW", (1, 0, 7, 10, 2), W, 1, "hcr_el2", TSW, 2, {}),
    ("DC CISW", (1, 0, 7, 14, 2), W, 1, "hcr_el2", TSW, 2, {}),
    ("DC IVAC", (1, 0, 7, 6, 1), W, 1, "hcr_el2", TPCP, 2, {}),
    ("DC CIVAC", (1, 3, 7, 14, 1), W, 1, "hcr_el2", TPCP, 2, {}),
    ("DC CVAP", (1, 3, 7, 12, 1), W, 1, "hcr_el2", TPCP, 2, {}),
    ("DC CVADP", (1, 3, 7, 13, 1), W, 1, "hcr_el2", TPCP, 2, {}),
    ("DC CVAC", (1, 3, 7, 10, 1), W, 0, "hcr_el2", TPCP, 2, {"sctlr_el1": UCI}),
    ("DC CVAU", (1, 3, 7, 11, 1), W, 0, "hcr_el2", TPU, 2, {"sctlr_el1": UCI}),
    ("IC IVAU", (1, 3, 7, 5, 1), W, 1, "hcr_el2", TPU, 2, {}),
    ("IC IALLU", (1, 0, 7, 5, 0), W, 1, "hcr_el2", TPU, 2, {}),
    ("IC IALLUIS", (1, 0, 7, 1, 0), W, 1, "hcr_el2", TPU, 2, {}),
    ("TLBI VMALLE1", (1, 0, 8, 7, 0), W, 1, "hcr_el2", TTLB, 2, {}),
    ("TLBI VAE1IS", (1, 0, 8, 3, 1), W, 1, "hcr_el2", TTLB, 2, {}),
    ("TLBI VMALLE1OS", (1, 0, 8, 1, 0), W, 1, "hcr_el2", TTLB, 2, {}),
    ("TLBI RVAE1", (1, 0, 8, 6, 1), W, 1, "hcr_el2", TTLB, 2, {}),
    ("TLBI RVAALE1OS", (1, 0, 8, 5, 7), W, 1, "hcr_el2", TTLB, 2, {}),
    ("DC ZVA", (1, 3, 7, 4, 1), W, 1, "hcr_el2", TDZ, 2, {}),
    ("DC ZVA", (1, 3, 7, 4, 1), W, 0, "hcr_el2", TDZ | TGE, 2, {"sctlr_el1": DZE}),
]


@pytest.mark.parametrize("name,key,read,el,control,bits,target,extra", CASES,
                         ids=[f"{c[0]}-{'r' if c[2] else 'w'}-EL{c[3]}-{c[4]}" for c in CASES])
@pytest.mark.parametrize("security", ["nonsecure", "realm"])
def test_trap_taken_when_set_and_access_done_when_clear(name, key, read, el, control, bits,
                                                        target, extra, security):
    word = system_word(*key, 5, read)
    cpu, result = run_one(word, el, security, **extra, **{control: bits})
    assert_trapped(cpu, result, target, iss(*key, 5, read))
    cpu, result = run_one(word, el, security, **extra)
    assert_retired(result)
    if key[0] > 1 and read:                               # X5 holds the register
        assert cpu.reg("x5") == cpu.reg(name) != VALUE
    elif key[0] > 1 and name != "OSLAR_EL1":               # the register was written
        assert cpu.reg(name) != Cpu(el=el, security=security).reg(name)


@pytest.mark.parametrize("el,sctlr,hcr,target", [
    (0, 0, TDZ, 1),            # SCTLR_EL1.DZE = 0: the EL0 trap to EL1 comes first
    (0, DZE, TDZ, 2),
    (1, 0, TDZ, 2),
    (2, 0, TDZ, None),         # EL2's own DC ZVA is not trapped
    (0, DZE, 0, None),
])
def test_dc_zva_zeroes_its_block_unless_trapped(el, sctlr, hcr, target):
    key = (1, 3, 7, 4, 1)
    cpu = prepared(system_word(*key, 5, 0), el, sctlr_el1=sctlr, hcr_el2=hcr)
    cpu.write(DATA - 0x40, b"\xff" * 0xC0)
    result = cpu.run(count=1)
    zeroed = bytes(0x40) if target is None else b"\xff" * 0x40
    assert cpu.read(DATA - 0x40, 0xC0) == b"\xff" * 0x40 + zeroed + b"\xff" * 0x40
    if target is None:
        assert_retired(result)
    else:
        assert_trapped(cpu, result, target, iss(*key, 5, 0))


@pytest.mark.parametrize("el,security,sctlr,hcr,dzp", [
    (1, "nonsecure", 0, TDZ, 1),
    (0, "realm", DZE, TDZ, 1),
    (0, "nonsecure", DZE, 0, 0),
    (2, "nonsecure", 0, TDZ, 0),
    (1, "secure", 0, TDZ, 0),      # EL2 is not enabled in Secure state (SCR_EL3.EEL2 = 0)
])
def test_dczid_dzp_reports_dc_zva_prohibited(el, security, sctlr, hcr, dzp):
    cpu, result = run_one(system_word(3, 3, 0, 0, 7, 5, 1), el, security, sctlr_el1=sctlr,
                          hcr_el2=hcr)
    assert_retired(result)
    assert cpu.reg("x5") == 0x4 | (dzp << 4)           # BS: 64-byte blocks


@pytest.mark.parametrize("word,el,security,regs,target,ec", [
    # EL0 traps of SCTLR_EL1 come before HCR_EL2's
    (system_word(1, 3, 7, 11, 1, 5, 0), 0, "nonsecure", {"hcr_el2": TPU}, 1, 0x18),  # DC CVAU
    # UNDEFINED at EL0 comes before HCR_EL2.TTLB
    (system_word(1, 0, 8, 7, 0, 31, 0), 0, "nonsecure", {"hcr_el2": TTLB}, 1, 0x00),
    # MDCR_EL2 traps before MDCR_EL3
    (system_word(2, 0, 0, 2, 2, 5, 1), 1, "realm", {"mdcr_el2": TDA, "mdcr_el3": TDA}, 2,
     0x18),
    # MSR of a read-only and MRS of a write-only register are UNDEFINED, not trapped
    (system_word(2, 0, 7, 14, 6, 5, 0), 1, "nonsecure", {"mdcr_el2": TDA}, 1, 0x00),
    (system_word(2, 0, 1, 0, 4, 5, 1), 1, "nonsecure", {"mdcr_el2": TDOSA}, 1, 0x00),  # OSLAR
    # LORegion registers are UNDEFINED in Secure state (SCR_EL3.NS = 0) before any trap
    (system_word(3, 0, 10, 4, 0, 5, 1), 1, "secure", {"scr_el3": SCR_TLOR}, 1, 0x00),
    (system_word(3, 0, 10, 4, 3, 5, 0), 2, "secure", {"scr_el3": SCR_TLOR}, 2, 0x00),
])
def test_trap_priority(word, el, security, regs, target, ec):
    cpu, result = run_one(word, el, security, **regs)
    assert (result.reason, result.ec, cpu.core.s.el) == ("exception", ec, target)
    assert cpu.reg(f"elr_el{target}") == BASE


@pytest.mark.parametrize("word,el,security,regs", [
    (system_word(2, 0, 0, 2, 2, 5, 1), 2, "nonsecure", {"mdcr_el2": TDA}),     # EL2 itself
    (system_word(2, 0, 0, 2, 2, 5, 1), 1, "secure", {"mdcr_el2": TDA}),        # EL2 disabled
    (system_word(1, 0, 8, 7, 0, 31, 0), 1, "secure", {"hcr_el2": TTLB}),
    (system_word(1, 0, 8, 7, 0, 31, 0), 1, "nonsecure", {"hcr_el2": TTLB | TGE}),  # ignored
    (system_word(3, 0, 1, 0, 1, 5, 1), 1, "nonsecure", {"hcr_el2": TACR | TGE}),
    (system_word(2, 0, 0, 2, 2, 5, 1), 3, "root", {"mdcr_el3": TDA}),          # EL3 itself
])
def test_control_without_effect(word, el, security, regs):
    _, result = run_one(word, el, security, **regs)
    assert_retired(result)


def test_mdcr_el3_traps_secure_el1_to_el3():
    key = (2, 0, 0, 0, 5)                                                     # DBGBCR0_EL1
    cpu, result = run_one(system_word(*key, 5, 1), 1, "secure", mdcr_el2=TDA, mdcr_el3=TDA)
    assert_trapped(cpu, result, 3, iss(*key, 5, 1))


@pytest.mark.parametrize("key,read,el", [
    ((3, 0, 15, 0, 0), R, 1),           # MRS S3_0_C15_C0_0
    ((3, 1, 11, 2, 3), W, 1),           # MSR S3_1_C11_C2_3
    ((3, 7, 15, 15, 7), R, 0),          # EL0: trapped too (an IMPLEMENTATION DEFINED choice)
    ((1, 0, 15, 1, 0), W, 1),           # SYS S1_0_C15_C1_0
    ((1, 2, 11, 0, 0), R, 1),           # SYSL
])
def test_hcr_tidcp_traps_implementation_defined_encodings(key, read, el):
    word = system_word(*key, 5, read)
    cpu, result = run_one(word, el, hcr_el2=TIDCP)
    assert_trapped(cpu, result, 2, iss(*key, 5, read))
    name = f"S{key[0]}_{key[1]}_C{key[2]}_C{key[3]}_{key[4]}"
    for el_, hcr in ((el, 0), (2, TIDCP)):                # not trapped: not implemented
        _, result = run_one(word, el_, hcr_el2=hcr)
        assert result.reason == "stop" and name in result.message


def test_hcr_tsc_is_ignored_with_tge():
    smc = 0xD400_0003 | (0x42 << 5)
    cpu, result = run_one(smc, 1, hcr_el2=TSC | TGE)
    assert (result.ec, result.iss, cpu.core.s.el, cpu.reg("elr_el3")) == (0x17, 0x42, 3,
                                                                          BASE + 4)


FP_ISS = (1 << 24) | (0b1110 << 20)       # CV = 1, COND = AL
MRS_FPCR = system_word(3, 3, 4, 4, 0, 5, 1)
MSR_FPSR = system_word(3, 3, 4, 4, 1, 5, 0)
FADD_D0 = 0x1E62_2820                     # FADD D0, D1, D2


@pytest.mark.parametrize("word,el,regs,target,ec,syndrome", [
    (MRS_FPCR, 0, {"cpacr_el1": 0}, 1, 0x07, FP_ISS),
    (MSR_FPSR, 0, {"cpacr_el1": 1 << 20}, 1, 0x07, FP_ISS),        # FPEN = 01: EL0 trapped
    (MSR_FPSR, 1, {"cptr_el2": 1 << 10}, 2, 0x07, FP_ISS),         # CPTR_EL2.TFP
    (MRS_FPCR, 2, {"cptr_el3": 1 << 10}, 3, 0x07, FP_ISS),         # CPTR_EL3.TFP
    # CPACR_EL1 trapping EL0 with HCR_EL2.TGE = 1: to EL2 as EC 0x00
    (MRS_FPCR, 0, {"cpacr_el1": 0, "hcr_el2": TGE}, 2, 0x00, 0),
    (FADD_D0, 0, {"cpacr_el1": 0, "hcr_el2": TGE}, 2, 0x00, 0),
])
def test_fpcr_fpsr_accesses_are_simd_fp_traps(word, el, regs, target, ec, syndrome):
    cpu, result = run_one(word, el, **regs)
    assert_trapped(cpu, result, target, syndrome, ec)


def test_fpcr_trapped_at_el1_by_cpacr_el1():
    cpu, result = run_one(MSR_FPSR, 1, cpacr_el1=0b10 << 20)       # FPEN = 10: traps EL1
    assert (result.ec, result.iss, cpu.core.s.el) == (0x07, FP_ISS, 1)
    assert result.pc == VBAR[1] + 0x200 and cpu.reg("elr_el1") == BASE


def test_fpcr_read_and_fpsr_written_when_fp_enabled():
    cpu = prepared(MRS_FPCR, 0, hcr_el2=TGE, fpcr=3 << 22)      # RMode = RZ
    assert_retired(cpu.run(count=1))
    assert cpu.reg("x5") == 3 << 22
    cpu, result = run_one(MSR_FPSR, 1)
    assert_retired(result)
    assert cpu.reg("fpsr") == VALUE & 0x0800_009F               # QC, IDC, IXC ... IOC
