"""The customer's links: the status page of a ticket and the satisfaction survey.

Like a contract's signing link, only the SHA-256 of a token is stored and the token itself
travels in the e-mail; the first visit exchanges it for a short session, so the token
leaves the address bar at once. A status link works until it expires (many can be valid:
each mail to the customer carries a fresh one); a survey works once.
"""

import datetime
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core.exceptions import DomainError
from crm.core.tokens import token_hash
from crm.core.transactions import in_callers_transaction
from service.mail_models import SatisfactionSurvey, TicketStatusLink
from service.models import Ticket


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


@in_callers_transaction
def status_link_create(ticket: Ticket, email: str) -> str:
    """A new status link of the ticket for `email`; returns its address (with the token)."""
    token = secrets.token_urlsafe(32)
    TicketStatusLink.objects.create(
        ticket=ticket,
        token_sha256=token_hash(token),
        email=email,
        expires_at=timezone.now() + datetime.timedelta(days=settings.TICKET_STATUS_LINK_DAYS),
    )
    return _absolute(reverse("service:ticket_status_start", args=[token]))


def _usable_status_link(link: TicketStatusLink | None) -> TicketStatusLink:
    if link is None:
        raise DomainError(_("This link is not valid."))
    if link.revoked_at is not None:
        raise DomainError(_("This link was withdrawn; use the link in our latest e-mail."))
    if link.expires_at <= timezone.now():
        raise DomainError(_("This link has expired; use the link in our latest e-mail."))
    return link


def status_link_get(token: str) -> TicketStatusLink:
    """The usable status link of a token; DomainError says why a link does not work."""
    link = TicketStatusLink.objects.select_related("ticket").filter(token_sha256=token_hash(token or "")).first()
    return _usable_status_link(link)


def status_link_by_id(link_id: int) -> TicketStatusLink:
    link = TicketStatusLink.objects.select_related("ticket").filter(pk=link_id).first()
    return _usable_status_link(link)


@in_callers_transaction
def survey_create(ticket: Ticket, email: str) -> str:
    """A new survey of the ticket for `email`, replacing an unanswered earlier one; returns
    its address (with the token)."""
    now = timezone.now()
    ticket.surveys.filter(revoked_at__isnull=True, rating__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    SatisfactionSurvey.objects.create(
        ticket=ticket,
        token_sha256=token_hash(token),
        email=email,
        expires_at=now + datetime.timedelta(days=settings.SATISFACTION_LINK_DAYS),
    )
    return _absolute(reverse("service:satisfaction_start", args=[token]))


def survey_usable_check(survey: SatisfactionSurvey | None) -> SatisfactionSurvey:
    """DomainError saying plainly why the survey link no longer works."""
    if survey is None:
        raise DomainError(_("This link is not valid."))
    if SatisfactionSurvey.objects.filter(pk=survey.pk, rating__isnull=False).exists():
        raise DomainError(_("You have already rated this ticket. Thank you!"))
    if survey.revoked_at is not None:
        raise DomainError(_("This link was replaced by a newer one; use the link in our latest e-mail."))
    if survey.expires_at <= timezone.now():
        raise DomainError(_("This rating link has expired."))
    return survey


def survey_get(token: str) -> SatisfactionSurvey:
    survey = SatisfactionSurvey.objects.select_related("ticket").filter(token_sha256=token_hash(token or "")).first()
    return survey_usable_check(survey)


def survey_by_id(survey_id: int) -> SatisfactionSurvey:
    survey = SatisfactionSurvey.objects.select_related("ticket").filter(pk=survey_id).first()
    return survey_usable_check(survey)
