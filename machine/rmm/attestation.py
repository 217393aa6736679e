"""The CCA attestation token the model's RMM returns (rsi-measurement-attestation.md 5):
the CMW collection (tag 907) of the platform token and the realm token, each a COSE_Sign1
signed with ES384, claims in TF-RMM's order and types. CBOR through cbor2, keys and
signatures through cryptography.

The model's keys are derived from a seed (`set_seed`; a fixed default): the Realm Attestation
Key (RAK) signs the realm token, a model "CPAK" signs a synthetic platform token bound to the
RAK (its challenge claim is the RAK's hash) whose claims say it is a model (lifecycle
unknown). Both signatures verify; neither is evidence of a genuine platform.
"""

import hashlib

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .abi import HashAlgorithm, MecPolicy

ES384 = -35
COSE_SIGN1_TAG = 18
CMW_COLLECTION_TAG, CONTENT_FORMAT_EAT_CWT = 907, 263
CCA_TOKEN_BUFFER = 4096
REALM_PROFILE = "tag:arm.com,2024:realm#2.0.0"
PLATFORM_PROFILE = "tag:arm.com,2023:cca_platform#1.0.0"
HASH_ALGO_NAMES = {HashAlgorithm.SHA_256: "sha-256", HashAlgorithm.SHA_512: "sha-512",
                   HashAlgorithm.SHA_384: "sha-384"}
P384_ORDER = int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                 "581a0db248b0a77aecec196accc52973", 16)
DEFAULT_SEED = b"fvp-rme"


class SigningKey:
    """An ES384 key derived from `label`."""

    def __init__(self, label):
        scalar = int.from_bytes(hashlib.sha384(label).digest(), "big") % (P384_ORDER - 1) + 1
        self.private = ec.derive_private_key(scalar, ec.SECP384R1())
        self.public = self.private.public_key()

    def cose_key(self):
        """COSE_Key {kty: EC2, crv: P-384, x, y} (digest 5.3), as CBOR."""
        numbers = self.public.public_numbers()
        return cbor2.dumps({1: 2, -1: 2, -2: numbers.x.to_bytes(48, "big"),
                            -3: numbers.y.to_bytes(48, "big")})

    def sign(self, message):
        """ECDSA with SHA-384 as COSE wants it: r || s, 48 bytes each."""
        r, s = decode_dss_signature(self.private.sign(message, ec.ECDSA(hashes.SHA384())))
        return r.to_bytes(48, "big") + s.to_bytes(48, "big")


class Keys:
    def __init__(self, seed):
        self.rak = SigningKey(seed + b" realm attestation key")
        self.cpak = SigningKey(seed + b" platform attestation key")


KEYS = Keys(DEFAULT_SEED)


def set_seed(seed):
    """Derive the model's attestation keys from `seed` (`--attest-seed`)."""
    global KEYS
    KEYS = Keys(seed.encode() if isinstance(seed, str) else seed)


def cose_sign1(key, claims):
    protected = cbor2.dumps({1: ES384})
    payload = cbor2.dumps(claims)
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG,
                                     [protected, {}, payload, key.sign(to_sign)]))


def platform_token(keys):
    """The model's platform token (digest 5.5, 5.6 (a)), bound to the RAK."""
    model = hashlib.sha256(b"fvp-rme model platform").digest()
    return cose_sign1(keys.cpak, {
        265: PLATFORM_PROFILE,
        10: hashlib.sha256(keys.rak.cose_key()).digest(),
        2396: model,
        256: b"\x01" + hashlib.sha256(keys.cpak.cose_key()).digest(),
        2401: bytes(4),
        2395: 0,                                  # lifecycle unknown: not a secured platform
        2402: "sha-256",
        2399: [{1: "fvp-rme-model", 2: bytes(32), 5: model, 6: "sha-256"}],
    })


def realm_claims(realm, challenge):
    """The realm token's claims at TOKEN_INIT (digest 5.2), in TF-RMM's order."""
    instance = hashlib.sha256(realm.instance_id.to_bytes(8, "little")).digest()
    return {
        10: challenge,
        256: b"\x01" + instance,
        44235: bytes(realm.rpv).ljust(64, b"\0")[:64],
        44237: KEYS.rak.cose_key(),
        44236: HASH_ALGO_NAMES[realm.algorithm],
        44240: "sha-256",
        44243: int(realm.mec_policy == MecPolicy.PRIVATE),
        265: REALM_PROFILE,
        44238: bytes(realm.rim),
        44239: [bytes(r) for r in realm.rems],
    }


def cca_token(claims):
    """The CMW collection of the platform and realm tokens (digest 5.1, default form)."""
    return cbor2.dumps(cbor2.CBORTag(CMW_COLLECTION_TAG, {
        44234: [CONTENT_FORMAT_EAT_CWT, platform_token(KEYS)],
        44241: [CONTENT_FORMAT_EAT_CWT, cose_sign1(KEYS.rak, claims)]}))


def verify_sign1(cose_key, sign1):
    """Whether the ES384 COSE_Sign1 [protected, unprotected, payload, signature] verifies
    with the COSE_Key `cose_key` (bytes)."""
    try:
        key = cbor2.loads(cose_key)
        public = ec.EllipticCurvePublicNumbers(int.from_bytes(key[-2], "big"),
                                               int.from_bytes(key[-3], "big"),
                                               ec.SECP384R1()).public_key()
        protected, _unprotected, payload, signature = sign1
        der = encode_dss_signature(int.from_bytes(signature[:48], "big"),
                                   int.from_bytes(signature[48:], "big"))
        public.verify(der, cbor2.dumps(["Signature1", protected, b"", payload]),
                      ec.ECDSA(hashes.SHA384()))
        return True
    except (InvalidSignature, ValueError, KeyError, TypeError, cbor2.CBORDecodeError):
        return False
