from django.urls import path

from crm.core.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.ImportRunListView.as_view(), name="run_list"),
    path("new/", views.ImportRunCreateView.as_view(), name="run_create"),
    path("<int:pk>/", views.ImportRunDetailView.as_view(), name="run_detail"),
    path("<int:pk>/commit/", views.ImportRunCommitView.as_view(), name="run_commit"),
    path("<int:pk>/progress/", views.ImportRunProgressView.as_view(), name="run_progress"),
    path("<int:pk>/result/", views.ImportRunResultView.as_view(), name="run_result"),
]
