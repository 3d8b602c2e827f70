"""Every write to customers, contacts and interactions.

Each service takes the acting user, re-checks what that user may do by fetching the
row through `visible_to` under a lock, writes, and records the audit event in the
same transaction.
"""

import datetime
from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any, NoReturn, TypeVar, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, ProtectedError, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crm.core.audit import audit_record, audit_record_many, diff, snapshot
from crm.core.bulk import copy_rows, ids_reserve
from crm.core.exceptions import DomainError, DuplicateRecord, TransitionNotAllowed
from crm.core.notifications import notification_send
from crm.core.roles import owner_candidates
from crm.core.services import reference_row_save
from crm.core.versions import version_check
from crm.core.workflow import SYSTEM, Actor, audit_actor
from customers.choices import (
    CLOSED_STAGES,
    OPEN_STAGES,
    ActivityKind,
    ActivityStatus,
    CustomerStatus,
    InteractionKind,
    OpportunityStage,
)
from customers.models import (
    ACTIVITY_FIELDS,
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    INTERACTION_FIELDS,
    OPPORTUNITY_FIELDS,
    Activity,
    Contact,
    Customer,
    Interaction,
    LostReason,
    Opportunity,
    OpportunityStageChange,
    StageProbability,
)
from customers.permissions import can_reassign
from customers.selectors import customer_check_duplicates
from customers.workflow import ACTIVITY_WORKFLOW, WORKFLOW, step_for_move

M = TypeVar("M", bound=Model)


def _locked(queryset: QuerySet[M], pk: int, what: str) -> M:
    try:
        return queryset.select_for_update(of=("self",)).get(pk=pk)
    except ObjectDoesNotExist:
        message = _("This %(what)s does not exist or you may not change it.") % {"what": what}
        raise DomainError(message) from None


def _raise_duplicate_from(error: IntegrityError) -> NoReturn:
    """Two requests may pass the check at the same moment; the constraint decides."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
    field = {
        "customer_unique_name": "name",
        "customer_unique_email": "email",
        "customer_unique_phone": "phone",
        "customer_unique_external_ref": "external_ref",
    }.get(constraint)
    if field is None:
        raise error
    raise DuplicateRecord(_("A customer with this %(field)s already exists.") % {"field": field}, field=field)


def _owner_for(actor: User, requested_owner: User | None) -> User:
    if requested_owner is None or requested_owner == actor:
        return actor
    if not can_reassign(actor):
        raise DomainError(_("Only a sales manager can give a customer to another owner."), field="owner")
    if not owner_candidates().filter(pk=requested_owner.pk).exists():
        raise DomainError(_("The owner must be an active sales user."), field="owner")
    return requested_owner


@transaction.atomic
def customer_create(*, actor: User, owner: User | None = None, **values: Any) -> Customer:
    if not actor.has_perm("customers.add_customer"):
        raise DomainError(_("You may not create customers."))
    customer_check_duplicates(
        actor=actor, name=values.get("name", ""), email=values.get("email", ""), phone=values.get("phone", "")
    )
    customer = Customer(owner=_owner_for(actor, owner), **values)
    customer.full_clean(exclude=["name_key", "email_key", "phone_key"], validate_constraints=False)
    try:
        with transaction.atomic():
            customer.save(force_insert=True)
    except IntegrityError as error:
        _raise_duplicate_from(error)
    audit_record(
        actor=actor,
        action="customer.created",
        target=customer,
        changes=diff({}, snapshot(customer, CUSTOMER_FIELDS)),
    )
    return customer


# The columns an import writes with COPY (the keys and search grams are generated).
IMPORT_COLUMNS = [
    "id", "kind", "name", "external_ref", "industry", "tier", "status", "email", "phone", "address",
    "region", "owner_id", "notes", "created_at", "updated_at",
]  # fmt: skip


@transaction.atomic
def customer_import_create(
    *, actor: User, rows: list[dict[str, Any]], keep_history: bool = False, source: str = ""
) -> list[Customer]:
    """Create many customers from an import, checked beforehand by the importer through
    CustomerForm and the duplicate keys: one bulk INSERT and one `customer.created` event
    each (naming the import's file in `source`). `owner` in a row needs a manager (or, with
    `keep_history`, an administrator importing history, who may also keep `created_at`)."""
    if not actor.has_perm("customers.add_customer"):
        raise DomainError(_("You may not create customers."))
    if keep_history and not actor.has_perm("imports.import_history"):
        raise DomainError(_("Only an administrator may keep original owners and dates."))
    candidates = set(owner_candidates().values_list("pk", flat=True)) if can_reassign(actor) else set()
    now = timezone.now()
    customers, kept = [], []
    for values in rows:
        values = dict(values)
        owner = values.pop("owner", None) or actor
        created_at = values.pop("created_at", None) if keep_history else None
        values.pop("created_at", None)
        if owner != actor and not keep_history and owner.pk not in candidates:
            raise DomainError(_("Only a sales manager can give a customer to another owner."), field="owner")
        customers.append(Customer(owner=owner, created_at=created_at or now, updated_at=now, **values))
        kept.append(
            {"owner": owner.get_username(), "created_at": created_at.isoformat()}
            if keep_history and created_at
            else None
        )
    table = Customer._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # As seed_demo loads: the search index's new entries gathered, then merged at once.
            cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
            for customer, pk in zip(customers, ids_reserve(cursor, table, len(customers)), strict=True):
                customer.pk = pk
            copy_rows(cursor, table, IMPORT_COLUMNS, ([getattr(c, name) for name in IMPORT_COLUMNS] for c in customers))
    except IntegrityError as error:
        _raise_duplicate_from(error)
    audit_record_many(
        actor=actor,
        action="customer.created",
        entries=[
            (
                customer,
                diff({}, snapshot(customer, CUSTOMER_FIELDS)),
                {"import": source, **({"kept_original": history} if history else {})},
                None,
            )
            for customer, history in zip(customers, kept, strict=True)
        ],
    )
    return customers


@transaction.atomic
def customer_update(
    *, actor: User, customer_id: int, expected_version: Collection[str] | None = None, **values: Any
) -> Customer:
    customer = _locked(Customer.objects.visible_to(actor, "change"), customer_id, _("customer"))
    version_check(customer, expected_version)
    before = snapshot(customer, CUSTOMER_FIELDS)
    if "owner" in values:
        new_owner = values.pop("owner")
        if new_owner != customer.owner:
            customer.owner = _owner_for(actor, new_owner)
    for name, value in values.items():
        setattr(customer, name, value)
    customer_check_duplicates(
        actor=actor, name=customer.name, email=customer.email, phone=customer.phone, exclude_pk=customer.pk
    )
    changes = diff(before, snapshot(customer, CUSTOMER_FIELDS))
    if not changes:
        return customer
    customer.full_clean(exclude=["name_key", "email_key", "phone_key"], validate_constraints=False)
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as error:
        _raise_duplicate_from(error)
    audit_record(actor=actor, action="customer.updated", target=customer, changes=changes)
    return customer


@transaction.atomic
def customer_delete(*, actor: User, customer_id: int) -> None:
    customer = _locked(Customer.objects.visible_to(actor, "delete"), customer_id, _("customer"))
    audit_record(
        actor=actor,
        action="customer.deleted",
        target=customer,
        changes=diff(snapshot(customer, CUSTOMER_FIELDS), {}),
        extra={"contacts": customer.contacts.count(), "interactions": customer.interactions.count()},
    )
    try:
        with transaction.atomic():
            customer.delete()
    except ProtectedError:
        raise DomainError(
            _("%(name)s has contracts or orders and cannot be deleted; mark it churned instead.")
            % {"name": customer.name}
        ) from None


@transaction.atomic
def customer_reassign(*, actor: User, customer_ids: Iterable[int], new_owner: User) -> int:
    """Give customers to another owner; returns how many changed hands."""
    if not can_reassign(actor):
        raise DomainError(_("Only a sales manager can reassign customers."))
    if not owner_candidates().filter(pk=new_owner.pk).exists():
        raise DomainError(_("The new owner must be an active sales user."), field="owner")
    customers = (
        Customer.objects.visible_to(actor, "change")
        .filter(pk__in=list(customer_ids))
        .select_for_update(of=("self",))
        .select_related("owner")
        .order_by("pk")
    )
    moved = 0
    for customer in customers:
        if customer.owner_id == new_owner.pk:
            continue
        previous = customer.owner.get_username()
        customer.owner = new_owner
        customer.updated_at = timezone.now()
        customer.save(update_fields=["owner", "updated_at"])
        audit_record(
            actor=actor,
            action="customer.reassigned",
            target=customer,
            changes={"owner": [previous, new_owner.get_username()]},
        )
        moved += 1
    return moved


# The lifecycle a contract moves a customer along: {the contract's event: (the status it
# brings the customer to, the statuses it moves on from)}. Forward only: a draft makes a lead
# a prospect and leaves a prospect, an active or a churned customer alone; the first active
# contract makes a lead or a prospect active, and a churned customer who signs again is
# active again. Nothing here ever moves a customer back (an active one stays active when a
# contract ends: marking it churned is a person's decision).
LIFECYCLE_STEPS = {
    "contract.drafted": (CustomerStatus.PROSPECT, {CustomerStatus.LEAD}),
    "contract.activated": (
        CustomerStatus.ACTIVE,
        {CustomerStatus.LEAD, CustomerStatus.PROSPECT, CustomerStatus.CHURNED},
    ),
}


@transaction.atomic
def customer_status_follow(*, customer_id: int, cause: str, document: str = "") -> Customer | None:
    """The system moves a customer's status forward after a step of one of its documents
    (`cause`: the event's name, a key of LIFECYCLE_STEPS; `document`: its number, for the
    history). Returns the customer when its status changed, None when it already was there
    or beyond. No person acts: the audit event's actor is the system."""
    if cause not in LIFECYCLE_STEPS:
        raise DomainError(_("No customer status follows from %(cause)s.") % {"cause": cause})
    target, moves_from = LIFECYCLE_STEPS[cause]
    customer = Customer.objects.select_for_update(of=("self",)).filter(pk=customer_id).first()
    if customer is None or customer.status not in moves_from:
        return None
    before = customer.status
    customer.status = target
    customer.updated_at = timezone.now()
    customer.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=None,
        action="customer.status_followed",
        target=customer,
        changes={"status": [before, target]},
        extra={"cause": cause, "document": document},
    )
    return customer


def _visible_customer(actor: User, customer_id: int, action: str = "change") -> Customer:
    """Contacts and the timeline are edited by whoever may change their customer."""
    return _locked(Customer.objects.visible_to(actor, action), customer_id, _("customer"))


def _clear_other_primary(actor: User, contact: Contact) -> None:
    """Only one primary contact per customer: the previous one stops being it, on the record."""
    if not contact.is_primary:
        return
    previous = Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(pk=contact.pk)
    for other in previous.select_for_update():
        other.is_primary = False
        other.save(update_fields=["is_primary"])
        audit_record(
            actor=actor,
            action="contact.updated",
            target=other,
            parent=contact.customer,
            changes={"is_primary": [True, False]},
        )


@transaction.atomic
def contact_create(*, actor: User, customer_id: int, **values: Any) -> Contact:
    customer = _visible_customer(actor, customer_id)
    contact = Contact(customer=customer, **values)
    contact.full_clean(exclude=["customer"], validate_constraints=False)
    _clear_other_primary(actor, contact)
    contact.save(force_insert=True)
    audit_record(
        actor=actor,
        action="contact.created",
        target=contact,
        parent=customer,
        changes=diff({}, snapshot(contact, CONTACT_FIELDS)),
    )
    return contact


def _contact_customer_id(actor: User, contact_id: int, action: str) -> int:
    """The contact's customer, read before any lock: contact services lock the customer
    first, then its contacts, as contact_create does, so two of them never deadlock."""
    customer_id = Contact.objects.visible_to(actor, action).filter(pk=contact_id).values_list("customer_id", flat=True)
    customer_id = customer_id.first()
    if customer_id is None:
        raise DomainError(_("This contact does not exist or you may not change it."))
    return customer_id


@transaction.atomic
def contact_update(
    *, actor: User, contact_id: int, expected_version: Collection[str] | None = None, **values: Any
) -> Contact:
    _visible_customer(actor, _contact_customer_id(actor, contact_id, "change"))
    contact = _locked(Contact.objects.visible_to(actor, "change"), contact_id, _("contact"))
    version_check(contact, expected_version)
    before = snapshot(contact, CONTACT_FIELDS)
    for name, value in values.items():
        setattr(contact, name, value)
    contact.full_clean(exclude=["customer"], validate_constraints=False)
    changes = diff(before, snapshot(contact, CONTACT_FIELDS))
    if changes:
        _clear_other_primary(actor, contact)
        contact.save()
        audit_record(actor=actor, action="contact.updated", target=contact, parent=contact.customer, changes=changes)
    return contact


@transaction.atomic
def contact_marketing_consent_withdraw(*, email: str, cause: str) -> int:
    """The person behind an address said no to marketing e-mail (a campaign's unsubscribe
    link, RFC 8058's one-click POST): every contact with that address loses its consent,
    each with an audit event naming the cause. Taken by the system: the person has no account."""
    contacts = list(
        Contact.objects.select_for_update()
        .filter(email__iexact=email.strip(), marketing_consent=True)
        .select_related("customer")
        .order_by("pk")
    )
    for contact in contacts:
        contact.marketing_consent = False
        contact.save(update_fields=["marketing_consent"])
        audit_record(
            actor=None,
            action="contact.marketing_consent_withdrawn",
            target=contact,
            parent=contact.customer,
            changes={"marketing_consent": [True, False]},
            extra={"cause": cause},
        )
    return len(contacts)


@transaction.atomic
def contact_delete(*, actor: User, contact_id: int) -> None:
    _visible_customer(actor, _contact_customer_id(actor, contact_id, "delete"))
    contact = _locked(Contact.objects.visible_to(actor, "delete"), contact_id, _("contact"))
    audit_record(
        actor=actor,
        action="contact.deleted",
        target=contact,
        parent=contact.customer,
        changes=diff(snapshot(contact, CONTACT_FIELDS), {}),
    )
    contact.delete()


@transaction.atomic
def interaction_create(*, actor: User, customer_id: int, **values: Any) -> Interaction:
    customer = _visible_customer(actor, customer_id, action="view")
    if not actor.has_perm("customers.add_interaction"):
        raise DomainError(_("You may not add to the customer's timeline."))
    contact = values.get("contact")
    if contact is not None and contact.customer_id != customer.pk:
        raise DomainError(_("The contact must belong to this customer."), field="contact")
    opportunity = values.get("opportunity")
    if opportunity is not None and opportunity.customer_id != customer.pk:
        raise DomainError(_("The opportunity must be one of this customer's."), field="opportunity")
    interaction = Interaction(customer=customer, author=actor, **values)
    interaction.full_clean(exclude=["customer", "author"], validate_constraints=False)
    interaction.save(force_insert=True)
    audit_record(
        actor=actor,
        action="interaction.created",
        target=interaction,
        parent=customer,
        changes=diff({}, snapshot(interaction, INTERACTION_FIELDS)),
    )
    if opportunity is not None:
        # Something happened to the deal: it is no longer idle.
        Opportunity.objects.filter(pk=opportunity.pk).update(updated_at=timezone.now())
    return interaction


@transaction.atomic
def interaction_delete(*, actor: User, interaction_id: int) -> None:
    interaction = _locked(Interaction.objects.visible_to(actor, "delete"), interaction_id, _("interaction"))
    audit_record(
        actor=actor,
        action="interaction.deleted",
        target=interaction,
        parent=interaction.customer,
        changes=diff(snapshot(interaction, INTERACTION_FIELDS), {}),
    )
    interaction.delete()


# --- opportunities ---------------------------------------------------------------------------


def _opportunity_locked(actor: Actor, opportunity_id: int, action: str = "change") -> Opportunity:
    """The opportunity under a row lock, if the actor may act on it (`SYSTEM` may on every one)."""
    queryset = Opportunity.objects.all() if actor is SYSTEM else Opportunity.objects.visible_to(actor, action)
    return _locked(queryset.select_related("customer"), opportunity_id, _("opportunity"))


def _opportunity_owner_for(actor: Actor, requested_owner: User | None, customer: Customer) -> User:
    """Who owns a new deal: the actor by default; a manager (or the system) may name another
    sales user; the system with nobody named gives it to the customer's owner."""
    if requested_owner is None:
        return customer.owner if actor is SYSTEM else cast(User, actor)
    if (
        actor is not SYSTEM
        and requested_owner != actor
        and not cast(User, actor).has_perm("customers.assign_opportunity")
    ):
        raise DomainError(_("Only a sales manager can give an opportunity to another owner."), field="owner")
    if requested_owner != actor and not owner_candidates().filter(pk=requested_owner.pk).exists():
        raise DomainError(_("The owner must be an active sales user."), field="owner")
    return requested_owner


@transaction.atomic
def opportunity_create(
    *,
    actor: Actor,
    customer: Customer,
    title: str,
    amount: Decimal,
    currency: str = "",
    expected_close_date: datetime.date,
    owner: User | None = None,
    stage: str = OpportunityStage.PROSPECTING,
    **values: Any,
) -> Opportunity:
    """Open a deal with a customer the actor may see, in an open stage (prospecting unless
    named). `values`: source, next_step, next_step_date, probability_override."""
    if actor is not SYSTEM and not cast(User, actor).has_perm("customers.add_opportunity"):
        raise DomainError(_("You may not create opportunities."))
    customer = _opportunity_customer(actor, customer)
    return _opportunity_open(
        actor,
        customer=customer,
        owner=_opportunity_owner_for(actor, owner, customer),
        title=title,
        amount=amount,
        currency=currency,
        expected_close_date=expected_close_date,
        stage=stage,
        **values,
    )


def _opportunity_customer(actor: Actor, customer: Customer | int) -> Customer:
    customers = Customer.objects.all() if actor is SYSTEM else Customer.objects.visible_to(actor, "view")
    found = customers.filter(pk=getattr(customer, "pk", customer)).first()
    if found is None:
        raise DomainError(_("Choose a customer you may see."), field="customer")
    return found


def _opportunity_open(
    actor: Actor,
    *,
    customer: Customer,
    owner: User,
    stage: str,
    currency: str = "",
    created_at: datetime.datetime | None = None,
    extra: dict[str, Any] | None = None,
    **values: Any,
) -> Opportunity:
    """Write a new deal, its first stage-change row and its `opportunity.created` event."""
    if stage not in OPEN_STAGES:
        raise DomainError(_("A new opportunity starts in an open stage."), field="stage")
    now = timezone.now()
    opportunity = Opportunity(
        customer=customer,
        owner=owner,
        currency=currency or settings.DEFAULT_CURRENCY,
        stage=stage,
        stage_entered_at=created_at or now,
        created_at=created_at or now,
        updated_at=now,
        **values,
    )
    opportunity.full_clean(exclude=["customer", "owner"], validate_constraints=False)
    opportunity.save(force_insert=True)
    OpportunityStageChange.objects.create(
        opportunity=opportunity,
        from_stage="",
        to_stage=stage,
        changed_by=audit_actor(actor),
        changed_at=created_at or now,
    )
    audit_record(
        actor=audit_actor(actor),
        action="opportunity.created",
        target=opportunity,
        parent=customer,
        changes=diff({}, snapshot(opportunity, [*OPPORTUNITY_FIELDS, "stage"])),
        extra=extra,
    )
    return opportunity


@transaction.atomic
def opportunity_import_create(
    *,
    actor: User,
    customer: Customer,
    stage: str = OpportunityStage.PROSPECTING,
    owner: User | None = None,
    lost_reason: LostReason | int | None = None,
    created_at: datetime.datetime | None = None,
    keep_history: bool = False,
    source_file: str = "",
    **values: Any,
) -> Opportunity:
    """One opportunity from an import row, by the rules of `opportunity_create`, then won or
    lost by the stage step when the file says so (the step table decides whether the actor
    may). With `keep_history` an administrator keeps the original owner (any active user)
    and creation date; the `opportunity.created` event names the file and what was kept."""
    if not actor.has_perm("customers.add_opportunity"):
        raise DomainError(_("You may not create opportunities."))
    if keep_history and not actor.has_perm("imports.import_history"):
        raise DomainError(_("Only an administrator may keep original owners and dates."))
    customer = _opportunity_customer(actor, customer)
    kept: dict[str, Any] = {}
    if keep_history and owner is not None and owner != actor:
        if not owner.is_active:
            raise DomainError(_("%(name)s is not an active user.") % {"name": owner.get_username()}, field="owner")
        kept["owner"] = owner.get_username()
    else:
        owner = _opportunity_owner_for(actor, owner, customer)
    if keep_history and created_at is not None:
        kept["created_at"] = created_at.isoformat()
    else:
        created_at = None
    closing = stage if stage in CLOSED_STAGES else None
    opportunity = _opportunity_open(
        actor,
        customer=customer,
        owner=owner,
        stage=OpportunityStage.PROSPECTING if closing else stage,
        created_at=created_at,
        extra={"import": source_file, **({"kept_original": kept} if kept else {})},
        **values,
    )
    if closing == OpportunityStage.WON:
        return opportunity_win(actor=actor, opportunity_id=opportunity.pk)
    if closing == OpportunityStage.LOST:
        return opportunity_lose(actor=actor, opportunity_id=opportunity.pk, lost_reason=lost_reason)
    return opportunity


@transaction.atomic
def opportunity_update(
    *, actor: User, opportunity_id: int, expected_version: Collection[str] | None = None, **values: Any
) -> Opportunity:
    """Edit an open deal's terms (title, amount, dates, source, next step, probability); the
    owner changes through `opportunity_assign`, the stage through the steps."""
    opportunity = _opportunity_locked(actor, opportunity_id)
    version_check(opportunity, expected_version)
    if not opportunity.is_open:
        raise DomainError(_("A closed opportunity cannot be edited; reopen it first."))
    editable = set(OPPORTUNITY_FIELDS) - {"customer", "owner"}
    unknown = set(values) - editable
    if unknown:
        raise DomainError(_("These fields cannot be edited here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    before = snapshot(opportunity, OPPORTUNITY_FIELDS)
    for name, value in values.items():
        setattr(opportunity, name, value)
    opportunity.full_clean(exclude=["customer", "owner"], validate_constraints=False)
    changes = diff(before, snapshot(opportunity, OPPORTUNITY_FIELDS))
    if not changes:
        return opportunity
    opportunity.updated_at = timezone.now()
    opportunity.save()
    audit_record(
        actor=actor, action="opportunity.updated", target=opportunity, parent=opportunity.customer, changes=changes
    )
    return opportunity


@transaction.atomic
def opportunity_assign(*, actor: User, opportunity_ids: Iterable[int], new_owner: User) -> int:
    """A manager gives opportunities to another sales user; returns how many changed hands."""
    if not actor.has_perm("customers.assign_opportunity"):
        raise DomainError(_("Only a sales manager can assign opportunities."))
    if not owner_candidates().filter(pk=new_owner.pk).exists():
        raise DomainError(_("The new owner must be an active sales user."), field="owner")
    opportunities = (
        Opportunity.objects.visible_to(actor, "change")
        .filter(pk__in=list(opportunity_ids))
        .select_for_update(of=("self",))
        .select_related("owner", "customer")
        .order_by("pk")
    )
    moved = 0
    for opportunity in opportunities:
        if opportunity.owner_id == new_owner.pk:
            continue
        previous = opportunity.owner.get_username()
        opportunity.owner = new_owner
        opportunity.updated_at = timezone.now()
        opportunity.save(update_fields=["owner", "updated_at"])
        audit_record(
            actor=actor,
            action="opportunity.assigned",
            target=opportunity,
            parent=opportunity.customer,
            changes={"owner": [previous, new_owner.get_username()]},
        )
        moved += 1
    return moved


_STAGE_ACTIONS = {
    "advance": "opportunity.advanced",
    "win": "opportunity.won",
    "lose": "opportunity.lost",
    "reopen": "opportunity.reopened",
}


def _lost_reason_get(lost_reason: LostReason | int | None) -> LostReason:
    if lost_reason is None or lost_reason == "":
        raise DomainError(_("Say why the opportunity was lost."), field="lost_reason")
    reason_id = lost_reason.pk if isinstance(lost_reason, LostReason) else lost_reason
    found = LostReason.objects.filter(pk=reason_id, is_active=True).first()
    if found is None:
        raise DomainError(_("Choose one of the offered reasons."), field="lost_reason")
    return found


def _stage_move(
    actor: Actor,
    opportunity: Opportunity,
    step_name: str,
    target: str,
    *,
    lost_reason: LostReason | int | None = None,
    note: str = "",
) -> Opportunity:
    """Take one checked step inside the caller's transaction: the stage, the time spent in
    the one left, the stage-change row and the audit event."""
    WORKFLOW.check(opportunity, step_name, actor=actor, target=target)
    if target == opportunity.stage:
        raise TransitionNotAllowed(
            _("The opportunity is already in %(stage)s.") % {"stage": opportunity.get_stage_display().lower()}
        )
    reason = _lost_reason_get(lost_reason) if target == OpportunityStage.LOST else None
    now = timezone.now()
    before = opportunity.stage
    seconds = max(0, int((now - opportunity.stage_entered_at).total_seconds()))
    before_reason = str(opportunity.lost_reason) if opportunity.lost_reason_id else None
    opportunity.stage = target
    opportunity.stage_entered_at = now
    opportunity.updated_at = now
    opportunity.lost_reason = reason
    opportunity.closed_at = now if target in CLOSED_STAGES else None
    opportunity.save(update_fields=["stage", "stage_entered_at", "updated_at", "lost_reason", "closed_at"])
    OpportunityStageChange.objects.create(
        opportunity=opportunity,
        from_stage=before,
        to_stage=target,
        changed_by=audit_actor(actor),
        changed_at=now,
        seconds_in_from=seconds,
        note=note,
    )
    changes: dict[str, Any] = {"stage": [before, target]}
    if before_reason != (str(reason) if reason else None):
        changes["lost_reason"] = [before_reason, str(reason) if reason else None]
    audit_record(
        actor=audit_actor(actor),
        action=_STAGE_ACTIONS[step_name],
        target=opportunity,
        parent=opportunity.customer,
        changes=changes,
        extra={"note": note, "seconds_in_stage": seconds},
    )
    return opportunity


@transaction.atomic
def opportunity_stage_move(
    *, actor: Actor, opportunity_id: int, stage: str, lost_reason: LostReason | int | None = None, note: str = ""
) -> Opportunity:
    """Move an opportunity to `stage` by whichever step leads there (advance, win, lose,
    reopen), as the board's drag and drop and the quote's steps do; the table decides
    whether this actor may."""
    opportunity = _opportunity_locked(actor, opportunity_id)
    if stage not in OpportunityStage.values:
        raise DomainError(_("Choose a stage."), field="stage")
    step_name = step_for_move(opportunity.stage, stage)
    return _stage_move(actor, opportunity, step_name, stage, lost_reason=lost_reason, note=note)


@transaction.atomic
def opportunity_advance(*, actor: Actor, opportunity_id: int, stage: str, note: str = "") -> Opportunity:
    """Move an open deal to another open stage, forward or back."""
    opportunity = _opportunity_locked(actor, opportunity_id)
    return _stage_move(actor, opportunity, "advance", stage, note=note)


@transaction.atomic
def opportunity_win(*, actor: Actor, opportunity_id: int, note: str = "") -> Opportunity:
    opportunity = _opportunity_locked(actor, opportunity_id)
    return _stage_move(actor, opportunity, "win", OpportunityStage.WON, note=note)


@transaction.atomic
def opportunity_lose(
    *, actor: Actor, opportunity_id: int, lost_reason: LostReason | int | None, note: str = ""
) -> Opportunity:
    """Close a deal as lost; the reason (from the admin's list) is required."""
    opportunity = _opportunity_locked(actor, opportunity_id)
    return _stage_move(actor, opportunity, "lose", OpportunityStage.LOST, lost_reason=lost_reason, note=note)


@transaction.atomic
def opportunity_reopen(*, actor: Actor, opportunity_id: int, note: str = "") -> Opportunity:
    """Reopen a lost deal in the stage it was lost from."""
    opportunity = _opportunity_locked(actor, opportunity_id)
    lost_from = (
        opportunity.stage_changes.filter(to_stage=OpportunityStage.LOST)
        .order_by("-changed_at", "-id")
        .values_list("from_stage", flat=True)
        .first()
    )
    target = lost_from if lost_from in OPEN_STAGES else OpportunityStage.PROSPECTING
    return _stage_move(actor, opportunity, "reopen", target, note=note)


# --- activities ------------------------------------------------------------------------------

# The timeline entry a completed activity becomes.
_ACTIVITY_INTERACTION_KIND = {
    ActivityKind.CALL: InteractionKind.CALL,
    ActivityKind.MEETING: InteractionKind.MEETING,
    ActivityKind.EMAIL: InteractionKind.EMAIL,
    ActivityKind.TODO: InteractionKind.NOTE,
}


def _activity_assignee_for(actor: User, assignee: User | None) -> User:
    if assignee is None or assignee == actor:
        return actor
    if not owner_candidates().filter(pk=assignee.pk).exists():
        raise DomainError(_("The assignee must be an active sales user."), field="assignee")
    return assignee


def _activity_locked(actor: User, activity_id: int, step_name: str) -> Activity:
    """The activity under a row lock, if the actor may change it and the step is allowed now."""
    activity = _locked(
        Activity.objects.visible_to(actor, "change").select_related("customer", "opportunity"),
        activity_id,
        _("activity"),
    )
    ACTIVITY_WORKFLOW.check(activity, step_name, actor=actor)
    return activity


@transaction.atomic
def activity_create(
    *,
    actor: User,
    customer_id: int,
    kind: str,
    subject: str,
    due_at: datetime.datetime,
    assignee: User | None = None,
    opportunity: Opportunity | None = None,
    notes: str = "",
) -> Activity:
    """Plan a follow-up on a customer the actor may see (and, optionally, one of its deals)."""
    if not actor.has_perm("customers.add_activity"):
        raise DomainError(_("You may not plan activities."))
    customer = _visible_customer(actor, customer_id, action="view")
    if opportunity is not None and opportunity.customer_id != customer.pk:
        raise DomainError(_("The opportunity must be one of this customer's."), field="opportunity")
    now = timezone.now()
    activity = Activity(
        customer=customer,
        opportunity=opportunity,
        kind=kind,
        subject=subject,
        due_at=due_at,
        notes=notes,
        assignee=_activity_assignee_for(actor, assignee),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    activity.full_clean(exclude=["customer", "assignee", "created_by", "opportunity"], validate_constraints=False)
    activity.save(force_insert=True)
    audit_record(
        actor=actor,
        action="activity.created",
        target=activity,
        parent=customer,
        changes=diff({}, snapshot(activity, ACTIVITY_FIELDS)),
    )
    return activity


@transaction.atomic
def activity_complete(*, actor: User, activity_id: int, outcome: str) -> Activity:
    """Mark an activity done and put its outcome on the customer's timeline: one service,
    one audit event (the timeline entry is part of the completion, not a second change)."""
    activity = _activity_locked(actor, activity_id, "complete")
    outcome = (outcome or "").strip()
    if not outcome:
        raise DomainError(_("Say what came of it."), field="outcome")
    now = timezone.now()
    interaction = Interaction.objects.create(
        customer=activity.customer,
        opportunity=activity.opportunity,
        kind=_ACTIVITY_INTERACTION_KIND[ActivityKind(activity.kind)],
        subject=activity.subject,
        body=outcome,
        occurred_at=now,
        author=actor,
        created_at=now,
    )
    activity.status = ActivityStatus.DONE
    activity.done_at = now
    activity.outcome = outcome
    activity.interaction = interaction
    activity.updated_at = now
    activity.save(update_fields=["status", "done_at", "outcome", "interaction", "updated_at"])
    if activity.opportunity_id:
        Opportunity.objects.filter(pk=activity.opportunity_id).update(updated_at=now)
    audit_record(
        actor=actor,
        action="activity.completed",
        target=activity,
        parent=activity.customer,
        changes={"status": [ActivityStatus.OPEN, ActivityStatus.DONE], "outcome": ["", outcome]},
        extra={"interaction": interaction.pk},
    )
    return activity


@transaction.atomic
def activity_reschedule(*, actor: User, activity_id: int, due_at: datetime.datetime) -> Activity:
    """Move an open activity's due time; its reminder will be sent again before the new time."""
    activity = _activity_locked(actor, activity_id, "reschedule")
    before = activity.due_at
    activity.due_at = due_at
    activity.full_clean(exclude=["customer", "assignee", "created_by", "opportunity"], validate_constraints=False)
    if before == due_at:
        return activity
    activity.reminded_at = None
    activity.updated_at = timezone.now()
    activity.save(update_fields=["due_at", "reminded_at", "updated_at"])
    audit_record(
        actor=actor,
        action="activity.rescheduled",
        target=activity,
        parent=activity.customer,
        changes=diff({"due_at": before.isoformat()}, {"due_at": due_at.isoformat()}),
    )
    return activity


@transaction.atomic
def activity_cancel(*, actor: User, activity_id: int, reason: str = "") -> Activity:
    activity = _activity_locked(actor, activity_id, "cancel")
    activity.status = ActivityStatus.CANCELLED
    activity.updated_at = timezone.now()
    activity.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="activity.cancelled",
        target=activity,
        parent=activity.customer,
        changes={"status": [ActivityStatus.OPEN, ActivityStatus.CANCELLED]},
        extra={"reason": reason},
    )
    return activity


ACTIVITY_REMINDER = gettext_noop("Reminder: “%(subject)s” with %(customer)s is due at %(due)s.")


@transaction.atomic
def activity_reminders_send(*, now: datetime.datetime | None = None, dry_run: bool = False) -> list[Activity]:
    """Tell each open activity's assignee, in the app and by e-mail, once, when it falls due
    within ACTIVITY_REMINDER_MINUTES. The rows are claimed under a lock (SKIP LOCKED), so two
    runs at once never remind twice. Not audited: a copy of news for one reader."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(minutes=settings.ACTIVITY_REMINDER_MINUTES)
    due = (
        Activity.objects.filter(status=ActivityStatus.OPEN, reminded_at__isnull=True, due_at__lte=horizon)
        .filter(due_at__gte=now - datetime.timedelta(days=1))  # a long-missed one is on My day, not in the mail
        .select_related("customer", "assignee")
        .order_by("due_at", "id")
    )
    if dry_run:
        return list(due)
    reminded = list(due.select_for_update(of=("self",), skip_locked=True))
    for activity in reminded:
        activity.reminded_at = now
        activity.save(update_fields=["reminded_at"])
        notification_send(
            recipients=[activity.assignee],
            sentence=ACTIVITY_REMINDER,
            params={
                "subject": activity.subject,
                "customer": activity.customer.name,
                "due": timezone.localtime(activity.due_at).strftime("%Y-%m-%d %H:%M"),
            },
            target_url=activity.get_absolute_url(),
        )
    return reminded


# --- the admin's lists -----------------------------------------------------------------------


@transaction.atomic
def lost_reason_save(*, actor: User, reason: LostReason) -> LostReason:
    """Add or change a lost reason (deactivate one instead of deleting it)."""
    return reference_row_save(
        actor=actor,
        instance=reason,
        fields=["name", "is_active", "position"],
        refusal=_("You may not edit lost reasons."),
    )


@transaction.atomic
def stage_probability_save(*, actor: User, row: StageProbability) -> StageProbability:
    """Change a stage's default win probability (the deals without an override follow it)."""
    return reference_row_save(
        actor=actor, instance=row, fields=["stage", "probability"], refusal=_("You may not edit stage probabilities.")
    )
