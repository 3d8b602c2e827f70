"""Personal access tokens and the stored answers of idempotent requests."""

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class ApiToken(models.Model):
    """A personal access token: the API acts as its user, within its scopes, until it
    expires or is revoked. Only the SHA-256 of the secret is kept; the secret is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = ArrayField(models.CharField(max_length=10, choices=TokenScope.choices), verbose_name=_("scopes"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"], condition=models.Q(revoked_at__isnull=True), name="api_token_unique_live_name"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def last_use_is_current(self, now: datetime.datetime) -> bool:
        """Whether the last-used time is less than a minute old (it is written at most once a minute)."""
        return self.last_used_at is not None and now - self.last_used_at < datetime.timedelta(minutes=1)

    def may_write(self) -> bool:
        return TokenScope.WRITE in self.scopes

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return str(_("Revoked"))
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return str(_("Expired"))
        return str(_("Active"))


class IdempotentRequest(models.Model):
    """The answer given to a creating POST sent with an `Idempotency-Key`, kept per user, so
    a retry with the same key and body gets the same answer instead of a second order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_unique_key")]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created_idx")]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"
