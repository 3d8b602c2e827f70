"""Writes that really commit: each service and page runs outside any test transaction.

Every other test runs inside a transaction, which hides a lock taken in autocommit mode
(TransactionManagementError); these do not.
"""

import pytest

from customers import services
from customers.models import Contact
from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_editing_a_contact_commits(rep):
    contact = ContactFactory(customer=CustomerFactory(owner=rep), title="Buyer")

    services.contact_update(actor=rep, contact_id=contact.pk, title="Head of purchasing")

    assert Contact.objects.get(pk=contact.pk).title == "Head of purchasing"
