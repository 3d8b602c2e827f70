"""A backend holding real RSA keys in process memory, for tests and `make run` (like locmem e-mail).

Keys live in a class-level cache per (alias, key size), so every instance built in one
process signs with the same key; they are gone when the process ends.
"""

import threading
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from contracts.signing.base import (
    KEY_SIZE,
    MIN_KEY_SIZE,
    SigningBackend,
    SigningError,
    generate_private_key,
    key_id_for,
    require_bytes,
    sign_with_private_key,
)


class InMemoryBackend(SigningBackend):
    """Options: `key_size` (bits, default 3072, never below 2048; smaller keys only speed up tests)."""

    ephemeral = True

    _keys: ClassVar[dict[tuple[str, int], dict[str, rsa.RSAPrivateKey]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, alias: str = "default", *, key_size: int = KEY_SIZE, **options):
        super().__init__(alias, **options)
        if not isinstance(key_size, int) or key_size < MIN_KEY_SIZE:
            raise ImproperlyConfigured(
                f"Signing backend {alias!r}: key_size must be an integer of at least {MIN_KEY_SIZE} bits."
            )
        self.key_size = key_size
        self._key_id: str | None = None

    def _store(self) -> dict[str, rsa.RSAPrivateKey]:
        return self._keys.setdefault((self.alias, self.key_size), {})

    def _private_key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            store = self._store()
            if self._key_id is None:
                if not store:
                    private_key = generate_private_key(self.key_size)
                    store[key_id_for(private_key.public_key())] = private_key
                self._key_id = next(iter(store))
            try:
                return store[self._key_id]
            except KeyError:
                raise SigningError(f"Signing backend {self.alias!r} holds no in-memory key {self._key_id}.") from None

    def public_key(self) -> rsa.RSAPublicKey:
        return self._private_key().public_key()

    def sign(self, data: bytes) -> bytes:
        return sign_with_private_key(self._private_key(), require_bytes(data))

    def generate_key(self, *, label: str | None = None) -> rsa.RSAPublicKey:
        private_key = generate_private_key(self.key_size)
        key_id = key_id_for(private_key.public_key())
        with self._lock:
            self._store()[key_id] = private_key
        self._key_id = key_id
        return private_key.public_key()

    def key_ids(self) -> list[str]:
        self._private_key()
        with self._lock:
            return list(self._store())

    def _select(self, key_id: str) -> None:
        with self._lock:
            if key_id not in self._store():
                raise SigningError(f"Signing backend {self.alias!r} holds no in-memory key {key_id}.")
        self._key_id = key_id
