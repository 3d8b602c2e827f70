"""Reads of the catalog and of orders that start from what the user may see."""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.selectors import contract_integrity, contract_list
from crm.core.audit import audit_history
from crm.core.gram_search import search_filter
from crm.core.types import Viewer
from customers.models import Customer
from customers.selectors import customer_list
from orders.choices import OrderStatus
from orders.models import Order, Product

# --- catalog -------------------------------------------------------------------------------


def product_list(*, user: Viewer) -> QuerySet[Product]:
    return Product.objects.visible_to(user)


def product_search(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Products whose SKU or name contains the text."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(Q(sku__icontains=text) | Q(name__icontains=text))


def product_choices(*, keep_ids: Iterable[int] = ()) -> QuerySet[Product]:
    """What a line may order: the active products, plus those already on the order's lines
    (an existing line keeps its product and price even after the product is withdrawn)."""
    condition = Q(is_active=True)
    if keep_ids:
        condition |= Q(pk__in=list(keep_ids))
    return Product.objects.filter(condition).order_by("sku", "id")


# --- orders --------------------------------------------------------------------------------


def order_list(*, user: Viewer) -> QuerySet[Order]:
    return Order.objects.visible_to(user).select_related("customer", "contract", "owner")


def order_get(*, user: Viewer, pk: int, action: str = "view") -> Order:
    queryset = Order.objects.visible_to(user, action).select_related("customer", "contract", "owner")
    return get_object_or_404(queryset, pk=pk)


def order_search(queryset: QuerySet[Order], text: str) -> QuerySet[Order]:
    """Orders whose number (`000123`, `ORD-2026-0001`) or customer name contains the text,
    through the order's own search grams."""
    return search_filter(queryset, text, fields=["number", "customer_name"], complete=True)


def order_list_scope(*, user: Viewer, data: Mapping[str, Any]) -> dict[str, Any]:
    """The customer or contract a filtered list is narrowed to, named for the heading."""
    scope: dict[str, Any] = {}
    if data.get("customer"):
        scope["scope_customer"] = customer_list(user=user).filter(pk=data["customer"]).first()
    if data.get("contract"):
        scope["scope_contract"] = contract_list(user=user).filter(pk=data["contract"]).first()
    return scope


def _money(amount: Decimal, currency: str) -> str:
    return f"{number_format(amount, decimal_pos=2, force_grouping=True)} {currency}"


def order_approval_reasons(order: Order) -> list[str]:
    """Why an order needs a sales manager's approval; empty when it does not."""
    reasons: list[str] = []
    if order.contract_id is None:
        reasons.append(_("it is not placed against a contract"))
    if order.total > Decimal(settings.ORDER_APPROVAL_TOTAL_ABOVE):
        reasons.append(
            _("its total is above %(limit)s")
            % {"limit": _money(Decimal(settings.ORDER_APPROVAL_TOTAL_ABOVE), order.currency)}
        )
    limit = Decimal(settings.ORDER_APPROVAL_DISCOUNT_ABOVE)
    if order.lines.filter(discount_percent__gt=limit).exists():
        reasons.append(_("a line is discounted by more than %(limit)s%%") % {"limit": f"{limit.normalize():f}"})
    return reasons


def order_detail_context(*, order: Order) -> dict[str, Any]:
    context = {
        "lines": order.lines.select_related("product"),
        "history": audit_history(order).select_related("actor")[:100],
    }
    if order.status == OrderStatus.DRAFT:
        context["approval_preview"] = order_approval_reasons(order)
    if order.contract is not None:
        context.update(contract_integrity(contract=order.contract))
    return context


def order_contract_choices(*, user: Viewer, customer: Customer | int) -> QuerySet[Contract]:
    """The contracts an order of this customer may be placed against: active and visible."""
    return (
        contract_list(user=user)
        .filter(customer=customer, status=ContractStatus.ACTIVE)
        .select_related(None)
        .order_by("-start_date", "-id")
    )


def contract_orders(*, user: Viewer, contract: Contract, limit: int = 10) -> QuerySet[Order]:
    """The latest orders placed against a contract, among those the user may see."""
    return order_list(user=user).filter(contract=contract).order_by("-order_date", "-id")[:limit]


def contract_order_amounts(*, contract: Contract) -> dict[str, Decimal]:
    """What the contract's orders take from its amount. Draft orders count: a draft holds
    its amount (reserved) until it is submitted or cancelled, so two people drafting at once
    cannot both plan on the same remainder. `ordered` is the orders past draft, `reserved`
    the drafts, and `remaining` what is left after both (all orders, not only those the
    user may see: the figures are the contract's)."""
    drafts = Order.objects.filter(contract=contract, status=OrderStatus.DRAFT).aggregate(total=Sum("total"))
    reserved = drafts["total"] or Decimal(0)
    return {
        "ordered": contract.ordered_amount - reserved,
        "reserved": reserved,
        "remaining": contract.remaining_amount,
    }


def order_can_edit(*, order: Order, user: Viewer) -> bool:
    return order.status == OrderStatus.DRAFT and Order.objects.visible_to(user, "change").filter(pk=order.pk).exists()
