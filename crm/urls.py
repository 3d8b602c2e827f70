from django.contrib import admin
from django.urls import include, path

from crm.core.views import health, set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("health/", health, name="health"),
    path("language/", set_language, name="set_language"),
    path("customers/", include("customers.urls")),
    path("contracts/", include("contracts.urls")),
    path("orders/", include("orders.urls")),
    path("service/", include("service.urls")),
    path("marketing/", include("marketing.urls")),
    path("imports/", include("crm.core.imports.urls")),
    path("api/", include("crm.api.urls")),
    path("account/tokens/", include("crm.api.account_urls")),
    path("notifications/", include("crm.core.notification_urls")),
    path("insight/", include("crm.insight.urls")),
    path("", include("crm.dashboard.urls")),
]
