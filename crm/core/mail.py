"""Outgoing e-mail: the one seam every mail goes through.

A mail is sent after the transaction that decided it commits, so nobody is told about a
change that was rolled back; and a mail that cannot be delivered never breaks the step
that sent it: the failure is logged and handed to the caller's `on_result`, which
records it where a user will see it. (Moving mail to a task queue changes this module
only.)
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("crm.mail")


class MailStatus(models.TextChoices):
    """Where a mail recorded on a row (a signing link …) stands."""

    PENDING = "pending", _("not sent yet")
    SENT = "sent", _("delivered to the mail server")
    FAILED = "failed", _("not delivered")


def mail_send(*, subject: str, body: str, to: list[str]) -> str:
    """Send now; "" when the mail server took it, otherwise the reason it did not."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except Exception as error:  # noqa: BLE001 - any backend failure (socket, SMTP, auth, …)
        reason = f"{type(error).__name__}: {error}"[:500]
        logger.warning("Mail %r to %s was not delivered: %s", subject, ", ".join(to), reason)
        return reason
    logger.info("Mail %r sent to %s", subject, ", ".join(to))
    return ""


def mail_send_on_commit(
    *, subject: str, body: str, to: list[str], on_result: Callable[[str], None] | None = None
) -> None:
    """Send once the current transaction commits (at once outside one).

    `on_result(error)` runs after the attempt with "" for delivered or the reason it
    failed; it is where the caller records the outcome. Neither the send nor the
    recording can raise into the request."""

    def deliver():
        error = mail_send(subject=subject, body=body, to=to)
        if on_result is not None:
            try:
                on_result(error)
            except Exception:  # noqa: BLE001 - recording the outcome must not fail the request
                logger.exception("Recording the outcome of mail %r failed", subject)

    transaction.on_commit(deliver)
