"""The in-transaction steps the contract services and the signing services share.

Internal to the contracts app (other apps call `contracts.services` and
`contracts.signatures`): each helper works inside the calling service's transaction and
refuses to run outside one (`in_callers_transaction`), so a lock is never taken and dropped
at once, and a status is never set without its audit event in the same transaction.
"""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, SigningLink
from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.core.transactions import in_callers_transaction
from crm.core.workflow import SYSTEM, Actor, audit_actor


@in_callers_transaction
def contract_locked(actor: Actor | None, contract_id: int, action: str = "view") -> Contract:
    """The contract under a row lock, if the actor may see it (`SYSTEM` sees every one)."""
    queryset = Contract.objects.all() if actor in (None, SYSTEM) else Contract.objects.visible_to(actor, action)
    try:
        return queryset.select_for_update(of=("self",)).select_related("customer").get(pk=contract_id)
    except Contract.DoesNotExist:
        raise DomainError(_("This contract does not exist or you may not act on it.")) from None


@in_callers_transaction
def status_set(
    contract: Contract,
    target: str,
    *,
    actor: Actor | None,
    action: str,
    extra: dict[str, Any] | None = None,
    extra_changes: dict[str, Any] | None = None,
) -> Contract:
    """Set the status a checked step reaches and record the audit event (nobody for SYSTEM)."""
    before = contract.status
    contract.status = target
    contract.updated_at = timezone.now()
    contract.save()
    changes = {"status": [before, target], **(extra_changes or {})}
    audit_record(
        actor=audit_actor(actor), action=action, target=contract, parent=contract.customer, changes=changes, extra=extra
    )
    return contract


def signing_link_usable_check(link: SigningLink) -> None:
    """DomainError saying plainly why the link no longer works (used, withdrawn, expired)."""
    if link.used_at is not None:
        raise DomainError(_("This signing link was already used."))
    if link.revoked_at is not None:
        raise DomainError(_("This signing link was withdrawn; ask for a new one."))
    if link.expires_at <= timezone.now():
        raise DomainError(_("This signing link has expired; ask for a new one."))
