from django.urls import include, path

from customers import views
from customers.workflow import ACTIVITY_WORKFLOW
from customers.workflow import WORKFLOW as OPPORTUNITY_WORKFLOW

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("export.csv", views.CustomerExportView.as_view(), name="customer_export"),
    path("new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("reassign/", views.CustomerReassignView.as_view(), name="customer_reassign"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer_update"),
    path("<int:pk>/delete/", views.CustomerDeleteView.as_view(), name="customer_delete"),
    path("<int:customer_pk>/contacts/new/", views.ContactCreateView.as_view(), name="contact_create"),
    path(
        "<int:customer_pk>/interactions/new/",
        views.InteractionCreateView.as_view(),
        name="interaction_create",
    ),
    path("contacts/", views.ContactListView.as_view(), name="contact_list"),
    path("contacts/<int:pk>/edit/", views.ContactUpdateView.as_view(), name="contact_update"),
    path("contacts/<int:pk>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
    path(
        "interactions/<int:pk>/delete/",
        views.InteractionDeleteView.as_view(),
        name="interaction_delete",
    ),
    path("opportunities/", views.OpportunityListView.as_view(), name="opportunity_list"),
    path("opportunities/board/", views.OpportunityBoardView.as_view(), name="opportunity_board"),
    path("opportunities/new/", views.OpportunityCreateView.as_view(), name="opportunity_create"),
    path("opportunities/assign/", views.OpportunityAssignView.as_view(), name="opportunity_assign"),
    path("opportunities/<int:pk>/", views.OpportunityDetailView.as_view(), name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", views.OpportunityUpdateView.as_view(), name="opportunity_update"),
    path("opportunities/", include(OPPORTUNITY_WORKFLOW.urls())),
    path("<int:customer_pk>/activities/new/", views.ActivityCreateView.as_view(), name="activity_create"),
    path("activities/<int:pk>/", views.ActivityDetailView.as_view(), name="activity_detail"),
    path("activities/", include(ACTIVITY_WORKFLOW.urls())),
    path("my-day/", views.MyDayView.as_view(), name="my_day"),
]
