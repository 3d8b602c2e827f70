"""Satisfaction: when a ticket is resolved its contact gets a one-time, expiring link to
rate the service 1–5 with a comment.

- A rating is taken once: the survey row is locked while it is taken, and the database
  refuses a second rating of a survey (`SatisfactionRating.survey` is one-to-one), so two
  submissions at the same moment store one.
- A rating of 1 or 2 alerts the service managers (in the app and by e-mail).
- Reopening is the customer's choice: the rating page offers "my problem is not solved,
  please reopen it"; when ticked, the ticket reopens (the system takes the workflow's
  `reopen` step, which still refuses a closed ticket past the desk's reopening window).
  A low rating without it alerts the managers, who decide.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.core.mail import mail_send_on_commit
from crm.core.notifications import notification_send
from crm.core.workflow import SYSTEM
from service import services as ticket_services
from service.choices import TicketStatus
from service.customer_links import survey_create, survey_usable_check
from service.mail import customer_address, customer_language
from service.mail_models import SatisfactionRating, SatisfactionSurvey
from service.models import Ticket
from service.selectors import service_managers

LOW_RATING = gettext_noop("%(customer)s rated %(number)s %(score)s of 5: %(comment)s")
LOW_SCORES = (1, 2)


@transaction.atomic
def satisfaction_survey_send(*, ticket_id: int) -> SatisfactionSurvey | None:
    """Mail the contact a rating link for the resolved ticket (replacing an unanswered
    earlier one); None when the ticket is not resolved or has no address to write to."""
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("customer", "contact").get(pk=ticket_id)
    if ticket.status != TicketStatus.RESOLVED:
        return None
    if ticket.resolved_at is not None and ticket.ratings.filter(created_at__gte=ticket.resolved_at).exists():
        return None  # already rated since it was resolved: no second survey for the same resolution
    address = customer_address(ticket)
    if not address:
        return None
    with translation.override(customer_language(ticket, address)):
        url = survey_create(ticket, address)
        subject = _("[%(number)s] How did we do?") % {"number": ticket.number}
        body = _(
            "Your request %(number)s (%(subject)s) is resolved.\n\n"
            "Please tell us how satisfied you are, from 1 to 5: %(url)s\n\n"
            "The link works once and expires in %(days)s days."
        ) % {"number": ticket.number, "subject": ticket.subject, "url": url, "days": settings.SATISFACTION_LINK_DAYS}
    mail_send_on_commit(subject=subject, body=body, to=[address], headers={"Reply-To": settings.TICKET_MAIL_ADDRESS})
    survey = ticket.surveys.order_by("-pk").first()
    audit_record(
        actor=None,
        actor_label="mail",
        action="ticket.survey_sent",
        target=ticket,
        parent=ticket.customer,
        extra={"to": address, "expires_at": survey.expires_at if survey else None},
    )
    return survey


@transaction.atomic
def satisfaction_rate(*, survey_id: int, score: int, comment: str = "", reopen: bool = False) -> SatisfactionRating:
    """Take the contact's rating (once); a low one alerts the managers, and reopens the
    ticket when the contact asks for it."""
    if score not in range(1, 6):
        raise DomainError(_("Choose a rating from 1 to 5."), field="score")
    locked = SatisfactionSurvey.objects.select_for_update().select_related("ticket__customer").filter(pk=survey_id)
    survey = survey_usable_check(locked.first())
    ticket = survey.ticket
    comment = comment.strip()
    try:
        with transaction.atomic():
            rating = SatisfactionRating.objects.create(
                survey=survey, ticket=ticket, score=score, comment=comment, reopen_requested=reopen
            )
    except IntegrityError:
        raise DomainError(_("You have already rated this ticket. Thank you!")) from None
    audit_record(
        actor=None,
        actor_label=survey.email,
        action="ticket.rated",
        target=ticket,
        parent=ticket.customer,
        extra={"score": score, "comment": comment[:500], "reopen_requested": reopen},
    )
    if score in LOW_SCORES:
        notification_send(
            recipients=service_managers(),
            sentence=LOW_RATING,
            params={
                "customer": ticket.customer.name,
                "number": ticket.number,
                "score": score,
                "comment": comment[:200] or "—",
            },
            target_url=ticket.get_absolute_url(),
        )
    if reopen:
        _reopen_asked(ticket, score, comment)
    return rating


def _reopen_asked(ticket: Ticket, score: int, comment: str) -> None:
    """Reopen as the contact asked; a ticket that may no longer reopen (closed too long
    ago) keeps the rating, and its history says the reopening was refused."""
    reason = _("The customer rated it %(score)s of 5 and asked to reopen it: %(comment)s") % {
        "score": score,
        "comment": comment or "—",
    }
    try:
        with transaction.atomic():
            ticket_services.ticket_reopen(actor=SYSTEM, ticket_id=ticket.pk, reason=reason)
    except DomainError as error:
        audit_record(
            actor=None,
            actor_label="system",
            action="ticket.reopen_refused",
            target=ticket,
            parent=ticket.customer,
            extra={"reason": error.message},
        )
