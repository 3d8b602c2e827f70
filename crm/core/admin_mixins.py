"""The admin goes through the same visibility and services as the pages."""

from django.contrib import admin, messages
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


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, written only by services (steps, versions, lines)."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyAdminMixin:
    """A record nobody edits in the admin: written by services and commands only."""

    def get_readonly_fields(self, request, obj=None):
        excluded = set(self.exclude or [])
        return [field.name for field in self.model._meta.fields if field.name not in excluded]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def run_workflow_step(modeladmin, request, queryset, step, id_argument, done_message):
    """An admin action: the same service as the page for each selected object, each refusal
    reported next to the object it concerns."""
    done = 0
    for obj in queryset.order_by("pk"):
        try:
            step(actor=request.user, **{id_argument: obj.pk})
            done += 1
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)


class WorkflowAdminMixin:
    """Admin actions made from the model's workflow table: one `<step>_selected` action per
    step the table gives an admin description, offered to users holding the step's permission,
    calling the same service as the page for each selected object."""

    def get_actions(self, request):
        from crm.core.workflow import workflow_for

        actions = super().get_actions(request)
        workflow = workflow_for(self.model())
        for step in workflow.admin_steps():
            if not request.user.has_perm(step.permission):
                continue
            name = f"{step.name}_selected"
            actions[name] = (_workflow_action(workflow, step), name, step.admin)
        return actions


def _workflow_action(workflow, step):
    def action(modeladmin, request, queryset):
        run_workflow_step(modeladmin, request, queryset, step.service_function, workflow.id_argument, step.admin_done)

    action.__name__ = f"{step.name}_selected"
    return action
