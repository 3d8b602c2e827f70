from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.api import services
from crm.api.models import ApiToken
from crm.core.exceptions import DomainError


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins see every token, create one for a user (its secret shown once, in the message)
    and revoke; the secret itself is never stored or shown again."""

    list_display = ["name", "user", "prefix", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "scopes", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a token is not edited: revoke it and create another
            return [*self.readonly_fields, "user", "name", "scopes", "expires_at"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, secret = services.token_create(
            actor=request.user,
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = token.pk
        messages.warning(
            request,
            format_html(_("The token's secret, shown only now: {secret}"), secret=secret),
        )

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Revoke selected tokens"))
    def revoke_selected(self, request, queryset):
        count = 0
        for token in queryset:
            try:
                services.token_revoke(actor=request.user, token_id=token.pk)
                count += 1
            except DomainError as error:
                messages.error(request, error.message)
        messages.success(request, _("%(count)d token(s) revoked.") % {"count": count})
