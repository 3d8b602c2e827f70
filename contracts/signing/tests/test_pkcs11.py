"""The PKCS#11 backend against a fresh SoftHSM2 token (skipped, saying why, without SoftHSM2)."""

import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from contracts.signing.base import KEY_SIZE, SigningError, key_id_for, verify

pkcs11 = pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed")
from pkcs11 import Attribute, KeyType, ObjectClass  # noqa: E402

from contracts.signing.backends.pkcs11 import Pkcs11Backend  # noqa: E402


def private_key_labelled(session, label):
    return session.get_key(ObjectClass.PRIVATE_KEY, KeyType.RSA, label=label)


def test_generated_private_key_never_leaves_the_token(pkcs11_backend, softhsm_session):
    with softhsm_session() as session:
        private_key = private_key_labelled(session, pkcs11_backend.key_label)

        assert private_key[Attribute.EXTRACTABLE] is False
        assert private_key[Attribute.NEVER_EXTRACTABLE] is True
        assert private_key[Attribute.SENSITIVE] is True
        assert private_key[Attribute.ALWAYS_SENSITIVE] is True
        assert private_key[Attribute.TOKEN] is True
        assert private_key[Attribute.SIGN] is True
        assert private_key[Attribute.DECRYPT] is False
        assert private_key[Attribute.UNWRAP] is False
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            private_key[Attribute.PRIVATE_EXPONENT]


def test_generated_public_key_is_stored_with_the_private_key(pkcs11_backend, softhsm_session):
    with softhsm_session() as session:
        private_key = private_key_labelled(session, pkcs11_backend.key_label)
        public_key = session.get_key(ObjectClass.PUBLIC_KEY, KeyType.RSA, id=private_key[Attribute.ID])

        assert public_key[Attribute.MODULUS_BITS] == KEY_SIZE
        assert public_key[Attribute.TOKEN] is True
        assert public_key.label == pkcs11_backend.key_label


def test_key_label_picks_the_key(pkcs11_backend, softhsm_token):
    fresh = Pkcs11Backend("other", key_label=pkcs11_backend.key_label, **softhsm_token)

    assert fresh.key_id() == pkcs11_backend.key_id()


def test_several_keys_need_a_key_label(pkcs11_backend, softhsm_token):
    second = Pkcs11Backend("other", **softhsm_token)
    public_key = second.generate_key(label="crm-test-second")
    assert second.key_label == "crm-test-second"
    unlabelled = Pkcs11Backend("other", **softhsm_token)

    with pytest.raises(SigningError, match="set key_label"):
        unlabelled.sign(b"data")

    by_label = Pkcs11Backend("other", key_label="crm-test-second", **softhsm_token)
    assert by_label.key_id() == key_id_for(public_key)
    by_id = unlabelled.with_key(pkcs11_backend.key_id())
    assert verify(pkcs11_backend.public_key_pem(), b"data", by_id.sign(b"data"))


def test_generate_refuses_a_label_in_use(pkcs11_backend, softhsm_token):
    backend = Pkcs11Backend("other", **softhsm_token)

    with pytest.raises(SigningError, match="already holds an object labelled 'crm-test-signing'"):
        backend.generate_key(label=pkcs11_backend.key_label)


def test_wrong_pin_is_a_signing_error(softhsm_token, monkeypatch):
    monkeypatch.setenv(softhsm_token["pin_env"], "0000")
    backend = Pkcs11Backend("other", **softhsm_token)

    with pytest.raises(SigningError, match=f"Wrong PIN in \\${softhsm_token['pin_env']}"):
        backend.sign(b"data")


def test_missing_pin_is_a_signing_error(softhsm_token, monkeypatch):
    monkeypatch.delenv(softhsm_token["pin_env"])
    backend = Pkcs11Backend("other", **softhsm_token)

    with pytest.raises(SigningError, match="Set \\$CRM_TEST_SIGNING_PKCS11_PIN to the user PIN"):
        backend.public_key()


def test_unknown_token_is_a_signing_error(softhsm_token):
    backend = Pkcs11Backend("other", **{**softhsm_token, "token_label": "no-such-token"})

    with pytest.raises(SigningError, match="No PKCS#11 token labelled 'no-such-token'"):
        backend.sign(b"data")


def test_unknown_key_label_is_a_signing_error(softhsm_token):
    backend = Pkcs11Backend("other", key_label="no-such-key", **softhsm_token)

    with pytest.raises(SigningError, match="no RSA private key labelled 'no-such-key'"):
        backend.sign(b"data")


def test_missing_module_is_improperly_configured(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        Pkcs11Backend(module=str(tmp_path / "missing.so"), token_label="crm-test")


def test_required_options(softhsm_token):
    with pytest.raises(ImproperlyConfigured, match="module, token_label and pin_env are required"):
        Pkcs11Backend(module=softhsm_token["module"])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_signs_after_reinitialising(pkcs11_backend):
    pkcs11_backend.public_key()  # the library is initialised in the parent, as with gunicorn --preload
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write_end, pkcs11_backend.sign(b"from the child"))
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        signature = pipe.read()

    assert verify(pkcs11_backend.public_key_pem(), b"from the child", signature)
    assert verify(pkcs11_backend.public_key_pem(), b"parent", pkcs11_backend.sign(b"parent"))
