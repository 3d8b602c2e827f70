from django.urls import path

from crm.insight import views

app_name = "insight"

urlpatterns = [
    path("", views.ModelListView.as_view(), name="model_list"),
]
