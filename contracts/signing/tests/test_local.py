"""The local file backend: encrypted PEM keys on disk, passphrase from the environment."""

import stat

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from contracts.signing.backends.local import LocalFileBackend, key_file_name
from contracts.signing.base import SigningError, generate_private_key, key_id_for, verify


@pytest.fixture(scope="module")
def private_key():
    return generate_private_key()


def write_key(path, private_key, passphrase=None):
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    path.write_bytes(
        private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return path


def test_generate_key_writes_encrypted_pem_named_by_key_id(tmp_path, passphrase_env):
    backend = LocalFileBackend(key_path=tmp_path / "keys", passphrase_env=passphrase_env)

    key_id = key_id_for(backend.generate_key())

    path = tmp_path / "keys" / key_file_name(key_id)
    assert path.name == key_id.replace("sha256:", "sha256-") + ".pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")


@override_settings(DEBUG=False)
def test_generated_key_loads_back_with_the_passphrase(tmp_path, passphrase_env):
    key_id = key_id_for(LocalFileBackend(key_path=tmp_path, passphrase_env=passphrase_env).generate_key())

    fresh = LocalFileBackend(key_path=tmp_path, passphrase_env=passphrase_env)

    assert fresh.key_id() == key_id
    assert verify(fresh.public_key_pem(), b"data", fresh.sign(b"data"))


def test_generate_key_needs_a_passphrase(tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_TEST_NO_PASSPHRASE", raising=False)
    backend = LocalFileBackend(key_path=tmp_path, passphrase_env="CRM_TEST_NO_PASSPHRASE")

    with pytest.raises(SigningError, match="Set \\$CRM_TEST_NO_PASSPHRASE"):
        backend.generate_key()
    assert list(tmp_path.iterdir()) == []


@override_settings(DEBUG=False)
def test_unencrypted_key_is_refused_without_debug(tmp_path, private_key, passphrase_env):
    key_file = write_key(tmp_path / "plain.pem", private_key)
    backend = LocalFileBackend(key_file=key_file, passphrase_env=passphrase_env)

    with pytest.raises(SigningError, match="is not encrypted; refusing it"):
        backend.sign(b"data")


@override_settings(DEBUG=True)
def test_unencrypted_key_is_accepted_in_debug(tmp_path, private_key, passphrase_env):
    key_file = write_key(tmp_path / "plain.pem", private_key)
    backend = LocalFileBackend(key_file=key_file, passphrase_env=passphrase_env)

    assert verify(backend.public_key_pem(), b"data", backend.sign(b"data"))


def test_wrong_passphrase_is_a_signing_error(tmp_path, private_key, passphrase_env):
    key_file = write_key(tmp_path / "key.pem", private_key, passphrase="another passphrase")
    backend = LocalFileBackend(key_file=key_file, passphrase_env=passphrase_env)

    with pytest.raises(SigningError, match="wrong passphrase in \\$CRM_TEST_SIGNING_PASSPHRASE"):
        backend.sign(b"data")


def test_missing_passphrase_is_a_signing_error(tmp_path, private_key, monkeypatch):
    monkeypatch.delenv("CRM_TEST_NO_PASSPHRASE", raising=False)
    key_file = write_key(tmp_path / "key.pem", private_key, passphrase="secret")
    backend = LocalFileBackend(key_file=key_file, passphrase_env="CRM_TEST_NO_PASSPHRASE")

    with pytest.raises(SigningError, match="Set \\$CRM_TEST_NO_PASSPHRASE .* to decrypt"):
        backend.public_key()


def test_missing_key_file_is_a_signing_error(tmp_path, passphrase_env):
    backend = LocalFileBackend(key_file=tmp_path / "missing.pem", passphrase_env=passphrase_env)

    with pytest.raises(SigningError, match="missing.pem does not exist"):
        backend.sign(b"data")


def test_not_a_key_is_a_signing_error(tmp_path, passphrase_env):
    key_file = tmp_path / "key.pem"
    key_file.write_text("not a key")
    backend = LocalFileBackend(key_file=key_file, passphrase_env=passphrase_env)

    with pytest.raises(SigningError, match="is not a PEM private key"):
        backend.sign(b"data")


def test_empty_key_directory_is_a_signing_error(tmp_path, passphrase_env):
    backend = LocalFileBackend(key_path=tmp_path, passphrase_env=passphrase_env)

    with pytest.raises(SigningError, match="No signing key in .*; generate one first"):
        backend.sign(b"data")


def test_several_keys_need_a_key_id(tmp_path, private_key, passphrase_env):
    key_id = key_id_for(private_key.public_key())
    write_key(tmp_path / key_file_name(key_id), private_key, passphrase="correct horse battery staple")
    LocalFileBackend(key_path=tmp_path, passphrase_env=passphrase_env).generate_key()

    with pytest.raises(SigningError, match="2 signing keys in .*; set the key_id option"):
        LocalFileBackend(key_path=tmp_path, passphrase_env=passphrase_env).sign(b"data")

    chosen = LocalFileBackend(key_path=tmp_path, key_id=key_id, passphrase_env=passphrase_env)
    assert chosen.key_id() == key_id
    assert len(chosen.key_ids()) == 2


def test_key_file_named_for_another_key_is_refused(tmp_path, private_key, passphrase_env):
    other_id = "sha256:" + "ab" * 32
    write_key(tmp_path / key_file_name(other_id), private_key, passphrase="correct horse battery staple")
    backend = LocalFileBackend(key_path=tmp_path, passphrase_env=passphrase_env)

    with pytest.raises(SigningError, match="holds another key than its name says"):
        backend.sign(b"data")


def test_generate_key_needs_a_key_directory(tmp_path, private_key, passphrase_env):
    key_file = write_key(tmp_path / "key.pem", private_key, passphrase="correct horse battery staple")

    with pytest.raises(SigningError, match="needs the key_path option"):
        LocalFileBackend(key_file=key_file, passphrase_env=passphrase_env).generate_key()


@pytest.mark.parametrize(
    "options",
    [{}, {"key_path": "/tmp/a", "key_file": "/tmp/b.pem"}, {"key_file": "/tmp/b.pem", "key_id": "sha256:00"}],
)
def test_options_are_checked(options):
    with pytest.raises(ImproperlyConfigured, match="Signing backend 'default'"):
        LocalFileBackend(**options)
