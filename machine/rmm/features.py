"""Global RMM state and configuration: RMI_VERSION, RMI_FEATURES, RMI_RMM_CONFIG_GET/SET,
RMI_RMM_ACTIVATE, RMI_GRANULE_TRACKING_GET, RMI_GPT_L1_CREATE (TF-RMM `runtime/rmi/version.c`,
`feature.c`, `activate.c`, `system.c`; digest 4.4-4.6, 5.1-5.6, 7)."""

from dataclasses import dataclass

from machine.cpu import sysregs

from .abi import (
    GRANULE_SIZE,
    RMI_ABI_VERSION,
    MemCategory,
    RmiFeatureRegister0,
    RmiFeatureRegister1,
    RmiRmmConfig,
    RmmState,
    Status,
    TrackingRegionState,
)
from .granule import read_ns_struct, write_ns_struct

PS_BITS = {0: 32, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48, 6: 52}
PPS_ENCODING = {48: 5, 52: 6}          # RmiFeatureRegister1.PPS
L0GPT_SIZE = 1 << 30                   # FEAT1.L0GPTSZ = 0: 1 GB
MAX_RECS_ORDER = 10


def _field(value, lsb, width=4):
    return (value >> lsb) & ((1 << width) - 1)


@dataclass
class RmmConfig:
    """What the RMM learns about the platform at boot; defaults from the CPU model's ID
    registers (machine.cpu.sysregs)."""
    pa_bits: int = PS_BITS[_field(sysregs.ID_AA64MMFR0_EL1_VALUE, 0)]
    num_bps: int = _field(sysregs.ID_AA64DFR0_EL1_VALUE, 12)     # BRPs: breakpoints - 1
    num_wps: int = _field(sysregs.ID_AA64DFR0_EL1_VALUE, 20)     # WRPs: watchpoints - 1
    sve_vl: int | None = None          # max SVE VL as (VL/128)-1; None: no SVE
    hpmn0: bool = False                # FEAT_HPMN0
    vmid_bits: int = 16
    max_cpus: int = 16
    sro_contexts_per_cpu: int = 10
    seed: int = 0                      # realm instance IDs


def feature_registers(config):
    """RmiFeatureRegister0..4 as TF-RMM reports them (digest 4.4): no LPA2, PMU, DA, planes or
    MEC."""
    reg0 = RmiFeatureRegister0.encode(
        s2sz=config.pa_bits, lpa2=0, sve_en=int(config.sve_vl is not None),
        sve_vl=config.sve_vl or 0, num_bps=config.num_bps, num_wps=config.num_wps,
        pmu_en=0, pmu_num_ctrs=0)
    reg1 = RmiFeatureRegister1.encode(
        rmi_gran_sz_4k=1, hash_sha_256=1, hash_sha_384=0, hash_sha_512=1,
        max_recs_order=MAX_RECS_ORDER, l0gptsz=0, pps=PPS_ENCODING.get(config.pa_bits, 5))
    return [reg0, reg1, 0, 0, 0]


# --- commands ------------------------------------------------------------------------------------

def version(rmm, requested):
    # Only 2.0 is implemented: no negotiation, both outputs are 2.0 (digest 5.1).
    status = Status.SUCCESS if requested == RMI_ABI_VERSION else Status.ERROR_INPUT
    return status, RMI_ABI_VERSION, RMI_ABI_VERSION


def features(rmm, index):
    return Status.SUCCESS, rmm.features[index] if index < len(rmm.features) else 0


def rmm_config_get(rmm, config_addr):
    if config_addr == 0 or config_addr % GRANULE_SIZE:
        return (Status.ERROR_INPUT,)
    value = dict(tracking_region_size=0, rmi_granule_size=0)
    if not write_ns_struct(rmm, config_addr, RmiRmmConfig, value):
        return (Status.ERROR_INPUT,)
    rmm.note("config", value)
    return (Status.SUCCESS,)


def rmm_config_set(rmm, config_addr):
    if config_addr == 0 or config_addr % GRANULE_SIZE:
        return (Status.ERROR_INPUT,)
    config = read_ns_struct(rmm, config_addr, RmiRmmConfig, "config")
    if config is None:
        return (Status.ERROR_INPUT,)
    # Only 4 KB granules with 1 GB tracking regions (digest 4.5, 10.4)
    if config.rmi_granule_size != 0 or config.tracking_region_size != 0:
        return (Status.ERROR_INPUT,)
    return (Status.SUCCESS,)


def rmm_activate(rmm):
    rmm.state = RmmState.ACTIVE
    return (Status.SUCCESS,)


def granule_tracking_get(rmm, base, top):
    max_pa = (1 << rmm.config.pa_bits) - 1
    if base > max_pa or top > max_pa or base > top or top - base < GRANULE_SIZE:
        return (Status.ERROR_INPUT,)
    if base % GRANULE_SIZE or top % GRANULE_SIZE:
        return (Status.ERROR_INPUT,)
    # Classified by base only, for the whole range (digest 10.2); no device-memory banks.
    if rmm.granules.tracked(base):
        return Status.SUCCESS, MemCategory.CONVENTIONAL, TrackingRegionState.FINE, top
    return Status.SUCCESS, MemCategory.CONVENTIONAL, TrackingRegionState.NONE, top


def gpt_l1_create(rmm, addr):
    if addr % L0GPT_SIZE:
        return (Status.ERROR_INPUT,)
    return (Status.ERROR_GPT,)         # the GPT L1 tables are static: "already exists"


HANDLERS = {
    "VERSION": version,
    "FEATURES": features,
    "RMM_CONFIG_GET": rmm_config_get,
    "RMM_CONFIG_SET": rmm_config_set,
    "RMM_ACTIVATE": rmm_activate,
    "GRANULE_TRACKING_GET": granule_tracking_get,
    "GPT_L1_CREATE": gpt_l1_create,
}
