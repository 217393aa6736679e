"""The RIM after known sequences, against values computed here with hashlib from the byte layouts
of the digests (rmi-v2-host-abi.md 4.12, rsi-measurement-attestation.md 3.3-3.5) and against
the example vectors of rsi-measurement-attestation.md 3.7. measurement.py is not used for the
expectations."""

import hashlib
import struct

import pytest
from rmm_testbed import G, Host

from machine.rmm import measurement
from machine.rmm.abi import Fid, RmiRecParams, Status

ALGORITHMS = {"sha256": 0, "sha512": 1, "sha384": 2}

# rsi-measurement-attestation.md 3.7: flags0 0, s2sz 40, sve_vl 0, num_bps 2, num_wps 2,
# pmu_num_ctrs 0; R1 = + DATA(0x80000000, flags 1, zero page); R2 = + DATA(0x80001000, flags 0);
# R3 = + REC(flags 1, pc 0x80000000, gprs[0] 0x88000000)
VECTORS = {
    "sha256": (
        "c6432314a3134b10332ee413fefc89f5d90fb64502ce7ed083158b77e1d6c9f3",
        "4b679c4f4e0791ed3ee2fea65158fdd694a805080cb94f5f1e266c534ee007b4",
        "8110d46b6a3cf5ce755fb0f181366235bc0fd08f4d11ea7784b24e1cf5df1fb0",
        "96f81c2a51ef4c524f20e5a2342626809869fd3b5023f5c5cf8309b1f6656dcd"),
    "sha384": (
        "897717c36efac2fb50d31710d3507e1db57bd692dfcb8fc6cedcf62ae6606cb6ff93ea6cdcfb0d5be1c88e"
        "113382ad75",
        "8393f90b3d0cf88781d73eb65b9755271d940190e1bea566f51b4ae53027fb3406f3a702501e0209df0aeb"
        "97b0d2dd5c",
        "61a49d42194d7d7112e86cf141669f407dd6740f5dd7f9f812a8a3c425b5086f6e9b41964b13f2034e4554"
        "45ded8e5ef",
        "46d41d85c7e3d21a7cdf75d7cb18ed84644707c2e83e6f52b0c70fdc87ce32072f9d7d0d069b9d00aee101"
        "4356ef1d6f"),
    "sha512": (
        "cd78f31dbd32dbaf61084921571e2c0ec6c171d6def9b57667491d688a6e2439661522dc9a2ac1c4425a80"
        "75b0cf5eacbe1db6c9b9559cf3cf827ec3886e31c2",
        "c4cd8edaef8479bd8d77de55d636e1ff758d9714986d206914d14d33e0606f030d1b8a0e2b69bdd79dd628"
        "48d2419c175e3ff781fd8ff2c8b7ee8c5fe6e5a31c",
        "e97168341990cc315f2ac00c2c4380e7dbd78e0cef8cbdc85945f1d18ce35f3c6cbde26e22b36840c5609a"
        "188be8442444d0ca6e9e7bcf34b0e465a77602a5a9",
        "61c93a5363b0c333ef22c524f5eac2d1d8c199aa05f6cf4b77c5f3ce20dd6cec8c13cf21f3e999c1d23ca9"
        "ba63071749f0350b14ec060b9aa1ef7e9d60e5bdb9"),
}
EXTRA_SHA256_AA = "a6432141296c9238b124a2f3306a1827443275074ddb512ad905ba1f17956fb1"


# --- the expectation, from the byte layouts -----------------------------------------------------

def h(alg, data):
    return hashlib.new(alg, data).digest()


def expected_r0(alg, flags0=0, s2sz=40, sve_vl=0, num_bps=2, num_wps=2, pmu_num_ctrs=0):
    image = bytearray(4096)
    struct.pack_into("<Q", image, 0x00, flags0)
    struct.pack_into("<I", image, 0x08, s2sz)
    struct.pack_into("<I", image, 0x10, sve_vl)
    struct.pack_into("<I", image, 0x18, num_bps)
    struct.pack_into("<I", image, 0x20, num_wps)
    struct.pack_into("<I", image, 0x28, pmu_num_ctrs)
    image[0x30] = ALGORITHMS[alg]
    return h(alg, bytes(image))


def expected_data(alg, rim, ipa, flags, content):
    d = bytearray(256)
    d[0] = 0
    struct.pack_into("<Q", d, 0x08, 0x100)
    d[0x10:0x10 + len(rim)] = rim
    struct.pack_into("<QQ", d, 0x50, ipa, flags)
    if flags == 1:
        content_hash = h(alg, content)
        d[0x60:0x60 + len(content_hash)] = content_hash
    return h(alg, bytes(d))


def expected_rec(alg, rim, flags, pc, gprs):
    params = bytearray(4096)
    struct.pack_into("<Q", params, 0x000, flags)
    struct.pack_into("<Q", params, 0x200, pc)
    struct.pack_into("<8Q", params, 0x300, *gprs)
    d = bytearray(256)
    d[0] = 1
    struct.pack_into("<Q", d, 0x08, 0x100)
    d[0x10:0x10 + len(rim)] = rim
    params_hash = h(alg, bytes(params))
    d[0x50:0x50 + len(params_hash)] = params_hash
    return h(alg, bytes(d))


# --- the engine ----------------------------------------------------------------------------------

def new_realm(host, alg, **fields):
    host.boot()
    p = dict(num_bps=2, num_wps=2, algorithm=ALGORITHMS[alg])
    p.update(fields)
    rd, _ = host.realm_create(**p)
    for level in (2, 3):
        assert host.status(Fid.RTT_CREATE, rd, host.delegated(), 0x8000_0000, level) == 0
    return rd


def data_map_init(host, rd, ipa, flags, content):
    src = host.alloc()
    host.platform.ns_write(src, content)
    assert host.status(Fid.RTT_DATA_MAP_INIT, rd, host.delegated(), ipa, src, flags) == 0


@pytest.mark.parametrize("alg", ["sha256", "sha384", "sha512"])
def test_rim_sequence(alg):
    host = Host()
    rd = new_realm(host, alg)
    realm = host.rmm.realms[rd]
    r0 = expected_r0(alg)
    assert realm.rim == r0
    data_map_init(host, rd, 0x8000_0000, 1, bytes(G))
    r1 = expected_data(alg, r0, 0x8000_0000, 1, bytes(G))
    assert realm.rim == r1
    data_map_init(host, rd, 0x8000_1000, 0, b"\x77" * G)      # content not measured
    r2 = expected_data(alg, r1, 0x8000_1000, 0, None)
    assert realm.rim == r2
    gprs = [0x8800_0000] + [0] * 7
    _, status = host.rec_create(rd, flags=1, mpidr=0, pc=0x8000_0000, gprs=gprs)
    assert status == Status.SUCCESS
    r3 = expected_rec(alg, r2, 1, 0x8000_0000, gprs)
    assert realm.rim == r3
    assert [r.hex() for r in (r0, r1, r2, r3)] == list(VECTORS[alg])


def test_extra_vector_and_pure_functions():
    host = Host()
    rd = new_realm(host, "sha256")
    data_map_init(host, rd, 0x8000_0000, 1, b"\xaa" * G)
    assert host.rmm.realms[rd].rim.hex() == EXTRA_SHA256_AA
    # the offline API gives the same value
    params = dict(flags0=0, s2sz=40, sve_vl=0, num_bps=2, num_wps=2, pmu_num_ctrs=0,
                  algorithm=0)
    rim = measurement.extend_data(measurement.rim_init(params), 0, 0x8000_0000, 1, b"\xaa" * G)
    assert rim.hex() == EXTRA_SHA256_AA


def test_what_is_not_measured():
    host = Host()
    rd = new_realm(host, "sha256", flags0=1 << 40, rpv=b"\x11" * 64)   # unknown flags0 bits
    realm = host.rmm.realms[rd]
    r0 = expected_r0("sha256", flags0=1 << 40)
    assert realm.rim == r0                              # flags0 measured whole, rpv not
    # INIT_RIPAS, DATA_MAP and ACTIVATE do not extend the RIM
    assert host.call(Fid.RTT_INIT_RIPAS, rd, 0x8000_0000, 0x8000_4000)[:2] == [0, 0x8000_4000]
    out = host.call(Fid.RTT_DATA_MAP, rd, 0x8000_4000, 0x8000_6000, 1,
                    (host.delegated(2) | (2 << 2)))
    assert out[:2] == [0, 0x8000_6000]
    assert realm.rim == r0
    # a REC that is not RUNNABLE is not measured; the mpidr of a measured one is not either
    _, status = host.rec_create(rd, flags=0, mpidr=0, pc=0x1234)
    assert status == Status.SUCCESS and realm.rim == r0
    _, status = host.rec_create(rd, flags=1, mpidr=1, pc=0x8000_0000)
    assert status == Status.SUCCESS
    assert realm.rim == expected_rec("sha256", r0, 1, 0x8000_0000, [0] * 8)
    assert host.status(Fid.REALM_ACTIVATE, rd) == 0
    assert realm.rim == expected_rec("sha256", r0, 1, 0x8000_0000, [0] * 8)


def test_measured_param_images_use_abi_layout():
    image = measurement.measured_rec_params(
        RmiRecParams.parse(RmiRecParams.build(dict(flags=1, mpidr=0x0101, pc=5, gprs=[7] * 8))))
    assert image[0x100:0x108] == bytes(8)                 # mpidr zeroed
    assert struct.unpack_from("<Q", image, 0x200)[0] == 5
