"""What every signing backend shares: the pinned algorithm, key ids, verification, the base class.

The algorithm is pinned here and nowhere else: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a
32-byte salt, on RSA keys of 3072 bits. A signature made by any backend verifies with
`verify()` given only the public key PEM, or with the openssl command line:

    openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
        -sigopt rsa_mgf1_md:sha256 -verify public.pem -signature signature.bin payload.bin
"""

import copy
import hashlib
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHM = "RSASSA-PSS"
HASH = "SHA-256"
MGF = "MGF1-SHA-256"
SALT_LENGTH = 32
KEY_SIZE = 3072
MIN_KEY_SIZE = 2048
PUBLIC_EXPONENT = 65537
KEY_ID_PREFIX = "sha256:"


class SigningError(Exception):
    """A backend could not sign or load a key; the message is one line that names the cause."""


def algorithm_parameters() -> dict:
    """The parameters to store next to each signature, so it can be checked without this code."""
    return {"algorithm": ALGORITHM, "hash": HASH, "mgf": MGF, "salt_length": SALT_LENGTH}


def pss_padding() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=SALT_LENGTH)


def public_key_der(public_key: rsa.RSAPublicKey) -> bytes:
    """DER SubjectPublicKeyInfo, the bytes the key id is computed over."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_pem(public_key: rsa.RSAPublicKey) -> bytes:
    """PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`), what openssl and `verify()` read."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id_for(public_key: rsa.RSAPublicKey) -> str:
    """The key's fingerprint: "sha256:" + hex SHA-256 of its DER SubjectPublicKeyInfo."""
    return KEY_ID_PREFIX + hashlib.sha256(public_key_der(public_key)).hexdigest()


def load_public_key(public_key_pem: bytes | str) -> rsa.RSAPublicKey:
    """Parse a stored PEM public key; SigningError unless it is an RSA key of at least 2048 bits."""
    if isinstance(public_key_pem, str):
        public_key_pem = public_key_pem.encode("ascii")
    try:
        public_key = serialization.load_pem_public_key(public_key_pem)
    except ValueError as exc:
        raise SigningError("The stored public key is not a valid PEM public key.") from exc
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SigningError(f"The stored public key is not an RSA key ({type(public_key).__name__}).")
    if public_key.key_size < MIN_KEY_SIZE:
        raise SigningError(f"The stored public key has {public_key.key_size} bits; at least {MIN_KEY_SIZE}.")
    return public_key


def verify(public_key_pem: bytes | str, data: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid RSASSA-PSS signature of `data` by that public key.

    Needs only the stored public key PEM. A PEM that is not a usable RSA public key raises
    SigningError, since that is a damaged record rather than a wrong signature.
    """
    public_key = load_public_key(public_key_pem)
    try:
        public_key.verify(bytes(signature), bytes(data), pss_padding(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_with_private_key(private_key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """Sign in process with a cryptography key (the memory and local backends)."""
    return private_key.sign(data, pss_padding(), hashes.SHA256())


def generate_private_key(key_size: int = KEY_SIZE) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=key_size)


def check_private_key(private_key, source: str) -> rsa.RSAPrivateKey:
    """SigningError unless `private_key` is an RSA key we are willing to sign with."""
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise SigningError(f"{source} is not an RSA private key ({type(private_key).__name__}).")
    if private_key.key_size < MIN_KEY_SIZE:
        raise SigningError(f"{source} holds a {private_key.key_size}-bit key; at least {MIN_KEY_SIZE} bits.")
    return private_key


@dataclass(frozen=True)
class Signature:
    """A signature together with everything needed to check it later."""

    signature: bytes
    key_id: str
    public_key_pem: bytes
    parameters: dict = field(default_factory=algorithm_parameters)


class SigningBackend:
    """Base class of signing backends, built by `contracts.signing.loader` from settings.

    A backend signs with its current key: the one its options name, or the only one it
    holds. `generate_key()` creates a key and makes it current; `with_key(key_id)` returns
    a copy bound to another key, leaving the shared cached instance untouched.

    Subclasses implement `public_key()`, `sign()`, `key_ids()`, `_select(key_id)` and,
    where the backend can create keys, `generate_key()`.
    """

    def __init__(self, alias: str = "default", **options):
        if options:
            raise TypeError(f"Unknown options for {type(self).__name__}: {', '.join(sorted(options))}")
        self.alias = alias

    def __repr__(self) -> str:
        return f"<{type(self).__name__} alias={self.alias!r}>"

    def public_key(self) -> rsa.RSAPublicKey:
        raise NotImplementedError

    def sign(self, data: bytes) -> bytes:
        """The RSASSA-PSS signature of `data` with the current key."""
        raise NotImplementedError

    def generate_key(self, *, label: str | None = None) -> rsa.RSAPublicKey:
        """Create a new key, make it this instance's current key and return its public key."""
        raise SigningError(f"{type(self).__name__} cannot generate keys.")

    def key_ids(self) -> list[str]:
        """Ids of the keys this backend can sign with."""
        return [self.key_id()]

    def _select(self, key_id: str) -> None:
        raise NotImplementedError

    def key_id(self) -> str:
        return key_id_for(self.public_key())

    def public_key_pem(self) -> bytes:
        return public_key_pem(self.public_key())

    def with_key(self, key_id: str):
        """A copy of this backend that signs with the key `key_id`; SigningError if it has no such key."""
        if not key_id.startswith(KEY_ID_PREFIX):
            raise SigningError(f"{key_id!r} is not a key id (expected {KEY_ID_PREFIX}<64 hex digits>).")
        bound = copy.copy(self)
        bound._select(key_id)
        if bound.key_id() != key_id:
            raise SigningError(f"Signing backend {self.alias!r} selected another key than {key_id}.")
        return bound

    def signature_for(self, data: bytes) -> Signature:
        """Sign `data` and return the signature with the key id and public key that check it.

        The signature is verified before it is returned, so a key that changed under the
        backend or a faulty device is caught here rather than at the next verification.
        """
        public_key = self.public_key()
        signature = self.sign(data)
        pem = public_key_pem(public_key)
        if not verify(pem, data, signature):
            raise SigningError(f"Signing backend {self.alias!r} produced a signature its public key does not verify.")
        return Signature(signature=signature, key_id=key_id_for(public_key), public_key_pem=pem)


def require_bytes(data) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"Signing takes bytes, not {type(data).__name__}.")
    return bytes(data)
