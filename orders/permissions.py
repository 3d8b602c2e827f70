"""What each role may do with the catalog, orders and quotes."""

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
    "orders.view_quote",
    "orders.add_quote",
    "orders.change_quote",
    "orders.send_quote",
    "orders.cancel_quote",
    "orders.view_quoteline",
]
_READ_ALL = [
    *_CATALOG,
    "orders.view_order",
    "orders.view_all_order",
    "orders.view_orderline",
    "orders.view_quote",
    "orders.view_all_quote",
    "orders.view_quoteline",
]

ROLE_PERMISSIONS = {
    Role.SALES_REP: _ORDERING,
    Role.SALES_MANAGER: [
        *_ORDERING,
        "orders.view_all_order",
        "orders.approve_order",
        "orders.view_all_quote",
        "orders.approve_quote",
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
