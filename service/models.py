"""Tickets, their processing record, the SLA policies and calendars, and the agents' duty."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract
from crm.core.gram_search import search_grams_field, search_index
from customers.choices import CustomerTier
from customers.models import Contact, Customer
from orders.models import Order
from service.choices import (
    OPEN_STATUSES,
    TicketChannel,
    TicketEntryKind,
    TicketPriority,
    TicketStatus,
    TicketType,
    Weekday,
)
from service.querysets import TicketEntryQuerySet, TicketQuerySet
from service.workflow import TRANSITIONS

TICKET_FIELDS = [
    "customer",
    "contact",
    "contract",
    "order",
    "kind",
    "channel",
    "subject",
    "description",
    "priority",
]


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class BusinessCalendar(models.Model):
    """When the desk works: hours per weekday in a time zone, less holidays, plus make-up days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    is_default = models.BooleanField(_("default calendar"), default=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default"),
        ]

    def __str__(self):
        return self.name


class WorkingHours(models.Model):
    """One working period of a weekday (a day may have two: morning and afternoon)."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="working_hours_end_after_start"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_valid"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Holiday(models.Model):
    """A day off on a working day, or (`is_workday`) a make-up working day on a weekend
    (China's 调休), worked with the hours of `works_like`."""

    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)
    is_workday = models.BooleanField(
        _("make-up working day"), default=False, help_text=_("A weekend day that is worked instead of a holiday.")
    )
    works_like = models.PositiveSmallIntegerField(
        _("worked like"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("Whose working hours a make-up day has."),
    )

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_one_per_day"),
        ]

    def __str__(self):
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """The targets for a priority, optionally only for a customer tier and/or a ticket type;
    the most specific matching policy wins."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=20, choices=TicketPriority.choices)
    customer_tier = models.CharField(
        _("customer tier"), max_length=20, choices=CustomerTier.choices, blank=True, help_text=_("Empty: every tier.")
    )
    kind = models.CharField(
        _("ticket type"), max_length=20, choices=TicketType.choices, blank=True, help_text=_("Empty: every type.")
    )
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (business minutes)"), validators=[MinValueValidator(1)]
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the default calendar."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "customer_tier", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "customer_tier", "kind"], condition=Q(is_active=True), name="sla_policy_one_active"
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__lte=models.F("resolution_minutes")),
                name="sla_policy_response_before_resolution",
            ),
        ]

    def __str__(self):
        return self.name


class DeskSettings(models.Model):
    """The desk's settings an admin edits (one row)."""

    reopen_closed_days = models.PositiveIntegerField(_("closed tickets may be reopened for (days)"), default=30)

    class Meta:
        verbose_name = _("service desk settings")
        verbose_name_plural = _("service desk settings")

    def __str__(self):
        return str(_("Service desk settings"))

    @classmethod
    def current(cls) -> "DeskSettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class AgentDuty(models.Model):
    """Whether an agent takes automatically assigned tickets now, and when they last got one
    (ties in load go to whoever waited longest: round-robin)."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="service_duty"
    )
    on_duty = models.BooleanField(_("on duty"), default=True)
    last_assigned_at = models.DateTimeField(_("last assigned"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("agent duty")
        verbose_name_plural = _("agent duty")
        ordering = ["agent__username"]

    def __str__(self):
        return self.agent.get_username()


class ResolutionCode(models.Model):
    """How tickets end (answered, repaired, replaced...): a list the admin keeps, chosen when
    a ticket is resolved, so outcomes can be counted (as lost reasons are for deals)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("resolution code")
        verbose_name_plural = _("resolution codes")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    kind = models.CharField(_("type"), max_length=20, choices=TicketType.choices, default=TicketType.INQUIRY)
    channel = models.CharField(_("channel"), max_length=20, choices=TicketChannel.choices, default=TicketChannel.PHONE)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(
        _("priority"), max_length=20, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    status = models.CharField(_("status"), max_length=30, choices=TicketStatus.choices, default=TicketStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The SLA clocks: due times move later by the business time spent waiting on the customer.
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True, editable=False)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True, editable=False)
    paused_minutes = models.PositiveIntegerField(_("business minutes paused"), default=0, editable=False)
    # Set once, under the ticket's lock, by `warn_sla_breaches`.
    response_warned = models.BooleanField(default=False, editable=False)
    response_escalated = models.BooleanField(default=False, editable=False)
    resolution_warned = models.BooleanField(default=False, editable=False)
    resolution_escalated = models.BooleanField(default=False, editable=False)
    # The resolution note (the resolve step's comment) and its code from the admin's list.
    resolution = models.TextField(_("resolution"), blank=True, editable=False)
    resolution_code = models.ForeignKey(
        ResolutionCode,
        verbose_name=_("resolution code"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    search_grams = search_grams_field(F("number"), F("subject"))

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_ticket", _("Can see every ticket")),
            ("assign_ticket", _("Can assign tickets to agents")),
            ("claim_ticket", _("Can claim an unassigned ticket")),
            ("work_ticket", _("Can work on tickets (reply, wait, resolve, close)")),
            ("reopen_ticket", _("Can reopen a resolved or closed ticket")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TicketStatus.values), name="ticket_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=TicketPriority.values), name="ticket_priority_valid"),
            models.CheckConstraint(condition=Q(kind__in=TicketType.values), name="ticket_kind_valid"),
            models.CheckConstraint(condition=Q(channel__in=TicketChannel.values), name="ticket_channel_valid"),
            models.CheckConstraint(
                condition=~Q(status=TicketStatus.ASSIGNED) | Q(assignee__isnull=False),
                name="ticket_assigned_has_assignee",
            ),
        ]
        indexes = [
            # The agent's queue: their open tickets and the unassigned ones, nearest deadline first.
            # Both cover what the board and the SLA watch count over the open tickets (the
            # clocks, status, priority, assignee), so those counts read only the index.
            models.Index(
                fields=["assignee", "resolution_due_at", "id"],
                include=["status", "priority", "first_responded_at", "first_response_due_at", "paused_since"],
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_open_queue_idx",
            ),
            models.Index(
                fields=["resolution_due_at", "id"],
                include=[
                    "status",
                    "assignee",
                    "priority",
                    "first_responded_at",
                    "first_response_due_at",
                    "paused_since",
                ],
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_open_due_idx",
            ),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_idx"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            search_index("ticket_search_idx"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("service:ticket_detail", args=[self.pk])

    def can_transition(self, target) -> bool:
        return target in TRANSITIONS.get(TicketStatus(self.status), {})

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def clean(self):
        errors = {}
        if self.contact_id and self.customer_id and self.contact.customer_id != self.customer_id:
            errors["contact"] = _("The contact belongs to another customer.")
        if self.contract_id and self.customer_id and self.contract.customer_id != self.customer_id:
            errors["contract"] = _("The contract belongs to another customer.")
        if self.order_id and self.customer_id and self.order.customer_id != self.customer_id:
            errors["order"] = _("The order belongs to another customer.")
        if errors:
            raise ValidationError(errors)


class TicketEntry(models.Model):
    """One line of the processing record: a staff note, a reply the customer sees, or a
    customer's message."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=TicketEntryKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    author_email = models.EmailField(_("author's e-mail"), blank=True)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = TicketEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket entry")
        verbose_name_plural = _("ticket entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TicketEntryKind.values), name="ticket_entry_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=TicketEntryKind.CUSTOMER_MESSAGE) | Q(author__isnull=False),
                name="ticket_entry_staff_has_author",
            ),
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_entry_ticket_idx")]

    def __str__(self):
        return f"{self.ticket.number} · {self.get_kind_display()}"

    @property
    def is_public(self) -> bool:
        return self.kind != TicketEntryKind.INTERNAL_NOTE


# The desk's mail and the customer's links (inbound mail, attachments, status links,
# satisfaction surveys and ratings) live in their own module, registered with this app.
from service.mail_models import *  # noqa: E402,F403
