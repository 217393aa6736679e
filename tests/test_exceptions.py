"""Exception round trips between exception levels and security states: the exception is taken
to the vector the Arm ARM gives (D1.3.2), with ELR/SPSR/ESR of the target EL and PSTATE as
AArch64.TakeException sets it, and ERET there returns to the instruction after the call with
the original PSTATE and security state."""

import struct

import pytest

from machine.api import Cpu

BASE = 0x8000_0000
VBAR = {1: 0x8001_0000, 2: 0x8002_0000, 3: 0x8003_0000}
SVC, HVC, SMC = 0xD4000001, 0xD4000002, 0xD4000003       # with imm16 = 0
ERET = 0xD69F03E0
NOP = 0xD503201F
EC = {SVC: 0x15, HVC: 0x16, SMC: 0x17}
IMM16 = 0x1234


def with_imm(insn):
    """SVC/HVC/SMC with imm16 = IMM16; other instructions as they are."""
    return insn | (IMM16 << 5) if insn in EC else insn


def program(cpu, el, security, insn):
    cpu.map(BASE, 0x4_0000)
    cpu.write(BASE, struct.pack("<II", with_imm(insn), NOP))
    for target, vbar in VBAR.items():
        cpu.set_reg(f"vbar_el{target}", vbar)
        for offset in (0x200, 0x400):        # current EL with SP_ELx, lower EL (AArch64)
            cpu.write(vbar + offset, struct.pack("<I", ERET))            # synchronous
            cpu.write(vbar + offset + 0x80, struct.pack("<I", NOP))      # IRQ
    cpu.set_reg("pc", BASE)
    cpu.set_reg("nzcv", 0b1010 << 28)
    cpu.set_reg("daif", 0)


CASES = [
    # start EL, security, instruction, target EL, security at the target
    (0, "nonsecure", SVC, 1, "nonsecure"),
    (1, "nonsecure", SVC, 1, "nonsecure"),
    (1, "nonsecure", HVC, 2, "nonsecure"),
    (0, "realm", SVC, 1, "realm"),
    (1, "realm", HVC, 2, "realm"),
    (1, "nonsecure", SMC, 3, "root"),
    (2, "nonsecure", SMC, 3, "root"),
    (1, "realm", SMC, 3, "root"),
    (2, "realm", SMC, 3, "root"),
    (1, "secure", SMC, 3, "root"),
    (2, "nonsecure", HVC, 2, "nonsecure"),
]


@pytest.mark.parametrize("el,security,insn,target,target_security", CASES)
def test_call_and_return(el, security, insn, target, target_security):
    cpu = Cpu(el=el, security=security)
    program(cpu, el, security, insn)
    s = cpu.core.s
    spsel = s.spsel
    result = cpu.run(count=1)
    lower = target > el
    assert result.reason == "exception" and result.ec == EC[insn]
    assert result.pc == VBAR[target] + (0x400 if lower else 0x200)
    assert (s.el, s.spsel, s.daif, s.security) == (target, 1, 0b1111, target_security)
    assert cpu.reg(f"esr_el{target}") == (EC[insn] << 26) | (1 << 25) | IMM16
    assert cpu.reg(f"elr_el{target}") == BASE + 4        # the instruction after the call
    spsr = cpu.reg(f"spsr_el{target}")
    assert spsr == (0b1010 << 28) | (el << 2) | spsel    # NZCV, DAIF clear, M = ELx(t/h)
    # ERET at the vector: back after the call, PSTATE and security state restored
    result = cpu.run(count=1)
    assert result.pc == BASE + 4
    assert (s.el, s.spsel, s.nzcv, s.daif, s.security) == (el, spsel, 0b1010, 0, security)


def test_undefined_instruction_from_el0_is_taken_to_el1():
    cpu = Cpu(el=0)
    program(cpu, 0, "nonsecure", 0x0000_0000)             # UDF #0
    result = cpu.run(count=1)
    assert (result.reason, result.ec, result.pc) == ("exception", 0, VBAR[1] + 0x400)
    assert cpu.reg("elr_el1") == BASE                      # the faulting instruction


def test_hcr_tge_routes_el0_exceptions_to_el2():
    cpu = Cpu(el=0)
    program(cpu, 0, "nonsecure", SVC)
    cpu.set_reg("hcr_el2", 1 << 27)                        # TGE
    result = cpu.run(count=1)
    assert result.pc == VBAR[2] + 0x400 and cpu.core.s.el == 2
    assert cpu.reg("esr_el2") >> 26 == 0x15


def test_irq_routed_to_el2_by_hcr_imo_is_taken_from_el1_even_when_masked():
    cpu = Cpu(el=1)
    program(cpu, 1, "nonsecure", NOP)
    cpu.set_reg("daif", 0b1111 << 6)                        # masked at EL1...
    cpu.set_reg("hcr_el2", 1 << 4)                          # ...but routed to EL2: taken
    cpu.core.s.irq_line = True
    cpu.run(count=1)                                        # the NOP at the IRQ vector
    s = cpu.core.s
    assert s.el == 2 and s.pc == VBAR[2] + 0x400 + 0x80 + 4 and cpu.reg("elr_el2") == BASE


def test_virtual_irq_from_hcr_vi_is_taken_at_el1():
    cpu = Cpu(el=1)
    program(cpu, 1, "nonsecure", NOP)
    cpu.set_reg("hcr_el2", (1 << 4) | (1 << 7))             # IMO, VI
    cpu.run(count=1)
    assert cpu.core.s.el == 1 and cpu.core.s.pc == VBAR[1] + 0x200 + 0x80 + 4
    assert cpu.reg("elr_el1") == BASE


FADD_D0 = 0x1E622820          # FADD D0, D1, D2
ADD_X0 = 0x8B020020           # ADD X0, X1, X2


@pytest.mark.parametrize("el,regs,target", [
    (1, {"cpacr_el1": 0}, 1),
    (0, {"cpacr_el1": 0b01 << 20}, 1),              # FPEN=01: EL0 traps, EL1 does not
    (1, {"cptr_el2": 1 << 10}, 2),                  # CPTR_EL2.TFP
    (2, {"cptr_el3": 1 << 10}, 3),                  # CPTR_EL3.TFP
])
def test_simd_and_fp_instructions_trap_as_configured(el, regs, target):
    cpu = Cpu(el=el)
    program(cpu, el, "nonsecure", FADD_D0)
    for name, value in regs.items():
        cpu.set_reg(name, value)
    result = cpu.run(count=1)
    assert (result.reason, result.ec) == ("exception", 0x07)
    assert result.esr == (0x07 << 26) | (1 << 25) | (1 << 24) | (0b1110 << 20)
    assert cpu.core.s.el == target and cpu.reg(f"elr_el{target}") == BASE


def test_enabling_fp_takes_effect_on_the_same_code():
    cpu = Cpu(el=1)
    program(cpu, 1, "nonsecure", FADD_D0)
    cpu.set_reg("cpacr_el1", 0b01 << 20)            # EL1 may use FP, EL0 may not
    cpu.set_reg("v1", 0x3FF0_0000_0000_0000)        # 1.0
    cpu.set_reg("v2", 0x4000_0000_0000_0000)        # 2.0
    assert cpu.run(count=1).reason == "count"
    assert cpu.reg("v0") == 0x4008_0000_0000_0000   # 3.0
    cpu.set_reg("cpacr_el1", 0)
    cpu.set_reg("pc", BASE)
    assert cpu.run(count=1).ec == 0x07
    cpu.write(BASE, ADD_X0.to_bytes(4, "little"))   # integer code is never trapped
    cpu.set_reg("pc", BASE)
    assert cpu.run(count=1).reason == "count"


WFI, WFE = 0xD503207F, 0xD503205F


@pytest.mark.parametrize("insn,el,regs,target", [
    (WFI, 0, {}, 1),                                    # SCTLR_EL1.nTWI = 0 traps EL0
    (WFE, 1, {"hcr_el2": 1 << 14}, 2),                  # HCR_EL2.TWE
    (WFI, 1, {"hcr_el2": 1 << 13}, 2),                  # HCR_EL2.TWI
    (WFI, 2, {"scr_el3": (1 << 12) | 0x501}, 3),        # SCR_EL3.TWI
])
def test_wfi_and_wfe_traps(insn, el, regs, target):
    cpu = Cpu(el=el)
    program(cpu, el, "nonsecure", insn)
    for name, value in regs.items():
        cpu.set_reg(name, value)
    result = cpu.run(count=1)
    assert result.reason == "exception" and result.ec == 0x01
    assert result.esr & 0x1FF_FFFF == (1 << 24) | (0b1110 << 20) | (insn == WFE)
    assert cpu.core.s.el == target and cpu.reg(f"elr_el{target}") == BASE


def test_untrapped_wfi_waits():
    cpu = Cpu(el=1)
    program(cpu, 1, "nonsecure", WFI)
    assert cpu.run(count=1).reason == "wfi"


MRS_X0_ID_AA64PFR0 = 0xD5380400      # MRS X0, ID_AA64PFR0_EL1
MSR_SCTLR_EL1_X0 = 0xD5181000        # MSR SCTLR_EL1, X0
MRS_X0_CTR = 0xD53B0020              # MRS X0, CTR_EL0


@pytest.mark.parametrize("insn,hcr,iss_low", [
    (MRS_X0_ID_AA64PFR0, 1 << 18, 1),          # TID3: ID register read
    (MSR_SCTLR_EL1_X0, 1 << 26, 0),            # TVM: write to a VM control register
    (MRS_X0_CTR, 1 << 17, 1),                  # TID2: cache type
])
def test_hcr_el2_traps_el1_register_accesses_to_el2(insn, hcr, iss_low):
    cpu = Cpu(el=1)
    program(cpu, 1, "nonsecure", insn)
    cpu.set_reg("hcr_el2", hcr)
    result = cpu.run(count=1)
    assert (result.reason, result.ec) == ("exception", 0x18)
    assert result.iss & 1 == iss_low                      # ISS.Direction: 1 = read
    assert cpu.core.s.el == 2 and cpu.reg("elr_el2") == BASE
    cpu2 = Cpu(el=1)                                      # without the trap bit: no trap
    program(cpu2, 1, "nonsecure", insn)
    assert cpu2.run(count=1).reason == "count"


def test_return_to_el1_is_illegal_while_hcr_el2_tge_is_set():
    # AArch64.IllegalExceptionReturn: EL2 enabled and HCR_EL2.TGE = 1 make EL1 unusable, so an
    # ERET from EL2 to EL1h sets PSTATE.IL and stays at EL2.
    cpu = Cpu(el=2)
    cpu.map(0x80000, 0x1000)
    cpu.write(0x80000, (0xD69F03E0).to_bytes(4, "little"))           # ERET
    for name, value in dict(pc=0x80000, hcr_el2=1 << 27 | 1 << 31, spsr_el2=0b0101,
                            elr_el2=0x80800, vbar_el2=0x4000).items():
        cpu.set_reg(name, value)
    result = cpu.run(count=2)
    assert (result.reason, result.ec) == ("exception", 0x0E)   # Illegal Execution state
    assert cpu.reg("currentel") >> 2 == 2 and cpu.reg("elr_el2") == 0x80800
