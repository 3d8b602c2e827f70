import hashlib
import json

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditSource(models.TextChoices):
    WEB = "web", _("Web")
    ADMIN = "admin", _("Admin")
    COMMAND = "command", _("Command")
    SYSTEM = "system", _("System")
    API = "api", _("API")


class AuditEvent(models.Model):
    """One append-only, hash-chained record of something that happened.

    Writers only INSERT: the event gets its `id` from a plain sequence and `payload_hash`
    (over every field it records) from `audit_record`, and takes no shared lock. The
    sealer (`crm.core.audit.audit_seal`) later gives it its chain position `seq`
    (gapless), `prev_hash` (the previous event's `hash`) and `hash` (over seq, prev_hash
    and payload_hash), so `verify_audit_chain` notices an event that was changed, removed
    or inserted behind the application's back. Until then the three are NULL. Database
    triggers refuse DELETE, and every UPDATE but the one that seals an unsealed event.

    Events chained before sealing existed (`payload_hash` empty) keep their original
    `hash`, over every field including seq and prev_hash (`legacy_hash`).
    """

    seq = models.BigIntegerField(_("chain position"), unique=True, null=True, editable=False)
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_repr = models.CharField(max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=AuditSource.choices)
    # The personal access token's name when the API was called with one (empty otherwise).
    token_name = models.CharField(_("token"), max_length=100, blank=True, default="", db_default="")
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.ForeignKey(
        ContentType, verbose_name=_("target type"), on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=300)
    parent_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    parent_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    payload_hash = models.CharField(_("payload hash"), max_length=64, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, null=True, editable=False)
    hash = models.CharField(max_length=64, unique=True, null=True, editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "id"], name="audit_target_id_idx"),
            models.Index(fields=["parent_type", "parent_id", "id"], name="audit_parent_id_idx"),
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(source__in=AuditSource.values), name="audit_source_valid"),
            models.CheckConstraint(
                condition=models.Q(seq__isnull=True, prev_hash__isnull=True, hash__isnull=True)
                | models.Q(seq__isnull=False, prev_hash__isnull=False, hash__isnull=False),
                name="audit_sealed_whole",
            ),
        ]

    def __str__(self):
        return f"#{self.seq or '-'} {self.action} {self.target_repr}"

    @property
    def sealed(self) -> bool:
        return self.seq is not None

    def _content(self) -> dict:
        return payload_content({name: getattr(self, name) for name in PAYLOAD_FIELDS})

    def compute_payload_hash(self) -> str:
        """SHA-256 of the canonical JSON of what the event records (not its place in the chain)."""
        return payload_hash_of({name: getattr(self, name) for name in PAYLOAD_FIELDS})

    def compute_hash(self) -> str:
        """The chain hash this event should carry at its position after `prev_hash`."""
        if not self.payload_hash:
            return self.legacy_hash()
        return chain_link_hash(seq=self.seq, prev_hash=self.prev_hash, payload_hash=self.payload_hash)

    def legacy_hash(self) -> str:
        """The hash of an event chained when written (before 0008): every field, seq and prev_hash included."""
        return _sha256_json({**self._content(), "seq": self.seq, "prev_hash": self.prev_hash})


PAYLOAD_FIELDS = (
    "occurred_at", "actor_id", "actor_repr", "source", "request_id", "ip", "action", "target_type_id",
    "target_id", "target_repr", "parent_type_id", "parent_id", "changes", "extra", "token_name",
)  # fmt: skip


def payload_content(values: dict) -> dict:
    """What an event's payload hash covers, from its PAYLOAD_FIELDS values (`AuditEvent`
    attributes, or the values `audit_record_many` copies without building events)."""
    content = {**values, "occurred_at": values["occurred_at"].isoformat()}
    if not content["token_name"]:  # only events from the API carry it; older hashes stay as they were
        del content["token_name"]
    return content


def payload_hash_of(values: dict) -> str:
    """SHA-256 of the canonical JSON of `payload_content(values)`."""
    return _sha256_json(payload_content(values))


def _sha256_json(content: dict) -> str:
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def chain_link_hash(*, seq: int, prev_hash: str, payload_hash: str) -> str:
    """What the sealer writes as an event's hash: its position, its predecessor and its content."""
    return hashlib.sha256(f"{seq}:{prev_hash}:{payload_hash}".encode("ascii")).hexdigest()


class AuditChainHead(models.Model):
    """The single row naming the newest sealed event. Only the sealer locks it, for the few
    milliseconds a seal takes; comparing it with the last event reveals events removed
    from the end."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single_row")]

    def __str__(self):
        return f"audit chain head #{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement that the chain once reached event `seq` with hash `hash`.

    Written by `write_audit_checkpoint` and kept twice: here and, out of the database's
    reach, as a file in AUDIT_CHECKPOINT_DIR and a log line. `verify_audit_chain` checks
    that the chain still extends every checkpoint, so rewriting or truncating the events a
    checkpoint covers is named even by someone who could disable the database's triggers.
    A database trigger refuses UPDATE, DELETE and TRUNCATE.
    """

    number = models.PositiveBigIntegerField(_("checkpoint"), unique=True, editable=False)
    seq = models.BigIntegerField(_("event"), editable=False)
    hash = models.CharField(_("event hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), editable=False)
    key_id = models.CharField(_("key fingerprint"), max_length=80, editable=False)
    public_key_pem = models.TextField(_("public key (PEM)"), editable=False)
    signature = models.BinaryField(_("signature"), editable=False)
    statement = models.BinaryField(_("signed statement"), editable=False)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-number"]

    def __str__(self):
        return f"checkpoint #{self.number} (event #{self.seq})"


class DocumentSequence(models.Model):
    """Counters for document numbers such as CT-2026-000123, one row per prefix and year."""

    key = models.CharField(max_length=40, unique=True)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("document sequence")
        verbose_name_plural = _("document sequences")

    def __str__(self):
        return f"{self.key}: {self.last_value}"


class UserPreference(models.Model):
    """What a user chose for themselves: the language of their pages and e-mails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference", verbose_name=_("user")
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self):
        return str(self.user)


class WorkerHeartbeat(models.Model):
    """When each background worker last said it is alive (`crm.core.health.worker_heartbeat_record`,
    run by the periodic task `crm.core.tasks.heartbeat`); /health/ reads the newest."""

    worker = models.CharField(_("worker"), max_length=200, unique=True)
    beat_at = models.DateTimeField(_("last heartbeat"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return f"{self.worker}: {self.beat_at:%Y-%m-%d %H:%M:%S}"


class MailStatus(models.TextChoices):
    """Where a mail (an outgoing mail, the one recorded on a signing link …) stands."""

    PENDING = "pending", _("not sent yet")
    SENT = "sent", _("delivered to the mail server")
    FAILED = "failed", _("not delivered")


class OutgoingMail(models.Model):
    """One e-mail handed to the mail task: the task locks this row, sends, and records the
    outcome, so a retried or duplicated task never sends it twice."""

    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    to = models.JSONField(_("to"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    # Called with (*on_result_args, error) once the mail is sent ("") or finally failed.
    on_result = models.CharField(max_length=200, blank=True)
    on_result_args = models.JSONField(default=list, blank=True)
    # Extra headers ({"Message-ID": ..., "Reply-To": ...}): a ticket's reply threads back by them.
    headers = models.JSONField(_("headers"), default=dict, blank=True)

    class Meta:
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[choice.value for choice in MailStatus]), name="outgoingmail_status_valid"
            )
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"


class OutgoingMailAttachment(models.Model):
    """A file sent with an OutgoingMail (a quote's PDF), kept as it was when the mail was queued."""

    mail = models.ForeignKey(OutgoingMail, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    mimetype = models.CharField(_("type"), max_length=100)
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("mail attachment")
        verbose_name_plural = _("mail attachments")
        ordering = ["id"]

    def __str__(self):
        return self.filename


class JobRun(models.Model):
    """One run of a scheduled job (crm.core.jobs) and how it ended."""

    job = models.CharField(_("job"), max_length=100, db_index=True)
    started_at = models.DateTimeField(_("started"), db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    ok = models.BooleanField(_("succeeded"), null=True)
    summary = models.TextField(_("summary"), blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """One thing a user is told in the app (and by e-mail): "CT-2026-000012 waits for your
    approval". `verb` is the sentence: an English message id marked with `gettext_noop` by the app
    that tells it, `params` its plain values, so each reader sees it in their own language."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    verb = models.CharField(_("sentence"), max_length=300)
    params = models.JSONField(default=dict, blank=True)
    target_url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.text

    @property
    def text(self) -> str:
        """The sentence in the active language."""
        from django.utils.translation import gettext

        try:
            return gettext(self.verb) % self.params
        except (KeyError, TypeError, ValueError):
            return gettext(self.verb)
