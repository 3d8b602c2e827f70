"""Reads of customers that start from what the user may see."""

from typing import Any

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from crm.core.audit import audit_history
from crm.core.exceptions import DuplicateRecord
from crm.core.gram_search import contains_fragment, search_filter
from crm.core.types import Viewer
from customers.models import Contact, Customer, Interaction
from customers.querysets import phone_key as phone_digits
from customers.querysets import phone_key_digits


def customer_list(*, user: Viewer) -> QuerySet[Customer]:
    return Customer.objects.visible_to(user).select_related("owner")


def customer_get(*, user: Viewer, pk: int, action: str = "view") -> Customer:
    return get_object_or_404(Customer.objects.visible_to(user, action).select_related("owner"), pk=pk)


def customer_check_duplicates(
    *, actor: Viewer, name: str, email: str, phone: str, exclude_pk: int | None = None
) -> None:
    """Refuse a customer whose name, e-mail or phone matches an existing one's, naming it
    when the actor may see it."""
    for field, label, value in (
        ("name", _("name"), name),
        ("email", _("e-mail"), email),
        ("phone", _("phone number"), phone),
    ):
        blank = not phone_key_digits(value) if field == "phone" else not value.strip()
        if blank:
            continue
        existing = Customer.objects.duplicates_of(field, value).exclude(pk=exclude_pk).first()
        if existing is None:
            continue
        if Customer.objects.visible_to(actor).filter(pk=existing.pk).exists():
            message = _("A customer with this %(label)s already exists: %(name)s.")
            raise DuplicateRecord(message % {"label": label, "name": existing.name}, field, existing)
        message = _("A customer with this %(label)s already exists and belongs to another owner; ask a sales manager.")
        raise DuplicateRecord(message % {"label": label}, field)


def customer_search(queryset: QuerySet[Customer], text: str, *, reveal: bool) -> QuerySet[Customer]:
    """Customers whose name, e-mail or phone contains the text, found through the search
    grams' index (crm/core/gram_search.py) for any fragment, two Chinese characters too.

    E-mail and phone are searched only for users who may see them unmasked, so a
    masked value cannot be discovered by probing the search box.
    """
    return search_filter(queryset, text, **_contact_details(text, ["name"], "email", "phone_key", reveal))


def customer_detail_context(*, customer: Customer, user: Viewer) -> dict[str, Any]:
    """Contacts, timeline and history shown on a customer's page, as far as the user may see them."""
    return {
        "contacts": Contact.objects.visible_to(user).filter(customer=customer).order_by("-is_primary", "name"),
        "interactions": Interaction.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("contact", "author")[:50],
        "history": audit_history(customer).select_related("actor")[:100],
    }


def contact_list(*, user: Viewer) -> QuerySet[Contact]:
    return Contact.objects.visible_to(user).select_related("customer", "customer__owner")


def contact_search(queryset: QuerySet[Contact], text: str, *, reveal: bool) -> QuerySet[Contact]:
    """Contacts whose name, customer's name, e-mail or phone contains the text, through the
    contact's own grams (its customer's name is copied onto it: no join, no OR across tables);
    e-mail and phone only for users who may see them unmasked."""
    fields = _contact_details(text, ["name", "customer_name"], "email", phone_digits(F("phone")), reveal)
    return search_filter(queryset, text, **fields)


def _contact_details(text: str, names: list[Any], email: Any, phone: Any, reveal: bool) -> dict[str, Any]:
    """`search_filter`'s fields: the names, plus e-mail and phone for a user who may see them
    (a phone by its digits, so `138-0013` finds `13800135678`)."""
    if not reveal:
        return {"fields": names}  # the grams hold e-mail and phone too: always rechecked
    fields, extra = [*names, email], []
    digits = phone_key_digits(text)
    if len(digits) >= 3:
        if digits == "".join(text.split()):
            fields.append(phone)
        else:
            extra.append((digits, contains_fragment(phone, digits)))
    return {"fields": fields, "extra": extra, "complete": True}
