"""Building blocks every domain view uses: visibility, service-backed forms, CSV export."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import connection
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm.core.exceptions import DomainError, DuplicateRecord


class VisibleQuerysetMixin:
    """Takes the queryset from `visible_to`, so an object the user may not see is a 404."""

    visibility_action = "view"

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user, self.visibility_action)


def domain_error_to_form(form, error: DomainError):
    """Show a service's refusal next to the field it concerns (or above the form)."""
    message = error.message
    if isinstance(error, DuplicateRecord) and error.existing is not None:
        message = format_html(
            '{} <a href="{}">{}</a>', error.message, error.existing.get_absolute_url(), _("Open it")
        )
    form.add_error(error.field if error.field in form.fields else None, message)


class ServiceFormMixin:
    """`form_valid` hands the cleaned data to `perform`, which calls one service."""

    success_message = ""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(self.get_extra_form_kwargs())
        return kwargs

    def get_extra_form_kwargs(self):
        return {}

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message % {"object": self.object})
        return redirect(self.get_success_url())


class ServiceDeleteMixin(PermissionRequiredMixin):
    """A confirmation page whose POST calls a delete service."""

    template_name = "generic/confirm_delete.html"

    def perform(self):
        raise NotImplementedError

    def form_valid(self, form):
        label = str(self.object)
        try:
            self.perform()
        except DomainError as error:
            messages.error(self.request, error.message)
            return redirect(self.object.get_absolute_url())
        messages.success(self.request, _("Deleted %(object)s.") % {"object": label})
        return redirect(self.get_success_url())


class Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff"  # so spreadsheet programs read UTF-8 names correctly
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_not_required
@require_GET
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
