"""Scheduled jobs: the default schedule exists after migrate (and edits in the admin are
kept), each job sent to a real worker runs and leaves a JobRun, and the admin lists the
runs with failures filterable."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from crm.core.jobs import jobs
from crm.core.models import AuditCheckpoint, JobRun
from crm.core.tasks import job_run
from crm.core.tests.factories import UserFactory
from crm.core.tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_migrate_creates_the_default_schedule_and_keeps_an_edited_one():
    call_command("migrate", verbosity=0)
    tasks = {task.name: task for task in PeriodicTask.objects.select_related("crontab")}
    assert (
        set(tasks)
        == set(jobs())
        == {
            "expire_contracts",
            "send_renewal_reminders",
            "send_activity_reminders",
            "expire_quotes",
            "close_delivered_orders",
            "verify_signatures",
            "write_audit_checkpoint",
            "train_approval_model",
            "watch_ticket_slas",
            "close_resolved_tickets",
            "fetch_ticket_mail",
            "fetch_campaign_mail",
            "requeue_pending_mail",
            "requeue_webhook_deliveries",
            "refresh_dashboard",
            "send_due_campaigns",
            "train_models",
            "purge_idempotency_keys",
        }
    )
    assert all(task.task == "crm.core.tasks.job_run" and task.enabled for task in tasks.values())
    assert tasks["write_audit_checkpoint"].crontab.hour == "*", "hourly"
    assert (tasks["expire_quotes"].crontab.hour, tasks["expire_quotes"].crontab.minute) == ("0", "15"), "daily"
    assert tasks["train_approval_model"].crontab.day_of_week == "0", "weekly"
    assert tasks["fetch_ticket_mail"].crontab.minute == "*", "every minute"
    assert tasks["send_due_campaigns"].crontab.minute == "*", "every minute"
    assert tasks["fetch_campaign_mail"].crontab.minute == "*/5", "every five minutes"
    assert (tasks["train_models"].crontab.hour, tasks["train_models"].crontab.day_of_week) == ("3", "*"), "nightly"
    assert (tasks["purge_idempotency_keys"].crontab.minute, tasks["purge_idempotency_keys"].crontab.hour) == (
        "25",
        "*",
    ), "hourly"

    tasks["verify_signatures"].enabled = False
    tasks["verify_signatures"].save()
    call_command("migrate", verbosity=0)
    assert PeriodicTask.objects.filter(name="verify_signatures", enabled=False).count() == 1
    assert PeriodicTask.objects.filter(task="crm.core.tasks.job_run").count() == len(jobs())


def test_each_job_run_by_the_worker_records_its_outcome(task_worker):
    for name in jobs():
        job_run.delay(name)

    wait_until(lambda: JobRun.objects.filter(finished_at__isnull=False).count() == len(jobs()), timeout=60)
    runs = {run.job: run for run in JobRun.objects.all()}
    assert set(runs) == set(jobs())
    names = ["expire_contracts", "close_delivered_orders", "verify_signatures", "write_audit_checkpoint"]
    for name in [*names, "fetch_ticket_mail", "fetch_campaign_mail", "send_activity_reminders"]:
        assert runs[name].ok is True, runs[name].error
    assert "0 contract(s) expired." in runs["expire_contracts"].summary
    # Checkpoints are append-only, so another transactional test's may come first.
    written = re.search(r"Checkpoint #(\d+)", runs["write_audit_checkpoint"].summary)
    assert written and AuditCheckpoint.objects.filter(number=int(written.group(1))).exists()
    assert "No mailbox is configured" in runs["fetch_ticket_mail"].summary
    assert "No mailbox is configured" in runs["fetch_campaign_mail"].summary
    assert runs["refresh_dashboard"].ok is True, runs["refresh_dashboard"].error
    assert "summary figure(s) refreshed" in runs["refresh_dashboard"].summary
    assert runs["purge_idempotency_keys"].ok is True, runs["purge_idempotency_keys"].error
    assert "expired Idempotency-Key(s) deleted." in runs["purge_idempotency_keys"].summary
    # Too little history to train on: a failed run, with the reason, not a crash.
    assert runs["train_approval_model"].ok is False
    assert "CommandError" in runs["train_approval_model"].error
    assert runs["train_models"].ok is False  # the same: each model says it has not enough data
    assert "not enough data" in runs["train_models"].summary


def test_the_admin_lists_job_runs_and_filters_failures(client):
    JobRun.objects.create(job="verify_signatures", started_at="2026-12-01T02:30:00Z", ok=False, error="boom")
    JobRun.objects.create(job="expire_contracts", started_at="2026-12-01T00:10:00Z", ok=True)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    failures = client.get(reverse("admin:core_jobrun_changelist"), {"ok__exact": "0"})

    assert failures.status_code == 200
    page = failures.content.decode()
    assert "verify_signatures" in page and "boom" in page
    assert page.count('class="field-job"') == 1, "only the failed run is listed"
    assert client.get(reverse("admin:core_outgoingmail_changelist")).status_code == 200
