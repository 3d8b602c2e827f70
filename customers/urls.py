from django.urls import path

from customers import views

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
]
