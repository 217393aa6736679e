"""Offline prediction of a realm's RIM (`fvp-rme measure`): replay, with the engine's own
measurement functions, the measured steps a host performs to build a realm from an image --
REALM_CREATE with the given parameters, DATA_MAP_INIT of every page of the image from its IPA
(content measured), REC_CREATE of the RECs (only RUNNABLE ones are measured)."""

from typing import NamedTuple

from .abi import GRANULE_SIZE, RMI_MEASURE_CONTENT, HashAlgorithm
from .measurement import extend_data, extend_rec, rim_init

ALGORITHMS = {"sha256": HashAlgorithm.SHA_256, "sha384": HashAlgorithm.SHA_384,
              "sha512": HashAlgorithm.SHA_512}


class Step(NamedTuple):
    what: str
    rim: bytes


class RealmLayout(NamedTuple):
    """How the host builds the realm: the image at `ipa`, `vcpus` RECs of which the first is
    RUNNABLE and starts at `entry` (default: `ipa`), and the measured RmiRealmParams."""

    ipa: int
    algorithm: str = "sha256"
    vcpus: int = 1
    entry: int | None = None
    s2sz: int = 40
    num_bps: int = 1
    num_wps: int = 1
    pmu_num_ctrs: int = 0
    sve_vl: int = 0
    flags0: int = 0


def predict_rim(image, layout):
    """(final RIM, the measured steps with the RIM after each) for `image` (bytes)."""
    if layout.algorithm not in ALGORITHMS:
        raise ValueError(f"unknown hash algorithm {layout.algorithm!r} "
                         f"({', '.join(ALGORITHMS)})")
    if layout.ipa % GRANULE_SIZE:
        raise ValueError(f"the IPA {layout.ipa:#x} is not 4 KB aligned")
    algorithm = ALGORITHMS[layout.algorithm]
    params = dict(flags0=layout.flags0, s2sz=layout.s2sz, sve_vl=layout.sve_vl,
                  num_bps=layout.num_bps, num_wps=layout.num_wps,
                  pmu_num_ctrs=layout.pmu_num_ctrs, algorithm=algorithm)
    rim = rim_init(params)
    steps = [Step("REALM_CREATE", rim)]
    for offset in range(0, max(len(image), 1), GRANULE_SIZE):
        page = bytes(image[offset:offset + GRANULE_SIZE]).ljust(GRANULE_SIZE, b"\0")
        ipa = layout.ipa + offset
        rim = extend_data(rim, algorithm, ipa, RMI_MEASURE_CONTENT, page)
        steps.append(Step(f"DATA_MAP_INIT {ipa:#x}", rim))
    entry = layout.ipa if layout.entry is None else layout.entry
    for index in range(layout.vcpus):
        runnable = index == 0
        rec = dict(flags=int(runnable), pc=entry if runnable else 0, gprs=[0] * 8)
        rim = extend_rec(rim, algorithm, rec)
        steps.append(Step(f"REC_CREATE {index}" + ("" if runnable else " (not runnable)"),
                          rim))
    return rim, steps
