"""Who is told of a contract's steps (in the app and by e-mail), and the renewal reminders."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from contracts import services, signatures
from contracts.choices import ContractStatus
from contracts.models import ApprovalRule
from contracts.notifications import contract_renewal_reminders_send
from contracts.tests.factories import LARGE, ContractFactory, contract_events, customer_sign, reload
from crm.core.models import Notification
from crm.core.roles import Role
from crm.core.tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


def told(user):
    """The sentences a user was told, oldest first, in English."""
    return [notification.text for notification in Notification.objects.filter(recipient=user).order_by("id")]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and deliver what it publishes on commit."""

    def call(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return call


@pytest.fixture
def deal(people):
    return ContractFactory(owner=people.rep, customer=people.customer, title="Lakeside tea")


def test_a_submitted_contract_tells_the_sales_managers_by_mail_and_in_the_app(run, people, deal, mailoutbox):
    second_manager = UserFactory(username="manager2", role=Role.SALES_MANAGER, email="m2@example.com")

    run(services.contract_submit, actor=people.rep, contract_id=deal.pk)

    expected = f"Contract {deal.number} for Hangzhou Lakeside Trading Co. waits for your approval."
    assert told(people.manager) == [expected]
    assert told(second_manager) == [expected]
    assert Notification.objects.get(recipient=people.manager).target_url == deal.get_absolute_url()
    mails = {mail.to[0]: mail for mail in mailoutbox}
    assert second_manager.email in mails
    assert expected in mails[second_manager.email].body
    assert deal.get_absolute_url() in mails[second_manager.email].body


def test_the_submitter_is_never_told_of_their_own_submission(run, people, deal):
    people.rep.groups.add(people.manager.groups.get())  # even when they hold the awaiting role
    people.rep.refresh_from_db()

    run(services.contract_submit, actor=people.rep, contract_id=deal.pk)

    assert told(people.rep) == []
    assert told(people.other_rep) == []
    assert told(people.signatory) == []


def test_an_invisible_contract_never_notifies_a_rep_who_cannot_see_it(run, people, deal):
    """A level waiting for sales reps tells none of the reps who may not see the contract."""
    ApprovalRule.objects.update(role=Role.SALES_REP)
    run(services.contract_submit, actor=people.rep, contract_id=deal.pk)

    assert told(people.other_rep) == []
    assert not Notification.objects.filter(recipient__groups__name=Role.SALES_REP).exists()


def test_each_level_tells_the_next_level_and_the_owner(run, people, finance):
    contract = ContractFactory(owner=people.rep, customer=people.customer, amount=LARGE)
    run(services.contract_submit, actor=people.rep, contract_id=contract.pk)
    assert told(finance) == []  # level 2 does not wait yet

    run(services.contract_approve, actor=people.manager, contract_id=contract.pk, comment="fine")

    assert told(finance) == [f"Contract {contract.number} for Hangzhou Lakeside Trading Co. waits for your approval."]
    manager_name = people.manager.get_full_name() or people.manager.username
    assert told(people.rep) == [
        f"{manager_name} approved level 1 of contract {contract.number}; it goes to the next level."
    ]
    assert len(told(people.manager)) == 1  # only the first "waits", not their own approval


def test_the_owner_and_the_submitter_are_told_of_the_decision(run, people):
    submitter = people.manager
    approver = UserFactory(username="manager3", role=Role.SALES_MANAGER)
    contract = ContractFactory(owner=people.rep, customer=people.customer)
    run(services.contract_submit, actor=submitter, contract_id=contract.pk)

    run(services.contract_reject, actor=approver, contract_id=contract.pk, comment="Price too low")

    name = approver.get_full_name() or approver.username
    sentence = f"{name} rejected contract {contract.number}: Price too low"
    assert told(people.rep) == [sentence]
    assert told(submitter) == [sentence]
    assert told(approver)[-1].endswith("waits for your approval.")


def test_the_owner_is_told_of_approval_each_signature_and_activation(run, people, deal, mailoutbox):
    run(services.contract_submit, actor=people.rep, contract_id=deal.pk)
    run(services.contract_approve, actor=people.manager, contract_id=deal.pk)
    run(signatures.contract_sign_company, actor=people.signatory, contract_id=deal.pk, password=PASSWORD)
    run(customer_sign, contract=reload(deal))

    assert reload(deal).status == ContractStatus.ACTIVE
    manager_name = people.manager.get_full_name() or people.manager.username
    signatory_name = people.signatory.get_full_name() or people.signatory.username
    assert told(people.rep) == [
        f"{manager_name} approved contract {deal.number}.",
        f"{signatory_name} signed contract {deal.number} for the company.",
        f"Li Wei signed contract {deal.number} for the customer.",
        f"Contract {deal.number} is active: both parties signed.",
    ]
    assert told(people.signatory) == []  # never of their own signature
    assert any(f"Contract {deal.number} is active" in mail.body for mail in mailoutbox if mail.to == [people.rep.email])


def test_a_notification_is_in_the_recipients_language(run, people, deal):
    from django.utils import translation

    from crm.core.services import user_language_set

    user_language_set(actor=people.manager, language="zh-hans")
    run(services.contract_submit, actor=people.rep, contract_id=deal.pk)

    with translation.override("zh-hans"):
        text = Notification.objects.get(recipient=people.manager).text
    assert deal.number in text and "waits" not in text


# --- renewal reminders --------------------------------------------------------------------


@pytest.fixture
def ending(run, people):
    """An active contract of `rep`'s ending in a week."""
    end_date = timezone.localdate() + datetime.timedelta(days=7)
    contract = ContractFactory(
        owner=people.rep,
        customer=people.customer,
        start_date=end_date - datetime.timedelta(days=365),
        end_date=end_date,
    )
    run(services.contract_submit, actor=people.rep, contract_id=contract.pk)
    run(services.contract_approve, actor=people.manager, contract_id=contract.pk)
    run(signatures.contract_sign_company, actor=people.signatory, contract_id=contract.pk, password=PASSWORD)
    run(customer_sign, contract=reload(contract))
    Notification.objects.all().delete()
    return reload(contract)


def reminders(user):
    return [text for text in told(user) if "ends on" in text]


def test_the_owner_and_the_managers_are_reminded_30_and_7_days_before_the_end_once_each(run, people, ending):
    end = ending.end_date
    sentence = f"Contract {ending.number} for Hangzhou Lakeside Trading Co. ends on {end.isoformat()}, in %s days."

    for days in (31, 30, 30, 29, 8):
        run(contract_renewal_reminders_send, today=end - datetime.timedelta(days=days))
    assert reminders(people.rep) == [sentence % 30]
    assert reminders(people.manager) == [sentence % 30]

    for days in (7, 6, 0):
        run(contract_renewal_reminders_send, today=end - datetime.timedelta(days=days))
    assert reminders(people.rep) == [sentence % 30, sentence % 7]
    assert reminders(people.other_rep) == []  # a rep who cannot see it
    assert [event.extra["mark"] for event in contract_events(ending, "contract.renewal_reminded")] == [30, 7]


def test_a_missed_mark_is_reminded_on_the_next_run_once(run, people, ending):
    run(contract_renewal_reminders_send, today=ending.end_date - datetime.timedelta(days=5))
    run(contract_renewal_reminders_send, today=ending.end_date - datetime.timedelta(days=4))

    assert len(reminders(people.rep)) == 1
    assert reminders(people.rep)[0].endswith("in 5 days.")


def test_a_dry_run_reminds_nobody(run, people, ending):
    would = run(contract_renewal_reminders_send, today=ending.end_date - datetime.timedelta(days=30), dry_run=True)

    assert [(contract.pk, mark) for contract, mark in would] == [(ending.pk, 30)]
    assert reminders(people.rep) == []
    assert not contract_events(ending, "contract.renewal_reminded").exists()


def test_the_send_renewal_reminders_command(people, ending, capsys, django_capture_on_commit_callbacks):
    call_command("send_renewal_reminders", "--dry-run")
    assert f"would remind of {ending.number} (7-day mark)" in capsys.readouterr().out
    assert reminders(people.rep) == []

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_renewal_reminders")
    out = capsys.readouterr().out
    assert f"reminded of {ending.number} (7-day mark)" in out and "1 reminder(s) sent." in out
    assert len(reminders(people.rep)) == 1

    call_command("send_renewal_reminders")
    assert "0 reminder(s) sent." in capsys.readouterr().out


def test_a_mail_outage_fails_no_step_and_the_notification_stays_in_the_app(run, people, deal, settings):
    from contracts.tests.test_signing_mail import closed_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 5

    contract = run(services.contract_submit, actor=people.rep, contract_id=deal.pk)

    assert contract.status == ContractStatus.PENDING_APPROVAL
    assert told(people.manager) == [
        f"Contract {deal.number} for Hangzhou Lakeside Trading Co. waits for your approval."
    ]


def test_the_daily_job_sends_the_reminders(people, ending, django_capture_on_commit_callbacks):
    from crm.core.jobs import job_run, jobs

    assert jobs()["send_renewal_reminders"].hour == "8"  # daily, in the morning
    with django_capture_on_commit_callbacks(execute=True):
        assert job_run("send_renewal_reminders").ok
    assert job_run("send_renewal_reminders").ok  # the next run reminds nobody again
    assert len(reminders(people.manager)) == 1
