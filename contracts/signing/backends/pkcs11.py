"""A backend that signs on a PKCS#11 token (an HSM; SoftHSM2 in tests); the private key never leaves it.

Options:
- `module`: path of the PKCS#11 library (`/usr/lib/softhsm/libsofthsm2.so`).
- `token_label`: the label of the token.
- `pin_env`: the environment variable holding the user PIN (default `SIGNING_PKCS11_PIN`).
- `key_label`: the label of the key to sign with; optional when the token holds one RSA key.

Signing uses CKM_SHA256_RSA_PKCS_PSS, so the token hashes the data itself. Keys made by
`generate_key()` are RSA-3072, on the token, sign-only, sensitive and not extractable.

A PKCS#11 library is loaded once per process and C_Login is per token for the whole
application, not per session, so the library is cached here and sessions that log in
are serialised by one lock.
"""

import os
import secrets
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pkcs11
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from pkcs11 import MGF, Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.exceptions import (
    AttributeTypeInvalid,
    MultipleTokensReturned,
    NoSuchToken,
    PinIncorrect,
    PinLocked,
    PKCS11Error,
)

from contracts.signing.base import (
    KEY_SIZE,
    MIN_KEY_SIZE,
    SALT_LENGTH,
    SigningBackend,
    SigningError,
    key_id_for,
    require_bytes,
)

SIGN_MECHANISM = Mechanism.SHA256_RSA_PKCS_PSS
# CK_RSA_PKCS_PSS_PARAMS as python-pkcs11 takes it: (hashAlg, mgf, sLen).
SIGN_MECHANISM_PARAM = (Mechanism.SHA256, MGF.SHA256, SALT_LENGTH)

_libraries: dict[str, tuple[object, int]] = {}
_libraries_lock = threading.Lock()
_session_lock = threading.RLock()


def load_library(module: str):
    """The loaded PKCS#11 library for `module`, initialised once per process."""
    with _libraries_lock:
        entry = _libraries.get(module)
        if entry is not None:
            library, pid = entry
            if pid != os.getpid():
                # A forked child inherits an initialised library it must not use: start it again.
                library.reinitialize()
                _libraries[module] = (library, os.getpid())
            return library
        if not Path(module).is_file():
            raise SigningError(f"PKCS#11 module {module} does not exist.")
        try:
            library = pkcs11.lib(module)
        except PKCS11Error as exc:
            raise SigningError(f"Cannot load PKCS#11 module {module}: {exc}") from exc
        _libraries[module] = (library, os.getpid())
        return library


def rsa_public_key_of(key) -> rsa.RSAPublicKey:
    """The public half of an RSA key object on the token, from its public attributes."""
    modulus = int.from_bytes(key[Attribute.MODULUS], "big")
    exponent = int.from_bytes(key[Attribute.PUBLIC_EXPONENT], "big")
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


class Pkcs11Backend(SigningBackend):
    def __init__(
        self,
        alias: str = "default",
        *,
        module: str | None = None,
        token_label: str | None = None,
        pin_env: str = "SIGNING_PKCS11_PIN",
        key_label: str | None = None,
        **options,
    ):
        super().__init__(alias, **options)
        if not module or not token_label or not pin_env:
            raise ImproperlyConfigured(
                f"Signing backend {alias!r}: the options module, token_label and pin_env are required."
            )
        if not Path(module).is_file():
            raise ImproperlyConfigured(f"Signing backend {alias!r}: PKCS#11 module {module} does not exist.")
        self.module = str(module)
        self.token_label = token_label
        self.pin_env = pin_env
        self.key_label = key_label
        self._key_id: str | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} alias={self.alias!r} token={self.token_label!r}>"

    def public_key(self) -> rsa.RSAPublicKey:
        with self._session() as session:
            return self._public_key(session, self._private_key(session))

    def sign(self, data: bytes) -> bytes:
        data = require_bytes(data)
        with self._session() as session:
            private_key = self._private_key(session)
            self._public_key(session, private_key)  # refuses keys below the minimum size
            return private_key.sign(data, mechanism=SIGN_MECHANISM, mechanism_param=SIGN_MECHANISM_PARAM)

    def key_ids(self) -> list[str]:
        with self._session() as session:
            return sorted(key_id for key_id, _key in self._keys_by_id(session))

    def _select(self, key_id: str) -> None:
        with self._session() as session:
            if not any(found == key_id for found, _key in self._keys_by_id(session)):
                raise SigningError(f"PKCS#11 token {self.token_label!r} holds no key {key_id}.")
        self._key_id = key_id

    def generate_key(self, *, label: str | None = None) -> rsa.RSAPublicKey:
        """Generate an RSA-3072 key pair on the token under `label` and make it the current key."""
        label = label or f"crm-signing-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        with self._session(rw=True) as session:
            if list(session.get_objects({Attribute.LABEL: label})):
                raise SigningError(f"PKCS#11 token {self.token_label!r} already holds an object labelled {label!r}.")
            _public, private_key = session.generate_keypair(
                KeyType.RSA,
                KEY_SIZE,
                id=secrets.token_bytes(16),
                label=label,
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                public_template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.VERIFY: True,
                    Attribute.ENCRYPT: False,
                    Attribute.WRAP: False,
                },
                private_template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SIGN: True,
                    Attribute.DECRYPT: False,
                    Attribute.UNWRAP: False,
                    Attribute.DERIVE: False,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                },
            )
            public_key = self._public_key(session, private_key)
        self._key_id = key_id_for(public_key)
        self.key_label = label
        return public_key

    # -- token access --------------------------------------------------------------------

    @contextmanager
    def _session(self, *, rw: bool = False):
        pin = os.environ.get(self.pin_env, "")
        if not pin:
            raise SigningError(f"Set ${self.pin_env} to the user PIN of PKCS#11 token {self.token_label!r}.")
        with _session_lock:
            library = load_library(self.module)
            try:
                token = library.get_token(token_label=self.token_label)
                session = token.open(rw=rw, user_pin=pin)
            except NoSuchToken:
                raise SigningError(f"No PKCS#11 token labelled {self.token_label!r} in {self.module}.") from None
            except MultipleTokensReturned:
                raise SigningError(f"Several PKCS#11 tokens are labelled {self.token_label!r}.") from None
            except PinIncorrect:
                raise SigningError(f"Wrong PIN in ${self.pin_env} for PKCS#11 token {self.token_label!r}.") from None
            except PinLocked:
                raise SigningError(f"The user PIN of PKCS#11 token {self.token_label!r} is locked.") from None
            except PKCS11Error as exc:
                raise SigningError(self._describe(exc)) from exc
            try:
                yield session
            except PKCS11Error as exc:
                raise SigningError(self._describe(exc)) from exc
            finally:
                session.close()

    def _describe(self, exc: PKCS11Error) -> str:
        detail = f": {exc}" if str(exc) else ""
        return f"PKCS#11 token {self.token_label!r} failed with {type(exc).__name__}{detail}."

    def _private_keys(self, session) -> list:
        # list(): a search must be finished before the session does anything else.
        return list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.RSA}))

    def _keys_by_id(self, session) -> list[tuple[str, object]]:
        return [(key_id_for(self._public_key(session, key)), key) for key in self._private_keys(session)]

    def _private_key(self, session):
        if self._key_id is not None:
            for key_id, key in self._keys_by_id(session):
                if key_id == self._key_id:
                    return key
            raise SigningError(f"PKCS#11 token {self.token_label!r} holds no key {self._key_id}.")
        if self.key_label is not None:
            keys = list(
                session.get_objects(
                    {
                        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                        Attribute.KEY_TYPE: KeyType.RSA,
                        Attribute.LABEL: self.key_label,
                    }
                )
            )
            what = f"RSA private key labelled {self.key_label!r}"
        else:
            keys = self._private_keys(session)
            what = "RSA private key"
        if not keys:
            raise SigningError(f"PKCS#11 token {self.token_label!r} holds no {what}; generate one first.")
        if len(keys) > 1:
            raise SigningError(
                f"PKCS#11 token {self.token_label!r} holds {len(keys)} keys matching; set key_label "
                f"of backend {self.alias!r}."
            )
        return keys[0]

    def _public_key(self, session, private_key) -> rsa.RSAPublicKey:
        try:
            public_key = rsa_public_key_of(private_key)
        except AttributeTypeInvalid:
            # Some tokens do not keep the public exponent on the private key: use its public twin.
            public_object = session.get_key(ObjectClass.PUBLIC_KEY, KeyType.RSA, id=private_key[Attribute.ID])
            public_key = rsa_public_key_of(public_object)
        if public_key.key_size < MIN_KEY_SIZE:
            raise SigningError(
                f"PKCS#11 key {private_key.label!r} has {public_key.key_size} bits; at least {MIN_KEY_SIZE}."
            )
        return public_key
