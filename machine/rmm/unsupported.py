"""Planes and device assignment, which this RMM does not support: FEATURES reports
MAX_NUM_AUX_PLANES = 0, RTT_S2AP_INDIRECT = 0 and DA_EN = 0, and the commands answer as TF-RMM
does in that configuration (digest 2.2, 2.3):

* PSMMU commands: RMI_ERROR_NOT_SUPPORTED (TF-RMM checks DA_EN first);
* PDEV/VDEV commands: SMC_NOT_SUPPORTED (TF-RMM's is_rmi_feat_da_enabled() check);
* RTT_AUX_* commands: RD lookup, then ERROR_INPUT (no auxiliary RTT tree index is valid);
* RTT_SET_S2AP and RTT_DEV_VALIDATE: their argument checks, then ERROR_INPUT (no REC ever has
  a pending S2AP change or device-memory validation request);
* RTT_DEV_MAP: SRO reservation, RD lookup, then ERROR_INPUT (no granule is ever a VDEV);
* RTT_DEV_UNMAP is the generic unmap with nothing to unmap (rtt_map.py).
"""

from .abi import GRANULE_SIZE, SMC_NOT_SUPPORTED, Fid, Status
from .realm import find_realm
from .rtt import find_realm_and_rec
from .sro import run_sro

PSMMU = ("PSMMU_ACTIVATE", "PSMMU_DEACTIVATE", "PSMMU_ST_L2_CREATE", "PSMMU_ST_L2_DESTROY")
DEVICE_OBJECTS = tuple(f.name for f in Fid if f.name.startswith(("PDEV_", "VDEV_")))
RTT_AUX = tuple(f.name for f in Fid if f.name.startswith("RTT_AUX_"))


def not_supported(rmm, *args):
    return (Status.ERROR_NOT_SUPPORTED,)


def smc_not_supported(rmm, *args):
    return (SMC_NOT_SUPPORTED,)


def rtt_aux(rmm, rd_addr, *args):
    if find_realm(rmm, rd_addr) is None:
        return (Status.ERROR_INPUT,)
    return (Status.ERROR_INPUT,)       # num_aux_planes is 0: no aux tree index is valid


def _rec_request_range(rmm, rd_addr, rec_addr, base, top):
    """The checks RTT_SET_S2AP and RTT_DEV_VALIDATE share with RTT_SET_RIPAS; with no pending
    request the range never matches."""
    if top <= base or top % GRANULE_SIZE:
        return (Status.ERROR_INPUT,)
    found = find_realm_and_rec(rmm, rd_addr, rec_addr)
    if len(found) == 1:
        return found
    return (Status.ERROR_INPUT,)


def rtt_dev_map(rmm, rd_addr, vdev_addr, base, top, flags, oaddr):
    def body(ctx):
        if find_realm(rmm, rd_addr) is None:
            return (Status.ERROR_INPUT,)
        return (Status.ERROR_INPUT,)   # the VDEV lookup always fails

    return run_sro(rmm, body)


HANDLERS = {
    **{name: not_supported for name in PSMMU},
    **{name: smc_not_supported for name in DEVICE_OBJECTS},
    **{name: rtt_aux for name in RTT_AUX},
    "RTT_SET_S2AP": _rec_request_range,
    "RTT_DEV_VALIDATE": _rec_request_range,
    "RTT_DEV_MAP": rtt_dev_map,
}
