"""Outgoing e-mail: the one seam every mail goes through.

`mail_send_on_commit` records the mail as an `OutgoingMail` row and, once the transaction
that decided it commits, hands its id to the Celery task `crm.core.tasks.mail_deliver`, so
nobody is told about a change that was rolled back and no request waits for a mail server.
The task locks the row and skips a mail already sent or failed (a task delivered twice
never sends twice); a mail-server error is retried with exponential back-off
(MAIL_RETRY_DELAY, MAIL_MAX_RETRIES) and the mail finally marked failed with its error.
A mail that cannot be delivered, or a broker that is down, never breaks the step that
sent it. Attachments (a quote's PDF) are stored with the mail, so a retry sends the very
file the step decided on. A mail whose hand-over to the queue was lost is handed over again by
the `requeue_pending_mail` job. The caller's `on_result` (a module-level function, named by its dotted path so
a worker can call it) hears the final outcome: "" for sent, otherwise the reason.
"""

import datetime
import logging
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from crm.core.models import MailStatus, OutgoingMail, OutgoingMailAttachment

__all__ = ["MailStatus", "mail_send_on_commit", "outgoing_mail_attempt", "outgoing_mail_requeue"]

logger = logging.getLogger("crm.mail")

RETRY = "retry"


def _dotted(function: Callable[..., None]) -> str:
    path = f"{function.__module__}.{function.__qualname__}"
    if "<" in path:
        raise ValueError("on_result must be a module-level function (a worker calls it by name)")
    return path


def mail_send_on_commit(
    *,
    subject: str,
    body: str,
    to: list[str],
    on_result: Callable[..., None] | None = None,
    on_result_args: tuple[Any, ...] = (),
    headers: dict[str, str] | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> OutgoingMail:
    """Queue the mail; the task sends it once the current transaction commits (at once
    outside one). `on_result(*on_result_args, error)` runs in the worker after the final
    outcome: "" for delivered, or the reason it failed for good. `headers` are added to
    the message (a Message-ID of our own, Reply-To; a Return-Path is the envelope sender,
    where bounces go, and not sent as a header); `attachments` are
    `(filename, content, mimetype)` triples."""
    outgoing = OutgoingMail.objects.create(
        headers=dict(headers or {}),
        subject=subject[:300],
        body=body,
        to=list(to),
        on_result=_dotted(on_result) if on_result else "",
        on_result_args=list(on_result_args),
    )
    OutgoingMailAttachment.objects.bulk_create(
        OutgoingMailAttachment(mail=outgoing, filename=filename, content=content, mimetype=mimetype)
        for filename, content, mimetype in attachments
    )
    transaction.on_commit(lambda: _enqueue(outgoing.pk))
    return outgoing


def _enqueue(mail_id: int) -> None:
    from crm.core.tasks import mail_deliver

    try:
        mail_deliver.delay(mail_id)
    except Exception:  # noqa: BLE001 - a broker outage delays mail, it never fails the step
        logger.exception("Mail %s could not be queued; it stays pending", mail_id)


def outgoing_mail_requeue(*, older_than: datetime.timedelta) -> int:
    """Hand the task queue again every mail that was never attempted and is older than
    `older_than`: its first hand-over was lost (the broker was down when its step committed).
    A mail queued twice is still sent once: each attempt locks the row and skips a sent one."""
    stranded = list(
        OutgoingMail.objects.filter(
            status=MailStatus.PENDING, attempts=0, created_at__lt=timezone.now() - older_than
        ).values_list("pk", flat=True)
    )
    for mail_id in stranded:
        _enqueue(mail_id)
    return len(stranded)


def outgoing_mail_attempt(*, mail_id: int, final: bool, retry_errors: tuple[type[BaseException], ...]) -> str:
    """One attempt at an OutgoingMail, with the row locked: "sent", "failed", "skipped"
    (already sent or failed, or gone) or RETRY (a mail-server error with retries left)."""
    with transaction.atomic():
        outgoing = OutgoingMail.objects.select_for_update().filter(pk=mail_id).first()
        if outgoing is None or outgoing.status != MailStatus.PENDING:
            return "skipped"
        outgoing.attempts += 1
        try:
            headers = dict(outgoing.headers)
            # A Return-Path names the envelope sender (where bounces go); the receiving
            # server writes the header itself, so it is not sent as one.
            envelope_sender = headers.pop("Return-Path", "").strip("<> ")
            if envelope_sender:
                headers.setdefault("From", settings.DEFAULT_FROM_EMAIL)
            message = EmailMessage(
                outgoing.subject,
                outgoing.body,
                envelope_sender or settings.DEFAULT_FROM_EMAIL,
                outgoing.to,
                headers=headers,
            )
            for attachment in outgoing.attachments.all():
                message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
            message.send()
        except Exception as error:  # noqa: BLE001 - any backend failure is recorded
            reason = f"{type(error).__name__}: {error}"[:500]
            outgoing.last_error = reason
            retry = isinstance(error, retry_errors) and not final
            if not retry:
                outgoing.status = MailStatus.FAILED
                outgoing.failed_at = timezone.now()
            outgoing.save(update_fields=["attempts", "last_error", "status", "failed_at"])
            if retry:
                logger.warning("Mail %s (%r) not delivered, will retry: %s", mail_id, outgoing.subject, reason)
                return RETRY
            logger.error(
                "Mail %s (%r) to %s failed for good after %s attempt(s): %s",
                mail_id,
                outgoing.subject,
                ", ".join(outgoing.to),
                outgoing.attempts,
                reason,
            )
            result, error_text = "failed", reason
        else:
            outgoing.status = MailStatus.SENT
            outgoing.sent_at = timezone.now()
            outgoing.save(update_fields=["attempts", "status", "sent_at"])
            logger.info("Mail %s (%r) sent to %s", mail_id, outgoing.subject, ", ".join(outgoing.to))
            result, error_text = "sent", ""
    _report(outgoing, error_text)
    return result


def _report(outgoing: OutgoingMail, error: str) -> None:
    if not outgoing.on_result:
        return
    module, _sep, name = outgoing.on_result.rpartition(".")
    try:
        getattr(import_module(module), name)(*outgoing.on_result_args, error)
    except Exception:  # noqa: BLE001 - recording the outcome must not resend or fail the mail
        logger.exception("Recording the outcome of mail %s failed", outgoing.pk)
