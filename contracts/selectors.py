"""Reads of contracts that start from what the user may see."""

import difflib
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus
from contracts.models import CONTRACT_TERMS, ApprovalRule, ApprovalStep, Contract, ContractSignature, SigningLink
from contracts.signed_terms import SignedTerms, contract_signature_integrity, statement_terms
from contracts.signed_terms import contract_signed_terms as contract_signed_terms  # orders read signed terms here
from contracts.signing.evidence import bundle_manifest, bundle_members, evidence_bundle_check, verification_code
from contracts.signing.statement import SignatureCheck, signature_check
from contracts.steps import signing_link_usable_check
from contracts.templating import clauses_missing
from crm.core.audit import audit_history
from crm.core.exceptions import DomainError
from crm.core.gram_search import search_filter
from crm.core.tokens import token_hash
from crm.core.transactions import in_callers_transaction
from crm.core.types import Viewer


def contract_list(*, user: Viewer) -> QuerySet[Contract]:
    return Contract.objects.visible_to(user).select_related("customer", "owner")


def contract_get(*, user: Viewer, pk: int, action: str = "view") -> Contract:
    return get_object_or_404(Contract.objects.visible_to(user, action).select_related("customer", "owner"), pk=pk)


@in_callers_transaction
def contract_lock_for_orders(*, contract_id: int) -> Contract:
    """The contract row locked for an order service, inside that service's transaction.

    Orders placed against one contract queue here, so their sum is checked one at a time.
    A read that takes a lock, not a service: it changes nothing and records nothing, and a
    lock means something only in the caller's transaction (`in_callers_transaction` refuses
    to run outside one). It is here, in the app's public reads, because the orders services
    call it; they check first that the actor may see the contract (`contract_list`).
    """
    return Contract.objects.select_for_update(of=("self",)).select_related("customer").get(pk=contract_id)


def contract_search(queryset: QuerySet[Contract], text: str) -> QuerySet[Contract]:
    """Contracts whose number, title or customer name contains the text, through the
    contract's own search grams (its customer's name is copied onto it: no join)."""
    return search_filter(queryset, text, fields=["number", "title", "customer_name"], complete=True)


# The inbox's columns and how each sorts; "waiting" (oldest submission first: the one that
# has waited longest on top) is the default. A leading "-" reverses a column.
INBOX_SORTS = {
    "waiting": ("submitted_at", "id"),
    "number": ("number", "id"),
    "customer": ("customer__name", "id"),
    "amount": ("amount", "id"),
    "submitter": ("submitted_by__last_name", "submitted_by__first_name", "submitted_by__username", "id"),
}
INBOX_DEFAULT_SORT = "waiting"


def inbox_sort(value: object) -> str:
    """The sort asked for, if the inbox knows it, else the default."""
    value = str(value or "")
    return value if value.lstrip("-") in INBOX_SORTS and value.count("-") <= 1 else INBOX_DEFAULT_SORT


def approval_inbox(*, user: User, sort: str = INBOX_DEFAULT_SORT) -> QuerySet[Contract]:
    """Contracts waiting for a decision by one of the user's roles, that the user may decide,
    sorted by one of INBOX_SORTS (oldest submission first by default)."""
    roles = list(user.groups.values_list("name", flat=True))
    sort = inbox_sort(sort)
    columns = INBOX_SORTS[sort.lstrip("-")]
    if sort.startswith("-"):
        columns = tuple(f"-{column}" for column in columns)
    return (
        contract_list(user=user)
        .filter(status=ContractStatus.PENDING_APPROVAL, awaiting_role__in=roles)
        .exclude(Q(owner=user) | Q(submitted_by=user))
        .select_related("customer", "submitted_by")
        .order_by(*columns)
    )


#: An approval level of a round: (level, role).
Level = tuple[int, str]


def approval_levels(amount: Decimal) -> list[Level]:
    """[(level, role)] a contract of this amount needs, lowest level first."""
    rules = ApprovalRule.objects.filter(is_active=True, min_amount__lte=amount).order_by("level")
    return [(rule.level, rule.role) for rule in rules]


def round_levels(contract: Contract) -> list[Level]:
    """[(level, role)] of the current round: fixed at submission, so a rule changed while the
    contract waits does not change what it needs."""
    if contract.approval_round and contract.required_levels:
        return [(level, role) for level, role in contract.required_levels]
    return approval_levels(contract.amount)


def next_approval_level(contract: Contract) -> Level | None:
    """(level, role) waiting for a decision in the current round, or None."""
    decided = set(
        ApprovalStep.objects.filter(contract=contract, round=contract.approval_round).values_list("level", flat=True)
    )
    pending = [(level, role) for level, role in round_levels(contract) if level not in decided]
    return pending[0] if pending else None


def contract_approval_overview(contract: Contract) -> list[dict[str, Any]]:
    """Every level the contract needs, with the decision taken in the current round, if any."""
    steps = {
        step.level: step
        for step in ApprovalStep.objects.filter(contract=contract, round=contract.approval_round).select_related(
            "approver"
        )
    }
    waiting = next_approval_level(contract) if contract.status == ContractStatus.PENDING_APPROVAL else None
    return [
        {"level": level, "role": role, "step": steps.get(level), "waiting": waiting == (level, role)}
        for level, role in round_levels(contract)
    ]


def contract_detail_context(*, contract: Contract) -> dict[str, Any]:
    required = contract.template.required_clauses if contract.template else []
    return {
        "versions": contract.versions.select_related("saved_by"),
        "approval_levels": contract_approval_overview(contract),
        "past_steps": ApprovalStep.objects.filter(contract=contract)
        .exclude(round=contract.approval_round, voided_at__isnull=True)
        .select_related("approver"),
        "missing_clauses": clauses_missing(contract.body, required),
        "history": audit_history(contract).select_related("actor")[:100],
    }


def contract_terms_at(contract: Contract, version_number: int) -> dict[str, Any]:
    """The terms as of a version number; the newest version is the contract itself."""
    if version_number == contract.version:
        return {name: getattr(contract, name) for name in CONTRACT_TERMS}
    version = get_object_or_404(contract.versions, number=version_number)
    return {name: getattr(version, name) for name in CONTRACT_TERMS}


def contract_versions_diff(contract: Contract, old_number: int, new_number: int) -> list[tuple[str, list[str]]]:
    """[(field, [diff lines])] for each term that differs between two versions."""
    old, new = contract_terms_at(contract, old_number), contract_terms_at(contract, new_number)
    changes = []
    for name in CONTRACT_TERMS:
        if old[name] == new[name]:
            continue
        lines = difflib.unified_diff(str(old[name]).splitlines(), str(new[name]).splitlines(), lineterm="", n=2)
        changes.append((name, [line for line in lines if not line.startswith(("---", "+++"))]))
    return changes


def contract_can_decide(*, contract: Contract, user: User) -> bool:
    """Whether the approve and reject forms are worth showing to this user now."""
    if contract.status != ContractStatus.PENDING_APPROVAL or user.pk in (
        contract.owner_id,
        contract.submitted_by_id,
    ):
        return False
    return user.groups.filter(name=contract.awaiting_role).exists()


def contract_signature_checks(contract: Contract) -> list[SignatureCheck]:
    """A check for each of the contract's signatures, oldest first."""
    signatures = contract.signatures.select_related("key", "contract", "contract__customer")
    return [signature_check(signature) for signature in signatures]


def signing_link_get(token: str | None) -> SigningLink:
    """The usable link for a token; DomainError says plainly why a link does not work."""
    link = (
        SigningLink.objects.select_related("contract", "contract__customer")
        .filter(token_sha256=token_hash(token or ""))
        .first()
    )
    if link is None:
        raise DomainError(_("This signing link is not valid."))
    signing_link_usable_check(link)
    return link


def signing_link_by_id(link_id: int) -> SigningLink:
    """The usable link with this id (kept in the customer's session once the token was
    exchanged); DomainError says plainly why it does not work."""
    link = SigningLink.objects.select_related("contract", "contract__customer").filter(pk=link_id).first()
    if link is None:
        raise DomainError(_("This signing link is not valid."))
    signing_link_usable_check(link)
    return link


def contract_integrity(*, contract: Contract, checks: list[SignatureCheck] | None = None) -> dict[str, list[str]]:
    """What changed after signing, for the red banner: {"tampered_fields", "signature_problems"},
    both empty when every signature verifies (or there is none). Verifies one contract's
    signatures; never call it per row of a list."""
    if checks is None:
        checks = contract_signature_checks(contract)
    changed, problems = contract_signature_integrity(checks)
    return {"tampered_fields": changed, "signature_problems": problems}


def contract_signing_context(*, contract: Contract) -> dict[str, Any]:
    """Signatures with their checks, open links and the verification code of a contract."""
    checks = contract_signature_checks(contract)
    return {
        **contract_integrity(contract=contract, checks=checks),
        "signature_checks": checks,
        "signing_links": contract.signing_links.select_related("created_by")[:10],
        "verification_code": verification_code([check.signature for check in checks]) if checks else "",
        "signed_parties": {check.signature.party for check in checks},
    }


def verification_address(contract: Contract, code: str) -> str:
    """The public verification page's address for this contract and code (printed as link and QR code)."""
    query = urlencode({"number": contract.number, "code": code})
    return f"{settings.SITE_URL.rstrip('/')}{reverse('contracts:verify')}?{query}"


def _terms_of(statement: bytes) -> SignedTerms | None:
    try:
        return statement_terms(statement)
    except (ValueError, KeyError, TypeError):
        return None


def contract_verify_by_code(number: str, code: str) -> dict[str, Any] | None:
    """Public verification: one verdict ("valid" or "invalid"), the signature checks and the
    terms as signed, when number and code match; None when they do not."""
    contract = Contract.objects.filter(number=number.strip().upper()).select_related("customer").first()
    if contract is None:
        return None
    context = contract_signing_context(contract=contract)
    if not context["verification_code"] or context["verification_code"] != code.strip().upper():
        return None
    checks = context["signature_checks"]
    return {
        "verified_contract": contract,
        "signature_checks": checks,
        "verdict": "valid" if all(check.valid for check in checks) else "invalid",
        # What the parties signed (the newest statement), for the holder to compare with their copy.
        "signed_terms": _terms_of(bytes(checks[-1].signature.statement)),
        "company_name": settings.COMPANY_NAME,
    }


def bundle_verify(data: bytes) -> dict[str, Any]:
    """Check an uploaded evidence bundle against its own keys and against our records.

    The upload is unpacked once, within the VERIFY_* limits; BundleRefused (a ValueError)
    says why a file is not checked."""
    members = bundle_members(
        data,
        max_members=settings.VERIFY_BUNDLE_MAX_MEMBERS,
        max_unpacked_bytes=settings.VERIFY_BUNDLE_MAX_UNCOMPRESSED_BYTES,
    )
    manifest = bundle_manifest(members)
    number = manifest["contract"]
    stored = ContractSignature.objects.filter(contract__number=number).select_related("key")
    entries = evidence_bundle_check(members, manifest, stored)
    statements = [members.get(entry.get("statement")) for entry in manifest["signatures"]]
    signed_terms = [terms for terms in map(_terms_of, filter(None, statements)) if terms is not None]
    return {
        "number": number,
        "entries": entries,
        "verdict": "valid"
        if entries and all(entry["signature_valid"] and entry["on_record"] for entry in entries)
        else "invalid",
        "signed_terms": signed_terms[-1] if signed_terms else None,
        "company_name": settings.COMPANY_NAME,
    }
