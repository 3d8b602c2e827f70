"""The scheduled jobs: what runs, when by default, and the record of each run.

Each job runs the same code as its manage.py command (`call_command`, so crm.core needs
no import of the domain apps), from the task `crm.core.tasks.job_run`, and leaves a
`JobRun` row with its outcome. The defaults below become django-celery-beat PeriodicTasks
after every migrate (`schedule_ensure`); from then on the admin ("Periodic tasks") owns
the times: a schedule edited or disabled there is never overwritten.
"""

import io
import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.models import JobRun

logger = logging.getLogger("crm.jobs")


@dataclass(frozen=True)
class Job:
    command: str
    args: list[str] = field(default_factory=list)
    # crontab fields: minute, hour, day_of_week
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    alert: bool = False  # a failure also mails settings.ADMINS


def jobs() -> dict[str, Job]:
    return {
        "expire_contracts": Job("expire_contracts", minute="10", hour="0"),
        # Renewal reminders, 30 and 7 days before a contract ends, each once.
        "send_renewal_reminders": Job("send_renewal_reminders", minute="0", hour="8"),
        "close_delivered_orders": Job(
            "close_delivered_orders", ["--older-than", str(settings.ORDER_CLOSE_AFTER_DAYS)], minute="20", hour="0"
        ),
        # The service desk's SLA clocks: warnings before a breach, escalations at breach.
        "watch_ticket_slas": Job("watch_ticket_slas", minute="*/5"),
        "close_resolved_tickets": Job(
            "close_resolved_tickets", ["--older-than", str(settings.SERVICE_CLOSE_AFTER_DAYS)], minute="40", hour="0"
        ),
        # Quotes past their valid-until date expire, daily.
        "expire_quotes": Job("expire_quotes", minute="15", hour="0"),
        # Activities due within ACTIVITY_REMINDER_MINUTES, each reminded once.
        "send_activity_reminders": Job("send_activity_reminders", minute="*/5"),
        "verify_signatures": Job("verify_signatures", minute="30", hour="2", alert=True),
        "write_audit_checkpoint": Job("write_audit_checkpoint", minute="5"),
        "train_approval_model": Job("train_approval_model", minute="0", hour="3", day_of_week="0"),
        # Mail whose hand-over to the queue was lost (the broker was down) is queued again.
        "requeue_pending_mail": Job("requeue_pending_mail", ["--older-than-minutes", "10"], minute="*/10"),
        # Webhook deliveries whose task was lost (the broker was down) are queued again.
        "requeue_webhook_deliveries": Job("requeue_webhook_deliveries", ["--older-than-minutes", "10"], minute="*/10"),
        # The service desk's mailbox, every minute (nothing to do until one is configured).
        "fetch_ticket_mail": Job("fetch_ticket_mail", ["--if-configured"], minute="*"),
        # The campaign mailbox: bounces and replies (nothing to do until one is configured).
        "fetch_campaign_mail": Job("fetch_campaign_mail", ["--if-configured"], minute="*/5"),
        # Campaigns whose time has come start sending (and a stalled sender resumes).
        "send_due_campaigns": Job("send_due_campaigns", minute="*"),
        # The dashboards' summary figures (the pages say how fresh they are).
        "refresh_dashboard": Job("refresh_dashboard", minute="*/5"),
        # The insight models retrained nightly on the day's data (each version recorded).
        "train_models": Job("train_models", minute="30", hour="3"),
        # The API's kept answers to creating POSTs, once past API_IDEMPOTENCY_HOURS.
        "purge_idempotency_keys": Job("purge_idempotency_keys", minute="25"),
    }


def job_run(name: str) -> JobRun:
    """Run one job now and record how it ended; a failure is recorded (and alerted), not raised."""
    job = jobs()[name]
    run = JobRun.objects.create(job=name, started_at=timezone.now())
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(job.command, *job.args, stdout=out, stderr=err, no_color=True, verbosity=0)
    except BaseException as error:  # noqa: BLE001 - CommandError, SystemExit or a bug: all are a failed run
        run.ok = False
        run.error = (f"{type(error).__name__}: {error}\n" + err.getvalue())[:10000]
        logger.error("Scheduled job %s failed: %s", name, error)
        if job.alert:
            _alert(name, run.error, out.getvalue())
    else:
        run.ok = True
        run.error = err.getvalue()[:10000]
    run.summary = out.getvalue()[-10000:]
    run.finished_at = timezone.now()
    run.save(update_fields=["ok", "error", "summary", "finished_at"])
    return run


def _alert(name: str, error: str, output: str) -> None:
    from crm.core.mail import mail_send_on_commit

    admins = [address for _name, address in settings.ADMINS]
    if not admins:
        logger.error("Scheduled job %s failed and ADMINS is empty: nobody was mailed", name)
        return
    mail_send_on_commit(
        subject=_("[CRM] scheduled job %(job)s failed") % {"job": name},
        body=f"{error}\n\n{output}",
        to=admins,
    )


def schedule_ensure() -> int:
    """Create the default PeriodicTask of each job that has none yet; returns how many were made."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    made = 0
    for name, job in jobs().items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=job.minute,
            hour=job.hour,
            day_of_week=job.day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.create(
            name=name, task="crm.core.tasks.job_run", kwargs=json.dumps({"name": name}), crontab=crontab
        )
        made += 1
    return made
