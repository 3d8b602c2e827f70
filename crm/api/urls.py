"""/api/: the OpenAPI schema, its interactive docs (Swagger UI from drf-spectacular-sidecar,
no CDN), and every resource under /api/v1/."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from crm.api import views
from crm.api.problems import not_found
from crm.api.schema import SchemaView

app_name = "api"

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("opportunities", views.OpportunityViewSet, basename="opportunity")
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("products", views.ProductViewSet, basename="product")
router.register("orders", views.OrderViewSet, basename="order")
router.register("quotes", views.QuoteViewSet, basename="quote")
router.register("tickets", views.TicketViewSet, basename="ticket")

# DRF authenticates API calls itself (a token or the session) and answers 401, so the
# login redirect of LoginRequiredMiddleware stays off here; the docs page is a page and keeps it.
v1 = router.urls
for pattern in v1:
    login_not_required(pattern.callback)

urlpatterns = [
    path("schema/", login_not_required(SchemaView.as_view()), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/", include(v1)),
    re_path(r"^.*$", login_not_required(not_found)),
]
