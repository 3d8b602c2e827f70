import hashlib
from decimal import Decimal

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contracts.choices import ApprovalDecision, ContractStatus, SigningKeyStatus, SigningParty
from contracts.querysets import ApprovalStepQuerySet, ContractQuerySet
from contracts.templating import placeholders_unknown
from contracts.workflow import EDITABLE, TRANSITIONS
from crm.core.dates import SensibleDatesMixin
from crm.core.gram_search import search_grams_field, search_index
from crm.core.mail import MailStatus
from crm.core.roles import Role
from customers.copies import customer_name_field, customer_owner_field
from customers.models import Customer

# The terms a version keeps and the history shows.
CONTRACT_TERMS = [
    "title",
    "body",
    "amount",
    "currency",
    "start_date",
    "end_date",
    "payment_terms_days",
]


def validate_currency(code):
    # pycountry matches case-insensitively; the column holds upper-case codes only.
    if not (code or "").isupper() or pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationError(_("%(code)s is not an ISO 4217 currency code."), params={"code": code})


def default_currency():
    return settings.DEFAULT_CURRENCY


class ContractTemplate(models.Model):
    """A contract body with `${placeholder}` fields and the clause headings it must keep."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    body = models.TextField(
        _("body"),
        help_text=_(
            "Placeholders: ${customer_name}, ${customer_address}, ${customer_email}, ${contract_title}, "
            "${amount}, ${currency}, ${start_date}, ${end_date}, ${payment_terms_days}, ${company_name}."
        ),
    )
    required_clauses = models.JSONField(
        _("required clauses"),
        default=list,
        blank=True,
        help_text=_("Headings that must appear in every contract drafted from this template."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contract template")
        verbose_name_plural = _("contract templates")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        unknown = placeholders_unknown(self.body)
        if unknown:
            raise ValidationError(
                {"body": _("Unknown placeholders: %(names)s.") % {"names": ", ".join(sorted(unknown))}}
            )
        if not isinstance(self.required_clauses, list) or not all(
            isinstance(clause, str) and clause.strip() for clause in self.required_clauses
        ):
            raise ValidationError({"required_clauses": _("Give a list of clause headings.")})


class Contract(SensibleDatesMixin, models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    template = models.ForeignKey(
        ContractTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency, validators=[validate_currency])
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.DRAFT)
    ordered_amount = models.DecimalField(
        _("ordered"),
        max_digits=16,
        decimal_places=2,
        default=0,
        editable=False,
        help_text=_("Sum of the live orders against this contract, kept by the order services."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    approval_round = models.PositiveIntegerField(default=0, editable=False)
    required_levels = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text=_("[level, role] pairs this round needs, fixed when the contract was submitted."),
    )
    awaiting_role = models.CharField(_("awaiting"), max_length=50, blank=True, editable=False, choices=Role.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_reason = models.TextField(_("reason for ending"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    # Copies of the customer's owner and name, kept by the database (customers.copies).
    customer_owner = customer_owner_field()
    customer_name = customer_name_field()
    search_grams = search_grams_field(F("number"), F("title"), F("customer_name"))

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_contract", _("Can see every contract")),
            ("submit_contract", _("Can submit a contract for approval")),
            ("approve_contract", _("Can decide on contract approvals")),
            ("cancel_contract", _("Can cancel a contract")),
            ("sign_contract", _("Can sign contracts for the company")),
            ("complete_contract", _("Can mark a contract completed")),
            ("terminate_contract", _("Can terminate an active contract")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ContractStatus.values), name="contract_status_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="contract_amount_positive"),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="contract_end_after_start"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="contract_currency_code"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="contract_status_idx"),
            models.Index(fields=["owner", "-created_at"], name="contract_owner_idx"),
            models.Index(fields=["customer", "-created_at"], name="contract_customer_idx"),
            models.Index(fields=["end_date", "id"], name="contract_end_date_idx"),
            models.Index(fields=["amount", "id"], name="contract_amount_idx"),
            models.Index(fields=["status", "awaiting_role"], name="contract_inbox_idx"),
            models.Index(fields=["ordered_amount", "id"], name="contract_ordered_idx"),
            # The list's default order; the included columns let visibility and the common
            # filters be answered from the index alone.
            models.Index(
                fields=["-created_at", "-id"],
                include=["owner", "customer", "status", "amount"],
                name="contract_created_idx",
            ),
            # A rep's list (visibility through the owner copy) in each offered order.
            models.Index(fields=["customer_owner", "-created_at", "-id"], name="contract_rep_created_idx"),
            models.Index(fields=["customer_owner", "amount", "id"], name="contract_rep_amount_idx"),
            models.Index(fields=["customer_owner", "ordered_amount", "id"], name="contract_rep_ordered_idx"),
            models.Index(fields=["customer_owner", "end_date", "id"], name="contract_rep_end_idx"),
            models.Index(fields=["customer_owner", "number", "id"], name="contract_rep_number_idx"),
            models.Index(fields=["customer_owner", "status", "awaiting_role"], name="contract_rep_inbox_idx"),
            search_index("contract_search_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("contracts:contract_detail", args=[self.pk])

    def clean(self):
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValidationError({"end_date": _("The end date must be after the start date.")})

    def can_transition(self, target) -> bool:
        return target in TRANSITIONS.get(ContractStatus(self.status), {})

    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def remaining_amount(self):
        return self.amount - self.ordered_amount

    @property
    def executed_percent(self):
        return (self.ordered_amount / self.amount * 100) if self.amount else 0

    @property
    def duration_days(self) -> int:
        return (self.end_date - self.start_date).days


class ContractVersion(models.Model):
    """The terms as they were before an edit; the contract itself holds the newest."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"))
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("saved by"), on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(_("saved at"), default=timezone.now)

    class Meta:
        verbose_name = _("contract version")
        verbose_name_plural = _("contract versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="contract_version_unique"),
        ]

    def __str__(self):
        return f"{self.contract.number} v{self.number}"


class ApprovalRule(models.Model):
    """From `min_amount` upwards, a contract needs a decision at `level` by `role`."""

    min_amount = models.DecimalField(_("from amount"), max_digits=16, decimal_places=2, default=0)
    level = models.PositiveSmallIntegerField(_("level"))
    role = models.CharField(_("role"), max_length=50, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")
        ordering = ["level", "min_amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["level"], condition=Q(is_active=True), name="approval_rule_one_active_per_level"
            ),
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="approval_rule_amount_not_negative"),
        ]

    def __str__(self):
        return _("Level %(level)s: %(role)s from %(amount)s") % {
            "level": self.level,
            "role": self.get_role_display(),
            "amount": f"{self.min_amount:,.2f}",
        }


class ApprovalStep(models.Model):
    """One decision on one level of one approval round."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="approval_steps")
    round = models.PositiveIntegerField(_("round"))
    level = models.PositiveSmallIntegerField(_("level"))
    role = models.CharField(_("role"), max_length=50, choices=Role.choices)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approver"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=10, choices=ApprovalDecision.choices)
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)

    objects = ApprovalStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["round", "level"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "round", "level"], name="approval_step_once_per_level"),
            models.CheckConstraint(
                condition=Q(decision__in=ApprovalDecision.values), name="approval_step_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(decision=ApprovalDecision.APPROVED) | ~Q(comment=""),
                name="approval_step_rejection_has_comment",
            ),
        ]

    def __str__(self):
        return f"{self.contract.number} L{self.level} {self.decision}"


class ApprovalModel(models.Model):
    """A trained approval assistant, versioned with the figures it was judged by.

    The fitted estimator is stored pickled; only `train_approval_model` writes it.
    """

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField(default=timezone.now)
    training_size = models.PositiveIntegerField()
    test_size = models.PositiveIntegerField()
    accuracy = models.FloatField(help_text=_("Accuracy on the held-out contracts."))
    baseline_accuracy = models.FloatField(help_text=_("Accuracy of always predicting the majority outcome."))
    feature_names = models.JSONField(default=list)
    parameters = models.JSONField(default=dict, blank=True)
    estimator = models.BinaryField()
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("approval model")
        verbose_name_plural = _("approval models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="approval_model_one_active"
            ),
        ]

    def __str__(self):
        return _("Approval model v%(version)s (accuracy %(accuracy).0f%%)") % {
            "version": self.version,
            "accuracy": self.accuracy * 100,
        }


class SigningKey(models.Model):
    """A public key the platform has signed with; kept forever so old signatures verify."""

    key_id = models.CharField(_("key id"), max_length=80, unique=True)
    public_key_pem = models.TextField(_("public key (PEM)"))
    backend_alias = models.CharField(_("backend"), max_length=50)
    status = models.CharField(
        _("status"), max_length=10, choices=SigningKeyStatus.choices, default=SigningKeyStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["backend_alias"],
                condition=Q(status=SigningKeyStatus.ACTIVE),
                name="signing_key_one_active_per_backend",
            ),
            models.CheckConstraint(condition=Q(status__in=SigningKeyStatus.values), name="signing_key_status_valid"),
        ]

    def __str__(self):
        return f"{self.key_id} ({self.get_status_display()})"


class ContractSignature(models.Model):
    """One party's signature over the exact statement bytes it signed."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="signatures")
    party = models.CharField(_("party"), max_length=10, choices=SigningParty.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(_("signer"), max_length=200)
    signer_email = models.EmailField(_("signer e-mail"), blank=True)
    statement = models.BinaryField(_("signed statement"))
    statement_sha256 = models.CharField(max_length=64)
    signature = models.BinaryField(_("signature"))
    key = models.ForeignKey(
        SigningKey, verbose_name=_("signing key"), on_delete=models.PROTECT, related_name="signatures"
    )
    algorithm = models.JSONField(default=dict)
    previous_signature_sha256 = models.CharField(max_length=64, blank=True)
    signed_at = models.DateTimeField(_("signed at"))
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("contract signature")
        verbose_name_plural = _("contract signatures")
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "party"], name="signature_once_per_party"),
            models.CheckConstraint(condition=Q(party__in=SigningParty.values), name="signature_party_valid"),
        ]

    def __str__(self):
        return f"{self.contract.number} · {self.get_party_display()} · {self.signer_name}"

    @property
    def signature_sha256(self) -> str:
        return hashlib.sha256(bytes(self.signature)).hexdigest()


class SigningLink(models.Model):
    """A one-time link through which the customer reviews and accepts a contract.

    Only the SHA-256 of the token is stored; the token itself is in the e-mail.
    """

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="signing_links")
    token_sha256 = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("sent to"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    mail_status = models.CharField(_("e-mail"), max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING)
    mail_error = models.CharField(_("e-mail error"), max_length=500, blank=True)
    mail_attempted_at = models.DateTimeField(_("e-mail attempted"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing link")
        verbose_name_plural = _("signing links")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mail_status__in=MailStatus.values), name="signing_link_mail_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.contract.number} → {self.email}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
