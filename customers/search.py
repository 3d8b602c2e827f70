"""Customers and contacts in the navigation's search box (registered in `apps.py`)."""

from django.utils.translation import gettext_lazy as _

from crm.core.search import SearchHit, SearchProvider
from customers.permissions import can_see_contact_details
from customers.selectors import contact_list, contact_search, customer_list, customer_search


def _summary(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _customers(user, text):
    found = customer_search(customer_list(user=user), text, reveal=can_see_contact_details(user))
    return found.order_by("name", "pk")


def _customer_hit(customer, masker):
    return SearchHit(
        heading=masker.text(customer.name),
        summary=_summary(
            str(customer.get_status_display()), masker.email(customer.email), masker.phone(customer.phone)
        ),
        url=customer.get_absolute_url(),
    )


def _contacts(user, text):
    found = contact_search(contact_list(user=user), text, reveal=can_see_contact_details(user))
    return found.order_by("name", "pk")


def _contact_hit(contact, masker):
    return SearchHit(
        heading=masker.text(contact.name),
        summary=_summary(masker.text(contact.customer.name), masker.text(contact.title), masker.email(contact.email)),
        url=contact.get_absolute_url(),
    )


PROVIDERS = [
    SearchProvider(
        kind="customers",
        label=_("Customers"),
        permission="customers.view_customer",
        find=_customers,
        hit=_customer_hit,
        list_url_name="customers:customer_list",
        position=10,
    ),
    SearchProvider(
        kind="contacts",
        label=_("Contacts"),
        permission="customers.view_contact",
        find=_contacts,
        hit=_contact_hit,
        list_url_name="customers:contact_list",
        position=20,
    ),
]
