from django.views.generic import DetailView

from crm.core.views import VisibleQuerysetMixin
from service.models import Ticket


class TicketDetailView(VisibleQuerysetMixin, DetailView):
    model = Ticket
