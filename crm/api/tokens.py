"""The hashes the API keeps: of a token's secret, and of a request sent with an Idempotency-Key."""

import hashlib

TOKEN_PREFIX = "crm_"


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()
