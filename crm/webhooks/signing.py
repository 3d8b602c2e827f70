"""How a delivery is signed, for our sender and for the receivers' documentation.

The body is the payload as compact JSON with sorted keys (UTF-8). Each attempt sends

    X-CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>

so a receiver recomputes the HMAC over the timestamp, a dot and the raw body it received,
compares it in constant time, and refuses a timestamp too far from its clock (a replay).
"""

import hashlib
import hmac
import json
from typing import Any


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
