"""Building blocks every domain view uses: visibility, service-backed forms, CSV export."""

import csv

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView
from django.views.generic.detail import SingleObjectMixin

from crm.core.capped_count import capped_count
from crm.core.exceptions import DomainError, DuplicateRecord
from crm.core.forms import submit_helper
from crm.core.gram_search import few_matches_sorted, many_matches_newest, search_match_counts
from crm.core.keyset import rows_after
from crm.core.querystring import query_id


class VisibleQuerysetMixin:
    """Takes the queryset from `visible_to`, so an object the user may not see is a 404."""

    visibility_action = "view"

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user, self.visibility_action)


class DeferredJoinPaginator(Paginator):
    """Fetches a page's primary keys first, then only those rows, and counts at most
    `count_cap` rows.

    Skipping tens of thousands of rows for a deep page then walks an index of keys
    instead of whole rows with their joins; a list of a million rows says "100,000+"
    instead of counting every one of them on every page."""

    count_cap = 100_000
    count_capped = False
    known_count = None  # a search's matches, counted already up to the cap (CappedListMixin)
    newest_matches = False  # a search of more matches than the cap, listed newest first

    @cached_property
    def count(self):
        counted = capped_count(self.object_list, self.count_cap) if self.known_count is None else self.known_count
        self.count_capped = counted > self.count_cap
        return min(counted, self.count_cap)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        queryset = self.object_list  # keeps its joins, annotations and prefetches
        page_ids = queryset.values_list("pk", flat=True)[bottom:top]
        if self.known_count is not None and not self.count_capped:
            ids = few_matches_sorted(page_ids)
        elif self.newest_matches:
            ids = many_matches_newest(page_ids)
        else:
            ids = list(page_ids)
        by_id = queryset.order_by().in_bulk(ids)
        return self._get_page([by_id[pk] for pk in ids if pk in by_id], number, self)


class CappedListMixin:
    """A paginated list that counts at most the capped number of rows.

    Page numbers reach the capped count; past it the list goes on one page at a time from
    the last row shown (`?after=<id>`, crm.core.keyset). A search counts fewer rows: a
    common fragment matches a tenth of a million-row table, and each match counted is one
    more row rechecked, while nobody pages through 4,000 pages of search results."""

    paginate_by = 25
    paginator_class = DeferredJoinPaginator
    search_count_cap = 1_000
    many_matches_ordering = ("-pk",)
    keyset_page = None
    page_not_found = False
    many_matches = False
    search_match_count = None

    def searched(self) -> bool:
        """Whether the list is narrowed by its search box (`?q=`); a list without one ignores `q`."""
        return self.has_search() and bool(self.request.GET.get("q", "").strip())

    def has_search(self) -> bool:
        return False

    def count_cap(self) -> int:
        cap = self.paginator_class.count_cap
        return min(cap, self.search_count_cap) if self.searched() else cap

    def get_paginator(self, queryset, per_page, **kwargs):
        paginator = super().get_paginator(queryset, per_page, **kwargs)
        paginator.count_cap = self.count_cap()
        paginator.known_count = self.search_match_count
        paginator.newest_matches = self.many_matches
        return paginator

    def order_many_matches(self, queryset):
        """A search matching more rows than its capped count, in the default order, lists the
        newest first (`many_matches_ordering`), found by walking the primary key's index,
        along which a fragment's matches are spread. In name order a common fragment's
        matches ("科技", a surname) sort together after the rest: finding the first 25 read
        300,000 to 1,300,000 rows of a million (1 to 7 s). A chosen sort is kept."""
        if not self.searched():
            return queryset
        (self.search_match_count,) = search_match_counts([queryset], self.count_cap())
        if not self.many_search_matches() or self.request.GET.get("sort"):
            return queryset
        self.many_matches = True
        return queryset.order_by(*self.many_matches_ordering)

    def many_search_matches(self) -> bool:
        return self.search_match_count is not None and self.search_match_count > self.count_cap()

    def paginate_queryset(self, queryset, page_size):
        queryset = self.order_many_matches(queryset)
        after = query_id(self.request, "after")
        following = rows_after(queryset, after) if after is not None else None
        if following is None:
            try:
                return super().paginate_queryset(queryset, page_size)
            except Http404:
                return self.last_page_instead(queryset, page_size)
        if self.search_match_count is not None and not self.many_search_matches():
            # A typed `?after=` on a search of few matches: read through the search index too.
            ids = few_matches_sorted(following.values_list("pk", flat=True)[: page_size + 1])
            by_id = following.order_by().in_bulk(ids)
            rows = [by_id[pk] for pk in ids if pk in by_id]
        elif self.many_matches:
            rows = many_matches_newest(following[: page_size + 1])
        else:
            rows = list(following[: page_size + 1])
        self.keyset_page = KeysetPage(rows[:page_size], has_next=len(rows) > page_size)
        return None, None, self.keyset_page.object_list, False

    def last_page_instead(self, queryset, page_size):
        """A page number past the numbered pages (typed, kept in a bookmark of a list that
        has since shrunk, or not a number at all) shows the last numbered page and says so;
        past the capped count that page's Next goes on by keyset."""
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        page = paginator.page(paginator.num_pages)
        self.page_not_found = True
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["keyset_page"] = self.keyset_page
        page, paginator = context.get("page_obj"), context.get("paginator")
        if page is not None and getattr(paginator, "count_capped", False) and not page.has_next() and page.object_list:
            context["keyset_next"] = page.object_list[-1].pk  # the last numbered page goes on by keyset
        context["count_cap"] = self.count_cap()
        context["page_not_found"] = self.page_not_found
        context["many_matches"] = self.many_matches
        return context


class FilteredListMixin(CappedListMixin):
    """A capped list narrowed by a django-filter FilterSet over `base_queryset()`, which
    must start from what the user may see."""

    filterset_class = None

    def base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        self.filterset = self.filterset_class(self.request.GET or None, self.base_queryset(), request=self.request)
        return self.filterset.qs

    def has_search(self) -> bool:
        return "q" in self.filterset.filters

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        return context


class KeysetPage:
    """A page reached by `?after=<id>`: its rows, whether more follow, and the next cursor."""

    def __init__(self, object_list, *, has_next):
        self.object_list = object_list
        self.has_next = has_next
        self.next_after = object_list[-1].pk if has_next else None


def domain_error_to_form(form, error: DomainError):
    """Show a service's refusal next to the field it concerns (or above the form)."""
    message = error.message
    if isinstance(error, DuplicateRecord) and error.existing is not None:
        message = format_html('{} <a href="{}">{}</a>', error.message, error.existing.get_absolute_url(), _("Open it"))
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


class ConfirmForm(forms.Form):
    """No fields: the step needs only a confirmation (the view adds its button)."""


class ServiceActionView(VisibleQuerysetMixin, SingleObjectMixin, FormView):
    """One workflow step on one visible object: GET asks to confirm, POST calls the service.

    A refusal re-shows the form with the reason next to the field it concerns.
    """

    template_name = "generic/confirm.html"
    form_class = ConfirmForm
    title = ""
    success_message = ""
    button_class = "btn-primary"
    permission_required = None  # the step's permission; the service checks it again

    def dispatch(self, request, *args, **kwargs):
        self.object = self.get_object()  # 404 first: an invisible object is not revealed by a 403
        if self.permission_required and not request.user.has_perm(self.permission_required):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.helper = submit_helper(self.title, button_class=self.button_class)
        return form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        return context

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.perform(form)
        except DomainError as error:
            domain_error_to_form(form, error)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message % {"object": self.object})
        return redirect(self.get_success_url())

    def get_success_url(self):
        return self.object.get_absolute_url()


class Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value):
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """Text a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+86 ...`) is quoted
    with a leading apostrophe, so an exported name cannot attack whoever opens the file."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff"  # so spreadsheet programs read UTF-8 names correctly
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_not_required
@require_POST
def set_language(request):
    """Django's `set_language` (the language cookie, back to `next`), and for a signed-in
    user also their kept choice, which the middleware applies on every later request."""
    from django.views.i18n import set_language as django_set_language

    from crm.core.middleware import LANGUAGE_SESSION_KEY
    from crm.core.services import user_language_set

    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(actor=request.user, language=language)
        request.session[LANGUAGE_SESSION_KEY] = language
    return response


@login_not_required
@require_GET
def health(request):
    """Each component's status as JSON, 503 when one is down (crm.core.health). Anonymous
    callers (load balancers, monitors) learn only ok/down/embedded per component; staff also
    see the details: the signing key's id, the last heartbeat, the error."""
    from crm.core.health import health_report

    healthy, statuses, details = health_report()
    body = {"status": "ok" if healthy else "down", "components": statuses}
    try:
        staff = request.user.is_authenticated and request.user.is_staff
    except Exception:  # noqa: BLE001 - a session that cannot be read (database down): anonymous
        staff = False
    if staff:
        body["details"] = details
    return JsonResponse(body, status=200 if healthy else 503)


def login_locked_out(request, original_response=None, credentials=None):
    """What django-axes answers to a locked-out login: the reason and the wait, as 429."""
    from django.conf import settings
    from django.shortcuts import render

    cooloff = settings.AXES_COOLOFF_TIME
    return render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": int(cooloff.total_seconds() // 60) if cooloff else None,
        },
        status=429,
    )


class StepView(ServiceActionView):
    """A workflow step's page, made by `Workflow.view_class` from a row of the table: GET asks
    to confirm (with the comment or reason the step asks for), POST calls the step's service.

    A step with more to show names a subclass in the table (`view=`) and overrides
    `get_context_data`, `perform` or `get_success_url`; the permission, visibility, form,
    title and message still come from the table."""

    workflow = None
    step = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["step"] = self.step
        if self.step.ends:
            context["ends_warning"] = _("This ends the %(thing)s; it cannot be undone.") % {
                "thing": self.model._meta.verbose_name
            }
        return context

    def get_template_names(self):
        return [self.template_name]

    def perform(self, form):
        return self.workflow.run(self.step.name, actor=self.request.user, obj=self.object, **form.cleaned_data)
