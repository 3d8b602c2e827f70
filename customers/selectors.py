"""Reads of customers that start from what the user may see."""

import re

from django.db.models import Q
from django.shortcuts import get_object_or_404

from crm.core.audit import audit_history
from customers.models import Contact, Customer, Interaction
from customers.querysets import phone_key_digits


def customer_list(*, user):
    return Customer.objects.visible_to(user).select_related("owner")


def customer_get(*, user, pk, action="view") -> Customer:
    return get_object_or_404(Customer.objects.visible_to(user, action).select_related("owner"), pk=pk)


def customer_search(queryset, text: str, *, reveal: bool):
    """Customers whose name, e-mail or phone contains the text.

    E-mail and phone are searched only for users who may see them unmasked, so a
    masked value cannot be discovered by probing the search box.
    """
    text = text.strip()
    if not text:
        return queryset
    condition = Q(name_key__contains=re.sub(r"\s+", " ", text).lower())
    if reveal:
        condition |= Q(email_key__contains=text.lower())
        digits = phone_key_digits(text)
        if len(digits) >= 3:
            condition |= Q(phone_key__contains=digits)
    return queryset.filter(condition)


def customer_detail_context(*, customer, user):
    """Contacts, timeline and history shown on a customer's page, as far as the user may see them."""
    return {
        "contacts": Contact.objects.visible_to(user).filter(customer=customer).order_by("-is_primary", "name"),
        "interactions": Interaction.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("contact", "author")[:50],
        "history": audit_history(customer).select_related("actor")[:100],
    }


def contact_list(*, user):
    return Contact.objects.visible_to(user).select_related("customer", "customer__owner")


def contact_search(queryset, text: str, *, reveal: bool):
    text = text.strip()
    if not text:
        return queryset
    condition = Q(name__icontains=text) | Q(customer__name_key__contains=text.lower())
    if reveal:
        condition |= Q(email__icontains=text)
    return queryset.filter(condition)
