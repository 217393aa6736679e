"""Address translation and the granule protection check, on page tables built by the tests
(pagetables.py) in the architected formats. Expected syndromes come from the Arm ARM's fault
status encodings (D24.2.40 ESR_ELx) and the RME fault rules (D9.4)."""

import pytest
from pagetables import (
    AF,
    AP_EL0,
    AP_RO,
    GPI_ANY,
    GPI_NS,
    GPI_REALM,
    NORMAL,
    PXN,
    S2_NS,
    S2_RW,
    SCTLR_M,
    UXN,
    GptBuilder,
    TableBuilder,
    tcr_el1,
    vtcr_el2,
)

from machine.api import Cpu
from machine.cpu.exceptions import DataAbort, GPCException, InstructionAbort
from machine.cpu.walk import FETCH, READ, WRITE

RAM = 0x8000_0000
RAM_SIZE = 0x0100_0000          # 16 MB
POOL = RAM + 0x00F0_0000        # page tables live at the top of RAM

# ESR_ELx DFSC/IFSC (D24.2.40)
ADDRESS_SIZE, TRANSLATION, ACCESS_FLAG, PERMISSION = 0x00, 0x04, 0x08, 0x0C
GPF = 0x28


def el1_cpu(el=1, security="nonsecure", t0sz=16):
    cpu = Cpu(el=el, security=security)
    cpu.map(RAM, RAM_SIZE)
    tables = TableBuilder(cpu, POOL, 0x80000, start_level=0 if t0sz <= 24 else 1,
                          ia_bits=64 - t0sz)
    cpu.set_reg("mair_el1", 0xFF)
    cpu.set_reg("tcr_el1", tcr_el1(t0sz))
    cpu.set_reg("ttbr0_el1", tables.root)
    cpu.set_reg("sctlr_el1", SCTLR_M)
    return cpu, tables


def translate(cpu, va, acc=READ):
    return cpu.core.mmu.translate(va, acc)


def fault_of(cpu, va, acc=READ):
    with pytest.raises((DataAbort, InstructionAbort, GPCException)) as info:
        translate(cpu, va, acc)
    return info.value


def test_pages_and_blocks_translate():
    cpu, tables = el1_cpu()
    tables.map(0x1234_5000, RAM + 0x3000, NORMAL)
    tables.map(0x4000_0000, RAM + 0x20_0000, NORMAL, level=2)
    tables.map(0x80_0000_0000, 0x4000_0000, NORMAL, level=1)
    cpu.core.regime_changed()
    assert translate(cpu, 0x1234_5678).pa == RAM + 0x3678
    assert translate(cpu, 0x4012_3456).pa == RAM + 0x32_3456
    assert translate(cpu, 0x80_1234_5678).pa == 0x4000_0000 + 0x1234_5678
    assert not translate(cpu, 0x1234_5678).device


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_translation_fault_reports_its_level(level):
    cpu, tables = el1_cpu()
    va = 0x0000_1234_5678_9000
    if level > 0:
        tables.entry_address(va, level)      # creates the tables above `level`
    fault = fault_of(cpu, va)
    assert isinstance(fault, DataAbort)
    assert fault.iss & 0x3F == TRANSLATION + level
    assert fault.far == va and fault.target_el == 1


def test_access_flag_fault():
    cpu, tables = el1_cpu()
    tables.map(0x10_0000, RAM, NORMAL & ~AF)
    assert fault_of(cpu, 0x10_0000).iss & 0x3F == ACCESS_FLAG + 3


def test_write_to_read_only_page_is_a_permission_fault_with_wnr():
    cpu, tables = el1_cpu()
    tables.map(0x10_0000, RAM, NORMAL | AP_RO)
    assert translate(cpu, 0x10_0000, READ).pa == RAM
    fault = fault_of(cpu, 0x10_0008, WRITE)
    assert fault.iss & 0x3F == PERMISSION + 3 and fault.iss & (1 << 6)


def test_el0_cannot_touch_privileged_pages_and_pan_blocks_el1():
    cpu, tables = el1_cpu(el=0)
    tables.map(0x10_0000, RAM, NORMAL)
    tables.map(0x20_0000, RAM + 0x1000, NORMAL | AP_EL0)
    assert fault_of(cpu, 0x10_0000).iss & 0x3F == PERMISSION + 3
    assert translate(cpu, 0x20_0000).pa == RAM + 0x1000
    cpu.core.s.select_sp(1, 1)
    cpu.core.s.pan = 1
    cpu.core.regime_changed()
    assert fault_of(cpu, 0x20_0000).iss & 0x3F == PERMISSION + 3   # PAN (D8.4.2)
    # a page EL0 can write is never executable at EL1 (D8.4.1.2)
    assert fault_of(cpu, 0x20_0000, FETCH).iss & 0x3F == PERMISSION + 3


def test_execute_never():
    cpu, tables = el1_cpu()
    tables.map(0x10_0000, RAM, NORMAL | PXN)
    tables.map(0x20_0000, RAM + 0x1000, NORMAL | UXN)
    fault = fault_of(cpu, 0x10_0000, FETCH)
    assert isinstance(fault, InstructionAbort) and fault.iss & 0x3F == PERMISSION + 3
    assert translate(cpu, 0x20_0000, FETCH).pa == RAM + 0x1000   # UXN only stops EL0


def test_output_address_above_ips_is_an_address_size_fault():
    cpu, tables = el1_cpu()
    cpu.set_reg("tcr_el1", tcr_el1(16, ips=0))          # 32-bit IPS
    tables.map(0x10_0000, RAM, NORMAL)                    # RAM is at 2 GB: fits 32 bits
    tables.map(0x20_0000, 0x1_0000_0000, NORMAL)          # 4 GB does not
    cpu.core.regime_changed()
    assert translate(cpu, 0x10_0000).pa == RAM
    assert fault_of(cpu, 0x20_0000).iss & 0x3F == ADDRESS_SIZE + 3


def test_dbm_and_gp_bits_of_a_page_are_attributes_not_address_bits():
    # Bits 51 (DBM) and 50 (GP) of block and page descriptors are upper attributes; Linux sets
    # bit 51 in every writable kernel PTE (its PTE_WRITE) even without FEAT_HAFDBS.
    cpu, tables = el1_cpu()
    tables.map(0x10_0000, RAM, NORMAL | 3 << 50)
    tables.map(0x4000_0000, RAM + 0x20_0000, NORMAL | 1 << 51, level=2)
    cpu.core.regime_changed()
    assert translate(cpu, 0x10_0008).pa == RAM + 8
    assert translate(cpu, 0x4000_0010, WRITE).pa == RAM + 0x20_0010
    # bits 58:51 of a table descriptor are IGNORED
    table = tables.table_descriptor_address(0x10_0000, 2)
    cpu.write(table, (int.from_bytes(cpu.read(table, 8), "little") | 1 << 51).to_bytes(8, "little"))
    cpu.core.regime_changed()
    assert translate(cpu, 0x10_0010).pa == RAM + 0x10


def test_ttbr1_covers_the_top_of_the_address_space():
    cpu, tables = el1_cpu()
    high = TableBuilder(cpu, POOL + 0x80000, 0x20000)
    high.map(0xFFFF_0000_0010_0000 & 0xFFFF_FFFF_FFFF, RAM + 0x5000, NORMAL)
    cpu.set_reg("ttbr1_el1", high.root)
    cpu.set_reg("tcr_el1", tcr_el1(16) & ~(1 << 23) | (16 << 16) | (0b10 << 30))
    assert translate(cpu, 0xFFFF_0000_0010_0040).pa == RAM + 0x5040
    assert fault_of(cpu, 0xFFF0_0000_0010_0040).iss & 0x3F == TRANSLATION   # not sign-extended


def test_cached_translation_stays_until_invalidated():
    cpu, tables = el1_cpu()
    tables.map(0x10_0000, RAM, NORMAL)
    cpu.write(RAM, (0x1111).to_bytes(8, "little"))
    cpu.write(RAM + 0x1000, (0x2222).to_bytes(8, "little"))
    mmu = cpu.core.mmu
    assert mmu.rd64(0x10_0000) == 0x1111
    tables.map(0x10_0000, RAM + 0x1000, NORMAL)          # remap without TLB maintenance
    assert mmu.rd64(0x10_0000) == 0x1111                  # the TLB still holds the old entry
    cpu.core.flush_tlb()
    assert mmu.rd64(0x10_0000) == 0x2222


TLBI_VAE1_X0, TLBI_VAAE1IS_X1 = 0xD508_8720, 0xD508_8361     # SYS #0, C8, C7/C3, #1/#3


def test_tlbi_by_va_takes_effect_for_its_page():
    cpu, tables = el1_cpu()
    code = 0x40_0000
    tables.map(code, RAM + 0x8000, NORMAL)
    high = TableBuilder(cpu, POOL + 0x80000, 0x20000)
    high_va = 0xFFFF_0000_0010_0000
    high.map(high_va & 0xFFFF_FFFF_FFFF, RAM + 0x5000, NORMAL)
    cpu.set_reg("ttbr1_el1", high.root)
    cpu.set_reg("tcr_el1", tcr_el1(16) & ~(1 << 23) | (16 << 16) | (0b10 << 30))
    tables.map(0x10_0000, RAM, NORMAL)
    for offset, value in ((0, 0x1111), (0x1000, 0x2222), (0x5000, 0x5555), (0x6000, 0x6666)):
        cpu.write(RAM + offset, value.to_bytes(8, "little"))
    mmu = cpu.core.mmu
    assert (mmu.rd64(0x10_0000), mmu.rd64(high_va)) == (0x1111, 0x5555)
    tables.map(0x10_0000, RAM + 0x1000, NORMAL)            # remap both, then invalidate
    high.map(high_va & 0xFFFF_FFFF_FFFF, RAM + 0x6000, NORMAL)
    asid = 7 << 48
    result = run_words(cpu, code, RAM + 0x8000, [TLBI_VAE1_X0, TLBI_VAAE1IS_X1],
                       x0=asid | 0x10_0000 >> 12, x1=(high_va >> 12) & ((1 << 44) - 1))
    assert result.reason == "count"
    assert (mmu.rd64(0x10_0000), mmu.rd64(high_va)) == (0x2222, 0x6666)


# --- stage 2 -----------------------------------------------------------------------------------

def two_stage_cpu():
    """EL1 with a 40-bit stage 2 starting at level 1 with two concatenated tables
    (VTCR_EL2.T0SZ=24, SL0=1); stage 2 maps the stage 1 tables' pages at IPA == PA."""
    cpu = Cpu(el=1)
    cpu.map(RAM, RAM_SIZE)
    s2 = TableBuilder(cpu, POOL, 0x40000, start_level=1, ia_bits=40)
    s1_pool = RAM + 0x80_0000
    s1 = TableBuilder(cpu, s1_pool, 0x10000)
    for page in range(s1_pool, s1_pool + 0x10000, 0x1000):
        s2.map(page, page, S2_RW)
    cpu.set_reg("mair_el1", 0xFF)
    cpu.set_reg("tcr_el1", tcr_el1(16))
    cpu.set_reg("ttbr0_el1", s1.root)
    cpu.set_reg("sctlr_el1", SCTLR_M)
    cpu.set_reg("vtcr_el2", vtcr_el2(24, 1))
    cpu.set_reg("vttbr_el2", s2.root)
    cpu.set_reg("hcr_el2", 1)                             # VM
    return cpu, s1, s2


def test_stage2_with_concatenated_tables_and_its_faults():
    cpu, s1, s2 = two_stage_cpu()
    top_ipa = (1 << 40) - 0x1000                          # in the second concatenated table
    s2.map(top_ipa, RAM + 0x7000, S2_RW)
    s1.map(0x10_0000, top_ipa, NORMAL)
    s1.map(0x20_0000, 0x1234_5000, NORMAL)                # an IPA stage 2 does not map
    cpu.core.regime_changed()
    assert translate(cpu, 0x10_0010).pa == RAM + 0x7010
    fault = fault_of(cpu, 0x20_0040)
    assert fault.target_el == 2 and fault.ipa == 0x1234_5040
    assert fault.iss & 0x3F == TRANSLATION + 1 and not fault.iss & (1 << 7)   # no L1 entry


def test_stage2_fault_on_a_stage1_walk_sets_s1ptw():
    cpu, s1, s2 = two_stage_cpu()
    cpu.set_reg("ttbr0_el1", 0x7000_0000)                 # stage 1 root at an unmapped IPA
    fault = fault_of(cpu, 0x10_0000, WRITE)
    assert fault.target_el == 2 and fault.ipa == 0x7000_0000
    assert fault.iss & (1 << 7)                           # S1PTW
    assert not fault.iss & (1 << 6)                       # WnR is 0 for a fault on a walk


# --- granule protection --------------------------------------------------------------------------

GPT_L0 = RAM + 0x00E0_0000
GPT_POOL = RAM + 0x00C0_0000


def with_gpt(cpu):
    gpt = GptBuilder(cpu, GPT_L0, GPT_POOL)
    gpt.l0_table(RAM >> 30, GPI_NS)                        # 2-3 GB: granule by granule
    cpu.set_reg("gpccr_el3", GptBuilder.GPCCR)
    cpu.set_reg("gptbr_el3", GPT_L0 >> 12)
    return gpt


def test_nonsecure_access_to_a_realm_granule_is_a_granule_protection_fault():
    cpu = Cpu(el=2)
    cpu.map(RAM, RAM_SIZE)
    gpt = with_gpt(cpu)
    gpt.set_gpi(RAM + 0x5000, GPI_REALM)
    assert translate(cpu, RAM + 0x4000).pa == RAM + 0x4000
    fault = fault_of(cpu, RAM + 0x5008)
    assert isinstance(fault, DataAbort) and fault.target_el == 2
    assert fault.iss & 0x3F == GPF                         # not on a walk: 0b101000


def test_realm_reaches_nonsecure_granule_only_through_an_ns_stage2_mapping():
    cpu = Cpu(el=1, security="realm")
    cpu.map(RAM, RAM_SIZE)
    gpt = with_gpt(cpu)
    s2 = TableBuilder(cpu, POOL, 0x40000, start_level=1, ia_bits=40)
    for page in range(POOL, POOL + 0x40000, 0x1000):        # the RTTs are Realm granules
        gpt.set_gpi(page, GPI_REALM)
    s2.map(0x1000_0000, RAM + 0x9000, S2_RW | S2_NS)       # unprotected IPA -> NS PAS
    s2.map(0x2000_0000, RAM + 0x9000, S2_RW)               # protected IPA -> Realm PAS
    cpu.set_reg("vtcr_el2", vtcr_el2(24, 1))
    cpu.set_reg("vttbr_el2", s2.root)
    cpu.set_reg("hcr_el2", 1)
    assert translate(cpu, 0x1000_0010).pa == RAM + 0x9010
    fault = fault_of(cpu, 0x2000_0010)
    assert fault.iss & 0x3F == GPF and fault.target_el == 1
    # the granule becomes Realm: now the protected mapping works after invalidation
    gpt.set_gpi(RAM + 0x9000, GPI_REALM)
    cpu.core.flush_tlb()
    assert translate(cpu, 0x2000_0010).pa == RAM + 0x9010
    assert fault_of(cpu, 0x1000_0010).iss & 0x3F == GPF


def test_invalid_gpt_entry_is_a_gpc_exception_to_el3():
    cpu = Cpu(el=2)
    cpu.map(RAM, RAM_SIZE)
    gpt = with_gpt(cpu)
    gpt.set_l1_raw(RAM + 0x30000, 0x2)                     # reserved GPI in a granules entry
    fault = fault_of(cpu, RAM + 0x30000)
    assert isinstance(fault, GPCException) and fault.target_el == 3
    assert (fault.iss >> 14) & 0x3F == 0b000101            # GPCSC: walk fault, level 1
    assert fault.mfar & 0xFFFF_FFFF_F000 == RAM + 0x30000
    assert fault.mfar >> 62 == 0b10                        # {NS,NSE}: Non-secure PAS


def test_scr_el3_gpf_routes_granule_protection_faults_to_el3():
    cpu = Cpu(el=2)
    cpu.map(RAM, RAM_SIZE)
    gpt = with_gpt(cpu)
    gpt.set_gpi(RAM + 0x5000, GPI_REALM)
    cpu.set_reg("scr_el3", cpu.reg("scr_el3") | (1 << 48))
    fault = fault_of(cpu, RAM + 0x5000)
    assert isinstance(fault, GPCException)
    assert (fault.iss >> 14) & 0x3F == 0b001101            # GPCSC: GPF, level 1


# --- AT ------------------------------------------------------------------------------------------

def test_at_reports_translations_and_faults_in_par():
    from machine.cpu.at import AddressTranslate

    cpu, tables = el1_cpu()
    tables.map(0x10_0000, RAM + 0x3000, NORMAL | AP_RO)
    par = AddressTranslate(cpu.core, "s1e1r", 0x10_0123)
    assert par & 1 == 0 and par & 0xFFFF_FFFF_F000 == RAM + 0x3000
    assert par >> 56 == 0xFF                                # MAIR attribute of the page
    par = AddressTranslate(cpu.core, "s1e1w", 0x10_0123)   # read-only: permission fault
    assert par & 1 and (par >> 1) & 0x3F == PERMISSION + 3
    par = AddressTranslate(cpu.core, "s1e1r", 0x40_0000)   # unmapped
    assert par & 1 and (par >> 1) & 0x3F == TRANSLATION + 2


# --- instruction level -------------------------------------------------------------------------

LDR_X0_X1 = 0xF9400020          # LDR X0, [X1]
LDTR_X0_X1 = 0xF8400820         # LDTR X0, [X1]
TLBI_PAALLOS = 0xD50E819F       # TLBI PAALLOS (SYS #6, C8, C1, #4)


def run_words(cpu, va_code, pa_code, words, **regs):
    cpu.write(pa_code, b"".join(w.to_bytes(4, "little") for w in words))
    for name, value in regs.items():
        cpu.set_reg(name, value)
    cpu.set_reg("pc", va_code)
    return cpu.run(count=len(words))


def test_ldtr_at_el1_uses_el0_permissions():
    cpu, tables = el1_cpu()
    tables.map(0x10_0000, RAM, NORMAL)                     # code, privileged
    tables.map(0x20_0000, RAM + 0x1000, NORMAL)            # privileged data
    tables.map(0x30_0000, RAM + 0x2000, NORMAL | AP_EL0)   # EL0 data
    cpu.write(RAM + 0x2000, (0x5A5A).to_bytes(8, "little"))
    result = run_words(cpu, 0x10_0000, RAM, [LDTR_X0_X1], x1=0x30_0000)
    assert result.reason == "count" and cpu.reg("x0") == 0x5A5A
    result = run_words(cpu, 0x10_0000, RAM, [LDR_X0_X1], x1=0x20_0000)
    assert result.reason == "count"                         # a normal load may read it...
    result = run_words(cpu, 0x10_0000, RAM, [LDTR_X0_X1], x1=0x20_0000)
    assert result.reason == "exception" and result.iss & 0x3F == PERMISSION + 3   # ...LDTR not


def test_gpi_change_takes_effect_after_tlbi_paallos():
    cpu = Cpu(el=2)                                         # Non-secure EL2, MMU off
    cpu.map(RAM, RAM_SIZE)
    gpt = with_gpt(cpu)
    data = RAM + 0x6000
    cpu.write(data, (0x77).to_bytes(8, "little"))
    result = run_words(cpu, RAM, RAM, [LDR_X0_X1], x1=data)
    assert result.reason == "count" and cpu.reg("x0") == 0x77
    gpt.set_gpi(data, GPI_REALM)                            # the granule is delegated
    el3_code = RAM + 0x7000                                 # Root may not fetch from NS
    gpt.set_gpi(el3_code, GPI_ANY)
    cpu.core.s.select_sp(3, 1)                              # EL3 issues the invalidation
    cpu.core.s.security = "root"
    assert run_words(cpu, el3_code, el3_code, [TLBI_PAALLOS]).reason == "count"
    cpu.core.s.select_sp(2, 1)
    cpu.core.s.security = "nonsecure"
    result = run_words(cpu, RAM, RAM, [LDR_X0_X1], x1=data)
    assert result.reason == "exception" and result.ec == 0x25 and result.iss & 0x3F == GPF


def test_stage2_data_abort_carries_the_instruction_syndrome():
    """A stage 2 fault on `STR W5, [X1]` reports ISV=1, SAS=word, SRT=5 to EL2, so a
    hypervisor can emulate the access (ESR_EL2 ISS encoding for a data abort)."""
    cpu, s1, s2 = two_stage_cpu()
    s2.map(0x4000_0000, RAM + 0x9000, S2_RW)              # code page, IPA -> PA
    s1.map(0x10_0000, 0x4000_0000, NORMAL)
    s1.map(0x20_0000, 0x0900_0000, NORMAL)                 # an IPA with no stage 2 mapping
    cpu.core.regime_changed()
    str_w5 = 0xB9000025                                    # STR W5, [X1]
    result = run_words(cpu, 0x10_0000, RAM + 0x9000, [str_w5], x1=0x20_0010, x5=7)
    assert result.reason == "exception" and result.ec == 0x24      # from a lower EL
    iss = cpu.reg("esr_el2") & 0x1FF_FFFF
    assert iss >> 24 == 1 and (iss >> 22) & 3 == 2 and (iss >> 16) & 0x1F == 5
    assert iss & (1 << 6)                                  # WnR
    assert cpu.reg("hpfar_el2") == (0x0900_0010 >> 12) << 4
    assert cpu.reg("far_el2") == 0x20_0010


def test_an_unimplemented_granule_stops_the_machine_with_a_clear_message():
    cpu, tables = el1_cpu()
    cpu.set_reg("tcr_el1", tcr_el1(16) | (0b01 << 14))    # TG0 = 64 KB
    cpu.write(RAM, (0xD503201F).to_bytes(4, "little"))
    tables.map(0x10_0000, RAM, NORMAL)
    cpu.set_reg("pc", 0x10_0000)
    result = cpu.run(count=1)
    assert result.reason == "stop"
    assert "TCR_EL1.TG0 selects the 64 KB translation granule" in result.message
