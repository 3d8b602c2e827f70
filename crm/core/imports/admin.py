from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.core.admin_mixins import ReadOnlyAdminMixin, ServiceAdminMixin
from crm.core.exceptions import DomainError
from crm.core.imports import services
from crm.core.imports.models import ImportPreset, ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "file_name",
        "kind",
        "state",
        "total_rows",
        "created_count",
        "updated_count",
        "error_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "state"]
    search_fields = ["file_name", "sha256"]
    exclude = ["content", "results"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).defer("content", "results")


class ImportPresetAdminForm(forms.ModelForm):
    class Meta:
        model = ImportPreset
        fields = ["kind", "name", "mapping"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


@admin.register(ImportPreset)
class ImportPresetAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Presets are saved through `import_preset_save`, as from the mapping page."""

    list_display = ["name", "kind", "created_by", "updated_at"]
    list_filter = ["kind"]
    fields = ["kind", "name", "mapping"]

    def get_queryset(self, request):
        return ImportPreset.objects.all()

    def has_change_permission(self, request, obj=None):
        return admin.ModelAdmin.has_change_permission(self, request, obj)

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def create_through_service(self, user, values):
        return services.import_preset_save(
            actor=user, kind=values["kind"], name=values["name"], mapping=values["mapping"]
        )

    def update_through_service(self, user, obj, changed):
        if "kind" in changed or "name" in changed:
            raise DomainError(_("Save it under a new name instead; the kind and name of a preset stay."))
        return services.import_preset_save(actor=user, kind=obj.kind, name=obj.name, mapping=obj.mapping)

    def delete_through_service(self, user, obj):
        services.import_preset_delete(actor=user, preset_id=obj.pk)
