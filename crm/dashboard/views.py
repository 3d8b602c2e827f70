from django import forms
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from crm.core.search import SEARCH_MAX_LENGTH, SEARCH_MIN_LENGTH, search_everything
from crm.dashboard import selectors


class DashboardView(TemplateView):
    template_name = "dashboard/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.dashboard_summary(user=self.request.user))
        return context


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
