"""The nightly signature check alerts: a contract changed behind the application's back
makes the run fail, logs an error and mails the admins (through the mail task)."""

import logging

import pytest
from django.core import mail

from contracts.tests.test_signing_workflow import approved, raw_sql, sign_both
from contracts.tests.test_verify_signatures import FREEZE_TRIGGER, disable_trigger
from crm.core.jobs import job_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


def test_a_failing_signature_check_fails_the_run_logs_and_mails_the_admins(
    people, settings, caplog, django_capture_on_commit_callbacks
):
    settings.ADMINS = [("security", "security@example.com")]
    signed = sign_both(approved(people), people)
    disable_trigger(FREEZE_TRIGGER)
    raw_sql("UPDATE contracts_contract SET amount = amount * 10 WHERE id = %s", signed.pk)
    mail.outbox.clear()

    with caplog.at_level(logging.ERROR, logger="crm.jobs"), django_capture_on_commit_callbacks(execute=True):
        run = job_run("verify_signatures")

    assert run.ok is False
    assert f"failed verification: {signed.number}" in run.error
    assert f"{signed.number}: changed after signing: amount" in run.summary
    assert "Scheduled job verify_signatures failed" in caplog.text
    [alert] = mail.outbox
    assert alert.to == ["security@example.com"]
    assert "verify_signatures" in alert.subject and signed.number in alert.body
