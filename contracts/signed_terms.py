"""The terms a contract's parties signed, read from its verified signed statements.

Business against a signed contract (its orders, its workflow steps) follows these terms,
not the contract row: a row changed behind the application's back (the freeze trigger
disabled by a database superuser) no longer matches its signatures, and then the
contract takes no orders and no steps until someone looks into it. Checking one contract
verifies its few RSA signatures (about 0.1 ms each) and rebuilds their statements; lists
never do this per row.
"""

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from contracts.signing.statement import SignatureCheck, signature_check
from crm.core.exceptions import DomainError

if TYPE_CHECKING:
    from contracts.models import Contract


@dataclass(frozen=True)
class SignedTerms:
    """The contract terms as the last verified signature states them."""

    number: str
    version: int
    title: str
    customer_id: int
    customer_name: str
    amount: Decimal
    currency: str
    start_date: datetime.date
    end_date: datetime.date
    payment_terms_days: int
    body_sha256: str


class SignedTermsBroken(DomainError):
    """The contract's signatures do not verify: what changed is in `changed_fields`."""

    def __init__(
        self, message: str, *, changed_fields: list[str], problems: list[str], field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.changed_fields = changed_fields
        self.problems = problems


def _signature_checks(contract: "Contract") -> list[SignatureCheck]:
    # The related manager hands each signature this very contract object (no extra query),
    # so the statement is rebuilt from the row the caller holds, under its lock.
    return [signature_check(signature) for signature in contract.signatures.select_related("key")]


def contract_signature_integrity(checks: Iterable[SignatureCheck]) -> tuple[list[str], list[str]]:
    """(changed fields, other problems) over a contract's signature checks; both empty when all verify."""
    changed, problems = [], []
    for check in checks:
        changed += [name for name in check.changed_fields if name not in changed]
        problems += [problem for problem in check.problems if problem not in problems]
    return changed, problems


def _refusal(contract: "Contract", changed: list[str], problems: list[str], field: str | None) -> SignedTermsBroken:
    if changed:
        message = _(
            "Contract %(number)s no longer matches what was signed (changed after signing: %(fields)s); "
            "it takes no orders or steps until this is resolved."
        ) % {"number": contract.number, "fields": ", ".join(changed)}
    else:
        message = _(
            "The signatures of contract %(number)s do not verify (%(problems)s); "
            "it takes no orders or steps until this is resolved."
        ) % {"number": contract.number, "problems": "; ".join(problems)}
    return SignedTermsBroken(message, changed_fields=changed, problems=problems, field=field)


def contract_signed_terms(contract: "Contract", *, field: str | None = None) -> SignedTerms:
    """The verified signed terms of a signed contract.

    Raises SignedTermsBroken (a DomainError naming the changed fields) when any of its
    signatures does not verify or was made over terms other than the row's, and a
    DomainError when it has no signature at all."""
    checks = _signature_checks(contract)
    if not checks:
        raise DomainError(_("Contract %(number)s is not signed.") % {"number": contract.number}, field=field)
    changed, problems = contract_signature_integrity(checks)
    if changed or problems:
        raise _refusal(contract, changed, problems, field)
    # Every signature verified over the stored statement; the newest states the terms.
    return statement_terms(bytes(checks[-1].signature.statement))


def statement_terms(statement: bytes) -> SignedTerms:
    """The contract terms a statement names (ValueError, KeyError or TypeError if it names none)."""
    terms = json.loads(statement)["contract"]
    return SignedTerms(
        number=terms["number"],
        version=terms["version"],
        title=terms["title"],
        customer_id=terms["customer_id"],
        customer_name=terms["customer_name"],
        amount=Decimal(terms["amount"]),
        currency=terms["currency"],
        start_date=datetime.date.fromisoformat(terms["start_date"]),
        end_date=datetime.date.fromisoformat(terms["end_date"]),
        payment_terms_days=terms["payment_terms_days"],
        body_sha256=terms["body_sha256"],
    )


def contract_signatures_verified(contract: "Contract", *, field: str | None = None) -> None:
    """Refuse (SignedTermsBroken) when a signature the contract already has does not verify;
    a contract with no signature yet passes."""
    changed, problems = contract_signature_integrity(_signature_checks(contract))
    if changed or problems:
        raise _refusal(contract, changed, problems, field)
