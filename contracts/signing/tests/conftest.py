"""Fixtures for the signing tests: one signing backend of each kind, each with a real key.

The PKCS#11 backend runs against a fresh SoftHSM2 token in a temporary directory. SoftHSM
reads SOFTHSM2_CONF when the library is initialised and python-pkcs11 loads a library once
per process, so the token is made once per session, before the library is (re)initialised.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from contracts.signing.backends.local import LocalFileBackend
from contracts.signing.backends.memory import InMemoryBackend
from contracts.signing.loader import connect_signals

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "crm-test"
SO_PIN = "1234"
USER_PIN = "5678"
PIN_ENV = "CRM_TEST_SIGNING_PKCS11_PIN"
PASSPHRASE_ENV = "CRM_TEST_SIGNING_PASSPHRASE"
PASSPHRASE = "correct horse battery staple"

BACKEND_KINDS = ["memory", "local", "pkcs11"]


@pytest.fixture(scope="session", autouse=True)
def _signing_signals():
    connect_signals()


@pytest.fixture(scope="session")
def passphrase_env():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSPHRASE_ENV, PASSPHRASE)
        yield PASSPHRASE_ENV


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory):
    """A freshly initialised SoftHSM2 token; skips when SoftHSM2 is not installed."""
    softhsm_util = shutil.which("softhsm2-util")
    if softhsm_util is None:
        pytest.skip("softhsm2-util is not installed (Debian package softhsm2)")
    if not Path(SOFTHSM_MODULE).is_file():
        pytest.skip(f"the SoftHSM2 PKCS#11 module {SOFTHSM_MODULE} is missing")
    pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed")
    from contracts.signing.backends.pkcs11 import load_library

    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        patch.setenv(PIN_ENV, USER_PIN)
        subprocess.run(
            [
                softhsm_util,
                "--init-token",
                "--free",
                "--label",
                TOKEN_LABEL,
                "--so-pin",
                SO_PIN,
                "--pin",
                USER_PIN,
            ],
            check=True,
            capture_output=True,
        )
        # Initialise (again, if something loaded it before) now that the config and token exist.
        load_library(SOFTHSM_MODULE).reinitialize()
        yield {"module": SOFTHSM_MODULE, "token_label": TOKEN_LABEL, "pin_env": PIN_ENV}


@pytest.fixture(scope="session")
def softhsm_session(softhsm_token):
    """`softhsm_session()`: a logged-in read-only session on the test token, for inspecting objects."""
    from contracts.signing.backends.pkcs11 import load_library

    def open_session():
        token = load_library(SOFTHSM_MODULE).get_token(token_label=TOKEN_LABEL)
        return token.open(user_pin=USER_PIN)

    return open_session


@pytest.fixture(scope="session")
def memory_backend():
    return InMemoryBackend("signing-tests")


@pytest.fixture(scope="session")
def local_backend(tmp_path_factory, passphrase_env):
    backend = LocalFileBackend(
        "signing-tests", key_path=tmp_path_factory.mktemp("signing-keys"), passphrase_env=passphrase_env
    )
    backend.generate_key()
    return backend


@pytest.fixture(scope="session")
def pkcs11_backend(softhsm_token):
    from contracts.signing.backends.pkcs11 import Pkcs11Backend

    backend = Pkcs11Backend("signing-tests", key_label="crm-test-signing", **softhsm_token)
    backend.generate_key(label="crm-test-signing")
    return backend


@pytest.fixture(params=BACKEND_KINDS)
def backend(request):
    """Each kind of backend in turn, holding a 3072-bit key."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def openssl_verify(tmp_path):
    """`openssl_verify(public_key_pem, data, signature)` -> (verified, output), with openssl alone."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command line is not installed")

    def run(public_key_pem: bytes, data: bytes, signature: bytes) -> tuple[bool, str]:
        return _openssl_verify(openssl, tmp_path, public_key_pem, data, signature)

    return run


def _openssl_verify(openssl, directory: Path, public_key_pem, data, signature) -> tuple[bool, str]:
    (directory / "pub.pem").write_bytes(public_key_pem)
    (directory / "data.bin").write_bytes(data)
    (directory / "sig.bin").write_bytes(signature)
    result = subprocess.run(
        [
            openssl,
            "dgst",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-sigopt",
            "rsa_mgf1_md:sha256",
            "-verify",
            directory / "pub.pem",
            "-signature",
            directory / "sig.bin",
            directory / "data.bin",
        ],
        capture_output=True,
        text=True,
    )
    output = (result.stdout + result.stderr).strip()
    return result.returncode == 0 and "Verified OK" in output, output
