"""What a signature covers, as RFC 8785 canonical JSON, and how a stored signature is checked.

The statement names the contract's terms (the body by its SHA-256), who signs in which
role and when, the algorithm and key, and the previous signature's hash. Verification
rebuilds the statement from the database as it is now: any difference names a field
changed after signing.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

import rfc8785

from contracts.signing.base import SigningError, algorithm_parameters, verify

if TYPE_CHECKING:
    from contracts.models import ContractSignature

STATEMENT_TYPE = "crm.contract-signature/v1"

# Statement keys of the contract's terms, and the contract field each one comes from.
TERM_FIELDS = {
    "number": "number",
    "version": "version",
    "title": "title",
    "customer_id": "customer",
    "customer_name": "customer",
    "amount": "amount",
    "currency": "currency",
    "start_date": "start_date",
    "end_date": "end_date",
    "payment_terms_days": "payment_terms_days",
    "body_sha256": "body",
}


def contract_terms(contract) -> dict:
    return {
        "number": contract.number,
        "version": contract.version,
        "title": contract.title,
        "customer_id": contract.customer_id,
        "customer_name": contract.customer.name,
        "amount": f"{contract.amount:.2f}",
        "currency": contract.currency,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
        "payment_terms_days": contract.payment_terms_days,
        "body_sha256": hashlib.sha256(contract.body.encode("utf-8")).hexdigest(),
    }


def statement_build(
    contract, *, party, signer_id, signer_name, signer_email, signed_at, key_id, previous_signature_sha256
) -> bytes:
    """The canonical bytes a party signs."""
    statement = {
        "type": STATEMENT_TYPE,
        "contract": contract_terms(contract),
        "signer": {"id": signer_id, "name": signer_name, "email": signer_email},
        "role": party,
        "signed_at": signed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "algorithm": algorithm_parameters(),
        "key_id": key_id,
        "previous_signature_sha256": previous_signature_sha256,
    }
    return rfc8785.dumps(statement)


def statement_for_signature(signature) -> bytes:
    """The statement the stored signature should cover, rebuilt from the database now."""
    return statement_build(
        signature.contract,
        party=signature.party,
        signer_id=signature.signer_id,
        signer_name=signature.signer_name,
        signer_email=signature.signer_email,
        signed_at=signature.signed_at,
        key_id=signature.key.key_id,
        previous_signature_sha256=signature.previous_signature_sha256,
    )


@dataclass
class SignatureCheck:
    """The outcome of checking one stored signature."""

    signature: "ContractSignature"
    cryptographically_valid: bool
    changed_fields: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.cryptographically_valid and not self.changed_fields and not self.problems


def _changed_fields(stored: bytes, current: bytes) -> list[str]:
    """The contract fields (or statement parts) that differ between two statements."""
    try:
        old, new = json.loads(stored), json.loads(current)
    except ValueError:
        return ["statement"]
    changed = []
    for key, field_name in TERM_FIELDS.items():
        if old.get("contract", {}).get(key) != new["contract"][key] and field_name not in changed:
            changed.append(field_name)
    for part in ("type", "signer", "role", "signed_at", "algorithm", "key_id", "previous_signature_sha256"):
        if old.get(part) != new[part]:
            changed.append(part)
    return changed or ["statement"]


def signature_check(signature) -> SignatureCheck:
    """Check the signature over its stored bytes with the stored public key, and compare
    those bytes with the statement the database gives now."""
    stored = bytes(signature.statement)
    problems = []
    try:
        valid = verify(signature.key.public_key_pem, stored, bytes(signature.signature))
    except SigningError as error:
        valid = False
        problems.append(f"the stored public key is unusable: {error}")
    if not valid and not problems:
        problems.append("the signature does not match the stored statement")
    if hashlib.sha256(stored).hexdigest() != signature.statement_sha256:
        problems.append("the stored statement hash does not match the statement")
    key = signature.key
    if key.revoked_at is not None and key.revoked_at <= signature.signed_at:
        problems.append(f"the key was revoked before this signature was made ({key.revoked_at:%Y-%m-%d %H:%M})")
    current = statement_for_signature(signature)
    changed = [] if current == stored else _changed_fields(stored, current)
    return SignatureCheck(signature=signature, cryptographically_valid=valid, changed_fields=changed, problems=problems)
