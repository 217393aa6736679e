"""PSCI 1.1 (DEN0022) as the EL3 firmware answers it on the FVP (fact sheet section 6)."""

from .smccc import SMC_UNK, unsigned

PSCI_VERSION = 0x8400_0000
CPU_SUSPEND = 0x0001
CPU_OFF = 0x0002
CPU_ON = 0x0003
AFFINITY_INFO = 0x0004
MIGRATE_INFO_TYPE = 0x0006
SYSTEM_OFF = 0x0008
SYSTEM_RESET = 0x0009
PSCI_FEATURES = 0x000A

PSCI_1_1 = 0x0001_0001
SUCCESS, NOT_SUPPORTED, INVALID_PARAMETERS, DENIED, ALREADY_ON, ON_PENDING = 0, -1, -2, -3, -4, -5
INVALID_ADDRESS = -9
AFF_ON, AFF_OFF, AFF_ON_PENDING = 0, 1, 2
MIGRATE_NO_TRUSTED_OS = 2
AFFINITY_MASK = 0xFF_00FF_FFFF

# Function numbers that exist in both SMC32 (0x84000000 | n) and SMC64 (0xC4000000 | n) forms
SMC64_CAPABLE = {CPU_SUSPEND, CPU_ON, AFFINITY_INFO}
IMPLEMENTED = {0x0000, CPU_SUSPEND, CPU_OFF, CPU_ON, AFFINITY_INFO, MIGRATE_INFO_TYPE,
               SYSTEM_OFF, SYSTEM_RESET, PSCI_FEATURES}


def is_psci(fid):
    return fid & 0xBFFF_FFE0 == 0x8400_0000


def psci_function(fid):
    """The PSCI function number of `fid`, or None if it is not a valid PSCI FID."""
    if not is_psci(fid):
        return None
    number = fid & 0x1F
    if fid & (1 << 30) and number not in SMC64_CAPABLE:
        return None
    return number


class Psci:
    """PSCI for a machine: `power` provides cores, power state changes and entry points."""

    def __init__(self, power):
        self.power = power

    def call(self, core, regs):
        """Handle a PSCI call from `core` with x0..x3 = `regs`; returns x0 (or None when the
        calling CPU does not return: CPU_OFF, SYSTEM_OFF/RESET)."""
        number = psci_function(regs[0] & 0xFFFF_FFFF)
        if number is None or number not in IMPLEMENTED:
            return SMC_UNK
        handler = {0x0000: self.version, CPU_SUSPEND: self.cpu_suspend, CPU_OFF: self.cpu_off,
                   CPU_ON: self.cpu_on, AFFINITY_INFO: self.affinity_info,
                   MIGRATE_INFO_TYPE: self.migrate_info_type, SYSTEM_OFF: self.system_off,
                   SYSTEM_RESET: self.system_reset, PSCI_FEATURES: self.features}[number]
        wide = bool(regs[0] & (1 << 30))
        args = [r if wide else r & 0xFFFF_FFFF for r in regs[1:4]]
        result = handler(core, *args)
        return None if result is None else unsigned(result)

    def version(self, core, *_):
        return PSCI_1_1

    def features(self, core, fid, *_):
        number = psci_function(fid & 0xFFFF_FFFF)
        if fid == 0x8000_0000:           # SMCCC_VERSION is implemented
            return SUCCESS
        if number is None or number not in IMPLEMENTED:
            return NOT_SUPPORTED
        return SUCCESS                   # CPU_SUSPEND: original power_state format, no OSI

    def cpu_suspend(self, core, power_state, entry, context):
        """Every request is treated as standby: the CPU waits for an interrupt and returns
        SUCCESS (PSCI allows a powerdown request to be downgraded to standby)."""
        self.power.standby(core)
        return SUCCESS

    def cpu_off(self, core, *_):
        self.power.cpu_off(core)
        return None

    def cpu_on(self, core, target, entry, context):
        other = self.power.core_by_affinity(target & AFFINITY_MASK)
        if other is None:
            return INVALID_PARAMETERS
        if other.powered:
            return ALREADY_ON
        if not self.power.valid_entry(entry):
            return INVALID_ADDRESS
        self.power.cpu_on(other, entry, context, el=core.s.el)
        return SUCCESS

    def affinity_info(self, core, target, level, *_):
        if level != 0:
            return INVALID_PARAMETERS
        other = self.power.core_by_affinity(target & AFFINITY_MASK)
        if other is None:
            return INVALID_PARAMETERS
        return AFF_ON if other.powered else AFF_OFF

    def migrate_info_type(self, core, *_):
        return MIGRATE_NO_TRUSTED_OS

    def system_off(self, core, *_):
        self.power.system("off")
        return None

    def system_reset(self, core, *_):
        self.power.system("reset")
        return None
