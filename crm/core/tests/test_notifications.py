"""The notifications page, the counts in the navigation, marking read, and masking."""

import datetime

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts import services as contract_services
from contracts.tests.factories import LARGE, ContractFactory, default_approval_rules
from crm.core.models import AuditEvent, Notification
from crm.core.notifications import notification_send
from customers.tests.factories import ActivityFactory, CustomerFactory

pytestmark = pytest.mark.django_db

SENTENCE = "Contract %(number)s for %(customer)s waits for your approval."


def tell(user, number="CT-2026-000042", customer="Hangzhou Tea Co", url="/contracts/42/"):
    return notification_send(
        recipients=[user], sentence=SENTENCE, params={"number": number, "customer": customer}, target_url=url
    )[0]


def test_the_navigation_counts_unread_notifications(client, rep):
    client.force_login(rep)
    assert 'data-testid="nav-notifications-count"' not in client.get(reverse("dashboard:home")).content.decode()

    tell(rep)
    tell(rep, number="CT-2026-000043")

    page = client.get(reverse("dashboard:home")).content.decode()
    assert 'data-testid="nav-notifications-count" title="Unread notifications">2</span>' in page


def test_the_navigation_counts_contracts_waiting_for_the_approvers_decision(client, rep, manager, customer):
    default_approval_rules()
    contract = ContractFactory(owner=rep, customer=customer)
    client.force_login(manager)
    assert 'data-testid="nav-approvals-count"' not in client.get(reverse("dashboard:home")).content.decode()

    contract_services.contract_submit(actor=rep, contract_id=contract.pk)

    page = client.get(reverse("dashboard:home")).content.decode()
    assert 'data-testid="nav-approvals-count" title="Waiting for your decision">1</span>' in page
    client.force_login(rep)  # the submitter has nothing to decide
    assert 'data-testid="nav-approvals-count"' not in client.get(reverse("dashboard:home")).content.decode()


def test_the_navigation_counts_everything_waiting_in_one_query(client, rep, manager, customer):
    default_approval_rules()
    contract_services.contract_submit(actor=rep, contract_id=ContractFactory(owner=rep, customer=customer).pk)
    ActivityFactory(customer=customer, assignee=manager, due_at=timezone.now() - datetime.timedelta(hours=1))
    ActivityFactory(customer=customer, assignee=manager, due_at=timezone.now() - datetime.timedelta(hours=2))
    tell(manager)
    tell(manager, number="CT-2026-000043")
    tell(manager, number="CT-2026-000044")
    client.force_login(manager)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("dashboard:home")).content.decode()

    assert 'data-testid="nav-approvals-count" title="Waiting for your decision">1</span>' in page
    assert 'data-testid="nav-my-day-count" title="Activities overdue or due today">2</span>' in page
    assert 'data-testid="nav-notifications-count" title="Unread notifications">3</span>' in page
    statements = [query["sql"] for query in queries]
    counting = [sql for sql in statements if sql.startswith("SELECT (SELECT COUNT(*)")]
    assert len(counting) == 1
    assert not [sql for sql in statements if '"core_notification"' in sql and sql not in counting]


def test_an_approver_who_may_see_no_contract_counts_none_waiting(client, rep, customer):
    """The approvals counter then selects nothing at all (`.none()`): no badge, no error."""
    default_approval_rules()
    contract_services.contract_submit(actor=rep, contract_id=ContractFactory(owner=rep, customer=customer).pk)
    approver = User.objects.create_user("approver-only")
    approver.user_permissions.add(Permission.objects.get(codename="approve_contract"))
    tell(approver)
    client.force_login(approver)

    response = client.get(reverse("notifications:notification_list"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="nav-approvals-count"' not in page
    assert 'data-testid="nav-notifications-count" title="Unread notifications">1</span>' in page


def test_the_page_lists_only_the_readers_own_notifications(client, rep, other_rep):
    tell(rep, number="CT-2026-000001")
    tell(other_rep, number="CT-2026-000002")
    client.force_login(rep)

    page = client.get(reverse("notifications:notification_list")).content.decode()

    assert "Contract CT-2026-000001 for Hangzhou Tea Co waits for your approval." in page
    assert "CT-2026-000002" not in page


def test_marking_read_opens_the_target_and_clears_the_count(client, rep):
    notification = tell(rep, url="/contracts/42/")
    client.force_login(rep)

    response = client.post(reverse("notifications:notification_read", args=[notification.pk]), {"open": "1"})

    assert response.status_code == 302 and response["Location"] == "/contracts/42/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert 'data-testid="nav-notifications-count"' not in client.get(reverse("dashboard:home")).content.decode()


def test_marking_all_read_is_not_audited(client, rep):
    for number in range(3):
        tell(rep, number=f"CT-2026-00000{number}")
    client.force_login(rep)
    events = AuditEvent.objects.count()

    response = client.post(reverse("notifications:notification_read_all"), follow=True)

    assert "All your notifications are marked read." in response.content.decode()
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()
    assert AuditEvent.objects.count() == events


def test_another_users_notification_is_not_found(client, rep, other_rep):
    notification = tell(rep)
    client.force_login(other_rep)

    response = client.post(reverse("notifications:notification_read", args=[notification.pk]))

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_masked_reader_sees_phone_numbers_masked_on_the_page_and_in_the_mail(
    client, rep, manager, finance, django_capture_on_commit_callbacks, mailoutbox
):
    default_approval_rules()
    customer = CustomerFactory(owner=rep, name="Tea shop 13800135678")
    contract = ContractFactory(owner=rep, customer=customer, amount=LARGE)
    contract_services.contract_submit(actor=rep, contract_id=contract.pk)
    with django_capture_on_commit_callbacks(execute=True):
        contract_services.contract_approve(actor=manager, contract_id=contract.pk)
    client.force_login(finance)

    page = client.get(reverse("notifications:notification_list")).content.decode()

    assert "138****5678" in page and "13800135678" not in page
    mail = next(mail for mail in mailoutbox if mail.to == [finance.email])
    assert "138****5678" in mail.body and "13800135678" not in mail.body + mail.subject


def test_the_admin_lists_what_each_user_was_told_and_filters_the_unread(client, rep, other_rep, admin_user):
    tell(rep, number="CT-2026-000051")
    read = tell(other_rep, number="CT-2026-000052")
    client.force_login(other_rep)
    client.post(reverse("notifications:notification_read", args=[read.pk]))
    client.force_login(admin_user)

    unread = client.get(reverse("admin:core_notification_changelist"), {"read_at__isempty": "1"}).content.decode()

    assert "Contract CT-2026-000051 for Hangzhou Tea Co waits for your approval." in unread
    assert "CT-2026-000052" not in unread
    detail = client.get(reverse("admin:core_notification_change", args=[read.pk])).content.decode()
    assert "CT-2026-000052" in detail
    assert client.post(reverse("admin:core_notification_delete", args=[read.pk])).status_code == 403
