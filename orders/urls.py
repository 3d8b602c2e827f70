from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("export.csv", views.OrderExportView.as_view(), name="order_export"),
    path("new/", views.OrderCreateView.as_view(), name="order_create"),
    path("new/line/", views.OrderLineFormView.as_view(), name="order_line_form"),
    path("for-contract/", views.ContractOrdersView.as_view(), name="contract_orders"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("<int:pk>/edit/", views.OrderUpdateView.as_view(), name="order_update"),
    path("<int:pk>/submit/", views.OrderSubmitView.as_view(), name="order_submit"),
    path("<int:pk>/approve/", views.OrderApproveView.as_view(), name="order_approve"),
    path("<int:pk>/reject/", views.OrderRejectView.as_view(), name="order_reject"),
    path("<int:pk>/start-fulfilment/", views.OrderStartFulfilmentView.as_view(), name="order_start_fulfilment"),
    path("<int:pk>/deliver/", views.OrderDeliverView.as_view(), name="order_deliver"),
    path("<int:pk>/close/", views.OrderCloseView.as_view(), name="order_close"),
    path("<int:pk>/cancel/", views.OrderCancelView.as_view(), name="order_cancel"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("products/new/", views.ProductCreateView.as_view(), name="product_create"),
    path("products/<int:pk>/edit/", views.ProductUpdateView.as_view(), name="product_update"),
]
