"""V2M motherboard system registers (the FVP's "VE sysregs" at 0x1C01_0000): identification
and SYS_CFGCTRL, through which PSCI firmware and Linux's vexpress drivers power off or reboot
the board (fact sheet section 1.7)."""

from .base import Device

SYS_ID, SYS_SW, SYS_LED, SYS_100HZ, SYS_FLAGS, SYS_FLAGSCLR = 0x00, 0x04, 0x08, 0x24, 0x30, 0x34
SYS_NVFLAGS, SYS_NVFLAGSCLR, SYS_24MHZ, SYS_MISC, SYS_PROCID0 = 0x38, 0x3C, 0x5C, 0x60, 0x84
SYS_CFGDATA, SYS_CFGCTRL, SYS_CFGSTAT = 0xA0, 0xA4, 0xA8

SYS_ID_VALUE = 0x2020_1100        # RevC, HBI 0x020 (Base FVP), Base GIC memory map, model
CFGCTRL_START = 1 << 31
CFG_FUNC_SHUTDOWN, CFG_FUNC_REBOOT = 8, 9
CFGSTAT_COMPLETE = 1


class V2mSysRegs(Device):
    name = "v2m-sysregs"

    def __init__(self, power=None):
        super().__init__()
        self.power = power or (lambda event: None)   # callable('off' | 'reset')
        self.reset()

    def reset(self):
        self.regs = {SYS_SW: 0, SYS_LED: 0, SYS_MISC: 0, SYS_PROCID0: 0x1400_0237,
                     SYS_CFGDATA: 0, SYS_CFGCTRL: 0, SYS_CFGSTAT: 0}
        self.flags = 0
        self.nvflags = 0

    def _ticks(self, hz):
        return 0 if self.clock is None else (self.clock.now() * hz // 1_000_000_000) & 0xFFFF_FFFF

    def read(self, offset, size):
        if offset == SYS_ID:
            return SYS_ID_VALUE
        if offset == SYS_FLAGS:
            return self.flags
        if offset == SYS_NVFLAGS:
            return self.nvflags
        if offset == SYS_100HZ:
            return self._ticks(100)
        if offset == SYS_24MHZ:
            return self._ticks(24_000_000)
        return self.regs.get(offset, 0)

    def write(self, offset, size, value):
        value &= 0xFFFF_FFFF
        if offset == SYS_FLAGS:
            self.flags |= value
        elif offset == SYS_FLAGSCLR:
            self.flags &= ~value
        elif offset == SYS_NVFLAGS:
            self.nvflags |= value
        elif offset == SYS_NVFLAGSCLR:
            self.nvflags &= ~value
        elif offset == SYS_CFGCTRL:
            self.regs[SYS_CFGCTRL] = value & ~CFGCTRL_START
            if value & CFGCTRL_START:
                self.regs[SYS_CFGSTAT] = CFGSTAT_COMPLETE
                function = (value >> 20) & 0x3F
                if function == CFG_FUNC_SHUTDOWN:
                    self.power("off")
                elif function == CFG_FUNC_REBOOT:
                    self.power("reset")
        elif offset in (SYS_SW, SYS_LED, SYS_MISC, SYS_CFGDATA, SYS_CFGSTAT):
            self.regs[offset] = value
