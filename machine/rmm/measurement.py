"""The Realm Initial Measurement, bit for bit as TF-RMM computes it
(TF-RMM `app/attestation/rmm_stub/src/rim.c`, `lib/measurement`; digest 4.12,
rsi-measurement-attestation.md 3).

Pure functions over the abi structures, so that the offline `fvp-rme measure` tool computes
the same RIM as the engine:

    rim = rim_init(params)                       # RMI_REALM_CREATE
    rim = extend_data(rim, alg, ipa, flags, page) # RMI_RTT_DATA_MAP_INIT
    rim = extend_rec(rim, alg, rec_params)        # RMI_REC_CREATE of a RUNNABLE REC

A RIM is the digest (32, 48 or 64 bytes); descriptors embed it zero-padded to 64 bytes. Every
extension is "RIM := H(256-byte descriptor that contains the previous RIM)".
RMI_RTT_INIT_RIPAS and RMI_RTT_DATA_MAP do not change the RIM in RMI 2.0.
"""

import hashlib

from .abi import (
    MEASURE_DESC_SIZE,
    MEASURE_DESC_TYPE_DATA,
    MEASURE_DESC_TYPE_REC,
    MEASUREMENT_SLOT_SIZE,
    REALM_PARAMS_MEASURED,
    REC_PARAMS_MEASURED,
    RMI_MEASURE_CONTENT,
    HashAlgorithm,
    RmiRealmParams,
    RmiRecCreateFlags,
    RmiRecParams,
    RmmMeasurementDescriptorData,
    RmmMeasurementDescriptorRec,
)

HASH_NAMES = {HashAlgorithm.SHA_256: "sha256", HashAlgorithm.SHA_384: "sha384",
              HashAlgorithm.SHA_512: "sha512"}


def digest(algorithm, data):
    return hashlib.new(HASH_NAMES[HashAlgorithm(algorithm)], data).digest()


def _slot(value):
    """A measurement value left-aligned in a 64-byte field."""
    return bytes(value).ljust(MEASUREMENT_SLOT_SIZE, b"\0")


def measured_realm_params(params):
    """The 4096-byte RmiRealmParams image REALM_CREATE hashes: only the measured fields, every
    other byte zero. `params` is a mapping with (at least) the measured fields."""
    return RmiRealmParams.build({name: params[name] for name in REALM_PARAMS_MEASURED})


def rim_init(params):
    """RIM after RMI_REALM_CREATE with these RmiRealmParams (uses params['algorithm'])."""
    return digest(params["algorithm"], measured_realm_params(params))


def extend_data(rim, algorithm, ipa, flags, content=None):
    """RIM after RMI_RTT_DATA_MAP_INIT of one granule at `ipa`; `content` (4096 bytes) is
    hashed into the descriptor only when flags == RMI_MEASURE_CONTENT."""
    measured = digest(algorithm, content) if flags == RMI_MEASURE_CONTENT else b""
    desc = RmmMeasurementDescriptorData.build(dict(
        desc_type=MEASURE_DESC_TYPE_DATA, len=MEASURE_DESC_SIZE, rim=_slot(rim), ipa=ipa,
        flags=flags, content=_slot(measured)))
    return digest(algorithm, desc)


def measured_rec_params(params):
    """The 4096-byte RmiRecParams image REC_CREATE hashes (mpidr zeroed)."""
    return RmiRecParams.build({name: params[name] for name in REC_PARAMS_MEASURED})


def rec_is_measured(params):
    return bool(RmiRecCreateFlags.get(params["flags"], "runnable"))


def extend_rec(rim, algorithm, params):
    """RIM after RMI_REC_CREATE with these RmiRecParams; unchanged for a REC that is not
    RUNNABLE (digest 4.12 step 3)."""
    if not rec_is_measured(params):
        return rim
    desc = RmmMeasurementDescriptorRec.build(dict(
        desc_type=MEASURE_DESC_TYPE_REC, len=MEASURE_DESC_SIZE, rim=_slot(rim),
        content=_slot(digest(algorithm, measured_rec_params(params)))))
    return digest(algorithm, desc)
