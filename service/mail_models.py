"""The desk's mail and the customer's links: inbound mail, attachments, the status link
and the satisfaction survey. Imported at the end of `service/models.py`."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.visibility import VisibleQuerySet
from service.models import Ticket, TicketEntry

__all__ = [
    "InboundMail",
    "InboundSource",
    "InboundStatus",
    "SatisfactionRating",
    "SatisfactionSurvey",
    "TicketAttachment",
    "TicketStatusLink",
]


class InboundSource(models.TextChoices):
    MAILBOX = "mailbox", _("Mailbox")
    WEB_FORM = "web_form", _("Web form")


class InboundStatus(models.TextChoices):
    UNSORTED = "unsorted", _("To sort")
    THREADED = "threaded", _("Added to a ticket")
    TICKET_OPENED = "ticket_opened", _("Opened a ticket")
    AUTOMATIC = "automatic", _("Automatic mail, ignored")
    DISCARDED = "discarded", _("Discarded")


class InboundMailQuerySet(VisibleQuerySet):
    """The mail to sort is the desk's shared queue: whoever may view it sees all of it."""

    def owned_by(self, user):
        return self.none()


class InboundMail(models.Model):
    """One message that reached the desk (from the mailbox or the public form), kept with
    what became of it; the unmatched ones wait here for an agent to sort."""

    source = models.CharField(_("source"), max_length=20, choices=InboundSource.choices)
    message_id = models.CharField(_("Message-ID"), max_length=250, blank=True)
    from_email = models.EmailField(_("from"), max_length=254, blank=True)
    from_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("message"), blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=InboundStatus.choices)
    reason = models.CharField(_("why"), max_length=300, blank=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_mail"
    )
    entry = models.ForeignKey(
        TicketEntry, verbose_name=_("entry"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sorted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("sorted"), null=True, blank=True)

    objects = InboundMailQuerySet.as_manager()

    class Meta:
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mail")
        ordering = ["-received_at", "-pk"]
        permissions = [
            ("view_all_inboundmail", "Can view all inbound mail"),
            ("sort_inboundmail", "Can sort inbound mail"),
        ]
        constraints = [
            # A message fetched twice (a mailbox read again) is kept once.
            models.UniqueConstraint(
                fields=["message_id"], condition=~Q(message_id=""), name="inbound_mail_message_id_once"
            ),
            models.CheckConstraint(condition=Q(status__in=InboundStatus.values), name="inbound_mail_status_valid"),
            models.CheckConstraint(condition=Q(source__in=InboundSource.values), name="inbound_mail_source_valid"),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_mail_status_idx")]

    def __str__(self):
        return f"{self.from_email}: {self.subject}"


class TicketAttachment(models.Model):
    """A file that came with a customer's mail or form. A part refused by the limits is
    kept as a row without content, with the reason, so the agent knows it was sent."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    inbound_mail = models.ForeignKey(
        InboundMail,
        verbose_name=_("inbound mail"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    entry = models.ForeignKey(
        TicketEntry,
        verbose_name=_("entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    content = models.BinaryField(_("content"), blank=True, default=b"")
    rejected_reason = models.CharField(_("refused because"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.filename

    @property
    def is_kept(self) -> bool:
        return not self.rejected_reason


class TicketStatusLink(models.Model):
    """The customer's address for following a ticket: the public replies and a form to
    answer. Only the SHA-256 of the token is stored; it works until it expires or a newer
    link replaces it, and is exchanged for a session on first use (like a signing link)."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="status_links")
    token_sha256 = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("sent to"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("status link")
        verbose_name_plural = _("status links")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.ticket.number} → {self.email}"


class SatisfactionSurvey(models.Model):
    """The one-time, expiring link a contact gets when their ticket is resolved."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="surveys")
    token_sha256 = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("sent to"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.ticket.number} → {self.email}"


class SatisfactionRating(models.Model):
    """The contact's answer: one per survey (the database refuses a second)."""

    survey = models.OneToOneField(
        SatisfactionSurvey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="rating"
    )
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="ratings")
    score = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    reopen_requested = models.BooleanField(_("asked to reopen"), default=False)
    created_at = models.DateTimeField(_("rated"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="satisfaction_score_1_to_5"),
        ]

    def __str__(self):
        return f"{self.ticket.number}: {self.score}"
