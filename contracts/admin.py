from django.contrib import admin

from contracts import services
from contracts.models import (
    CONTRACT_TERMS,
    ApprovalModel,
    ApprovalRule,
    ApprovalStep,
    Contract,
    ContractSignature,
    ContractTemplate,
    ContractVersion,
    SigningKey,
    SigningLink,
)
from crm.core.admin_mixins import ReadOnlyAdminMixin, ReadOnlyInline, ServiceAdminMixin, WorkflowAdminMixin

WORKFLOW_FIELDS = [
    "number",
    "status",
    "version",
    "approval_round",
    "awaiting_role",
    "submitted_by",
    "submitted_at",
    "decided_at",
    "ended_reason",
    "owner",
    "created_at",
    "updated_at",
]


class ApprovalStepInline(ReadOnlyInline):
    model = ApprovalStep
    fields = ["round", "level", "role", "approver", "decision", "comment", "decided_at", "voided_at"]


class ContractVersionInline(ReadOnlyInline):
    model = ContractVersion
    fields = ["number", "title", "amount", "currency", "start_date", "end_date", "saved_by", "saved_at"]


class SignatureInline(ReadOnlyInline):
    model = ContractSignature
    fields = ["party", "signer_name", "signed_at", "ip", "key", "statement_sha256"]


class SigningLinkInline(ReadOnlyInline):
    model = SigningLink
    fields = ["email", "created_by", "created_at", "expires_at", "used_at", "revoked_at"]


@admin.register(Contract)
class ContractAdmin(WorkflowAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["number", "title", "customer", "status", "amount", "currency", "end_date", "owner"]
    list_filter = ["status", "currency", "awaiting_role"]
    search_fields = ["number", "title"]
    list_select_related = ["customer", "owner"]
    autocomplete_fields = ["customer"]
    inlines = [ApprovalStepInline, ContractVersionInline, SignatureInline, SigningLinkInline]
    # The workflow's actions (submit, approve, reopen, complete) come from contracts/workflow.py.
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return WORKFLOW_FIELDS
        frozen = CONTRACT_TERMS if obj.signatures.exists() or not obj.is_editable() else []
        return [*WORKFLOW_FIELDS, "customer", "template", *frozen]

    def get_fields(self, request, obj=None):
        terms = ["title", "amount", "currency", "start_date", "end_date", "payment_terms_days", "body"]
        return ["customer", "template", *terms, *WORKFLOW_FIELDS] if obj else ["customer", "template", *terms]

    def create_through_service(self, user, values):
        values = dict(values)
        customer, template = values.pop("customer"), values.pop("template", None)
        return services.contract_create(
            actor=user, customer_id=customer.pk, template_id=template.pk if template else None, **values
        )

    def update_through_service(self, user, obj, values):
        return services.contract_update(actor=user, contract_id=obj.pk, **values)

    def has_delete_permission(self, request, obj=None):
        return False  # contracts are cancelled, never deleted


@admin.register(ContractTemplate)
class ContractTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        services.contract_template_save(actor=request.user, template=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead; contracts keep a link to their template


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):
    list_display = ["level", "role", "min_amount", "is_active"]
    list_filter = ["is_active", "role"]

    def save_model(self, request, obj, form, change):
        services.approval_rule_save(actor=request.user, rule=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead, so the history of rules stays readable


@admin.register(ApprovalModel)
class ApprovalModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Trained by `manage.py train_approval_model`; read-only here."""

    list_display = ["version", "trained_at", "training_size", "accuracy", "baseline_accuracy", "is_active"]
    exclude = ["estimator"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Keys are created, rotated and revoked with manage.py commands; public keys stay forever."""

    list_display = ["key_id", "backend_alias", "status", "created_at", "retired_at", "revoked_at"]
    list_filter = ["status", "backend_alias"]
    search_fields = ["key_id"]
