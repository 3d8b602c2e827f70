from django.urls import path

from crm.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="home"),
    path("search/", views.SearchView.as_view(), name="search"),
]
