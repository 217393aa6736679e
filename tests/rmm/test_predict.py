"""The offline RIM prediction (`fvp-rme measure`) equals the RIM the engine computes when a
host builds the realm the same way."""

import os

import pytest
from rmm_testbed import RAM, G, Host

from machine.rmm.abi import Fid, Status
from machine.rmm.predict import RealmLayout, predict_rim


@pytest.mark.parametrize("algorithm,code", [("sha256", 0), ("sha512", 1)])
def test_prediction_equals_the_engines_rim(algorithm, code):
    image = os.urandom(3 * G + 100)                 # four pages, the last one partial
    host = Host()
    host.boot()
    rd, _ = host.realm_create(algorithm=code)
    l2, l3 = host.delegated(), host.delegated()
    assert host.call(Fid.RTT_CREATE, rd, l2, RAM, 2)[0] == 0
    assert host.call(Fid.RTT_CREATE, rd, l3, RAM, 3)[0] == 0
    for offset in range(0, len(image), G):
        src = host.alloc()
        host.platform.ns_write(src, image[offset:offset + G].ljust(G, b"\0"))
        data = host.delegated()
        assert host.call(Fid.RTT_DATA_MAP_INIT, rd, data, RAM + offset, src, 1)[0] == 0
    assert host.rec_create(rd, pc=RAM)[1] == Status.SUCCESS
    assert host.rec_create(rd, flags=0, mpidr=1)[1] == Status.SUCCESS     # not measured
    rim, steps = predict_rim(image, RealmLayout(ipa=RAM, algorithm=algorithm, vcpus=2))
    assert rim == host.rmm.realms[rd].rim
    assert [s.what for s in steps][:2] == ["REALM_CREATE", f"DATA_MAP_INIT {RAM:#x}"]
    assert steps[-1].rim == steps[-2].rim           # the second REC is not RUNNABLE


def test_bad_layouts_are_refused():
    with pytest.raises(ValueError, match="not 4 KB aligned"):
        predict_rim(b"x", RealmLayout(ipa=0x1001))
    with pytest.raises(ValueError, match="unknown hash"):
        predict_rim(b"x", RealmLayout(ipa=0, algorithm="md5"))
