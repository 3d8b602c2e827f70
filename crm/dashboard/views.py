from django.views.generic import TemplateView

from crm.dashboard import selectors


class DashboardView(TemplateView):
    template_name = "dashboard/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.dashboard_summary(user=self.request.user))
        return context
