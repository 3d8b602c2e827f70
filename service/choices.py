from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketType(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")
    AFTER_SALES = "after_sales", _("After-sales")
    FEEDBACK = "feedback", _("Feedback")


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    WALK_IN = "walk_in", _("Walk-in")


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


#: Each priority's weight in an agent's load, and the step an escalation raises it by.
PRIORITY_WEIGHT = {
    TicketPriority.LOW: 1,
    TicketPriority.NORMAL: 2,
    TicketPriority.HIGH: 3,
    TicketPriority.URGENT: 4,
}
PRIORITY_ORDER = list(PRIORITY_WEIGHT)


def priority_raised(priority: str) -> str:
    """The next priority up (urgent stays urgent)."""
    index = PRIORITY_ORDER.index(TicketPriority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


#: The states in which a ticket is still being worked on (and counts in an agent's load).
OPEN_STATUSES = [
    TicketStatus.NEW,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_ON_CUSTOMER,
]


class TicketEntryKind(models.TextChoices):
    INTERNAL_NOTE = "internal_note", _("Internal note")
    PUBLIC_REPLY = "public_reply", _("Public reply")
    CUSTOMER_MESSAGE = "customer_message", _("Customer message")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")
