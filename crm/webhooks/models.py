"""Webhook endpoints (registered by admins) and every delivery made to them."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.webhooks.choices import DELIVERY_EVENTS, DeliveryStatus, WebhookEvent


class WebhookEndpoint(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        editable=False,
        help_text=_("The receiver checks X-CRM-Signature with it: HMAC-SHA256 over “<timestamp>.<body>”."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    events = ArrayField(
        models.CharField(max_length=40, choices=WebhookEvent.choices),
        verbose_name=_("events"),
        default=list,
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def subscribes_to(self, event: str) -> bool:
        return self.is_active and event in self.events


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one endpoint, with the outcome of its last attempt.
    The payload is copied when the event happens, so a retry or a resend sends the same body."""

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(_("event id"))
    event = models.CharField(_("event"), max_length=40, choices=DELIVERY_EVENTS)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    response_body = models.TextField(_("response body (excerpt)"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    resent_from = models.ForeignKey(
        "self", verbose_name=_("resent from"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint} ({self.uuid})"
