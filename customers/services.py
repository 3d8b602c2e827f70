"""Every write to customers, contacts and interactions.

Each service takes the acting user, re-checks what that user may do by fetching the
row through `visible_to` under a lock, writes, and records the audit event in the
same transaction.
"""

from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, diff, snapshot
from crm.core.exceptions import DomainError, DuplicateRecord
from crm.core.roles import owner_candidates
from customers.choices import CustomerStatus
from customers.models import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    INTERACTION_FIELDS,
    Contact,
    Customer,
    Interaction,
)
from customers.permissions import can_reassign
from customers.selectors import customer_check_duplicates

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


@transaction.atomic
def customer_update(*, actor: User, customer_id: int, **values: Any) -> Customer:
    customer = _locked(Customer.objects.visible_to(actor, "change"), customer_id, _("customer"))
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
def contact_update(*, actor: User, contact_id: int, **values: Any) -> Contact:
    _visible_customer(actor, _contact_customer_id(actor, contact_id, "change"))
    contact = _locked(Contact.objects.visible_to(actor, "change"), contact_id, _("contact"))
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
