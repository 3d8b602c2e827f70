"""A backend that signs with an encrypted PKCS#8 PEM private key on disk.

Options:
- `key_path`: a directory of keys, one file per key named after its id
  (`sha256-<hex>.pem`); `key_id` picks one when there are several. `generate_key()` writes
  new keys here.
- `key_file`: alternatively, the path of a single key file.
- `passphrase_env`: the environment variable holding the passphrase
  (default `SIGNING_KEY_PASSPHRASE`). The passphrase itself never goes in settings.

An unencrypted key is refused unless DEBUG is on. Decrypted keys are kept in memory for
the life of the instance, so the passphrase is read once.
"""

import logging
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from contracts.signing.base import (
    KEY_ID_PREFIX,
    KEY_SIZE,
    SigningBackend,
    SigningError,
    check_private_key,
    generate_private_key,
    key_id_for,
    require_bytes,
    sign_with_private_key,
)

logger = logging.getLogger(__name__)

KEY_FILE_SUFFIX = ".pem"


def key_file_name(key_id: str) -> str:
    """`sha256:ab12…` -> `sha256-ab12….pem` (no colon, which some filesystems refuse)."""
    return key_id.replace(":", "-", 1) + KEY_FILE_SUFFIX


def key_id_from_file_name(name: str) -> str | None:
    stem = name.removesuffix(KEY_FILE_SUFFIX)
    prefix = KEY_ID_PREFIX.replace(":", "-")
    if name.endswith(KEY_FILE_SUFFIX) and stem.startswith(prefix):
        return KEY_ID_PREFIX + stem.removeprefix(prefix)
    return None


class LocalFileBackend(SigningBackend):
    def __init__(
        self,
        alias: str = "default",
        *,
        key_path: str | os.PathLike | None = None,
        key_file: str | os.PathLike | None = None,
        key_id: str | None = None,
        passphrase_env: str = "SIGNING_KEY_PASSPHRASE",
        **options,
    ):
        super().__init__(alias, **options)
        if (key_path is None) == (key_file is None):
            raise ImproperlyConfigured(
                f"Signing backend {alias!r}: set exactly one of the options key_path (a directory) or key_file."
            )
        if key_id is not None and key_path is None:
            raise ImproperlyConfigured(f"Signing backend {alias!r}: the key_id option needs key_path.")
        if not passphrase_env:
            raise ImproperlyConfigured(f"Signing backend {alias!r}: passphrase_env must name an environment variable.")
        self.key_path = Path(key_path) if key_path is not None else None
        self.key_file = Path(key_file) if key_file is not None else None
        self.passphrase_env = passphrase_env
        self._key_id = key_id
        # Shared with copies made by with_key(), so each file is decrypted once.
        self._loaded: dict[Path, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    def public_key(self) -> rsa.RSAPublicKey:
        return self._private_key().public_key()

    def sign(self, data: bytes) -> bytes:
        return sign_with_private_key(self._private_key(), require_bytes(data))

    def key_ids(self) -> list[str]:
        if self.key_path is None:
            return [self.key_id()]
        return sorted(key_id for key_id, _path in self._key_files())

    def _select(self, key_id: str) -> None:
        if self.key_path is None:
            if key_id_for(self.public_key()) != key_id:
                raise SigningError(f"Key file {self.key_file} does not hold key {key_id}.")
            return
        path = self.key_path / key_file_name(key_id)
        if not path.is_file():
            raise SigningError(f"No key file for {key_id} in {self.key_path}.")
        self._key_id = key_id

    def generate_key(self, *, label: str | None = None) -> rsa.RSAPublicKey:
        """Write a new 3072-bit key, encrypted with the passphrase, as `<key_path>/sha256-<hex>.pem` (0600)."""
        if self.key_path is None:
            raise SigningError(f"Signing backend {self.alias!r} needs the key_path option to generate keys.")
        passphrase = self._passphrase(required_for="encrypt a new key")
        private_key = generate_private_key(KEY_SIZE)
        key_id = key_id_for(private_key.public_key())
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        path = self.key_path / key_file_name(key_id)
        try:
            self.key_path.mkdir(mode=0o700, parents=True, exist_ok=True)
            # O_EXCL: never overwrite a key; the mode applies at creation, before any byte is written.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise SigningError(f"Cannot write key file {path}: {exc.strerror or exc}.") from exc
        with self._lock:
            self._loaded[path] = private_key
        self._key_id = key_id
        return private_key.public_key()

    # -- loading -------------------------------------------------------------------------

    def _key_files(self) -> list[tuple[str, Path]]:
        try:
            entries = sorted(self.key_path.iterdir())
        except FileNotFoundError:
            raise SigningError(f"Signing key directory {self.key_path} does not exist.") from None
        except OSError as exc:
            raise SigningError(f"Cannot read signing key directory {self.key_path}: {exc.strerror}.") from exc
        found = []
        for path in entries:
            key_id = key_id_from_file_name(path.name)
            if key_id is not None and path.is_file():
                found.append((key_id, path))
        return found

    def _current_file(self) -> tuple[Path, str | None]:
        """The key file to use and the key id its name promises (None for a `key_file`)."""
        if self.key_file is not None:
            return self.key_file, None
        if self._key_id is not None:
            return self.key_path / key_file_name(self._key_id), self._key_id
        found = self._key_files()
        if not found:
            raise SigningError(f"No signing key in {self.key_path}; generate one first.")
        if len(found) > 1:
            raise SigningError(
                f"{len(found)} signing keys in {self.key_path}; set the key_id option of backend {self.alias!r}."
            )
        key_id, path = found[0]
        return path, key_id

    def _private_key(self) -> rsa.RSAPrivateKey:
        path, expected_key_id = self._current_file()
        with self._lock:
            private_key = self._loaded.get(path)
            if private_key is None:
                private_key = self._load(path)
                if expected_key_id is not None and key_id_for(private_key.public_key()) != expected_key_id:
                    raise SigningError(f"Key file {path} holds another key than its name says.")
                self._loaded[path] = private_key
        return private_key

    def _load(self, path: Path) -> rsa.RSAPrivateKey:
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise SigningError(f"Signing key file {path} does not exist.") from None
        except OSError as exc:
            raise SigningError(f"Cannot read signing key file {path}: {exc.strerror}.") from exc
        try:
            private_key = serialization.load_pem_private_key(pem, password=None)
        except TypeError:
            # Encrypted, as it should be: decrypt with the passphrase.
            passphrase = self._passphrase(required_for=f"decrypt {path}")
            try:
                private_key = serialization.load_pem_private_key(pem, password=passphrase)
            except ValueError:
                raise SigningError(
                    f"Cannot decrypt signing key file {path}: wrong passphrase in ${self.passphrase_env}."
                ) from None
        except ValueError:
            raise SigningError(f"Signing key file {path} is not a PEM private key.") from None
        else:
            if not settings.DEBUG:
                raise SigningError(f"Signing key file {path} is not encrypted; refusing it (DEBUG is off).")
            logger.warning("Signing key file %s is not encrypted; accepted only because DEBUG is on.", path)
        return check_private_key(private_key, f"Signing key file {path}")

    def _passphrase(self, *, required_for: str) -> bytes:
        passphrase = os.environ.get(self.passphrase_env, "")
        if not passphrase:
            raise SigningError(f"Set ${self.passphrase_env} to the signing key passphrase to {required_for}.")
        return passphrase.encode("utf-8")
