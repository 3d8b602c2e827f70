"""Webhooks in the admin: endpoints are saved, pinged, rotated and deleted through the
services; deliveries are read-only records with a "Resend" action."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.core.admin_mixins import ReadOnlyAdminMixin
from crm.core.exceptions import DomainError
from crm.webhooks import services
from crm.webhooks.addresses import url_refusal
from crm.webhooks.choices import WebhookEvent
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The events this endpoint receives."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "is_active", "events")

    def clean_url(self):
        url = self.cleaned_data["url"]
        refusal = url_refusal(url)
        if refusal:
            raise forms.ValidationError(refusal)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "is_active", "event_list", "delivery_counts", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    actions = ["ping_selected", "rotate_secret_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(delivery_total=Count("deliveries"))

    def get_fields(self, request, obj=None):
        fields = ["name", "url", "is_active", "events"]
        return [*fields, "secret", "deliveries_link", "created_by", "created_at"] if obj else fields

    def get_readonly_fields(self, request, obj=None):
        return ["secret", "deliveries_link", "created_by", "created_at"] if obj else []

    @admin.display(description=_("events"))
    def event_list(self, obj):
        labels = dict(WebhookEvent.choices)
        return ", ".join(str(labels.get(event, event)) for event in obj.events) or "—"

    @admin.display(description=_("deliveries"), ordering="delivery_total")
    def delivery_counts(self, obj):
        return obj.delivery_total

    @admin.display(description=_("deliveries"))
    def deliveries_link(self, obj):
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Show the deliveries to this endpoint"))

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in ("name", "url", "is_active", "events")}
        if change:
            saved = services.webhook_endpoint_update(actor=request.user, endpoint_id=obj.pk, changes=values)
        else:
            saved = services.webhook_endpoint_create(actor=request.user, **values)
        obj.pk = saved.pk
        obj.secret = saved.secret

    def delete_model(self, request, obj):
        services.webhook_endpoint_delete(actor=request.user, endpoint_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.webhook_endpoint_delete(actor=request.user, endpoint_id=endpoint.pk)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    def _each(self, request, queryset, service, done_message):
        done = 0
        for endpoint in queryset.order_by("pk"):
            try:
                service(actor=request.user, endpoint_id=endpoint.pk)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{endpoint}: {error.message}", messages.ERROR)
        if done:
            self.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Send a test ping"), permissions=["change"])
    def ping_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            services.webhook_endpoint_ping,
            lambda count: ngettext(
                "A test ping is on its way to %(count)d endpoint.",
                "A test ping is on its way to %(count)d endpoints.",
                count,
            ),
        )

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            services.webhook_endpoint_secret_rotate,
            lambda count: ngettext(
                "%(count)d endpoint has a new signing secret.",
                "%(count)d endpoints have a new signing secret.",
                count,
            ),
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "event",
        "endpoint",
        "status",
        "attempts",
        "response_code",
        "duration_ms",
        "next_attempt_at",
    )
    list_filter = ("status", "event", "endpoint")
    list_select_related = ("endpoint",)
    search_fields = ("=uuid", "=event_id")
    date_hierarchy = "created_at"
    actions = ["resend_selected"]

    def get_search_results(self, request, queryset, search_term):
        import uuid

        try:
            uuid.UUID(search_term.strip())
        except ValueError:
            return (queryset.none(), False) if search_term.strip() else (queryset, False)
        return super().get_search_results(request, queryset, search_term.strip())

    def has_resend_permission(self, request):
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description=_("Resend"), permissions=["resend"])
    def resend_selected(self, request, queryset):
        done = 0
        for delivery in queryset.order_by("pk"):
            try:
                services.webhook_delivery_resend(actor=request.user, delivery_id=delivery.pk)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{delivery}: {error.message}", messages.ERROR)
        if done:
            message = ngettext("%(count)d delivery is sent again.", "%(count)d deliveries are sent again.", done) % {
                "count": done
            }
            self.message_user(request, message, messages.SUCCESS)
