from django.urls import include, path

from orders import views
from orders.workflow import QUOTE_WORKFLOW, WORKFLOW

app_name = "orders"

quote_patterns = [
    path("", views.QuoteListView.as_view(), name="quote_list"),
    path("new/", views.QuoteCreateView.as_view(), name="quote_create"),
    path("new/line/", views.QuoteLineFormView.as_view(), name="quote_line_form"),
    path("for-opportunity/", views.OpportunityQuotesView.as_view(), name="opportunity_quotes"),
    path("<int:pk>/", views.QuoteDetailView.as_view(), name="quote_detail"),
    path("<int:pk>/edit/", views.QuoteUpdateView.as_view(), name="quote_update"),
    path("<int:pk>/pdf/", views.QuotePdfView.as_view(), name="quote_pdf"),
    path("<int:pk>/link/<int:link_pk>/revoke/", views.QuoteLinkRevokeView.as_view(), name="quote_link_revoke"),
    *QUOTE_WORKFLOW.urls(),  # submit, approve, reject, send, revise, cancel
    # The customer's pages (no login): the e-mailed address, then the quote without a token.
    path("view/", views.QuotePublicView.as_view(), name="quote_public"),
    path("view/decline/", views.QuotePublicDeclineView.as_view(), name="quote_public_decline"),
    path("view/pdf/", views.QuotePublicPdfView.as_view(), name="quote_public_pdf"),
    path("view/<str:token>/", views.QuotePublicStartView.as_view(), name="quote_public_start"),
]

urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("export.csv", views.OrderExportView.as_view(), name="order_export"),
    path("new/", views.OrderCreateView.as_view(), name="order_create"),
    path("new/line/", views.OrderLineFormView.as_view(), name="order_line_form"),
    path("for-contract/", views.ContractOrdersView.as_view(), name="contract_orders"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("<int:pk>/edit/", views.OrderUpdateView.as_view(), name="order_update"),
    *WORKFLOW.urls(),  # one page per step of the table: submit, approve, reject, cancel...
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("products/new/", views.ProductCreateView.as_view(), name="product_create"),
    path("products/<int:pk>/edit/", views.ProductUpdateView.as_view(), name="product_update"),
    path("quotes/", include(quote_patterns)),
]
