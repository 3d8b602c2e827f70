from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import TemplateView

from crm.insight import selectors
from crm.insight.choices import ModelKind


class ModelListView(PermissionRequiredMixin, TemplateView):
    """Each model's active version against its baseline, the segments, and the history."""

    permission_required = "insight.view_modelversion"
    template_name = "insight/model_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["active"] = [(kind, label, selectors.active_version(kind)) for kind, label in ModelKind.choices]
        context["segments"] = selectors.segment_list()
        context["versions"] = list(selectors.model_versions()[:50])
        return context
