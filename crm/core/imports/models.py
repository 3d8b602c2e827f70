from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.core.visibility import VisibleQuerySet


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    COMMITTING = "committing", _("Committing")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed")


BUSY_STATES = (ImportState.CHECKING, ImportState.COMMITTING)


class ImportPolicy(models.TextChoices):
    SKIP = "skip", _("Skip duplicates")
    UPDATE = "update", _("Update the existing record")


class ImportRunQuerySet(VisibleQuerySet):
    owner_path = "created_by"


class ImportRun(models.Model):
    """One file on its way in: uploaded, checked (a dry run), committed or failed."""

    kind = models.CharField(_("kind"), max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content = models.BinaryField(_("file"), editable=False)
    file_format = models.CharField(_("format"), max_length=10)  # csv | xlsx
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("separator"), max_length=2, blank=True)
    headers = models.JSONField(_("headers"), default=list)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    policy = models.CharField(_("duplicates"), max_length=10, choices=ImportPolicy.choices, default=ImportPolicy.SKIP)
    valid_only = models.BooleanField(_("commit only the valid rows"), default=False)
    keep_history = models.BooleanField(_("keep original owners and creation dates"), default=False)
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    state = models.CharField(_("state"), max_length=20, choices=ImportState.choices, default=ImportState.UPLOADED)
    committed = models.BooleanField(_("is the result committed"), default=False)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # Per row: [line, action, message] (line: the file's row number, the header being row 1).
    results = models.JSONField(_("results"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_importrun", _("Can see every import run")),
            ("import_history", _("Can keep original owners and creation dates when importing")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=ImportState.values), name="importrun_state_valid"),
            models.CheckConstraint(condition=Q(policy__in=ImportPolicy.values), name="importrun_policy_valid"),
        ]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importrun_user_idx")]

    def __str__(self):
        return f"{self.file_name} ({self.kind})"

    def get_absolute_url(self):
        return reverse("imports:run_detail", args=[self.pk])

    @property
    def busy(self) -> bool:
        return self.state in BUSY_STATES

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.state not in BUSY_STATES else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class ImportPreset(models.Model):
    """A saved column mapping for one kind of import: {file header: field}."""

    kind = models.CharField(_("kind"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    mapping = models.JSONField(_("column mapping"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("saved by"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("import preset")
        verbose_name_plural = _("import presets")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="importpreset_unique_name")]

    def __str__(self):
        return self.name


class ImportCheck(models.Model):
    """What a run's dry run prepared for each row that passed the row's own checks
    ({line: values}), so that the commit writes those rows without checking them again
    (their owners and duplicates are looked up again: the database may have changed since).
    Replaced by each dry run, dropped when the mapping or the options change and when the
    commit starts."""

    run = models.OneToOneField(ImportRun, on_delete=models.CASCADE, primary_key=True, related_name="+")
    rows = models.JSONField(_("checked rows"), default=dict)

    class Meta:
        verbose_name = _("import check")
        verbose_name_plural = _("import checks")

    def __str__(self):
        return f"{self.run_id}: {len(self.rows)} rows"
