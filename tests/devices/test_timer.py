"""Generic timers, the virtual clock and the memory-mapped counter frames.

Expected behaviour from the Arm ARM: D12 (the Generic Timer: ISTATUS, TVAL as a signed
32-bit down-counter, the virtual offset), D24.11 (CNTKCTL_EL1, CNTHCTL_EL2 access
controls), I5 (the memory-mapped counter module).
"""

import pytest
from conftest import (
    RAM,
    WFI,
    System,
    b_ne,
    mov64,
    mrs,
    msr,
    subs_imm,
)

from machine.board.clock import VirtualClock
from machine.cpu.exceptions import EC_SYSREG
from machine.cpu.isa.system import SystemAccessISS
from machine.cpu.sysregs import BY_NAME
from machine.devices.system_counter import CounterControl, CounterRead, TimerControl

CODE = RAM
CNTP, CNTV, CNTHP, CNTPS = 30, 27, 26, 29
ENABLE, IMASK, ISTATUS = 1, 2, 4


def ppi_level(system, cpu, intid):
    return bool(system.gic.redistributors[cpu].bank.level >> intid & 1)


# --- the clock ---------------------------------------------------------------------------------

def test_virtual_clock():
    clock = VirtualClock(shift=2)
    assert (clock.now(), clock.counter()) == (0, 0)
    clock.advance(clock.insns_to_ns(25))              # 25 instructions of 4 ns
    assert (clock.now(), clock.counter()) == (100, 10)
    assert clock.ns_to_ticks(1000) == 100 and clock.ticks_to_ns(3) == 30
    assert clock.ns_to_insns(10) == 3
    assert clock.time_of_count(25) == 250 and clock.time_of_count(5) == 100
    clock.enable(False)
    clock.advance(1000)
    assert clock.counter() == 10 and clock.time_of_count(11) is None
    clock.set_counter(1000)
    clock.enable(True)
    clock.advance(55)
    assert clock.counter() == 1005 and clock.time_of_count(1010) == 1200
    with pytest.raises(ValueError):
        clock.advance(-1)


# --- timers ------------------------------------------------------------------------------------

def timer_system():
    system = System(n=1)
    system.enable_nonsecure()
    system.gicr(0, 0x1_0100, 0xFFFF_0000)            # enable the PPIs
    return system


def test_timer_fires_when_the_clock_reaches_cval():
    system = timer_system()
    s, timer, clock = system.cores[0].s, system.timers[0], system.clock
    clock.advance(1000)                               # count 100
    system.set_reg(0, "cntp_cval_el0", 150)
    system.set_reg(0, "cntp_ctl_el0", ENABLE)
    assert system.reg(0, "cntp_ctl_el0") == ENABLE and not ppi_level(system, 0, CNTP)
    assert timer.next_event() == 1500 and not s.irq_line
    clock.advance(490)
    timer.tick(clock.now())
    assert system.reg(0, "cntp_ctl_el0") == ENABLE and not ppi_level(system, 0, CNTP)
    clock.advance(10)
    assert timer.next_event() == 1500                 # due now: the scheduler ticks
    timer.tick(clock.now())
    assert system.reg(0, "cntp_ctl_el0") == ENABLE | ISTATUS
    assert ppi_level(system, 0, CNTP) and s.irq_line
    assert timer.next_event() is None                 # already firing
    assert system.reg(0, "icc_iar1_el1") == CNTP
    system.set_reg(0, "cntp_ctl_el0", ENABLE | IMASK)
    assert system.reg(0, "cntp_ctl_el0") == ENABLE | IMASK | ISTATUS
    assert not ppi_level(system, 0, CNTP) and not s.irq_line
    system.set_reg(0, "cntp_ctl_el0", 0)              # disabled: ISTATUS clear
    assert system.reg(0, "cntp_ctl_el0") == 0 and timer.next_event() is None


def test_tval_is_a_signed_down_counter():
    system = timer_system()
    system.clock.advance(10_000)                      # count 1000
    system.set_reg(0, "cntv_cval_el0", 900)
    assert system.reg(0, "cntv_tval_el0") == (-100) & 0xFFFF_FFFF
    system.set_reg(0, "cntv_tval_el0", 500)
    assert system.reg(0, "cntv_cval_el0") == 1500
    system.set_reg(0, "cntv_tval_el0", 0xFFFF_FF00)   # -256
    assert system.reg(0, "cntv_cval_el0") == 1000 - 256
    system.set_reg(0, "cnthp_tval_el2", 0x7FFF_FFFF)
    assert system.reg(0, "cnthp_cval_el2") == 1000 + 0x7FFF_FFFF


def test_virtual_offset():
    system = timer_system()
    timer = system.timers[0]
    system.clock.advance(10_000)                      # count 1000
    system.set_reg(0, "cntvoff_el2", 400)
    assert system.reg(0, "cntpct_el0") == 1000 and system.reg(0, "cntvct_el0") == 600
    system.set_reg(0, "cntv_cval_el0", 700)           # virtual 700 = physical 1100
    system.set_reg(0, "cntv_ctl_el0", ENABLE)
    assert timer.next_event() == 11_000 and not ppi_level(system, 0, CNTV)
    system.set_reg(0, "cntvoff_el2", 300)             # virtual count is now 700: fires
    assert ppi_level(system, 0, CNTV)
    assert system.reg(0, "cntv_tval_el0") == 0


def test_each_timer_has_its_ppi():
    system = timer_system()
    system.clock.advance(100)
    for prefix, el, intid in (("cntp", "el0", CNTP), ("cntv", "el0", CNTV),
                              ("cnthp", "el2", CNTHP), ("cntps", "el1", CNTPS)):
        system.set_reg(0, f"{prefix}_cval_{el}", 5)
        system.set_reg(0, f"{prefix}_ctl_{el}", ENABLE)
        assert ppi_level(system, 0, intid), prefix
        system.set_reg(0, f"{prefix}_ctl_{el}", 0)
        assert not ppi_level(system, 0, intid), prefix


def test_counter_reads_by_instructions_see_the_slice_start():
    system = timer_system()
    s = system.cores[0].s
    system.clock.advance(12_340)
    system.load(CODE, [mrs(0, "cntpct_el0"), mrs(1, "cntvct_el0"), mrs(2, "cntfrq_el0"), WFI])
    assert system.run(0, CODE, 10).reason == "wfi"
    assert (s.x[0], s.x[1], s.x[2]) == (1234, 1234, 100_000_000)


def test_a_write_that_fires_the_timer_is_taken_at_once():
    system = timer_system()
    s = system.cores[0].s
    s.daif = 0b1101
    system.set_reg(0, "vbar_el1", RAM + 0x1000)
    system.load(RAM + 0x1280, [mrs(9, "icc_iar1_el1"), WFI])
    system.clock.advance(1000)
    system.load(CODE, mov64(0, ENABLE) + [msr("cntv_tval_el0", 31), msr("cntv_ctl_el0", 0),
                                          mrs(5, "cntpct_el0"), WFI])
    assert system.run(0, CODE, 20).reason == "wfi"
    assert s.x[9] == CNTV and s.x[5] == 0
    assert s.sr["elr_el1"] == CODE + 4 * (len(mov64(0, ENABLE)) + 2)


def access(el, word, cntkctl=0, cnthctl=3):
    """Run one MRS/MSR at `el` on a fresh system; returns (Stop, state)."""
    system = timer_system()
    core = system.cores[0]
    s = core.s
    s.sr["cntkctl_el1"], s.sr["cnthctl_el2"] = cntkctl, cnthctl
    s.select_sp(el, 1 if el else 0)
    core.stop_on_exception = True
    system.load(CODE, [word, WFI])
    return system.run(0, CODE, 10), s


@pytest.mark.parametrize("name, enable", [("cntvct_el0", 1 << 1), ("cntpct_el0", 1 << 0),
                                          ("cntfrq_el0", 1 << 1), ("cntp_ctl_el0", 1 << 9),
                                          ("cntv_cval_el0", 1 << 8)])
def test_el0_access_traps_per_cntkctl(name, enable):
    stop, s = access(0, mrs(7, name))
    assert stop.reason == "exception" and stop.exception.ec == EC_SYSREG
    assert stop.exception.iss == SystemAccessISS(*BY_NAME[name].key, 7, 1)
    assert s.el == 1 and s.sr["elr_el1"] == CODE
    stop, s = access(0, mrs(7, name), cntkctl=enable)
    assert stop.reason == "wfi"


def test_el1_physical_timer_and_counter_trap_to_el2_per_cnthctl():
    stop, s = access(1, msr("cntp_cval_el0", 3), cnthctl=1)          # EL1PCEN = 0
    assert stop.exception.ec == EC_SYSREG and stop.exception.target_el == 2
    assert stop.exception.iss == SystemAccessISS(3, 3, 14, 2, 2, 3, 0)
    stop, s = access(1, mrs(4, "cntpct_el0"), cnthctl=2)             # EL1PCTEN = 0
    assert stop.exception.iss == SystemAccessISS(3, 3, 14, 0, 1, 4, 1) and s.el == 2
    stop, s = access(1, mrs(4, "cntvct_el0"), cnthctl=0)             # never trapped
    assert stop.reason == "wfi"
    stop, s = access(2, msr("cntp_cval_el0", 3), cnthctl=0)          # EL2: not trapped
    assert stop.reason == "wfi"


def test_access_rules_of_the_el2_secure_and_frequency_registers():
    stop, s = access(1, mrs(0, "cnthp_ctl_el2"))
    assert stop.exception.ec == 0                                    # UNDEFINED
    stop, s = access(1, mrs(0, "cntps_ctl_el1"))                     # Non-secure EL1
    assert stop.exception.ec == 0
    stop, s = access(3, mrs(0, "cntps_ctl_el1"))
    assert stop.reason == "wfi"
    stop, s = access(1, msr("cntfrq_el0", 0))
    assert stop.exception.ec == 0
    stop, s = access(3, msr("cntfrq_el0", 0))
    assert stop.reason == "wfi" and s.sr["cntfrq_el0"] == 0


def test_trap_inside_a_translated_block_names_the_right_register():
    system = timer_system()
    core = system.cores[0]
    s = core.s
    s.select_sp(0, 0)
    s.sr["cntkctl_el1"] = 1 << 1
    system.load(CODE, [subs_imm(6, 6, 1), mrs(12, "cntvct_el0"), b_ne(-2), WFI])
    s.x[6] = 400
    assert system.run(0, CODE, 2000).reason == "wfi"     # hot: translated
    s.sr["cntkctl_el1"] = 0
    s.x[6] = 5
    core.stop_on_exception = True
    stop = system.run(0, CODE, 1000)
    assert stop.exception.iss == SystemAccessISS(3, 3, 14, 0, 2, 12, 1)
    assert s.sr["elr_el1"] == CODE + 4 and s.x[6] == 4


# --- memory-mapped counter frames -------------------------------------------------------------

def test_counter_control_frame():
    clock = VirtualClock()
    control, read, ctl = CounterControl(clock), CounterRead(clock), TimerControl(clock)
    assert control.read(0x0, 4) == 1                  # CNTCR.EN: counting from reset
    assert control.read(0x20, 4) == 100_000_000 and control.read(0x24, 4) == 0
    clock.advance(5000)
    assert control.read(0x8, 8) == 500 and read.read(0x0, 4) == 500
    control.write(0x0, 4, 0x2)                        # EN = 0, HDBG = 1
    assert control.read(0x0, 4) == 0x2
    clock.advance(5000)
    assert read.read(0x0, 8) == 500
    control.write(0x8, 8, 0x1_0000_0010)
    assert (read.read(0x0, 4), read.read(0x4, 4)) == (0x10, 1)
    control.write(0xC, 4, 2)
    assert control.read(0x8, 8) == 0x2_0000_0010
    control.write(0x0, 4, 1)
    clock.advance(100)
    assert control.read(0x8, 4) == 0x10 + 10
    read.write(0x0, 4, 0)                             # CNTReadBase is read-only
    assert read.read(0x0, 4) == 0x10 + 10
    # CNTCTLBase
    assert ctl.read(0x0, 4) == 100_000_000 and ctl.read(0x8, 4) == 0    # no timer frames
    ctl.write(0x4, 4, 0xFF)
    assert ctl.read(0x4, 4) == 0xFF and ctl.read(0x40, 4) == 0
    # ID registers: component class 0xF, JEP106 Arm
    for frame in (control, read, ctl):
        assert [frame.read(0xFF0 + 4 * i, 4) for i in range(4)] == [0x0D, 0xF0, 0x05, 0xB1]
        assert frame.read(0xFE8, 4) & 0xF == 0xB and frame.read(0xFE4, 4) >> 4 == 0xB
    assert control.read(0x100, 4) == 0 and control.read(0x0, 2) == 0
