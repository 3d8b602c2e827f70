"""Reads of the catalog and of orders that start from what the user may see."""

from django.db.models import Q
from django.shortcuts import get_object_or_404

from contracts.choices import ContractStatus
from contracts.selectors import contract_integrity, contract_list
from crm.core.audit import audit_history
from customers.selectors import customer_list
from orders.choices import OrderStatus
from orders.models import Order, Product
from orders.services import order_approval_reasons

# --- catalog -------------------------------------------------------------------------------


def product_list(*, user):
    return Product.objects.visible_to(user)


def product_search(queryset, text: str):
    """Products whose SKU or name contains the text."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(sku__icontains=text) | Q(name__icontains=text))


def product_choices(*, keep_ids=()):
    """What a line may order: the active products, plus those already on the order's lines
    (an existing line keeps its product and price even after the product is withdrawn)."""
    condition = Q(is_active=True)
    if keep_ids:
        condition |= Q(pk__in=list(keep_ids))
    return Product.objects.filter(condition).order_by("sku", "id")


# --- orders --------------------------------------------------------------------------------


def order_list(*, user):
    return Order.objects.visible_to(user).select_related("customer", "contract", "owner")


def order_get(*, user, pk, action="view") -> Order:
    queryset = Order.objects.visible_to(user, action).select_related("customer", "contract", "owner")
    return get_object_or_404(queryset, pk=pk)


def order_search(queryset, text: str):
    """Orders whose number contains the text (`000123`, `2026-0001`), or starts with it when
    it is the beginning of a number (`ORD-2026-0001`): a prefix reads the number's index."""
    text = text.strip().upper()
    if not text:
        return queryset
    if text.startswith("ORD-"):
        return queryset.filter(number__startswith=text)
    return queryset.filter(number__icontains=text)


def order_list_scope(*, user, data):
    """The customer or contract a filtered list is narrowed to, named for the heading."""
    scope = {}
    if data.get("customer"):
        scope["scope_customer"] = customer_list(user=user).filter(pk=data["customer"]).first()
    if data.get("contract"):
        scope["scope_contract"] = contract_list(user=user).filter(pk=data["contract"]).first()
    return scope


def order_detail_context(*, order):
    context = {
        "lines": order.lines.select_related("product"),
        "history": audit_history(order).select_related("actor")[:100],
    }
    if order.status == OrderStatus.DRAFT:
        context["approval_preview"] = order_approval_reasons(order)
    if order.contract is not None:
        context.update(contract_integrity(contract=order.contract))
    return context


def order_contract_choices(*, user, customer):
    """The contracts an order of this customer may be placed against: active and visible."""
    return (
        contract_list(user=user)
        .filter(customer=customer, status=ContractStatus.ACTIVE)
        .select_related(None)
        .order_by("-start_date", "-id")
    )


def contract_orders(*, user, contract, limit=10):
    """The latest orders placed against a contract, among those the user may see."""
    return order_list(user=user).filter(contract=contract).order_by("-order_date", "-id")[:limit]


def order_can_edit(*, order, user) -> bool:
    return order.status == OrderStatus.DRAFT and Order.objects.visible_to(user, "change").filter(pk=order.pk).exists()
