"""The hashes the API keeps: of a token's secret, and of a request sent with an Idempotency-Key."""

import hashlib

TOKEN_PREFIX = "crm_"


def token_hash(secret: str) -> str:
    """What is stored of a token: its SHA-256 (a token is 256 random bits, no salt needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
