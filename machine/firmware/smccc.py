"""SMC Calling Convention (DEN0028) function identifiers and return values."""

SMC_UNK = 0xFFFF_FFFF_FFFF_FFFF          # -1: unknown function identifier
SMC_NOT_SUPPORTED = SMC_UNK
SMC_NOT_REQUIRED = (-2) & 0xFFFF_FFFF_FFFF_FFFF

SMCCC_VERSION = 0x8000_0000
SMCCC_ARCH_FEATURES = 0x8000_0001
SMCCC_VERSION_1_2 = 0x0001_0002

FAST_CALL = 1 << 31
SMC64 = 1 << 30


def owning_entity(fid):
    return (fid >> 24) & 0x3F


def function_number(fid):
    return fid & 0xFFFF


def signed(value):
    """A 64-bit register value as a signed int."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >> 63 else value


def unsigned(value):
    return value & 0xFFFF_FFFF_FFFF_FFFF
