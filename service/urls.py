from django.urls import path

from service import mail_urls, views
from service.workflow import WORKFLOW

app_name = "service"

urlpatterns = [
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
    *WORKFLOW.urls(),
    *mail_urls.urlpatterns,
]
