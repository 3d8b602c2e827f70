from django.urls import path

from orders import views
from orders.workflow import WORKFLOW

app_name = "orders"

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
]
