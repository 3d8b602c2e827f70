"""Every write of marketing: segments, campaigns and their steps, handing each recipient's
mail to the queue at the campaign's pace, the mail's outcome, clicks, unsubscribes and the
opportunities a campaign brought.

Pace: a sending campaign is worked by the task `marketing.tasks.campaign_send_batch`, which
hands one second's worth of recipients (`rate_per_minute / 60`, at least one) to the mail
queue and comes back a second later, until none is left. Each mail's outcome (sent, failed,
bounced) comes back from the mail worker through `recipient_mail_result`; the last one
finishes the campaign. Who is mailed is decided twice: when sending starts (consent, an
address, not suppressed, once per address) and again for each recipient at hand-over, so an
address that unsubscribed from another campaign in between is not mailed.
"""

import datetime
import math
import secrets
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, diff, snapshot
from crm.core.exceptions import DomainError
from crm.core.mail import mail_send_on_commit
from crm.core.tokens import token_hash
from crm.core.workflow import SYSTEM, Actor, audit_actor
from customers.choices import OpportunitySource
from customers.models import Contact, Customer, Opportunity
from customers.services import contact_marketing_consent_withdraw, opportunity_create
from marketing.choices import CampaignStatus, RecipientStatus, ReturnedMailKind, SuppressionReason
from marketing.inbound import returned_parse
from marketing.models import (
    CAMPAIGN_FIELDS,
    SEGMENT_FIELDS,
    Campaign,
    CampaignOpportunity,
    Recipient,
    ReturnedMail,
    Segment,
    Suppression,
)
from marketing.rendering import links_in, render, render_subject, unknown_placeholders
from marketing.selectors import (
    campaign_reachable,
    campaign_sample_contact,
    recipient_by_token,
    returned_mail_recipient,
    sample_for,
)
from marketing.workflow import WORKFLOW

S = CampaignStatus

# What a permanent refusal of the address by the mail server looks like (a hard bounce).
BOUNCE_ERRORS = ("SMTPRecipientsRefused",)


def _segment_locked(actor: User, segment_id: int, action: str = "change") -> Segment:
    segment = Segment.objects.visible_to(actor, action).select_for_update().filter(pk=segment_id).first()
    if segment is None:
        raise DomainError(_("This segment does not exist or you may not change it."))
    return segment


def _campaign_locked(actor: Actor, campaign_id: int, action: str = "change") -> Campaign:
    campaigns = Campaign.objects.all() if actor is SYSTEM else Campaign.objects.visible_to(actor, action)
    campaign = (
        campaigns.select_for_update(of=("self",)).select_related("segment", "owner").filter(pk=campaign_id).first()
    )
    if campaign is None:
        raise DomainError(_("This campaign does not exist or you may not change it."))
    return campaign


def _segment_checked(segment: Segment) -> None:
    segment.full_clean(exclude=["owner"], validate_constraints=False)
    if segment.min_orders is not None and segment.max_orders is not None and segment.min_orders > segment.max_orders:
        raise DomainError(_("The least number of orders is above the most."), field="min_orders")
    if segment.last_order_after and segment.last_order_before and segment.last_order_after > segment.last_order_before:
        raise DomainError(_("The first date is after the second."), field="last_order_before")


# --- segments ------------------------------------------------------------------------------


@transaction.atomic
def segment_create(*, actor: User, **values: Any) -> Segment:
    if not actor.has_perm("marketing.add_segment"):
        raise DomainError(_("You may not create segments."))
    segment = Segment(owner=actor, **values)
    _segment_checked(segment)
    segment.save(force_insert=True)
    audit_record(
        actor=actor, action="segment.created", target=segment, changes=diff({}, snapshot(segment, SEGMENT_FIELDS))
    )
    return segment


@transaction.atomic
def segment_update(*, actor: User, segment_id: int, **values: Any) -> Segment:
    segment = _segment_locked(actor, segment_id)
    before = snapshot(segment, SEGMENT_FIELDS)
    for name, value in values.items():
        setattr(segment, name, value)
    _segment_checked(segment)
    changes = diff(before, snapshot(segment, SEGMENT_FIELDS))
    if changes:
        segment.updated_at = timezone.now()
        segment.save()
        audit_record(actor=actor, action="segment.updated", target=segment, changes=changes)
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment_id: int) -> None:
    segment = _segment_locked(actor, segment_id, "delete")
    if segment.campaigns.exists():
        raise DomainError(_("Campaigns were made for this segment; it is kept with them."))
    audit_record(
        actor=actor, action="segment.deleted", target=segment, changes=diff(snapshot(segment, SEGMENT_FIELDS), {})
    )
    segment.delete()


# --- campaigns -----------------------------------------------------------------------------


def _campaign_checked(actor: Actor, campaign: Campaign) -> None:
    campaign.full_clean(exclude=["owner", "segment"], validate_constraints=False)
    if (
        actor is not SYSTEM
        and not Segment.objects.visible_to(cast(User, actor)).filter(pk=campaign.segment_id).exists()
    ):
        raise DomainError(_("Choose a segment you may see."), field="segment")
    if campaign.rate_per_minute > settings.MARKETING_SEND_RATE_CEILING:
        raise DomainError(
            _("At most %(rate)d messages per minute.") % {"rate": settings.MARKETING_SEND_RATE_CEILING},
            field="rate_per_minute",
        )
    for name in ("subject_en", "body_en", "subject_zh", "body_zh"):
        unknown = unknown_placeholders(getattr(campaign, name))
        if unknown:
            names = ", ".join(f"{{{{ {n} }}}}" for n in unknown)
            raise DomainError(_("Unknown placeholder: %(names)s.") % {"names": names}, field=name)
    for subject, body, field in (
        (campaign.subject_en, campaign.body_en, "body_en"),
        (campaign.subject_zh, campaign.body_zh, "body_zh"),
    ):
        if bool(subject.strip()) != bool(body.strip()):
            raise DomainError(_("A version needs both a subject and a body."), field=field)
    if not campaign.version_for(campaign.language)[1]:
        raise DomainError(_("Write the subject and body in at least one language."), field="subject_zh")


@transaction.atomic
def campaign_create(*, actor: User, **values: Any) -> Campaign:
    if not actor.has_perm("marketing.add_campaign"):
        raise DomainError(_("You may not create campaigns."))
    campaign = Campaign(owner=actor, **values)
    _campaign_checked(actor, campaign)
    campaign.save(force_insert=True)
    audit_record(
        actor=actor, action="campaign.created", target=campaign, changes=diff({}, snapshot(campaign, CAMPAIGN_FIELDS))
    )
    return campaign


@transaction.atomic
def campaign_update(*, actor: User, campaign_id: int, **values: Any) -> Campaign:
    """A campaign is edited while it is a draft (take a scheduled one back to draft first)."""
    campaign = _campaign_locked(actor, campaign_id)
    if campaign.status != S.DRAFT:
        raise DomainError(_("Only a draft campaign can be changed."))
    before = snapshot(campaign, CAMPAIGN_FIELDS)
    for name, value in values.items():
        setattr(campaign, name, value)
    _campaign_checked(actor, campaign)
    changes = diff(before, snapshot(campaign, CAMPAIGN_FIELDS))
    if changes:
        campaign.updated_at = timezone.now()
        campaign.save()
        audit_record(actor=actor, action="campaign.updated", target=campaign, changes=changes)
    return campaign


def _set_status(
    campaign: Campaign, target: str, *, actor: Actor, action: str, extra: dict | None = None, **changes: Any
) -> Campaign:
    before = {"status": campaign.status, **{name: getattr(campaign, name) for name in changes}}
    campaign.status = target
    for name, value in changes.items():
        setattr(campaign, name, value)
    campaign.updated_at = timezone.now()
    campaign.save()
    audit_record(
        actor=audit_actor(actor),
        action=action,
        target=campaign,
        changes=diff(before, {"status": target, **changes}),
        extra=extra,
    )
    return campaign


def _start_due_on_commit() -> None:
    from marketing.tasks import campaigns_start_due

    transaction.on_commit(lambda: _delay(campaigns_start_due))


def _delay(task: Any, *args: Any, countdown: float | None = None) -> None:
    try:
        task.apply_async(args=args, countdown=countdown)
    except Exception:  # noqa: BLE001 - a broker outage delays the campaign; the scheduler picks it up
        import logging

        logging.getLogger("crm.marketing").exception("Could not queue %s%r", task.name, args)


@transaction.atomic
def campaign_schedule(*, actor: User, campaign_id: int, send_at: datetime.datetime | None = None) -> Campaign:
    """Fix when the campaign goes out (now when `send_at` is empty or past)."""
    campaign = _campaign_locked(actor, campaign_id)
    WORKFLOW.check(campaign, "schedule", actor=actor)
    _campaign_checked(actor, campaign)
    if not campaign_reachable(campaign=campaign, user=campaign.owner).exists():
        raise DomainError(_("Nobody in this segment may be mailed: no contact with an address and consent."))
    now = timezone.now()
    when = max(send_at or now, now)
    _set_status(campaign, S.SCHEDULED, actor=actor, action="campaign.scheduled", scheduled_at=when)
    if when <= now:
        _start_due_on_commit()
    return campaign


@transaction.atomic
def campaign_unschedule(*, actor: User, campaign_id: int) -> Campaign:
    campaign = _campaign_locked(actor, campaign_id)
    WORKFLOW.check(campaign, "unschedule", actor=actor)
    return _set_status(campaign, S.DRAFT, actor=actor, action="campaign.unscheduled", scheduled_at=None)


@transaction.atomic
def campaign_cancel(*, actor: User, campaign_id: int, reason: str) -> Campaign:
    """Stop the campaign: recipients not yet handed to the mail queue are never mailed."""
    campaign = _campaign_locked(actor, campaign_id)
    WORKFLOW.check(campaign, "cancel", actor=actor)
    if not reason.strip():
        raise DomainError(_("Say why the campaign is cancelled."), field="reason")
    not_handed = campaign.recipients.filter(handed_at__isnull=True).delete()[0]
    return _set_status(
        campaign,
        S.CANCELLED,
        actor=actor,
        action="campaign.cancelled",
        extra={"reason": reason, "not_mailed": not_handed},
        cancel_reason=reason,
        finished_at=timezone.now(),
    )


@transaction.atomic
def campaign_start(*, actor: Actor, campaign_id: int) -> Campaign:
    """Sending starts: the recipients are fixed (each reachable address once) and the first
    batch is queued. Taken by the system when the campaign's time has come."""
    campaign = _campaign_locked(actor, campaign_id)
    WORKFLOW.check(campaign, "start", actor=actor)
    now = timezone.now()
    seen: set[str] = set()
    rows = []
    # The owner's view: a rep's campaign reaches only the customers the rep owns.
    for contact in campaign_reachable(campaign=campaign, user=campaign.owner).iterator(chunk_size=2000):
        email = contact.email.strip().lower()
        if email in seen:
            continue
        seen.add(email)
        rows.append(
            Recipient(
                campaign=campaign,
                contact=contact,
                customer_id=contact.customer_id,
                email=email,
                name=contact.name,
                queued_at=now,
            )
        )
    Recipient.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    _set_status(
        campaign,
        S.SENDING,
        actor=actor,
        action="campaign.started",
        extra={"recipients": len(rows)},
        started_at=now,
        links=links_in(campaign.body_en, campaign.body_zh),
    )
    from marketing.tasks import campaign_send_batch

    transaction.on_commit(lambda: _delay(campaign_send_batch, campaign.pk))
    return campaign


@transaction.atomic
def campaign_finish(*, actor: Actor, campaign_id: int) -> Campaign:
    campaign = _campaign_locked(actor, campaign_id)
    WORKFLOW.check(campaign, "finish", actor=actor)
    counts = {status: campaign.recipients.filter(status=status).count() for status in RecipientStatus.values}
    return _set_status(
        campaign, S.SENT, actor=actor, action="campaign.sent", extra={"recipients": counts}, finished_at=timezone.now()
    )


@transaction.atomic
def campaign_finish_if_done(*, campaign_id: int) -> bool:
    """Finish a sending campaign once every recipient has its outcome. Each outcome is
    written before the campaign row is locked, and counted after the lock is held: of two
    outcomes written at the same moment, whoever locks second sees the other's (committed
    meanwhile), so the last one finishes the campaign, exactly once."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id, status=S.SENDING).first()
    if campaign is None or campaign.recipients.filter(status=RecipientStatus.QUEUED).exists():
        return False
    campaign_finish(actor=SYSTEM, campaign_id=campaign_id)
    return True


# --- the mail ------------------------------------------------------------------------------


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _unsubscribe_url(token: str) -> str:
    return _site(reverse("marketing:unsubscribe", args=[token]))


def _message(
    campaign: Campaign, contact: Contact | None, language: str, *, token: str
) -> tuple[str, str, dict[str, str]]:
    """Subject, body and headers of one copy (`token` in its links)."""
    language, subject, body = campaign.version_for(language)
    sample = sample_for(campaign=campaign, contact=contact)
    links = campaign.links or links_in(campaign.body_en, campaign.body_zh)

    def track(link: str) -> str:
        if token and link in links:
            return _site(reverse("marketing:click", args=[token, links.index(link)]))
        return link

    leave = _unsubscribe_url(token)
    with translation.override(language):
        footer = _("You receive this because you agreed to hear from us. Unsubscribe with one click: %(url)s") % {
            "url": leave
        }
    text = f"{render(body, sample, track=track).rstrip()}\n\n-- \n{footer}\n"
    headers = {
        "List-Unsubscribe": f"<{leave}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-CRM-Campaign": str(campaign.pk),
    }
    if settings.MARKETING_REPLY_TO:
        headers["Reply-To"] = settings.MARKETING_REPLY_TO
    return render_subject(subject, sample), text, headers


def _mail_domain() -> str:
    address = settings.MARKETING_BOUNCE_ADDRESS or settings.DEFAULT_FROM_EMAIL
    return address.rpartition("@")[2] or "localhost"


def _return_headers(campaign: Campaign, return_token: str) -> dict[str, str]:
    """The copy's own Message-ID and, with MARKETING_BOUNCE_ADDRESS, its own return path
    (VERP): a bounce or a reply names the recipient by the token in either."""
    headers = {"Message-ID": f"<campaign.{campaign.pk}.{return_token}@{_mail_domain()}>"}
    local, at, domain = settings.MARKETING_BOUNCE_ADDRESS.partition("@")
    if at:
        headers["Return-Path"] = f"<{local}+{return_token}@{domain}>"
    return headers


@transaction.atomic
def campaign_test_send(*, actor: User, campaign_id: int, contact_id: int | None = None) -> str:
    """Mail the campaign to the actor, filled for a sample recipient (links not tracked, the
    unsubscribe link a dead one). Returns the address it went to."""
    campaign = _campaign_locked(actor, campaign_id, "view")
    if not actor.has_perm("marketing.change_campaign"):
        raise DomainError(_("You may not send test mail."))
    if not actor.email:
        raise DomainError(_("Your account has no e-mail address to send the test to."))
    contact = campaign_sample_contact(campaign=campaign, user=actor, contact_id=contact_id)
    language = contact.language if contact else campaign.language
    subject, body, headers = _message(campaign, contact, language, token="test")
    mail_send_on_commit(
        subject=_("[Test] %(subject)s") % {"subject": subject}, body=body, to=[actor.email], headers=headers
    )
    audit_record(actor=actor, action="campaign.test_sent", target=campaign, extra={"to": actor.email})
    return actor.email


def _suppressed(email: str) -> bool:
    return Suppression.objects.filter(email=email.lower()).exists()


@transaction.atomic
def campaign_batch_hand(*, campaign_id: int) -> tuple[int, int, float]:
    """Hand the next second's worth of recipients (at least one) to the mail queue:
    (handed, left, seconds to wait before the next batch so the pace stays the campaign's)."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None or campaign.status != S.SENDING:
        return 0, 0, 0.0
    rate = min(campaign.rate_per_minute, settings.MARKETING_SEND_RATE_CEILING)
    size = max(1, math.ceil(rate / 60))
    batch = list(
        campaign.recipients.filter(handed_at__isnull=True)
        .select_related("contact", "contact__customer")
        .order_by("id")[:size]
    )
    now = timezone.now()
    for recipient in batch:
        recipient.handed_at = now
        contact = recipient.contact
        if contact is None or not contact.marketing_consent or _suppressed(recipient.email):
            recipient.status = RecipientStatus.UNSUBSCRIBED
            recipient.error = _("No consent any more, or the address is on the suppression list.")
            recipient.save(update_fields=["handed_at", "status", "error"])
            continue
        token = secrets.token_urlsafe(24)
        # Hexadecimal: the return path's local part may come back lower-cased.
        return_token = secrets.token_hex(24)
        recipient.token_hash, recipient.return_token_hash = token_hash(token), token_hash(return_token)
        subject, body, headers = _message(campaign, contact, contact.language, token=token)
        outgoing = mail_send_on_commit(
            subject=subject,
            body=body,
            to=[recipient.email],
            headers={**headers, **_return_headers(campaign, return_token)},
            on_result=recipient_mail_result,
            on_result_args=(recipient.pk,),
        )
        recipient.mail_id = outgoing.pk
        recipient.save(update_fields=["handed_at", "token_hash", "return_token_hash", "mail_id"])
    left = campaign.recipients.filter(handed_at__isnull=True).count()
    return len(batch), left, size * 60 / rate


@transaction.atomic
def recipient_mail_result(recipient_id: int, error: str) -> None:
    """The mail worker's word on one recipient's mail: "" delivered, else why it failed.
    A refused address (a hard bounce) is not mailed again by any campaign. The outcome is
    recorded on the recipient (the campaign's start and end are audited)."""
    recipient = Recipient.objects.select_for_update().filter(pk=recipient_id).first()
    if recipient is None:
        return
    if recipient.status == RecipientStatus.QUEUED:
        if not error:
            recipient.status, recipient.sent_at = RecipientStatus.SENT, timezone.now()
        elif error.startswith(BOUNCE_ERRORS):
            recipient.status, recipient.error = RecipientStatus.BOUNCED, error[:500]
            recipient.bounced_at = timezone.now()
            Suppression.objects.get_or_create(
                email=recipient.email.lower(),
                defaults={"reason": SuppressionReason.BOUNCED, "campaign_id": recipient.campaign_id},
            )
        else:
            recipient.status, recipient.error = RecipientStatus.FAILED, error[:500]
        recipient.save(update_fields=["status", "sent_at", "error", "bounced_at"])
    campaign_finish_if_done(campaign_id=recipient.campaign_id)


# --- what comes back: bounces and replies --------------------------------------------------


@transaction.atomic
def recipient_bounce(*, recipient_id: int, permanent: bool, status_code: str = "", diagnostic: str = "") -> Recipient:
    """A bounce of the recipient's copy. Permanent (a 5.x.x status): the recipient is
    bounced and the address goes on the suppression list, so no campaign mails it again.
    Temporary (4.x.x): noted on the recipient (counted, its reason kept), nothing more."""
    recipient = Recipient.objects.select_for_update().select_related("campaign").get(pk=recipient_id)
    reason = " ".join(f"{status_code} {diagnostic}".split())[:500]
    was_queued = recipient.status == RecipientStatus.QUEUED
    extra = {"email": recipient.email, "status": status_code or "?", "diagnostic": diagnostic[:200]}
    if permanent:
        suppression, _created = Suppression.objects.get_or_create(
            email=recipient.email.lower(),
            defaults={"reason": SuppressionReason.BOUNCED, "campaign": recipient.campaign},
        )
        if recipient.bounced_at is not None:
            return recipient  # the same bounce told twice (or by two servers)
        before = recipient.status
        if recipient.status in (RecipientStatus.QUEUED, RecipientStatus.SENT):
            recipient.status = RecipientStatus.BOUNCED
        recipient.bounced_at, recipient.error = timezone.now(), reason
        recipient.save(update_fields=["status", "bounced_at", "error"])
        audit_record(
            actor=None,
            action="campaign.recipient_bounced",
            target=recipient.campaign,
            changes=diff({"status": before}, {"status": recipient.status}),
            extra=extra,
        )
    else:
        recipient.soft_bounces += 1
        recipient.error = reason
        recipient.save(update_fields=["soft_bounces", "error"])
        audit_record(actor=None, action="campaign.recipient_soft_bounced", target=recipient.campaign, extra=extra)
    if was_queued:
        campaign_finish_if_done(campaign_id=recipient.campaign_id)
    return recipient


@transaction.atomic
def recipient_reply(*, recipient_id: int) -> Recipient:
    """The recipient answered the campaign: counted once, in the campaign's results."""
    recipient = Recipient.objects.select_for_update().select_related("campaign").get(pk=recipient_id)
    if recipient.replied_at is None:
        recipient.replied_at = timezone.now()
        recipient.save(update_fields=["replied_at"])
        audit_record(
            actor=None, action="campaign.recipient_replied", target=recipient.campaign, extra={"email": recipient.email}
        )
    return recipient


@transaction.atomic
def returned_mail_receive(*, raw: bytes) -> tuple[ReturnedMail, bool]:
    """Take one message of the campaign mailbox: record what it is and, for the recipient it
    names, the bounce (`recipient_bounce`) or the reply (`recipient_reply`). An automatic
    reply and what is not understood change nothing. The same message taken again (its
    Message-ID, else its bytes) is not taken twice: (the record, whether it is new)."""
    parsed = returned_parse(raw, bounce_local=settings.MARKETING_BOUNCE_ADDRESS.partition("@")[0])
    existing = ReturnedMail.objects.filter(message_key=parsed.message_key).first()
    if existing is not None:
        return existing, False
    recipient = returned_mail_recipient(parsed)
    try:
        with transaction.atomic():
            returned = ReturnedMail.objects.create(
                message_key=parsed.message_key,
                kind=parsed.kind,
                campaign_id=recipient.campaign_id if recipient else None,
                recipient=recipient,
                from_email=parsed.from_email,
                subject=parsed.subject,
                address=parsed.address,
                status_code=parsed.status_code,
                diagnostic=parsed.diagnostic,
            )
    except IntegrityError:  # taken meanwhile by another reader of the same mailbox
        return ReturnedMail.objects.get(message_key=parsed.message_key), False
    if recipient is not None:
        if parsed.kind in (ReturnedMailKind.HARD_BOUNCE, ReturnedMailKind.SOFT_BOUNCE):
            recipient_bounce(
                recipient_id=recipient.pk,
                permanent=parsed.kind == ReturnedMailKind.HARD_BOUNCE,
                status_code=parsed.status_code,
                diagnostic=parsed.diagnostic,
            )
        elif parsed.kind == ReturnedMailKind.REPLY:
            recipient_reply(recipient_id=recipient.pk)
    return returned, True


# --- the recipient's links -----------------------------------------------------------------


@transaction.atomic
def recipient_unsubscribe(*, token: str, one_click: bool = False) -> Recipient:
    """The recipient's address leaves every campaign for good: on the suppression list, and
    every contact with that address loses its consent. Idempotent."""
    found = recipient_by_token(token)
    if found is None:
        raise DomainError(_("This unsubscribe link is not valid."))
    recipient = Recipient.objects.select_for_update().select_related("campaign").get(pk=found.pk)
    if recipient.unsubscribed_at is None:
        recipient.status, recipient.unsubscribed_at = RecipientStatus.UNSUBSCRIBED, timezone.now()
        recipient.save(update_fields=["status", "unsubscribed_at"])
        suppression, _created = Suppression.objects.get_or_create(
            email=recipient.email.lower(),
            defaults={"reason": SuppressionReason.UNSUBSCRIBED, "campaign": recipient.campaign},
        )
        audit_record(
            actor=None,
            action="campaign.unsubscribed",
            target=recipient.campaign,
            actor_label=recipient.email,
            extra={"email": recipient.email, "one_click": one_click},
        )
        contact_marketing_consent_withdraw(email=recipient.email, cause=recipient.campaign.name)
    return recipient


@transaction.atomic
def recipient_click(*, token: str, index: int) -> str:
    """Count a click on one of the campaign's own links and return where it leads. A link
    the campaign does not hold is refused: the redirect never leads anywhere else.
    Clicks are counted on the recipient, not written to the audit trail (they change no
    business record)."""
    recipient = recipient_by_token(token)
    if recipient is None:
        raise DomainError(_("This link is not valid."))
    links = recipient.campaign.links or []
    if not 0 <= index < len(links):
        raise DomainError(_("This link is not valid."))
    now = timezone.now()
    Recipient.objects.filter(pk=recipient.pk).update(click_count=F("click_count") + 1)
    Recipient.objects.filter(pk=recipient.pk, clicked_at__isnull=True).update(clicked_at=now)
    return str(links[index])


# --- results -------------------------------------------------------------------------------


@transaction.atomic
def campaign_opportunity_create(
    *,
    actor: User,
    campaign_id: int,
    customer_id: int,
    title: str,
    amount: Decimal,
    expected_close_date: datetime.date,
) -> Opportunity:
    """Open an opportunity with a customer the campaign reached, the campaign as its source."""
    campaign = _campaign_locked(actor, campaign_id, "view")
    if not campaign.recipients.filter(customer_id=customer_id).exists():
        raise DomainError(_("Choose a customer this campaign reached."), field="customer")
    opportunity = opportunity_create(
        actor=actor,
        customer=Customer.objects.get(pk=customer_id),
        title=title,
        amount=amount,
        expected_close_date=expected_close_date,
        source=OpportunitySource.CAMPAIGN,
    )
    CampaignOpportunity.objects.create(campaign=campaign, opportunity=opportunity)
    audit_record(
        actor=actor, action="campaign.opportunity_linked", target=campaign, extra={"opportunity": str(opportunity)}
    )
    return opportunity
