"""What each role may do with the catalog and orders."""

from crm.core.roles import Role

_CATALOG = ["orders.view_product"]
_ORDERING = [
    *_CATALOG,
    "orders.view_order",
    "orders.add_order",
    "orders.change_order",
    "orders.submit_order",
    "orders.cancel_order",
    "orders.view_orderline",
]
_READ_ALL = [*_CATALOG, "orders.view_order", "orders.view_all_order", "orders.view_orderline"]

ROLE_PERMISSIONS = {
    Role.SALES_REP: _ORDERING,
    Role.SALES_MANAGER: [
        *_ORDERING,
        "orders.view_all_order",
        "orders.approve_order",
        "orders.fulfil_order",
        "orders.close_order",
        "orders.add_product",
        "orders.change_product",
    ],
    Role.FINANCE_APPROVER: _READ_ALL,
    Role.SIGNATORY: _READ_ALL,
    Role.SERVICE_AGENT: _READ_ALL,
    Role.SERVICE_MANAGER: _READ_ALL,
}
