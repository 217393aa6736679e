"""GICv3 distributor, redistributors, CPU interface and virtual interface, on real cores.

Expected values come from the GICv3 architecture specification (IHI 0069): register
layouts in chapter 12, the Non-secure view of priorities in 4.8.6, signalling with DS = 0 in
4.6.2, the list-register life cycle and maintenance interrupts in 6.
"""

import pytest
from conftest import (
    ERET,
    GICD,
    GICR,
    HCR_FMO,
    HCR_IMO,
    HCR_RW,
    RAM,
    SCR_FIQ,
    WFI,
    System,
    b_ne,
    mov64,
    movz,
    mrs,
    msr,
    subs_imm,
)

from machine.cpu.exceptions import EC_SYSREG
from machine.cpu.isa.system import SystemAccessISS

SPI5 = 37          # the UART0 interrupt
CODE, VECTORS, GUEST, GUEST_VECTORS = RAM, RAM + 0x1000, RAM + 0x4000, RAM + 0x5000
LR_PENDING, LR_ACTIVE = 1 << 62, 2 << 62
LR_GROUP1, LR_EOI, LR_HW = 1 << 60, 1 << 41, 1 << 61


def lr(vintid, priority=0xA0, state=LR_PENDING, extra=LR_GROUP1):
    return state | extra | (priority << 48) | vintid


# --- distributor and redistributor registers --------------------------------------------------

def test_identification_registers(system):
    typer = system.gicd(0x4)
    assert typer & 0x1F == 7                       # ITLinesNumber: INTIDs 0-255
    assert (typer >> 5) & 7 == 1                   # CPUNumber: 2 PEs
    assert (typer >> 10) & 1 == 1                  # SecurityExtn
    assert (typer >> 19) & 0x1F == 9               # IDbits: 10 bits
    assert (typer >> 17) & 1 == 0                  # no LPIs
    assert system.gicd(0x8) == 0x43B
    assert system.gicd(0xFFE8) == 0x3B             # PIDR2.ArchRev = 3
    for cpu in (0, 1):
        assert system.gicr(cpu, 0xFFE8) == 0x3B
        assert system.gicr(cpu, 0x4) == 0x43B
    # GICR_TYPER: affinity 0.0.cpu.0 as MPIDR (0x8100_0000 | core << 8), Processor_Number,
    # Last on the last redistributor; 64-bit and 32-bit reads
    assert system.gicr(0, 0x8, size=8) == 0x0000_0000_0000_0000
    assert system.gicr(1, 0x8, size=8) == (0x100 << 32) | (1 << 8) | (1 << 4)
    assert system.gicr(1, 0xC) == 0x100
    # through the bus: the second frame of the GICR region, and RAZ past the last one
    assert system.bus.read(GICR + 0x2_0000 + 0x8, 8) == (0x100 << 32) | (1 << 8) | (1 << 4)
    assert system.bus.read(GICR + 0x4_0000 + 0xFFE8, 4) == 0
    assert system.bus.read(GICD + 0xFFE8, 4) == 0x3B


def test_gicd_ctlr_views_and_reserved_offsets(system):
    assert system.gicd(0x0, secure=True) == 0x30   # ARE_S | ARE_NS, RAO/WI
    assert system.gicd(0x0) == 0x10                # Non-secure view: ARE_NS
    system.gicd(0x0, 0x13)                         # NS: EnableGrp1A (+ RES0 bit 0)
    assert system.gicd(0x0, secure=True) == 0x32   # = EnableGrp1NS
    system.gicd(0x0, 0x7, secure=True)
    assert system.gicd(0x0, secure=True) == 0x37
    assert system.gicd(0x0) == 0x12
    for offset in (0x14, 0x0F00, 0x6000, 0xC000, 0x0800):   # reserved, SGIR, ITARGETSR
        system.gicd(offset, 0xFFFF_FFFF)
        assert system.gicd(offset) == 0
    # the GICD copies of the INTID 0-31 registers are RAZ/WI with affinity routing
    system.gicd(0x100, 0xFFFF_FFFF, secure=True)
    assert system.gicd(0x100, secure=True) == 0


def test_group_enable_pending_active_registers(system):
    assert system.gicd(0x84, secure=True) == 0     # reset: Group 0
    system.gicd(0x84, 0xFFFF_FFFF)                 # IGROUPR is RAZ/WI to Non-secure
    assert system.gicd(0x84, secure=True) == 0
    system.gicd(0x84, 0xFFFF_00FF, secure=True)    # INTIDs 32-39 and 48-63 Group 1 NS
    assert system.gicd(0x84, secure=True) == 0xFFFF_00FF
    assert system.gicd(0x84) == 0
    # Non-secure accesses see only the Group 1 NS interrupts
    system.gicd(0x104, 0xFFFF_FFFF)                # ISENABLER1
    assert system.gicd(0x104) == 0xFFFF_00FF
    assert system.gicd(0x104, secure=True) == 0xFFFF_00FF
    system.gicd(0x184, 0x0000_000F)                # ICENABLER1
    assert system.gicd(0x184) == 0xFFFF_00F0
    system.gicd(0x204, 0x0000_0101)                # ISPENDR1: 32 (NS) and 40 (Secure)
    assert system.gicd(0x204, secure=True) == 0x1
    system.gicd(0x284, 0x1)                        # ICPENDR1
    assert system.gicd(0x204) == 0
    system.gicd(0x304, 0x0000_0030)                # ISACTIVER1
    assert system.gicd(0x384) == 0x30
    system.gicd(0x384, 0x10)                       # ICACTIVER1
    assert system.gicd(0x304) == 0x20
    # past the implemented SPIs: RAZ/WI
    system.gicd(0x120, 0xFFFF_FFFF, secure=True)
    assert system.gicd(0x120, secure=True) == 0
    # GICD_IGRPMODR: Secure only
    system.gicd(0xD04, 0x0000_0100, secure=True)
    assert system.gicd(0xD04, secure=True) == 0x100
    assert system.gicd(0xD04) == 0


def test_priority_byte_access_and_views(system):
    system.gicd(0x84, 0x0000_00FF, secure=True)    # INTIDs 32-39 Group 1 NS
    system.gicd(0x400 + 37, 0xA0, size=1)          # NS view: stored 0x80 | 0xA0 >> 1
    assert system.gicd(0x400 + 37, size=1, secure=True) == 0xD0
    assert system.gicd(0x400 + 37, size=1) == 0xA0
    system.gicd(0x400 + 36, 0x12345678, secure=True)      # 4 bytes, 5 bits kept each
    assert system.gicd(0x424, secure=True) == 0x10_30_50_78
    # Secure interrupt (INTID 40): Non-secure access RAZ/WI
    system.gicd(0x400 + 40, 0xFF, size=1)
    assert system.gicd(0x400 + 40, size=1, secure=True) == 0
    system.gicd(0x400 + 40, 0x40, size=1, secure=True)
    assert system.gicd(0x400 + 40, size=1) == 0
    # redistributor priorities (SGI_base + 0x400), byte access
    system.gic.configure_for_nonsecure()
    system.gicr(1, 0x1_0400 + 27, 0x80, size=1)
    assert system.gicr(1, 0x1_0400 + 27, size=1, secure=True) == 0xC0
    assert system.gicr(0, 0x1_0400 + 27, size=1, secure=True) == 0


def test_config_registers(system):
    system.gic.configure_for_nonsecure()
    # SGIs are edge-triggered, read-only; PPIs and SPIs configurable
    assert system.gicr(0, 0x1_0C00) == 0xAAAA_AAAA
    system.gicr(0, 0x1_0C00, 0)
    assert system.gicr(0, 0x1_0C00) == 0xAAAA_AAAA
    assert system.gicr(0, 0x1_0C04) == 0
    system.gicr(0, 0x1_0C04, 0x8000_0000)          # INTID 31 edge
    assert system.gicr(0, 0x1_0C04) == 0x8000_0000
    system.gicd(0xC08, 0x0000_0002)                # INTID 32 edge
    assert system.gicd(0xC08) == 0x2


def test_irouter(system):
    system.gic.configure_for_nonsecure()
    system.gicd(0x6000 + 8 * SPI5, 0x1_8000_0300, size=8)
    assert system.gicd(0x6000 + 8 * SPI5, size=8) == 0x1_8000_0300
    assert system.gicd(0x6000 + 8 * SPI5) == 0x8000_0300
    assert system.gicd(0x6004 + 8 * SPI5) == 0x1
    system.gicd(0x6000 + 8 * SPI5, 0xFFFF_FFFF)    # reserved bits 30:24 RES0
    assert system.gicd(0x6000 + 8 * SPI5) == 0x80FF_FFFF
    assert system.gicd(0x6000 + 8 * 300, size=8) == 0     # not implemented


def test_waker_handshake(system):
    assert system.gicr(0, 0x14) == 0x6             # ProcessorSleep, ChildrenAsleep
    system.gicr(0, 0x14, 0)
    assert system.gicr(0, 0x14) == 0
    system.gicr(0, 0x14, 0x2)
    assert system.gicr(0, 0x14) == 0x6


# --- signalling, acknowledge, EOI --------------------------------------------------------------

def routed_spi(system, cpu, priority=0xA0):
    system.enable_nonsecure()
    system.gicd(0x400 + SPI5, priority, size=1)
    system.gicd(0x6000 + 8 * SPI5, system.gic.affinity[cpu], size=8)
    system.gicd(0x104, 1 << (SPI5 - 32))
    return system.gic.spi_line(5)


def run_words(system, cpu, words, count=None):
    system.load(CODE, words + [WFI])
    return system.run(cpu, CODE, count or len(words) + 1)


def test_spi_follows_irouter_and_is_acknowledged_at_el1(system):
    line = routed_spi(system, 1)
    s0, s1 = system.cores[0].s, system.cores[1].s
    line.set(True)
    assert (s0.irq_line, s1.irq_line, s1.fiq_line) == (False, True, False)
    assert system.reg(1, "icc_hppir1_el1") == SPI5
    run_words(system, 1, [mrs(0, "icc_iar1_el1"), mrs(1, "icc_rpr_el1")])
    assert s1.x[0] == SPI5 and s1.x[1] == 0xD0
    assert not s1.irq_line                          # active: not signalled again
    assert system.gicd(0x304) == 1 << 5
    run_words(system, 1, [msr("icc_eoir1_el1", 0), mrs(1, "icc_rpr_el1")])
    assert system.gicd(0x304) == 0 and s1.x[1] == 0xFF
    assert s1.irq_line                              # level still high: pending again
    line.set(False)
    assert not s1.irq_line
    # rerouting to CPU 0
    line.set(True)
    system.gicd(0x6000 + 8 * SPI5, 0, size=8)
    assert (s0.irq_line, s1.irq_line) == (True, False)


def test_acknowledge_at_el2_and_split_eoi_mode():
    system = System(el=2)
    line = routed_spi(system, 0)
    s = system.cores[0].s
    line.pulse()                                    # level-sensitive: nothing stays pending
    assert not s.irq_line
    system.gicd(0xC08, 0x2 << (2 * 5))              # SPI 5 edge-triggered
    line.pulse()
    assert s.irq_line
    system.set_reg(0, "icc_ctlr_el1", 0x2)          # EOImode = 1
    assert system.reg(0, "icc_ctlr_el1") & 0x0703 == 0x0402     # PRIbits = 4
    run_words(system, 0, [mrs(0, "icc_iar1_el1"), msr("icc_eoir1_el1", 0),
                          mrs(1, "icc_rpr_el1")])
    assert s.x[0] == SPI5 and s.x[1] == 0xFF       # priority dropped ...
    assert system.gicd(0x304) == 1 << 5             # ... but still active
    line.pulse()                                    # pending again while active
    assert not s.irq_line
    run_words(system, 0, [msr("icc_dir_el1", 0)])
    assert system.gicd(0x304) == 0 and s.irq_line
    run_words(system, 0, [mrs(2, "icc_iar1_el1"), mrs(3, "icc_iar1_el1")])
    assert (s.x[2], s.x[3]) == (SPI5, 1023)


def test_priority_mask():
    system = System()
    line = routed_spi(system, 0, priority=0xA0)     # stored 0xD0
    s = system.cores[0].s
    system.set_reg(0, "icc_pmr_el1", 0xD0)
    line.set(True)
    assert not s.irq_line
    assert system.reg(0, "icc_iar1_el1") == 1023
    run_words(system, 0, [movz(0, 0xD8), msr("icc_pmr_el1", 0)])
    assert s.irq_line
    # with SCR_EL3.FIQ = 1, Non-secure software sees the shifted view of the mask
    s.sr["scr_el3"] |= SCR_FIQ
    run_words(system, 0, [movz(0, 0xA0), msr("icc_pmr_el1", 0), mrs(1, "icc_pmr_el1")])
    assert system.gic.cpuifs[0].pmr == 0xD0 and s.x[1] == 0xA0
    assert not s.irq_line                            # 0xD0 is not below 0xD0
    run_words(system, 0, [movz(0, 0xB0), msr("icc_pmr_el1", 0)])
    assert s.irq_line


def test_group0_is_signalled_as_fiq():
    system = System()
    system.enable_nonsecure()
    s = system.cores[0].s
    system.gicd(0x84, 0, secure=True)               # INTIDs 32-63 back to Group 0
    system.gicd(0x0, 0x33, secure=True)             # + EnableGrp0
    system.gicd(0x400 + SPI5, 0x40, size=1, secure=True)
    system.gicd(0x104, 1 << 5, secure=True)
    system.gic.spi_line(5).set(True)
    assert not s.fiq_line                           # ICC_IGRPEN0_EL1 still 0
    system.set_reg(0, "icc_igrpen0_el1", 1)
    assert s.fiq_line and not s.irq_line
    assert system.reg(0, "icc_hppir1_el1") == 1023
    run_words(system, 0, [mrs(0, "icc_iar1_el1"), mrs(1, "icc_iar0_el1")])
    assert (s.x[0], s.x[1]) == (1023, SPI5)
    assert system.reg(0, "icc_ap0r0_el1") == 1 << (0x40 >> 3)
    run_words(system, 0, [msr("icc_eoir0_el1", 1)])
    assert system.reg(0, "icc_ap0r0_el1") == 0 and s.fiq_line


def test_sleeping_redistributor_forwards_nothing(system):
    line = routed_spi(system, 0)
    system.gicr(0, 0x14, 0x2)
    line.set(True)
    assert not system.cores[0].s.irq_line
    system.gicr(0, 0x14, 0)
    assert system.cores[0].s.irq_line


def test_one_of_n_routing(system):
    line = routed_spi(system, 0)
    system.gicd(0x6000 + 8 * SPI5, 1 << 31, size=8)          # IRM = 1
    s0, s1 = system.cores[0].s, system.cores[1].s
    line.set(True)
    assert (s0.irq_line, s1.irq_line) == (True, False)
    system.set_reg(0, "icc_igrpen1_el1", 0)                  # CPU 0 stops participating
    assert (s0.irq_line, s1.irq_line) == (False, True)


# --- SGIs ------------------------------------------------------------------------------------

def sgi1r(intid, aff1=0, targets=1, irm=0):
    return (irm << 40) | (intid << 24) | (aff1 << 16) | targets


def test_sgi_between_cpus_with_affinity_routing(system):
    system.enable_nonsecure()
    for cpu in (0, 1):
        system.gicr(cpu, 0x1_0100, 0xFFFF)          # enable the SGIs
    s0, s1 = system.cores[0].s, system.cores[1].s
    run_words(system, 0, mov64(0, sgi1r(3, aff1=1, targets=1)) + [msr("icc_sgi1r_el1", 0)])
    assert (s0.irq_line, s1.irq_line) == (False, True)
    run_words(system, 1, [mrs(0, "icc_iar1_el1"), msr("icc_eoir1_el1", 0)])
    assert s1.x[0] == 3 and not s1.irq_line
    # target list bit 1 of cluster 0 / Aff1 0 is core 0.0.0.1: nobody
    run_words(system, 0, mov64(0, sgi1r(4, aff1=0, targets=2)) + [msr("icc_sgi1r_el1", 0)])
    assert not s1.irq_line and not s0.irq_line
    # IRM = 1: every PE but the sender
    run_words(system, 1, mov64(0, sgi1r(5, irm=1)) + [msr("icc_sgi1r_el1", 0)])
    assert s0.irq_line and not s1.irq_line
    assert system.reg(0, "icc_hppir1_el1") == 5
    # a Group 0 SGI request does not reach Group 1 SGIs
    run_words(system, 1, mov64(0, sgi1r(6, aff1=0, targets=1)) + [msr("icc_sgi0r_el1", 0)])
    assert system.gicr(0, 0x1_0200) == 1 << 5


def vectors_with_handler(system, base, handler, offset=0x280):
    system.load(base + offset, handler)


def test_irq_exception_taken_at_el1(system):
    line = routed_spi(system, 0)
    s = system.cores[0].s
    system.set_reg(0, "vbar_el1", VECTORS)
    vectors_with_handler(system, VECTORS, [mrs(1, "icc_iar1_el1"), msr("icc_eoir1_el1", 1),
                                           movz(9, 0xBEEF), WFI])
    system.load(CODE, [movz(2, 1), WFI])
    system.gicd(0xC08, 0x2 << (2 * 5))              # edge: nothing pending after the ack
    line.pulse()
    s.daif = 0b1101                                  # IRQs unmasked
    stop = system.run(0, CODE, 100)
    # taken before the first instruction: EL1h with SP_EL1 -> VBAR_EL1 + 0x280
    assert stop.reason == "wfi" and s.x[9] == 0xBEEF and s.x[2] == 0
    assert s.x[1] == SPI5 and not s.irq_line
    assert s.sr["elr_el1"] == CODE
    assert (s.sr["spsr_el1"] >> 6) & 0xF == 0b1101 and s.sr["spsr_el1"] & 0xF == 0b0101


def test_sgi_to_self_is_taken_before_the_next_instruction(system):
    system.enable_nonsecure()
    system.gicr(0, 0x1_0100, 0xFFFF)
    s = system.cores[0].s
    s.daif = 0b1101                                  # IRQs unmasked
    system.set_reg(0, "vbar_el1", VECTORS)
    vectors_with_handler(system, VECTORS, [mrs(1, "icc_iar1_el1"), WFI])
    system.load(CODE, mov64(0, sgi1r(2, targets=1)) + [msr("icc_sgi1r_el1", 0), movz(3, 7),
                                                       WFI])
    stop = system.run(0, CODE, 100)
    assert stop.reason == "wfi" and s.x[1] == 2 and s.x[3] == 0
    assert s.sr["elr_el1"] == CODE + 4 * (len(mov64(0, sgi1r(2))) + 1)


def test_sysreg_traps_and_access_rules():
    system = System(el=1)
    system.enable_nonsecure()
    s = system.cores[0].s
    s.sr["hcr_el2"] = HCR_IMO | HCR_RW
    system.cores[0].stop_on_exception = True
    # with HCR_EL2.IMO, ICC_SGI1R_EL1 writes trap to EL2 with the MSR's ISS (Rt = 7)
    stop = run_words(system, 0, [msr("icc_sgi1r_el1", 7)])
    assert stop.reason == "exception" and stop.exception.ec == EC_SYSREG
    assert stop.exception.target_el == 2
    assert stop.exception.iss == SystemAccessISS(3, 0, 12, 11, 5, 7, 0)
    # ICH_* below EL2 and ICC_*_EL3 below EL3 are UNDEFINED
    for name in ("ich_hcr_el2", "icc_ctlr_el3", "icc_igrpen1_el3", "ich_lr0_el2"):
        system.cores[0].s.select_sp(1, 1)
        stop = run_words(system, 0, [mrs(0, name)])
        assert stop.reason == "exception" and stop.exception.ec == 0, name
    # not implemented with 4 list registers / 5 priority bits: UNDEFINED even at EL2
    s.select_sp(2, 1)
    for name in ("ich_lr4_el2", "icc_ap0r1_el1", "ich_ap1r3_el2"):
        stop = run_words(system, 0, [mrs(0, name)])
        assert stop.reason == "exception" and stop.exception.ec == 0, name
    # the fixed values
    assert system.reg(0, "ich_vtr_el2") == 0x9020_0003
    assert system.reg(0, "icc_sre_el1") == 0x7
    assert system.reg(0, "icc_ctlr_el3") & 0x2_FF00 == 0x2_8400   # nDS, A3V, PRIbits
    # ICH_HCR_EL2.TALL1 traps EL1 Group 1 accesses to EL2
    system.set_reg(0, "ich_hcr_el2", 1 << 12)
    s.select_sp(1, 1)
    stop = run_words(system, 0, [mrs(4, "icc_iar1_el1")])
    assert stop.exception.ec == EC_SYSREG and stop.exception.iss == \
        SystemAccessISS(3, 0, 12, 12, 0, 4, 1)


# --- the virtual CPU interface ------------------------------------------------------------------

def hypervisor(system, hcr_bits=0, lrs=(), vmcr=0xF800_0002):
    """CPU 0 at EL2: GIC configured for NS, the maintenance PPI (INTID 25) enabled; EL2 code
    programs ICH_VMCR/ICH_HCR and the list registers, then enters the guest at EL1."""
    system.enable_nonsecure()
    system.gicr(0, 0x1_0100, 1 << 25)
    s = system.cores[0].s
    s.sr["hcr_el2"] = HCR_IMO | HCR_FMO | HCR_RW
    s.sr["vbar_el2"] = VECTORS
    s.sr["vbar_el1"] = GUEST_VECTORS
    s.sr["elr_el2"] = GUEST
    s.sr["spsr_el2"] = 0x345                          # EL1h, IRQ unmasked
    words = mov64(0, vmcr) + [msr("ich_vmcr_el2", 0)]
    for n, value in enumerate(lrs):
        words += mov64(0, value) + [msr(f"ich_lr{n}_el2", 0)]
    words += mov64(0, 1 | hcr_bits) + [msr("ich_hcr_el2", 0), ERET]
    system.load(CODE, words)
    # EL2 IRQ from a lower EL: read the maintenance state, acknowledge the physical PPI
    system.load(VECTORS + 0x480, [mrs(20, "ich_misr_el2"), mrs(21, "ich_eisr_el2"),
                                  mrs(22, "icc_iar1_el1"), mrs(23, "ich_lr0_el2"),
                                  mrs(24, "ich_elrsr_el2"), movz(19, 0xE2), WFI])
    return s


def test_guest_takes_and_completes_a_virtual_interrupt():
    system = System(el=2)
    s = hypervisor(system, lrs=[lr(40, extra=LR_GROUP1 | LR_EOI)])
    # guest: IRQ vector acknowledges (virtual), EOIs; the maintenance IRQ then takes it to EL2
    system.load(GUEST_VECTORS + 0x280, [mrs(10, "icc_iar1_el1"), mrs(11, "icc_rpr_el1"),
                                        msr("icc_eoir1_el1", 10), movz(12, 1), WFI])
    system.load(GUEST, [movz(13, 1), WFI])
    stop = system.run(0, CODE, 200)
    assert stop.reason == "wfi" and s.el == 2 and s.x[19] == 0xE2
    assert s.x[10] == 40 and s.x[11] == 0xA0
    assert s.x[12] == 0 and s.x[13] == 0           # interrupted right after the EOI
    assert s.sr["elr_el2"] == GUEST_VECTORS + 0x280 + 12
    assert s.x[20] == 1 and s.x[21] == 1            # MISR.EOI, EISR bit 0
    assert s.x[22] == 25                            # the maintenance PPI
    assert s.x[23] >> 62 == 0 and s.x[24] & 1 == 0  # LR0 invalid, EOI pending (not empty)
    assert not s.virq_line


def test_virtual_interrupt_needs_enables_and_priority():
    system = System(el=2)
    ci = system.gic.cpuifs[0]
    s = system.cores[0].s
    system.enable_nonsecure()
    system.set_reg(0, "ich_lr0_el2", lr(33, priority=0x80))
    assert not s.virq_line                          # ICH_HCR_EL2.En = 0
    system.set_reg(0, "ich_hcr_el2", 1)
    assert not s.virq_line                          # VENG1 = 0
    system.set_reg(0, "ich_vmcr_el2", 0x8000_0002)  # VPMR = 0x80
    assert not s.virq_line
    system.set_reg(0, "ich_vmcr_el2", 0x8800_0002)
    assert s.virq_line and not s.vfiq_line
    system.set_reg(0, "ich_lr0_el2", lr(33, priority=0x80, extra=0))   # Group 0
    assert not s.vfiq_line                          # VENG0 = 0
    system.set_reg(0, "ich_vmcr_el2", 0x8800_0001)
    assert s.vfiq_line and not s.virq_line
    # the VMCR round trip: VFIQEn RES1, minimum binary points
    assert system.reg(0, "ich_vmcr_el2") == 0x8800_0001 | 0x8 | (2 << 21) | (3 << 18)
    assert ci.elrsr() == 0xE


def test_virtual_eoi_without_a_list_register_counts_and_maintenance():
    system = System(el=2)
    s = hypervisor(system, hcr_bits=1 << 2, lrs=[lr(40)])       # LRENPIE
    system.load(GUEST_VECTORS + 0x280, [mrs(10, "icc_iar1_el1"), movz(11, 77),
                                        msr("icc_eoir1_el1", 11), movz(12, 1), WFI])
    system.load(GUEST, [WFI])
    stop = system.run(0, CODE, 200)
    assert stop.reason == "wfi" and s.x[19] == 0xE2
    assert s.x[10] == 40 and s.x[12] == 0
    assert s.x[20] == 1 << 2                        # MISR.LRENP
    assert system.reg(0, "ich_hcr_el2") >> 27 == 1  # EOIcount
    assert s.x[23] >> 62 == 2                       # LR0 still active (vINTID 77 was EOId)


def test_hardware_interrupt_deactivated_through_the_list_register():
    system = System(el=2)
    line = routed_spi(system, 0)
    s = system.cores[0].s
    line.set(True)
    assert system.reg(0, "icc_iar1_el1") == SPI5    # the debugger read does not acknowledge
    run_words(system, 0, [mrs(0, "icc_iar1_el1"), msr("icc_eoir1_el1", 0)])
    line.set(False)
    # (EOImode 0 deactivated it; make it active again and hand it to the guest as HW=1)
    system.gicd(0x304, 1 << 5)
    system.set_reg(0, "ich_lr0_el2", lr(SPI5, state=LR_ACTIVE, extra=LR_GROUP1 | LR_HW)
                   | (SPI5 << 32))
    system.set_reg(0, "ich_hcr_el2", 1)
    s.sr["hcr_el2"] = HCR_IMO | HCR_FMO | HCR_RW
    s.select_sp(1, 1)
    system.set_reg(0, "ich_ap1r0_el2", 1 << (0xA0 >> 3))
    run_words(system, 0, mov64(0, SPI5) + [msr("icc_eoir1_el1", 0)])
    assert system.gicd(0x304) == 0                  # the physical interrupt is deactivated
    assert system.reg(0, "ich_lr0_el2") >> 62 == 0 and system.reg(0, "ich_ap1r0_el2") == 0


def test_underflow_and_group_maintenance_conditions():
    system = System(el=2)
    system.enable_nonsecure()
    system.gicr(0, 0x1_0100, 1 << 25)
    ppi_level = system.gic.redistributors[0].bank
    system.set_reg(0, "ich_lr0_el2", lr(40))
    system.set_reg(0, "ich_lr1_el2", lr(41))
    system.set_reg(0, "ich_hcr_el2", 1 | (1 << 1))          # En, UIE
    assert system.reg(0, "ich_misr_el2") == 0              # two valid LRs
    system.set_reg(0, "ich_lr1_el2", 0)
    assert system.reg(0, "ich_misr_el2") == 1 << 1         # underflow: one left
    assert ppi_level.level >> 25 & 1 and system.cores[0].s.irq_line
    system.set_reg(0, "ich_hcr_el2", 1 | (1 << 7) | (1 << 3))   # VGrp1DIE, NPIE
    assert system.reg(0, "ich_misr_el2") == 1 << 7         # VENG1 = 0; LR0 still pending
    system.set_reg(0, "ich_lr0_el2", lr(40, state=LR_ACTIVE))
    assert system.reg(0, "ich_misr_el2") == (1 << 7) | (1 << 3)
    system.set_reg(0, "ich_hcr_el2", 0)
    assert not ppi_level.level >> 25 & 1


@pytest.mark.parametrize("translated", [False, True])
def test_trap_syndrome_in_tier1_and_translated_blocks(translated):
    """Rt in the ISS comes from the executing MRS, also inside a translated block."""
    system = System(el=1)
    system.enable_nonsecure()
    core = system.cores[0]
    s = core.s
    loop = [subs_imm(6, 6, 1), mrs(5, "icc_pmr_el1"), b_ne(-2), WFI]
    system.load(CODE, loop)
    if translated:
        s.x[6] = 400                                 # make the loop hot: it is translated
        assert system.run(0, CODE, 2000).reason == "wfi"
    s.x[6] = 10
    system.set_reg(0, "ich_hcr_el2", 1 << 10)        # TC traps ICC_PMR_EL1
    core.stop_on_exception = True
    stop = system.run(0, CODE, 1000)
    assert stop.reason == "exception" and stop.exception.target_el == 2
    assert stop.exception.iss == SystemAccessISS(3, 0, 4, 6, 0, 5, 1)
    assert s.sr["elr_el2"] == CODE + 4 and s.x[6] == 9
