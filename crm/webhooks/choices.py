from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    """The workflow events an endpoint may subscribe to."""

    CONTRACT_APPROVED = "contract.approved", _("Contract approved")
    CONTRACT_SIGNED = "contract.signed", _("Contract signed")
    CONTRACT_ACTIVATED = "contract.activated", _("Contract activated")
    ORDER_APPROVED = "order.approved", _("Order approved")
    ORDER_DELIVERED = "order.delivered", _("Order delivered")
    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_RESOLVED = "ticket.resolved", _("Ticket resolved")
    QUOTE_ACCEPTED = "quote.accepted", _("Quote accepted")


#: The event of a test ping an admin sends; every endpoint receives it, none subscribes to it.
PING = "ping"
DELIVERY_EVENTS = [*WebhookEvent.choices, (PING, _("Test ping"))]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
