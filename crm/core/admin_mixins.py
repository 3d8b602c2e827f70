"""The admin goes through the same visibility and services as the pages."""

from django.contrib import messages
from django.http import HttpResponseRedirect

from crm.core.exceptions import DomainError


class VisibleAdminMixin:
    """Admin lists and change pages show only what `visible_to` allows."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _allowed_on(self, request, obj, action):
        return type(obj).objects.visible_to(request.user, action).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._allowed_on(request, obj, "change"))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._allowed_on(request, obj, "delete"))


class ServiceAdminMixin(VisibleAdminMixin):
    """Saves and deletes call services.

    Subclasses implement `create_through_service(user, values)`,
    `update_through_service(user, obj, changed_values)` and
    `delete_through_service(user, obj)`. Their forms should run the service's checks
    in `clean()` so refusals appear next to fields; a refusal that only shows up at
    save time (another user got there first) becomes an error message.
    """

    def save_model(self, request, obj, form, change):
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
            saved = self.update_through_service(request.user, obj, changed)
        else:
            saved = self.create_through_service(request.user, form.cleaned_data)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        self.delete_through_service(request.user, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_through_service(request.user, obj)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())
