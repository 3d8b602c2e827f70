from django.urls import path

from crm.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="home"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("dashboard/charts/<slug:slug>.csv", views.ChartExportView.as_view(), name="chart_export"),
    path("reports/", views.ReportListView.as_view(), name="report_list"),
    path("reports/<slug:slug>/", views.ReportView.as_view(), name="report"),
]
