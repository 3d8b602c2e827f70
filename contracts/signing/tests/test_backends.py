"""The same behaviour, checked for every backend: memory, local file and PKCS#11 (SoftHSM2)."""

import copy
import hashlib
import re

import pytest
from cryptography.hazmat.primitives import serialization

from contracts.signing.base import KEY_SIZE, SigningError, key_id_for, load_public_key, verify

PAYLOAD = b'{"amount":"1200.00","currency":"CNY","number":"C-2025-0001","version":1}'


def test_signature_verifies_with_public_pem_only(backend):
    signature = backend.sign(PAYLOAD)

    assert verify(backend.public_key_pem(), PAYLOAD, signature)


def test_modified_message_fails(backend):
    signature = backend.sign(PAYLOAD)

    assert not verify(backend.public_key_pem(), PAYLOAD.replace(b"1200.00", b"1200.01"), signature)
    assert not verify(backend.public_key_pem(), PAYLOAD, signature[:-1] + bytes([signature[-1] ^ 1]))


def test_key_is_rsa_3072(backend):
    public_key = backend.public_key()

    assert public_key.key_size == KEY_SIZE
    assert len(backend.sign(PAYLOAD)) == KEY_SIZE // 8


def test_key_id_is_sha256_of_der_public_key(backend):
    der = backend.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    key_id = backend.key_id()

    assert re.fullmatch(r"sha256:[0-9a-f]{64}", key_id)
    assert key_id == "sha256:" + hashlib.sha256(der).hexdigest()
    assert key_id == key_id_for(load_public_key(backend.public_key_pem()))


def test_key_id_is_stable(backend):
    assert backend.key_id() == backend.key_id()
    assert backend.with_key(backend.key_id()).key_id() == backend.key_id()
    assert backend.key_id() in backend.key_ids()


def test_public_key_pem_is_spki(backend):
    assert backend.public_key_pem().startswith(b"-----BEGIN PUBLIC KEY-----\n")


def test_signature_for_carries_what_verifies_it(backend):
    result = backend.signature_for(PAYLOAD)

    assert result.key_id == backend.key_id()
    assert result.public_key_pem == backend.public_key_pem()
    assert result.parameters == {
        "algorithm": "RSASSA-PSS",
        "hash": "SHA-256",
        "mgf": "MGF1-SHA-256",
        "salt_length": 32,
    }
    assert verify(result.public_key_pem, PAYLOAD, result.signature)


def test_openssl_verifies_signature(backend, openssl_verify):
    signature = backend.sign(PAYLOAD)

    verified, output = openssl_verify(backend.public_key_pem(), PAYLOAD, signature)
    assert verified, output
    assert output == "Verified OK"

    verified, output = openssl_verify(backend.public_key_pem(), PAYLOAD + b" ", signature)
    assert not verified
    assert "Verification failure" in output


def test_generate_key_makes_it_current(backend):
    old_key_id = backend.key_id()
    rotated = copy.copy(backend)

    public_key = rotated.generate_key(label="crm-test-rotated")

    new_key_id = key_id_for(public_key)
    assert new_key_id != old_key_id
    assert rotated.key_id() == new_key_id
    assert verify(rotated.public_key_pem(), PAYLOAD, rotated.sign(PAYLOAD))
    assert {old_key_id, new_key_id} <= set(rotated.key_ids())
    assert backend.key_id() == old_key_id
    assert rotated.with_key(old_key_id).key_id() == old_key_id


def test_with_unknown_key_fails(backend):
    with pytest.raises(SigningError, match="sha256:0{64}"):
        backend.with_key("sha256:" + "0" * 64)


def test_sign_refuses_text(backend):
    with pytest.raises(TypeError, match="bytes"):
        backend.sign(PAYLOAD.decode())
