from django.contrib import admin

from crm.insight.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are written by `train_models` alone."""

    list_display = ["kind", "version", "status", "trained_at", "beats_baseline", "training_size", "test_size"]
    list_filter = ["kind", "status", "beats_baseline"]
    exclude = ["estimator"]
    readonly_fields = [
        "kind",
        "version",
        "status",
        "trained_at",
        "trained_by",
        "parameters",
        "window_start",
        "window_end",
        "training_size",
        "test_size",
        "metrics",
        "beats_baseline",
        "reason",
        "estimator_sha256",
        "is_active",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
