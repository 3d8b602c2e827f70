"""Celery tasks of the kernel: sending mail, running the scheduled jobs, sealing the audit
trail, and the workers' heartbeat."""

import smtplib

from celery import shared_task
from django.conf import settings

from crm.core import audit, jobs, mail
from crm.core.health import worker_heartbeat_record

# What a mail server being away looks like: retried with back-off; anything else fails at once.
MAIL_RETRY_ERRORS = (smtplib.SMTPException, OSError)


@shared_task(bind=True, name="crm.core.tasks.mail_deliver", acks_late=True)
def mail_deliver(self, mail_id: int) -> str:
    """Send one OutgoingMail once; on a mail-server error retry with exponential back-off,
    and after MAIL_MAX_RETRIES retries mark it failed."""
    retries = self.request.retries or 0
    final = retries >= settings.MAIL_MAX_RETRIES
    outcome = mail.outgoing_mail_attempt(mail_id=mail_id, final=final, retry_errors=MAIL_RETRY_ERRORS)
    if outcome == mail.RETRY:
        raise self.retry(countdown=settings.MAIL_RETRY_DELAY * (2**retries), max_retries=None)
    return outcome


@shared_task(name="crm.core.tasks.job_run")
def job_run(name: str) -> bool:
    """Run one scheduled job (crm.core.jobs) and record it as a JobRun."""
    return bool(jobs.job_run(name).ok)


@shared_task(bind=True, name="crm.core.tasks.heartbeat", ignore_result=True)
def heartbeat(self) -> None:
    """Scheduled every minute (CELERY_BEAT_SCHEDULE): whichever worker takes it records that
    it is alive, and /health/ reports the newest heartbeat."""
    worker_heartbeat_record(worker=self.request.hostname)


@shared_task(name="crm.core.tasks.audit_seal", ignore_result=True)
def audit_seal() -> int:
    """Scheduled every few seconds (CELERY_BEAT_SCHEDULE): chain the audit events whose
    transactions have finished, including those the after-commit seal left to it."""
    return audit.audit_seal()
