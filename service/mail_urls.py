"""The URLs of the desk's mail and of its public pages (included by `service/urls.py`)."""

from django.urls import path

from service import inbound_views, public_views

urlpatterns = [
    # Public, without login: the inquiry form, a ticket's status page, the rating.
    path("help/", public_views.PublicTicketFormView.as_view(), name="public_ticket_form"),
    path("status/", public_views.TicketStatusView.as_view(), name="ticket_status"),
    path("status/<str:token>/", public_views.TicketStatusStartView.as_view(), name="ticket_status_start"),
    path("rate/", public_views.SatisfactionView.as_view(), name="satisfaction"),
    path("rate/<str:token>/", public_views.SatisfactionStartView.as_view(), name="satisfaction_start"),
    # Staff: the mail to sort, and attachments.
    path("inbound/", inbound_views.InboundMailListView.as_view(), name="inbound_mail_list"),
    path("inbound/<int:pk>/", inbound_views.InboundMailDetailView.as_view(), name="inbound_mail_detail"),
    path("inbound/<int:pk>/assign/", inbound_views.InboundMailAssignView.as_view(), name="inbound_mail_assign"),
    path(
        "inbound/<int:pk>/open-ticket/",
        inbound_views.InboundMailTicketCreateView.as_view(),
        name="inbound_mail_ticket_create",
    ),
    path("inbound/<int:pk>/discard/", inbound_views.InboundMailDiscardView.as_view(), name="inbound_mail_discard"),
    path("attachments/<int:pk>/", inbound_views.TicketAttachmentDownloadView.as_view(), name="attachment_download"),
]
