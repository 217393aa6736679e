"""`fvp-rme inspect TOKEN`: a CCA token is decoded, its claims listed, both signatures and the
platform token's binding to the realm key verified; a tampered token does not verify."""

import types

from machine.images.inspect import inspect_file
from machine.rmm import attestation
from machine.rmm.abi import HashAlgorithm, MecPolicy


def token_bytes():
    realm = types.SimpleNamespace(instance_id=7, rpv=b"\x11" * 64,
                                  algorithm=HashAlgorithm.SHA_256,
                                  mec_policy=MecPolicy.SHARED, rim=b"\x22" * 32,
                                  rems=[b"\x00" * 32] * 4)
    return attestation.cca_token(attestation.realm_claims(realm, b"\x33" * 64))


def test_token_is_decoded_and_verified(tmp_path):
    path = tmp_path / "token.cbor"
    path.write_bytes(token_bytes())
    info = inspect_file(path)
    assert info["kind"] == "CCA token" and info["verified"] is True
    assert info["claims"]["challenge"] == "33" * 64
    assert info["claims"]["RIM"] == "22" * 32
    assert info["claims"]["profile"] == "tag:arm.com,2024:realm#2.0.0"


def test_tampered_token_does_not_verify(tmp_path):
    data = bytearray(token_bytes())
    data[data.index(b"\x22" * 32)] ^= 1                  # flip a bit of the RIM
    path = tmp_path / "token.cbor"
    path.write_bytes(bytes(data))
    info = inspect_file(path)
    assert info["verified"] is False and info["checks"]["realm signature"] is False
    assert info["checks"]["platform signature"] is True
