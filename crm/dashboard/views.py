from io import BytesIO
from types import SimpleNamespace

from django import forms
from django.http import Http404, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from crm.core.search import SEARCH_MAX_LENGTH, SEARCH_MIN_LENGTH, search_everything
from crm.core.views import csv_cell, csv_response
from crm.dashboard import selectors
from crm.dashboard.reports import REPORTS, REPORTS_BY_SLUG, ReportFilterForm, Table


class DashboardView(TemplateView):
    template_name = "dashboard/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            selectors.dashboard_summary(user=self.request.user, currency=self.request.GET.get("currency", ""))
        )
        return context


class ChartExportView(View):
    """One dashboard chart's table as CSV; a chart outside the user's sections is a 404."""

    def get(self, request, slug):
        currencies = selectors.dashboard_currencies(user=request.user)
        currency = request.GET.get("currency", "")
        chart = selectors.dashboard_chart(
            user=request.user, slug=slug, currency=currency if currency in currencies else currencies[0]
        )
        if chart is None:
            raise Http404
        return csv_response(f"{slug}.csv", chart.header(), chart.csv_rows())


class ReportListView(TemplateView):
    template_name = "dashboard/report_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(reports=REPORTS, **kwargs)


class ReportView(TemplateView):
    """One report: its filters (bad input is a field error, never a 500), its table, and
    the same rows as CSV (`?format=csv`) or XLSX (`?format=xlsx`)."""

    template_name = "dashboard/report.html"

    def get_report(self):
        report = REPORTS_BY_SLUG.get(self.kwargs["slug"])
        if report is None:
            raise Http404
        return report

    def run(self):
        report = self.get_report()
        form = ReportFilterForm(self.request.GET or None, user=self.request.user, groupings=report.groupings)
        if form.is_bound and not form.is_valid():
            return report, form, None, None
        if not form.is_bound:
            form.cleaned_data = {}
        filters = form.values(whole_months=report.monthly_summary)
        return report, form, filters, report.build(user=self.request.user, filters=filters)

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("format", "")
        if fmt in ("csv", "xlsx"):
            report, _form, filters, table = self.run()
            if table is not None:
                name = f"{report.slug}-{filters['start']:%Y%m%d}-{filters['end']:%Y%m%d}"
                if fmt == "csv":
                    return csv_response(f"{name}.csv", table.header(), table.plain())
                return xlsx_response(f"{name}.xlsx", str(report.title), table)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report, form, filters, table = self.run()
        query = self.request.GET.copy()
        query.pop("format", None)
        context.update(
            report=report,
            form=form,
            filter=SimpleNamespace(form=form),
            filters=filters,
            table=table,
            shown=table.shown() if table else [],
            export_query=query.urlencode(),
            refreshed=selectors.last_refresh() if report.monthly_summary else None,
        )
        return context


def xlsx_response(filename: str, title: str, table: Table) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=slugify(title)[:31] or "report")
    sheet.append(table.header())
    for row in table.plain():
        sheet.append([csv_cell(value) if isinstance(value, str) else value for value in row])
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=SEARCH_MAX_LENGTH, required=False)


class SearchView(TemplateView):
    """Everything the user may see that matches `q`, grouped by kind: the full page (works
    without JavaScript), or, asked by the navigation's box through htmx, just the groups."""

    template_name = "dashboard/search.html"
    box_template_name = "dashboard/_search_results.html"
    box_hits, page_hits = 5, 10

    def in_box(self) -> bool:
        return bool(self.request.htmx) and not self.request.htmx.boosted

    def get_template_names(self):
        return [self.box_template_name if self.in_box() else self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = SearchForm(self.request.GET)
        text = form.cleaned_data["q"] if form.is_valid() else ""
        limit = self.box_hits if self.in_box() else self.page_hits
        context.update(
            form=form,
            in_box=self.in_box(),
            text=text,
            too_short=0 < len(text) < SEARCH_MIN_LENGTH,
            min_length=SEARCH_MIN_LENGTH,
            groups=search_everything(user=self.request.user, text=text, limit=limit) if text else [],
        )
        return context

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        patch_vary_headers(response, ["HX-Request"])  # the box's answer is not the page's
        return response
