from django.urls import path

from crm.api import pages

app_name = "tokens"

urlpatterns = [
    path("", pages.TokenListView.as_view(), name="token_list"),
    path("<int:pk>/revoke/", pages.token_revoke, name="token_revoke"),
]
