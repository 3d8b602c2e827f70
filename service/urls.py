from django.urls import path

from service import mail_urls, views
from service.workflow import WORKFLOW

app_name = "service"

urlpatterns = [
    path("", views.TicketQueueView.as_view(), name="ticket_queue"),
    path("board/", views.TicketBoardView.as_view(), name="ticket_board"),
    path("tickets/", views.TicketListView.as_view(), name="ticket_list"),
    path("tickets/new/", views.TicketCreateView.as_view(), name="ticket_create"),
    path("tickets/for-customer/", views.CustomerTicketsView.as_view(), name="customer_tickets"),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
    path("tickets/<int:pk>/edit/", views.TicketUpdateView.as_view(), name="ticket_update"),
    path("tickets/<int:pk>/reply/", views.TicketReplyView.as_view(), name="ticket_reply"),
    path("agents/<int:pk>/duty/", views.AgentDutyView.as_view(), name="agent_duty"),
    *WORKFLOW.urls(),  # one page per step of the table: assign, claim, start, wait, resolve...
    *mail_urls.urlpatterns,  # the desk's mail and its public pages (service/mail_urls.py)
]
