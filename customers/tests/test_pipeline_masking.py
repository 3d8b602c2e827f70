"""Contact details typed into a deal's or an activity's text never reach a user who may see
the pipeline but not contact details: list, board, detail, activity, My day."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from crm.core.tests.factories import UserFactory
from customers.services import activity_create, opportunity_create

pytestmark = pytest.mark.django_db

LEAK = "call 13912345678 or leak.agent@example.com"


@pytest.fixture
def masked_viewer(db):
    """Sees every customer, deal and activity, but not contact details."""
    user = UserFactory(username="pipeline_reader")
    codes = ["view_customer", "view_all_customer", "view_opportunity", "view_activity"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="customers", codename__in=codes))
    return user


def test_no_page_of_the_pipeline_leaks_contact_details(client_for, rep, customer, masked_viewer):
    deal = opportunity_create(
        actor=rep,
        customer=customer,
        title=f"Robots, {LEAK}",
        amount=Decimal("1000"),
        currency="CNY",
        expected_close_date=timezone.localdate() + datetime.timedelta(days=10),
        next_step=LEAK,
    )
    activity = activity_create(
        actor=rep,
        customer_id=customer.pk,
        kind="call",
        subject=LEAK,
        notes=LEAK,
        due_at=timezone.now() + datetime.timedelta(hours=1),
        assignee=None,
        opportunity=deal,
    )
    client = client_for(masked_viewer)
    pages = [
        reverse("customers:opportunity_list"),
        reverse("customers:opportunity_board"),
        reverse("customers:opportunity_detail", args=[deal.pk]),
        reverse("customers:activity_detail", args=[activity.pk]),
        reverse("customers:customer_detail", args=[customer.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "13912345678" not in body and "leak.agent" not in body, url
    # The rep who may see contact details reads them.
    assert (
        "13912345678" in client_for(rep).get(reverse("customers:opportunity_detail", args=[deal.pk])).content.decode()
    )
