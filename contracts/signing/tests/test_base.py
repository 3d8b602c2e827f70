"""The pinned algorithm, key ids and verification that needs only the stored public key."""

import hashlib
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from contracts.signing import base
from contracts.signing.backends.memory import InMemoryBackend
from contracts.signing.base import SigningError, algorithm_parameters, key_id_for, verify


@pytest.fixture
def backend():
    return InMemoryBackend("base-tests", key_size=2048)


def test_algorithm_is_pinned():
    assert (base.ALGORITHM, base.HASH, base.MGF, base.SALT_LENGTH, base.KEY_SIZE) == (
        "RSASSA-PSS",
        "SHA-256",
        "MGF1-SHA-256",
        32,
        3072,
    )
    assert algorithm_parameters() == {
        "algorithm": "RSASSA-PSS",
        "hash": "SHA-256",
        "mgf": "MGF1-SHA-256",
        "salt_length": 32,
    }


def test_key_id_matches_openssl(backend, tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command line is not installed")
    (tmp_path / "pub.pem").write_bytes(backend.public_key_pem())

    der = subprocess.run(
        [openssl, "pkey", "-pubin", "-in", tmp_path / "pub.pem", "-outform", "DER"], capture_output=True, check=True
    ).stdout

    assert key_id_for(backend.public_key()) == "sha256:" + hashlib.sha256(der).hexdigest()


def test_verify_accepts_text_pem(backend):
    assert verify(backend.public_key_pem().decode(), b"data", backend.sign(b"data"))


def test_verify_rejects_another_salt_length():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = base.public_key_pem(private_key.public_key())
    longest_salt = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)

    assert verify(pem, b"data", base.sign_with_private_key(private_key, b"data"))
    assert not verify(pem, b"data", private_key.sign(b"data", longest_salt, hashes.SHA256()))


def test_verify_rejects_a_signature_by_another_key(backend):
    other = InMemoryBackend("base-tests-other", key_size=2048)

    assert not verify(backend.public_key_pem(), b"data", other.sign(b"data"))


def test_verify_rejects_garbage_signature(backend):
    assert not verify(backend.public_key_pem(), b"data", b"\x00" * 256)
    assert not verify(backend.public_key_pem(), b"data", b"")


def test_verify_raises_on_a_damaged_public_key():
    with pytest.raises(SigningError, match="not a valid PEM public key"):
        verify(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", b"data", b"sig")


def test_verify_raises_on_a_non_rsa_key():
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    with pytest.raises(SigningError, match="not an RSA key"):
        verify(pem, b"data", b"sig")


def test_verify_raises_on_a_weak_key():
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    with pytest.raises(SigningError, match="1024 bits; at least 2048"):
        verify(pem, b"data", b"sig")
