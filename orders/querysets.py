from crm.core.visibility import VisibleQuerySet


class ProductQuerySet(VisibleQuerySet):
    """The catalog is shared: everyone with the view permission sees every product."""

    def owned_by(self, user):
        return self


class OrderQuerySet(VisibleQuerySet):
    """A rep sees the orders of the customers they own, whoever placed them."""

    customer_owner_path = "customer_owner"


class OrderLineQuerySet(VisibleQuerySet):
    customer_owner_path = "order__customer_owner"
    view_all_permission = "orders.view_all_order"


class QuoteQuerySet(VisibleQuerySet):
    """A rep sees the quotes of the customers they own, whoever wrote them."""

    customer_path = "customer"


class QuoteLineQuerySet(VisibleQuerySet):
    customer_path = "quote__customer"
    view_all_permission = "orders.view_all_quote"
